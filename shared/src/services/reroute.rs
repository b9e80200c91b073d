//! Lines that had no vendor route themselves once their SKU is mapped: mapping a SKU
//! finds the orders waiting for it (`WAIT#{sku}` items, no Scan) and routes their lines.
//! A late line joins its vendor's latest vendor order while nothing has been ordered
//! from the supplier; otherwise it makes the vendor's next one for the order (its first,
//! or `VO#{vendor}#{n}` beside one that has moved on, which is never changed). Each
//! reroute of an order is one transaction: the order, the vendor orders, their history
//! and events, the waiting items.

use super::intake::{route_lines, waits_for_mapping};
use super::{App, ServiceError};
use crate::domain::events::{Envelope, EventType};
use crate::domain::ids::{OrderId, Sku};
use crate::domain::order::{Payment, UnroutableLine};
use crate::domain::vendor_order::{Actor, Command, VendorOrder};
use crate::ports::StoreError;
use crate::store::{OrderStatus, Tables};

/// Attempts of one reroute after another writer changed the order meanwhile.
const ROUNDS: usize = 3;

/// Routes every order waiting for `sku`; returns how many lines found a vendor.
pub async fn route_waiting(app: &App, sku: &Sku) -> Result<usize, ServiceError> {
    let mut routed = 0;
    for order_id in app.tables.waiting_orders(sku).await? {
        routed += reroute(app, &order_id).await?;
    }
    Ok(routed)
}

/// Routes what can now be routed of the order's unroutable lines (`dropflow reroute`);
/// returns how many lines found a vendor.
pub async fn reroute(app: &App, order_id: &OrderId) -> Result<usize, ServiceError> {
    let mut round = 1;
    loop {
        match reroute_once(app, order_id).await {
            Err(ServiceError::Store(StoreError::ConditionFailed)) if round < ROUNDS => round += 1,
            outcome => return outcome,
        }
    }
}

async fn reroute_once(app: &App, order_id: &OrderId) -> Result<usize, ServiceError> {
    let Some(record) = app.tables.order(order_id).await? else {
        return Err(ServiceError::NotFound(format!("no order {order_id}")));
    };
    // A cancelled or voided order has nothing left to hand out, however its SKUs map.
    if record.status != OrderStatus::Routed || record.order.payment != Payment::Paid || record.unroutable.is_empty() {
        return Ok(0);
    }
    let now = app.clock.now();
    let waiting: Vec<_> = record
        .unroutable_lines()
        .filter(|(line, _)| waits_for_mapping(&record.order, line).is_some() && !crate::domain::refund::refunded_in_full(line, &record.refunds))
        .map(|(line, _)| line.clone())
        .collect();
    let routing = route_lines(app, &crate::domain::order::CanonicalOrder { lines: waiting, ..record.order.clone() }).await?;
    let existing = app.tables.vendor_orders_of(order_id).await?;
    let mut writes = Vec::new();
    let mut events = Vec::new();
    let mut next = record.clone();
    let mut routed_ids = Vec::new();
    for (vendor_id, lines) in &routing.by_vendor {
        // Refunds the lines had while they waited go with them.
        let held: Vec<_> = record.refunds.iter().filter(|r| lines.iter().any(|l| l.line.line_id == r.line_id)).cloned().collect();
        let latest = existing.iter().filter(|vo| &vo.vendor_id == vendor_id).max_by_key(|vo| vo.round);
        match latest.map(|current| (current, current.apply(Command::AddLines { lines: lines.clone() }, Actor::Operator, now, &app.config.sla))) {
            // Nothing ordered from the supplier yet: the lines join, the brief goes again.
            Some((current, Ok(mut transition))) => {
                transition.vendor_order.refunds.extend(held);
                writes.push(Tables::put_vendor_order(&transition.vendor_order, Some(current.version))?);
                writes.push(Tables::put_history(&transition.vendor_order, &transition.history)?);
                events.extend(transition.events);
            }
            // None yet, or the latest has moved on (it is never changed): the next round.
            _ => {
                let round = latest.map_or(1, |vo| vo.round + 1);
                let address = record.order.shipping_address.clone().ok_or_else(|| ServiceError::BadRequest("no shipping address".into()))?;
                let (first, history) = VendorOrder::create(
                    order_id.clone(),
                    vendor_id.clone(),
                    record.order.order_number.clone(),
                    lines.clone(),
                    address,
                    record.order.customer_name.clone(),
                    record.order.currency,
                    now,
                    &app.config.sla,
                );
                let vendor_order = VendorOrder { round, refunds: held, ..first };
                writes.push(Tables::put_vendor_order(&vendor_order, None)?);
                writes.push(Tables::put_history(&vendor_order, &history)?);
                events.push(
                    Envelope::new(EventType::VendorOrderCreated, order_id, Some(vendor_id), &format!("rerouted-v{}", record.version + 1), now).in_round(round),
                );
                if !next.vendors.contains(vendor_id) {
                    next.vendors.push(vendor_id.clone());
                }
            }
        }
        routed_ids.extend(lines.iter().map(|l| l.line.line_id.clone()));
    }
    let mut stop_waiting = Vec::new();
    for line in record.order.lines.iter().filter(|l| routed_ids.contains(&l.line_id)) {
        if let Some(sku) = line.sku.as_ref().filter(|sku| !stop_waiting.contains(sku)) {
            stop_waiting.push(sku);
            writes.push(Tables::delete_waiting(sku, order_id));
        }
    }
    if writes.is_empty() && next.unroutable == record.unroutable {
        return Ok(0);
    }
    next.unroutable.retain(|u: &UnroutableLine| !routed_ids.contains(&u.line_id));
    next.version = record.version + 1;
    writes.insert(0, Tables::put_order(&next, Some(record.version))?);
    app.commit(writes, &events).await?;
    Ok(routed_ids.len())
}
