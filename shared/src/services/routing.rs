//! Routing shared by intake and rerouting: which vendor sells each line (the stored
//! mappings of vendors that are not suspended), and handing routed lines to their
//! vendors' orders, as a new round or joining the latest while nothing of it was ordered
//! from the supplier.

use super::{App, ServiceError};
use crate::domain::events::{Envelope, EventType};
use crate::domain::ids::Sku;
use crate::domain::order::{CanonicalOrder, OrderLine, ProductMapping, Routing, UnroutableLine, route, unshippable};
use crate::domain::sla::SlaPolicy;
use crate::domain::vendor_order::{Actor, Command, HistoryEntry, Recipient, TransitionError, VendorOrder};
use crate::ports::{StoreError, Write};
use crate::store::{OrderRecord, Tables};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Why an order without a usable shipping address cannot be handed to a vendor.
pub(super) fn no_address() -> ServiceError {
    ServiceError::BadRequest("no shipping address".into())
}

/// The SKU a line waits for, when all it lacks is a vendor selling it: it can ship as
/// sent and the order has somewhere to ship it.
pub fn waits_for_mapping<'a>(order: &CanonicalOrder, line: &'a OrderLine) -> Option<&'a Sku> {
    if order.shipping_address.is_none() || unshippable(line).is_some() {
        return None;
    }
    line.sku.as_ref()
}

/// Routes the order's lines with the stored SKU mappings of onboarded vendors; without
/// a shipping address no line can be handed to a vendor.
pub(super) async fn route_lines(app: &App, order: &CanonicalOrder) -> Result<Routing, ServiceError> {
    if order.shipping_address.is_none() {
        let reason = order.address_problem.clone().unwrap_or_else(|| "the order has no shipping address".into());
        let unroutable = order.lines.iter().map(|line| UnroutableLine { line_id: line.line_id.clone(), reason: reason.clone() }).collect();
        return Ok(Routing { by_vendor: Default::default(), unroutable });
    }
    let mut mappings: HashMap<Sku, Option<ProductMapping>> = HashMap::new();
    let mut held: HashMap<Sku, crate::domain::ids::VendorId> = HashMap::new();
    for sku in order.lines.iter().filter_map(|l| l.sku.clone()) {
        if mappings.contains_key(&sku) {
            continue;
        }
        let mapping = match app.tables.product(&sku).await? {
            // A suspended vendor's SKUs route to no one until it is resumed, a held
            // vendor's until it is released. Nor does a claim the operator has not approved.
            Some(m) if !m.awaiting_approval => match app.tables.vendor(&m.vendor_id).await? {
                Some(v) if v.held && !v.suspended => {
                    held.insert(sku.clone(), v.vendor_id);
                    None
                }
                Some(v) if !v.suspended => Some(m),
                _ => None,
            },
            _ => None,
        };
        mappings.insert(sku, mapping);
    }
    let mut routing = route(&order.lines, |sku| mappings.get(sku).cloned().flatten());
    // The operator reads why a line waits: a held vendor's is its hold.
    for waiting in &mut routing.unroutable {
        let sku = order.lines.iter().find(|l| l.line_id == waiting.line_id).and_then(|l| l.sku.as_ref());
        if let Some(vendor) = sku.and_then(|sku| held.get(sku)) {
            waiting.reason = format!("vendor {vendor} is held for review: its orders wait until the operator releases it");
        }
    }
    Ok(routing)
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
            // A new vendor order's supplier orders on `review` or `auto` start with it.
            if working.read.is_none() {
                writes.extend(super::supplier::purchases_for(&working.vo, working.vo.created_at)?);
            }
            for entry in &working.history {
                writes.push(Tables::put_history(&working.vo, entry)?);
            }
        }
        Ok(writes)
    }
}

/// The purchase writes of vendor orders that lines joined (`Purchase::after_lines_joined`):
/// read only for a vendor order read from the table, changed, and holding a line on
/// `review` or `auto`.
pub(super) async fn joined_purchases(app: &App, working: &[Working], now: DateTime<Utc>) -> Result<Vec<Write>, ServiceError> {
    let mut writes = Vec::new();
    // A vendor order cancelled in this change (one handed over) takes no purchase.
    for w in working.iter().filter(|w| w.read.is_some() && w.changed() && w.vo.state != crate::domain::vendor_order::VoState::Cancelled) {
        if !w.vo.lines.iter().any(|l| l.supplier.link.is_some() && !l.supplier.mode.is_manual()) {
            continue;
        }
        let existing = app.tables.purchases_of(&w.vo.order_id, &w.vo.vendor_id, w.vo.round).await?;
        for (purchase, version) in crate::domain::supplier::Purchase::after_lines_joined(&w.vo, &existing, now) {
            writes.push(Tables::put_purchase(&purchase, version)?);
        }
    }
    Ok(writes)
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
                let to = Recipient::of(&order).ok_or_else(no_address)?;
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

/// The SKUs an order's unroutable lines wait under (`WAIT#{sku}` items).
pub(super) fn waiting_skus(record: &OrderRecord) -> Vec<Sku> {
    let mut skus: Vec<Sku> = Vec::new();
    for (line, _) in record.unroutable_lines() {
        if let Some(sku) = waits_for_mapping(&record.order, line).filter(|sku| !skus.contains(sku)) {
            skus.push(sku.clone());
        }
    }
    skus
}
