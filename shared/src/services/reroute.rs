//! Lines that had no vendor route themselves once their SKU is mapped: mapping a SKU
//! finds the orders waiting for it (`WAIT#{sku}` items, no Scan) and routes their lines.
//! A late line joins its vendor's latest vendor order while nothing has been ordered
//! from the supplier; otherwise it makes the vendor's next one for the order (its first,
//! or `VO#{vendor}#{n}` beside one that has moved on, which is never changed). Each
//! reroute of an order is one transaction: the order, the vendor orders, their history
//! and events, the waiting items.

use super::routing::{Working, hand_out, route_lines, waits_for_mapping};
use super::{App, ServiceError};
use crate::domain::ids::{OrderId, Sku};
use crate::domain::order::{Payment, UnroutableLine};
use crate::store::{OrderStatus, Tables};

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
    super::retry_on_conflict("a reroute", || reroute_once(app, order_id)).await
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
    let mut working: Vec<Working> = app.tables.vendor_orders_of(order_id).await?.into_iter().map(Working::read).collect();
    let mut events = Vec::new();
    let mut next = record.clone();
    let routed_ids = hand_out(app, &mut working, &routing, &format!("rerouted-v{}", record.version + 1), now, &mut events, &mut next)?;
    let mut writes = Working::writes(&working)?;
    writes.extend(super::routing::joined_purchases(app, &working, now).await?);
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
