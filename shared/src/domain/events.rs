//! Domain events: the facts other parts react to (mail, sweeps, payouts), in the one
//! envelope every queue carries.

use super::ids::{OrderId, VendorId};
use chrono::{DateTime, Utc};
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
