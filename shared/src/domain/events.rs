//! Domain events: the facts other parts react to (mail, sweeps, payouts), in the one
//! envelope every queue carries.

use super::ids::{OrderId, VendorId};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Every kind of fact dropflow publishes (DESIGN, "Events and queues").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    OrderAccepted,
    VendorOrderCreated,
    OrderUnroutable,
    /// A verified order too large to store: kept in the intake dead letters, the
    /// operator told.
    OrderParked,
    AddressChanged,
    /// The storefront edited lines a vendor order holds (units removed or added, a line
    /// removed): its vendor is told what changed, and to amend the supplier order when
    /// one was placed.
    LinesChanged,
    /// A storefront change that could not reach every vendor order (they had shipped):
    /// the operator decides.
    OrderNeedsAttention,
    SupplierOrderPlaced,
    Shipped,
    /// A vendor corrected the number of a parcel it shipped (before delivery): the
    /// customer, the carrier feed and the storefront are told the right one.
    TrackingCorrected,
    TrackingUpdated,
    /// The carrier reports trouble with a parcel (a failed attempt, an exception).
    TrackingException,
    Delivered,
    Cancelled,
    Refunded,
    SlaReminder,
    SlaBreached,
    DeliveryDelayed,
    RefundWindowClosing,
    DisputeWindowOpen,
    /// Held earnings of a vendor became available (one release of its holds).
    EarningsReleased,
    /// A payout was built for a vendor: the operator's payment run sends it.
    PayoutCreated,
    /// The operator marked a payout transferred.
    PayoutPaid,
    /// One sweep's escalations, for the operator, committed with them.
    SlaDigest,
    /// A customer asked the storefront what is held about them: the operator is mailed
    /// what dropflow holds of the order.
    DataRequest,
    /// A vendor claimed a SKU that orders wait for: the operator approves or refuses
    /// the claim before those orders (and their addresses) reach the vendor.
    SkuClaimed,
    /// Lines no vendor sells that will not be sent: their wait for the operator ended
    /// (`UNROUTABLE_NOTICE_HOURS`) or the operator voided them. The customer is told
    /// they will be refunded, the operator to refund them.
    LinesVoided,
    /// A vendor order whose personal data is to be erased closed: its order may now be
    /// redacted, if nothing else of it is still on its way.
    RedactionDue,
    /// A supplier order dropflow places for a vendor needs the vendor: to pay it, to
    /// confirm one the supplier holds without naming it, or to take it back by hand
    /// (the supplier refused it, cancelled it, or it went unpaid); the operator is told
    /// too when the supplier clock is near.
    SupplierNeedsVendor,
    /// A vendor's supplier account can be used only a few days more (AliExpress's
    /// refresh token does not renew): the vendor is told to authorize it again.
    SupplierAccountExpiring,
    /// A measure of a vendor's scorecard turned at risk (the vendor is mailed) or
    /// failing (the operator is), once per turn, by the daily evaluation.
    ScorecardChanged,
    /// The operator gave a vendor order's vendor more time for a step: the vendor is
    /// told the new deadline.
    ClockExtended,
    /// The operator sent one mail of an earlier event again, to one of its recipients.
    MailResent,
}

impl EventType {
    /// The wire name ("vendor_order_created").
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrderAccepted => "order_accepted",
            EventType::VendorOrderCreated => "vendor_order_created",
            EventType::OrderUnroutable => "order_unroutable",
            EventType::OrderParked => "order_parked",
            EventType::AddressChanged => "address_changed",
            EventType::LinesChanged => "lines_changed",
            EventType::SkuClaimed => "sku_claimed",
            EventType::OrderNeedsAttention => "order_needs_attention",
            EventType::SupplierOrderPlaced => "supplier_order_placed",
            EventType::Shipped => "shipped",
            EventType::TrackingCorrected => "tracking_corrected",
            EventType::TrackingUpdated => "tracking_updated",
            EventType::TrackingException => "tracking_exception",
            EventType::Delivered => "delivered",
            EventType::Cancelled => "cancelled",
            EventType::Refunded => "refunded",
            EventType::SlaReminder => "sla_reminder",
            EventType::SlaBreached => "sla_breached",
            EventType::DeliveryDelayed => "delivery_delayed",
            EventType::RefundWindowClosing => "refund_window_closing",
            EventType::DisputeWindowOpen => "dispute_window_open",
            EventType::EarningsReleased => "earnings_released",
            EventType::PayoutCreated => "payout_created",
            EventType::PayoutPaid => "payout_paid",
            EventType::SlaDigest => "sla_digest",
            EventType::DataRequest => "data_request",
            EventType::RedactionDue => "redaction_due",
            EventType::LinesVoided => "lines_voided",
            EventType::SupplierNeedsVendor => "supplier_needs_vendor",
            EventType::SupplierAccountExpiring => "supplier_account_expiring",
            EventType::ScorecardChanged => "scorecard_changed",
            EventType::ClockExtended => "clock_extended",
            EventType::MailResent => "mail_resent",
        }
    }
}

/// A published fact. `event_id` is derived from the fact itself (order, vendor, the
/// version it produced), so a retry of the same fact carries the same id and every
/// consumer can recognise it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub occurred_at: DateTime<Utc>,
    /// The order it is about; None for a fact about a vendor alone (its money).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    pub vendor_id: Option<VendorId>,
    /// Which of the vendor's vendor orders in the order it is about, when not the first
    /// (lines routed after the first one had moved on make another: DESIGN, "Storage").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl Envelope {
    /// An event about an order (and optionally one of its vendors), identified by the
    /// fact's own `discriminator` (for a vendor order: the version the change produced).
    pub fn new(event_type: EventType, order_id: &OrderId, vendor_id: Option<&VendorId>, discriminator: &str, occurred_at: DateTime<Utc>) -> Envelope {
        let vendor = vendor_id.map(VendorId::as_str).unwrap_or("-");
        Envelope {
            event_id: format!("{}:{vendor}:{}:{discriminator}", order_id, event_type.as_str()),
            event_type,
            occurred_at,
            order_id: Some(order_id.clone()),
            vendor_id: vendor_id.cloned(),
            round: None,
            payload: serde_json::Value::Null,
        }
    }

    /// An event about a vendor alone (its money), identified by `discriminator`.
    pub fn about_vendor(event_type: EventType, vendor_id: &VendorId, discriminator: &str, occurred_at: DateTime<Utc>) -> Envelope {
        Envelope {
            event_id: format!("vendor:{vendor_id}:{}:{discriminator}", event_type.as_str()),
            event_type,
            occurred_at,
            order_id: None,
            vendor_id: Some(vendor_id.clone()),
            round: None,
            payload: serde_json::Value::Null,
        }
    }

    /// An event about neither an order dropflow holds nor a vendor (a customer's data
    /// request naming none of the orders held), identified by `discriminator`.
    pub fn about_marketplace(event_type: EventType, discriminator: &str, occurred_at: DateTime<Utc>) -> Envelope {
        Envelope {
            event_id: format!("marketplace:{}:{discriminator}", event_type.as_str()),
            event_type,
            occurred_at,
            order_id: None,
            vendor_id: None,
            round: None,
            payload: serde_json::Value::Null,
        }
    }

    /// The event about the vendor's vendor order of `round` (the first needs no saying).
    pub fn in_round(mut self, round: u32) -> Envelope {
        self.round = (round > 1).then_some(round);
        self
    }
}

impl Envelope {
    /// This event carrying `payload`, the type its event type carries (below): its
    /// producer and its consumers share the type, so a renamed field fails to compile.
    pub fn with<P: Serialize>(mut self, payload: &P) -> Envelope {
        // Serialising plain data (strings, numbers, times, lists) cannot fail.
        self.payload = serde_json::to_value(payload).unwrap_or_default();
        self
    }

    /// The payload as the type its event type carries. An event of an older version
    /// that carried none reads as the type's empty value (every field optional there).
    pub fn payload_as<P: DeserializeOwned>(&self) -> Result<P, serde_json::Error> {
        match &self.payload {
            serde_json::Value::Null => serde_json::from_value(serde_json::json!({})),
            payload => P::deserialize(payload),
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// `vendor_order_created`: the lines that joined an order briefed already (none: a new
/// vendor order), which the brief names as new.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Briefed {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
}

/// `shipped`: which parcel (its mail lists the lines in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelShipped {
    pub tracking_number: String,
}

/// `tracking_corrected`: the parcel's wrong number and its right one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingCorrected {
    pub from: String,
    pub tracking_number: String,
}

/// `tracking_updated` and `tracking_exception`: what the carrier said, and whether it
/// said the same of the same parcel last time (then nobody is told again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarrierNews {
    #[serde(flatten)]
    pub checkpoint: super::vendor_order::Checkpoint,
    #[serde(default, skip_serializing_if = "is_false")]
    pub again: bool,
}

/// Who cancelled a vendor order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    /// The storefront cancelled the order (the vendor cancels the supplier order).
    Storefront,
    /// `SLA_AUTO_CANCEL_HOURS` passed with the order never placed.
    Sla,
    /// The operator gave the order, before anything of it was ordered from the supplier,
    /// to another vendor (`to`): its lines go on there. Only this vendor is told; the
    /// customer and the storefront have nothing to hear.
    HandedOver,
}

/// `cancelled`: by whom, when not by its vendor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancelled {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<CancelledBy>,
    /// The vendor the order went to, when it was handed over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<VendorId>,
}

/// `lines_changed`: what the storefront's edit did, line by line, and the supplier
/// orders to amend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinesEdited {
    #[serde(default)]
    pub changes: Vec<String>,
    #[serde(default)]
    pub amend: Vec<String>,
}

/// `refunded`: which refund, and what it took back from the vendor: from held
/// earnings (a reversal) and from the available balance (a clawback after release).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRecorded {
    #[serde(default)]
    pub refund_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_held: Option<super::money::Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_available: Option<super::money::Money>,
}

/// Who ended the wait of lines no vendor sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Voider {
    /// `UNROUTABLE_NOTICE_HOURS` passed.
    Clock,
    /// The operator voided them (`dropflow order void-line`).
    Operator,
}

/// `lines_voided`: the lines, and who voided them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinesVoided {
    pub lines: Vec<String>,
    pub by: Voider,
}

/// `order_parked`: why the order could not be stored, and how many lines it has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parked {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub lines: usize,
}

/// `mail_resent`: the event whose mail goes again (whole: the notifier composes it as it
/// did), and to whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailResent {
    pub event: Box<Envelope>,
    pub to: String,
}

/// `clock_extended`: which clock, its new deadline, and by how many hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockExtended {
    pub clock: super::sla::ClockKind,
    pub due_at: DateTime<Utc>,
    pub hours: u32,
}

/// `sla_reminder`, `sla_breached`, `delivery_delayed`, `refund_window_closing`,
/// `dispute_window_open`: which clock fired, and what its mail says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockFired {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<super::sla::ClockKind>,
    /// The deadline missed (the first one, in a repeat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// The supplier-order deadline a reminder names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    /// A repeat of an escalation.
    #[serde(default, skip_serializing_if = "is_false")]
    pub repeat: bool,
    /// The date the customer is given (or was, for a broken promise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_news_at: Option<DateTime<Utc>>,
    /// Whether the supplier's dispute window is open (a stale-tracking reminder).
    #[serde(default, skip_serializing_if = "is_false")]
    pub dispute_open: bool,
    /// Whether tracking is stale (the dispute-window notice); absent on an older
    /// notice, which was only sent when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<bool>,
    /// When the supplier's refund window closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<DateTime<Utc>>,
}

/// `sla_digest`: one sweep commit's escalations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swept_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub escalations: Vec<super::vendor_order::Escalation>,
}

/// One order's part of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleasedOrder {
    pub order_number: String,
    pub amount: String,
}

/// `earnings_released`: how much became available, from which orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Released {
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub orders: Vec<ReleasedOrder>,
}

/// `payout_created` and `payout_paid`: which payout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutNamed {
    #[serde(default)]
    pub payout_id: String,
}

/// `supplier_needs_vendor`: which supplier order, what the vendor is to do and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierNeedsVendor {
    /// `aliexpress` or `cj`.
    pub supplier: String,
    /// The id the supplier knows the order by (ours).
    pub out_order_id: String,
    /// The supplier's order numbers, when it named them.
    #[serde(default)]
    pub references: Vec<String>,
    /// `pay`, `confirm` or `manual`.
    pub ask: String,
    /// Why, in words (the supplier's reason when it gave one).
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_url: Option<String>,
    /// The operator is told too (the supplier-order deadline is near).
    #[serde(default)]
    pub tell_operator: bool,
}

/// `supplier_account_expiring`: which supplier, and when the account stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierAccountExpiring {
    pub supplier: String,
    pub expires_at: DateTime<Utc>,
}

/// `scorecard_changed`: the measure, where it stands now, and whether the vendor was
/// held for it (the operator's `SCORECARD_HOLD_FAILING`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorecardChanged {
    pub measure: String,
    pub state: String,
    pub value: Option<f64>,
    pub numerator: i64,
    pub denominator: i64,
    pub window_days: u32,
    pub target: f64,
    #[serde(default)]
    pub held: bool,
}

/// `sku_claimed`: which SKU.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuClaimed {
    #[serde(default)]
    pub sku: String,
}

/// `data_request`: the storefront's request, and the orders it names that dropflow
/// does not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRequested {
    #[serde(default)]
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_held: Vec<String>,
}

/// `order_needs_attention`: what about the order needs the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Attention {
    /// The order came after its customer's data was erased: kept without it.
    ErasedBeforeArrival,
    /// Stamped in the future: taken as of another time.
    FutureStamp { stamped: DateTime<Utc>, taken_as: DateTime<Utc> },
    /// A WooCommerce order that names no site, under a shared secret.
    UnlinkedSite,
    /// A refund dropflow could not apply by itself, and why.
    Refund { refund_id: String, amount: Option<String>, reason: String },
    /// The storefront cancelled after part of the order shipped.
    Cancelled { vendor_orders: Vec<Untouched> },
    /// The storefront edited lines after they shipped.
    LinesChanged { vendor_orders: Vec<Untouched> },
    /// The storefront refused to record a vendor's parcel (its `userErrors`): the shop's
    /// order does not show it until the operator fulfils it there by hand.
    WriteBackRefused { parcel: String, reason: String },
    /// The storefront changed the address after part of the order shipped.
    AddressChanged {
        vendor_orders: Vec<Untouched>,
        #[serde(default)]
        address: Vec<String>,
    },
}

/// A vendor order a storefront change could not reach (it had shipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Untouched {
    pub vendor_id: VendorId,
    pub state: String,
    /// The edited lines already in a parcel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn queued(event_type: &str, payload: serde_json::Value) -> Envelope {
        serde_json::from_value(json!({"event_id": "e", "type": event_type, "occurred_at": "2026-11-20T10:00:00Z", "vendor_id": null, "payload": payload}))
            .expect("an envelope")
    }

    #[test]
    fn events_queued_by_an_earlier_version_read_as_their_types() {
        assert_eq!(queued("cancelled", json!({"by": "storefront"})).payload_as::<Cancelled>().unwrap().by, Some(CancelledBy::Storefront));
        assert_eq!(queued("cancelled", serde_json::Value::Null).payload_as::<Cancelled>().unwrap().by, None, "a vendor's cancel carried none");
        let reminder = queued("sla_reminder", json!({"clock": "tracking_stale", "last_news_at": null, "dispute_open": false}));
        let fired: ClockFired = reminder.payload_as().unwrap();
        assert_eq!((fired.clock, fired.dispute_open, fired.last_news_at), (Some(super::super::sla::ClockKind::TrackingStale), false, None));
        let note = queued("order_needs_attention", json!({"change": "cancelled", "vendor_orders": [{"vendor_id": "vendor-a", "state": "shipped"}]}));
        let Attention::Cancelled { vendor_orders } = note.payload_as().unwrap() else { panic!("a cancel") };
        assert_eq!((vendor_orders[0].vendor_id.as_str(), vendor_orders[0].state.as_str()), ("vendor-a", "shipped"));
        assert!(
            queued("shipped", json!({"tracking_number": 5})).payload_as::<ParcelShipped>().is_err(),
            "a payload that does not read is an error, never a guess"
        );
    }

    #[test]
    fn a_payload_is_written_as_the_json_its_readers_know() {
        let event = queued("shipped", serde_json::Value::Null).with(&ParcelShipped { tracking_number: "1Z5R89390357567127".into() });
        assert_eq!(event.payload, json!({"tracking_number": "1Z5R89390357567127"}));
        let breached = ClockFired { clock: Some(super::super::sla::ClockKind::Ship), repeat: true, ..ClockFired::default() };
        assert_eq!(serde_json::to_value(&breached).unwrap(), json!({"clock": "ship", "repeat": true}), "what is not said is left out");
        assert_eq!(serde_json::to_value(Attention::UnlinkedSite).unwrap(), json!({"change": "unlinked_site"}));
    }
}
