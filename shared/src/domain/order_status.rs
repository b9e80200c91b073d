//! What the customer's order-status page says: one group per parcel or per part still
//! to ship, each with its items and where it stands, across every vendor of the order.
//! Only what the customer may see: items (title, variant, quantity, refunded units),
//! carriers, tracking numbers and links, dates, the carrier's news, and the city and
//! country it goes to. Never the street, an email or phone, a vendor, a supplier, a
//! price or a cost.

use super::events::{CarrierNews, Envelope, EventType};
use super::order::OrderRecord;
use super::sla::ClockKind;
use super::vendor_order::{Shipment, VendorOrder, VoState};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a group stands, in the order a customer reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupState {
    /// With its maker, not yet ordered from the supplier (or waiting for one).
    Preparing,
    /// Ordered from the supplier, to ship by a date.
    Ordered,
    /// With the carrier.
    InTransit,
    /// Waiting at a pickup point.
    AtPickupPoint,
    /// The carrier reports a problem (a failed attempt, an exception).
    Problem,
    Delivered,
    /// Its vendor cancelled it: it will be refunded.
    Cancelled,
    /// It cannot be sent (no vendor will, or refunded before it went): it will be
    /// refunded.
    NotSent,
}

impl GroupState {
    /// Where a group of this state stands on the page: what needs the customer's eye
    /// first, what is over last.
    fn rank(self) -> u8 {
        match self {
            GroupState::Problem => 0,
            GroupState::AtPickupPoint => 1,
            GroupState::InTransit => 2,
            GroupState::Ordered => 3,
            GroupState::Preparing => 4,
            GroupState::Delivered => 5,
            GroupState::Cancelled => 6,
            GroupState::NotSent => 7,
        }
    }
}

/// One item of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusItem {
    pub title: String,
    pub variant: Option<String>,
    pub quantity: u32,
    /// Units of it refunded.
    pub refunded: u32,
}

/// A parcel's tracking, as the customer follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusTracking {
    pub carrier: String,
    pub number: String,
    /// Only for a carrier dropflow knows (a name a vendor typed never becomes a link).
    pub url: Option<String>,
}

/// What the carrier said, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarrierEvent {
    pub at: DateTime<Utc>,
    /// The carrier feed's word (`InTransit`, `AvailableForPickup`, `Exception`…).
    pub tag: String,
    /// The carrier's own words, as it gave them (text, never markup).
    pub message: Option<String>,
    pub location: Option<String>,
}

/// One parcel, or one part of the order still to ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusGroup {
    pub state: GroupState,
    pub items: Vec<StatusItem>,
    pub tracking: Option<StatusTracking>,
    /// When it ships at the latest (a part still to ship) or arrives (a parcel): the
    /// promise, or the date a delay mail gave instead.
    pub expected_by: Option<DateTime<Utc>>,
    /// The expected date has passed.
    pub late: bool,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The carrier's news of the parcel, oldest first.
    pub history: Vec<CarrierEvent>,
    /// Who sells this part, when the operator shows sellers (`STATUS_SHOW_SELLERS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sold_by: Option<String>,
}

/// The whole page's facts (also `GET /status/{token}.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderStatus {
    pub store: String,
    pub order_number: String,
    pub ordered_at: DateTime<Utc>,
    /// Where it goes: the city and the country, nothing more.
    pub city: Option<String>,
    pub country: Option<String>,
    /// The customer's language as the storefront gave it, if it did.
    pub language: Option<String>,
    pub groups: Vec<StatusGroup>,
}

/// What the page may show of `record`, its vendor orders and its events, as of `now`;
/// `sellers` names the vendors by id when the page shows them (empty: it does not).
pub fn order_status(
    store: &str,
    record: &OrderRecord,
    vendor_orders: &[VendorOrder],
    events: &[Envelope],
    sellers: &std::collections::BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> OrderStatus {
    let order = &record.order;
    let refunded = |vo: Option<&VendorOrder>, line_id: &str| -> u32 {
        let on_order = record.refunds.iter().filter(|r| r.line_id == line_id).map(|r| r.quantity);
        let on_vendor = vo.into_iter().flat_map(|vo| vo.refunds.iter()).filter(|r| r.line_id == line_id).map(|r| r.quantity);
        on_order.chain(on_vendor).sum()
    };
    let item = |vo: Option<&VendorOrder>, line_id: &str| {
        order.lines.iter().find(|l| l.line_id == line_id).map(|l| StatusItem {
            title: l.title.clone(),
            variant: l.variant.clone(),
            quantity: l.quantity,
            refunded: refunded(vo, line_id).min(l.quantity.max(1)),
        })
    };
    let mut groups = Vec::new();
    // A vendor order the operator handed over shows nothing: its lines are shown with
    // the order they went to.
    for vo in vendor_orders.iter().filter(|vo| vo.handed_to.is_none()) {
        let sold_by = sellers.get(vo.vendor_id.as_str()).cloned();
        for shipment in &vo.shipments {
            let items = shipment.line_ids.iter().filter_map(|id| item(Some(vo), id)).collect();
            groups.push(StatusGroup { sold_by: sold_by.clone(), ..parcel(vo, shipment, items, events, now) });
        }
        let unshipped: Vec<StatusItem> = vo
            .lines
            .iter()
            .map(|r| r.line.line_id.as_str())
            .filter(|id| !vo.shipments.iter().any(|s| s.line_ids.iter().any(|l| l == id)))
            .filter_map(|id| item(Some(vo), id))
            .filter(|i| i.quantity > 0)
            .collect();
        if !unshipped.is_empty() {
            groups.push(StatusGroup { sold_by, ..to_ship(vo, unshipped, now) });
        }
    }
    let held = |id: &str| vendor_orders.iter().any(|vo| vo.lines.iter().any(|r| r.line.line_id == id));
    let not_sent = record.not_sent();
    let (mut waiting, mut dropped) = (Vec::new(), Vec::new());
    for line in order.lines.iter().filter(|l| l.quantity > 0 && !held(&l.line_id)) {
        let Some(item) = item(None, &line.line_id) else { continue };
        if not_sent.contains(&line.line_id.as_str()) { dropped.push(item) } else { waiting.push(item) }
    }
    for (state, items) in [(GroupState::Preparing, waiting), (GroupState::NotSent, dropped)] {
        if !items.is_empty() {
            groups.push(StatusGroup { state, items, tracking: None, expected_by: None, late: false, delivered_at: None, history: Vec::new(), sold_by: None });
        }
    }
    // What is still coming first (a problem first of all), then what arrived, then what
    // will not come; parcels in the order they shipped.
    groups.sort_by_key(|g| (g.state.rank(), g.tracking.is_none()));
    let address = order.shipping_address.as_ref();
    OrderStatus {
        store: store.to_string(),
        order_number: order.order_number.clone(),
        ordered_at: order.created_at,
        city: address.map(|a| a.city.clone()),
        country: address.map(|a| a.country_code.clone()),
        language: order.language.clone(),
        groups,
    }
}

/// The latest due date among `kinds` of `vo`'s clocks (a delay mail's date replaces
/// the promise it moved).
fn due(vo: &VendorOrder, kinds: &[ClockKind]) -> Option<DateTime<Utc>> {
    kinds.iter().find_map(|kind| vo.clocks.iter().find(|c| c.kind == *kind).map(|c| c.due_at))
}

/// A part of `vo` still to ship.
fn to_ship(vo: &VendorOrder, items: Vec<StatusItem>, now: DateTime<Utc>) -> StatusGroup {
    let state = match vo.state {
        VoState::Cancelled => GroupState::Cancelled,
        VoState::AwaitingSupplier => GroupState::Preparing,
        _ => GroupState::Ordered,
    };
    let expected_by = (state != GroupState::Cancelled).then(|| due(vo, &[ClockKind::ShipPromised, ClockKind::Ship])).flatten();
    StatusGroup {
        state,
        items,
        tracking: None,
        expected_by,
        late: expected_by.is_some_and(|d| d < now),
        delivered_at: None,
        history: Vec::new(),
        sold_by: None,
    }
}

/// One parcel of `vo`, with the carrier's news of it.
fn parcel(vo: &VendorOrder, shipment: &Shipment, items: Vec<StatusItem>, events: &[Envelope], now: DateTime<Utc>) -> StatusGroup {
    let number = shipment.tracking.number.as_str();
    let history: Vec<CarrierEvent> = events
        .iter()
        .filter(|e| matches!(e.event_type, EventType::TrackingUpdated | EventType::TrackingException | EventType::Delivered))
        .filter_map(|e| serde_json::from_value::<CarrierNews>(e.payload.clone()).ok().map(|news| (e.occurred_at, news)))
        .filter(|(_, news)| news.checkpoint.tracking_number.eq_ignore_ascii_case(number) && !news.again)
        .map(|(at, news)| CarrierEvent {
            at: news.checkpoint.checkpoint_at.unwrap_or(at),
            tag: news.checkpoint.tag,
            message: news.checkpoint.message.filter(|m| !m.trim().is_empty()),
            location: news.checkpoint.location.filter(|l| !l.trim().is_empty()),
        })
        .collect();
    let state = match (vo.state, shipment.delivered_at, history.last().map(|e| e.tag.as_str())) {
        (VoState::Cancelled, None, _) => GroupState::Cancelled,
        (_, Some(_), _) => GroupState::Delivered,
        (_, None, Some("AvailableForPickup")) => GroupState::AtPickupPoint,
        (_, None, Some("AttemptFail" | "Exception" | "Expired")) => GroupState::Problem,
        _ => GroupState::InTransit,
    };
    let expected_by = matches!(state, GroupState::InTransit | GroupState::AtPickupPoint | GroupState::Problem)
        .then(|| due(vo, &[ClockKind::DeliveryPromised, ClockKind::DeliveryPromise]))
        .flatten();
    let tracking = StatusTracking { carrier: shipment.tracking.company_name(), number: shipment.tracking.number.clone(), url: shipment.tracking.link() };
    StatusGroup {
        state,
        items,
        tracking: Some(tracking),
        expected_by,
        late: expected_by.is_some_and(|d| d < now),
        delivered_at: shipment.delivered_at,
        history,
        sold_by: None,
    }
}

/// When the order's link stops opening: `days` after everything it will get arrived
/// (or was cancelled); never while something is still on its way.
pub fn link_expires_at(vendor_orders: &[VendorOrder], record: &OrderRecord, days: u32) -> Option<DateTime<Utc>> {
    let finished = |vo: &VendorOrder| matches!(vo.state, VoState::Delivered | VoState::Cancelled);
    if vendor_orders.is_empty() || !vendor_orders.iter().all(finished) || !record.unroutable.is_empty() {
        return None;
    }
    let last = vendor_orders.iter().filter_map(|vo| vo.delivered_at.or(vo.shipped_at)).chain([record.order.created_at]).max()?;
    Some(last + chrono::Duration::days(i64::from(days)))
}
