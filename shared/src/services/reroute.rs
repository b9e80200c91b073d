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
use crate::domain::order::{Payment, Routing, UnroutableLine};
use crate::domain::sla::SlaPolicy;
use crate::domain::vendor_order::{Actor, Command, HistoryEntry, Recipient, TransitionError, VendorOrder};
use crate::ports::{StoreError, Write};
use crate::store::{OrderRecord, OrderStatus, Tables};
use chrono::{DateTime, Utc};

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

/// A vendor order changed in one transaction: its version as read (None: new), and the
/// history its changes made. However many changes it takes, it is written once
/// (DynamoDB refuses a transaction that writes one item twice).
pub(super) struct Working {
    read: Option<u64>,
    pub vo: VendorOrder,
    history: Vec<HistoryEntry>,
}

impl Working {
    /// A vendor order as read from the table.
    pub(super) fn read(vo: VendorOrder) -> Working {
        Working { read: Some(vo.version), vo, history: Vec::new() }
    }

    /// Applies `command`; on success the order moves on and its events are returned.
    pub(super) fn apply(&mut self, command: Command, actor: Actor, now: DateTime<Utc>, policy: &SlaPolicy) -> Result<Vec<Envelope>, TransitionError> {
        let transition = self.vo.apply(command, actor, now, policy)?;
        self.vo = transition.vendor_order;
        self.history.push(transition.history);
        Ok(transition.events)
    }

    /// Whether anything changed it.
    pub(super) fn changed(&self) -> bool {
        !self.history.is_empty()
    }

    /// The writes of every changed vendor order: each once, conditional on its version
    /// as read, with its history.
    pub(super) fn writes(list: &[Working]) -> Result<Vec<Write>, StoreError> {
        let mut writes = Vec::new();
        for working in list.iter().filter(|w| w.changed()) {
            writes.push(Tables::put_vendor_order(&working.vo, working.read)?);
            for entry in &working.history {
                writes.push(Tables::put_history(&working.vo, entry)?);
            }
        }
        Ok(writes)
    }
}

/// Hands `routing`'s lines of `next`'s order (the record about to be written) to their
/// vendors, among the order's vendor orders in `working`: a line joins its vendor's latest while nothing of it has
/// been ordered from the supplier (the brief goes again), else makes the vendor's next
/// round. Refunds the lines had while they waited go with them. Returns the ids of the
/// lines handed out; `next` learns the new vendors.
#[allow(clippy::too_many_arguments)]
pub(super) fn hand_out(
    app: &App,
    working: &mut Vec<Working>,
    routing: &Routing,
    discriminator: &str,
    now: DateTime<Utc>,
    events: &mut Vec<Envelope>,
    next: &mut OrderRecord,
) -> Result<Vec<String>, ServiceError> {
    let order = next.order.clone();
    let order_id = &order.order_id;
    let mut handed = Vec::new();
    for (vendor_id, lines) in &routing.by_vendor {
        let held: Vec<_> = next.refunds.iter().filter(|r| lines.iter().any(|l| l.line.line_id == r.line_id)).cloned().collect();
        let latest = working.iter_mut().filter(|w| &w.vo.vendor_id == vendor_id).max_by_key(|w| w.vo.round);
        let round = latest.as_ref().map_or(1, |w| w.vo.round + 1);
        match latest.map(|w| (w.apply(Command::AddLines { lines: lines.clone() }, Actor::Operator, now, &app.config.sla), w)) {
            // Nothing ordered from the supplier yet: the lines join, the brief goes again.
            Some((Ok(added), joined)) => {
                joined.vo.refunds.extend(held);
                events.extend(added);
            }
            // None yet, or the latest has moved on (it is never changed): the next round.
            _ => {
                let to = Recipient::of(&order).ok_or_else(super::intake::no_address)?;
                let (first, history) = VendorOrder::create(to, vendor_id.clone(), lines.clone(), now, &app.config.sla);
                events.push(Envelope::new(EventType::VendorOrderCreated, order_id, Some(vendor_id), discriminator, now).in_round(round));
                working.push(Working { read: None, vo: VendorOrder { round, refunds: held, ..first }, history: vec![history] });
                if !next.vendors.contains(vendor_id) {
                    next.vendors.push(vendor_id.clone());
                }
            }
        }
        handed.extend(lines.iter().map(|l| l.line.line_id.clone()));
    }
    Ok(handed)
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
