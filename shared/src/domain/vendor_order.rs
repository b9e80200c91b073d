//! A vendor order (one order's lines that one vendor sells) and its state machine:
//! each transition is a pure function of (order, command, now) that returns the next
//! order, its history entry and the events it causes, or says why it is illegal.

use super::address::Address;
use super::events::{Envelope, EventType};
use super::ids::{OrderId, VendorId};
use super::money::Currency;
use super::order::RoutedLine;
use super::sla::{Clock, SlaPolicy};
use super::tracking::TrackingNumber;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a vendor order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoState {
    AwaitingSupplier,
    AwaitingShipment,
    Shipped,
    Delivered,
    Cancelled,
}

impl VoState {
    /// The wire name, also the prefix of the vendor-listing index.
    pub fn as_str(self) -> &'static str {
        match self {
            VoState::AwaitingSupplier => "awaiting_supplier",
            VoState::AwaitingShipment => "awaiting_shipment",
            VoState::Shipped => "shipped",
            VoState::Delivered => "delivered",
            VoState::Cancelled => "cancelled",
        }
    }

    /// Reads a wire name.
    pub fn parse(text: &str) -> Option<VoState> {
        [Self::AwaitingSupplier, Self::AwaitingShipment, Self::Shipped, Self::Delivered, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Who caused a change, as recorded in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    Vendor(VendorId),
    Operator,
    Storefront,
    System,
}

/// What someone asks of a vendor order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    PlaceWithSupplier { supplier_order_ref: String },
    Ship { tracking: TrackingNumber },
    MarkDelivered,
    Cancel { reason: String },
    /// The storefront changed where the order goes: allowed until it ships.
    ChangeAddress { address: Address },
    /// Lines of the order that had no vendor, now mapped to this one: they join while
    /// nothing has been ordered from the supplier.
    AddLines { lines: Vec<RoutedLine> },
    /// The storefront refunded some of this order's lines: recorded exactly, in any
    /// state, once per refund.
    RecordRefund { refunds: Vec<LineRefund> },
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::PlaceWithSupplier { .. } => "place with supplier",
            Command::Ship { .. } => "ship",
            Command::MarkDelivered => "mark delivered",
            Command::Cancel { .. } => "cancel",
            Command::ChangeAddress { .. } => "change the address of",
            Command::AddLines { .. } => "add lines to",
            Command::RecordRefund { .. } => "record a refund on",
        }
    }
}

/// A command that the order's state does not allow: the API answers 409.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("cannot {command} an order that is {}", from.as_str())]
    Illegal { from: VoState, command: &'static str },
    #[error("{0}")]
    Invalid(String),
}

/// One line of a vendor order's history: who did what, when, and the state it led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub actor: Actor,
    pub action: String,
    pub state: VoState,
    pub detail: Option<String>,
}

/// The vendor's share of an order, with the supplier brief and every clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorOrder {
    pub order_id: OrderId,
    pub vendor_id: VendorId,
    pub order_number: String,
    pub currency: Currency,
    pub state: VoState,
    pub lines: Vec<RoutedLine>,
    pub shipping_address: Address,
    pub customer_name: String,
    pub created_at: DateTime<Utc>,
    pub clocks: Vec<Clock>,
    pub supplier_order_ref: Option<String>,
    pub tracking: Option<TrackingNumber>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    /// Money the storefront gave back on this vendor order's lines, each refund once.
    #[serde(default)]
    pub refunds: Vec<LineRefund>,
    /// The storefront asked for the customer's personal data to be erased while this
    /// order was on its way: closing it says so (a `redaction_due` event).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redact_when_closed: bool,
    /// Which of the vendor's vendor orders in this order it is: 1 for the first routing;
    /// lines routed after that one had moved on make the next.
    #[serde(default = "first_round", skip_serializing_if = "is_first_round")]
    pub round: u32,
    /// Bumped by every change; writes are conditional on the version read.
    pub version: u64,
}

/// Part of a storefront refund that falls on one of a vendor order's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRefund {
    pub refund_id: String,
    pub line_id: String,
    pub quantity: u32,
    pub amount: super::money::Money,
}

/// A change to apply: the next state of the order, its history entry, its events.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub vendor_order: VendorOrder,
    pub history: HistoryEntry,
    pub events: Vec<Envelope>,
}

fn first_round() -> u32 {
    1
}

fn is_first_round(round: &u32) -> bool {
    *round == 1
}

/// The id a vendor knows a vendor order by: the order's id for the first of its vendor
/// orders in the order, `{order_id}-{round}` for a later one.
pub fn public_id(order_id: &OrderId, round: u32) -> String {
    if round > 1 { format!("{order_id}-{round}") } else { order_id.to_string() }
}

/// Reads a vendor-facing id back into the order and the round.
pub fn parse_public_id(text: &str) -> Option<(OrderId, u32)> {
    let (order, round) = match text.split_once('-') {
        None => (text, 1),
        Some((order, round)) => (order, round.parse().ok().filter(|r| *r > 1 && round.bytes().all(|b| b.is_ascii_digit()))?),
    };
    Some((OrderId::parse(order).ok()?, round))
}

impl VendorOrder {
    /// Its vendor-facing id (`public_id`).
    pub fn id(&self) -> String {
        public_id(&self.order_id, self.round)
    }

    /// A freshly routed vendor order, awaiting the supplier order, with its 24 h clock.
    pub fn create(
        order_id: OrderId,
        vendor_id: VendorId,
        order_number: String,
        lines: Vec<RoutedLine>,
        shipping_address: Address,
        customer_name: String,
        currency: Currency,
        now: DateTime<Utc>,
        policy: &SlaPolicy,
    ) -> (VendorOrder, HistoryEntry) {
        let vendor_order = VendorOrder {
            order_id,
            vendor_id,
            order_number,
            currency,
            state: VoState::AwaitingSupplier,
            lines,
            shipping_address,
            customer_name,
            created_at: now,
            clocks: vec![policy.place_with_supplier(now)],
            supplier_order_ref: None,
            tracking: None,
            shipped_at: None,
            delivered_at: None,
            cancel_reason: None,
            refunds: Vec::new(),
            redact_when_closed: false,
            round: 1,
            version: 1,
        };
        let history = HistoryEntry {
            at: now,
            seq: 1,
            actor: Actor::Storefront,
            action: "created".into(),
            state: VoState::AwaitingSupplier,
            detail: None,
        };
        (vendor_order, history)
    }

    /// Whether nothing more happens to it before money settles: delivered or cancelled.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, VoState::Delivered | VoState::Cancelled)
    }

    /// The deadline to order from the supplier, while that clock runs.
    pub fn supplier_deadline(&self) -> Option<DateTime<Utc>> {
        self.clocks.iter().find(|c| c.kind == super::sla::ClockKind::PlaceWithSupplier).map(|c| c.due_at)
    }

    /// The earliest armed clock (what the due-clock index points at).
    pub fn next_due(&self) -> Option<&Clock> {
        self.clocks.iter().min_by_key(|c| c.due_at)
    }

    /// Applies `command` by `actor` at `now`; the order itself is not changed.
    pub fn apply(&self, command: Command, actor: Actor, now: DateTime<Utc>, policy: &SlaPolicy) -> Result<Transition, TransitionError> {
        use VoState::*;
        let mut next = self.clone();
        let illegal = || TransitionError::Illegal { from: self.state, command: command.name() };
        let (event_type, detail) = match (&command, self.state) {
            (Command::PlaceWithSupplier { supplier_order_ref }, AwaitingSupplier) => {
                let reference = supplier_order_ref.trim();
                if reference.is_empty() || reference.len() > 200 {
                    return Err(TransitionError::Invalid("supplier_order_ref must be 1-200 characters".into()));
                }
                next.state = AwaitingShipment;
                next.supplier_order_ref = Some(reference.to_string());
                next.clocks = vec![policy.ship(now)];
                (EventType::SupplierOrderPlaced, Some(format!("supplier order {reference}")))
            }
            (Command::Ship { tracking }, AwaitingShipment) => {
                next.state = Shipped;
                next.tracking = Some(tracking.clone());
                next.shipped_at = Some(now);
                next.clocks = vec![policy.delivery_promise(now)];
                (EventType::Shipped, Some(format!("{} {}", tracking.carrier, tracking.number)))
            }
            (Command::MarkDelivered, Shipped) => {
                next.state = Delivered;
                next.delivered_at = Some(now);
                next.clocks.clear();
                (EventType::Delivered, None)
            }
            (Command::Cancel { reason }, AwaitingSupplier | AwaitingShipment) => {
                let reason = reason.trim();
                if reason.is_empty() {
                    return Err(TransitionError::Invalid("a cancellation needs a reason".into()));
                }
                next.state = Cancelled;
                next.cancel_reason = Some(reason.to_string());
                next.clocks.clear();
                (EventType::Cancelled, Some(reason.to_string()))
            }
            (Command::ChangeAddress { address }, AwaitingSupplier | AwaitingShipment) => {
                if *address == self.shipping_address {
                    return Err(TransitionError::Invalid("the address is the same".into()));
                }
                next.shipping_address = address.clone();
                (EventType::AddressChanged, Some(address.lines().join(", ")))
            }
            (Command::AddLines { lines }, AwaitingSupplier) => {
                if lines.is_empty() {
                    return Err(TransitionError::Invalid("no lines to add".into()));
                }
                next.lines.extend(lines.iter().cloned());
                // The brief is sent again, whole: the event is a new one (its id carries
                // the version), so it is not taken for a duplicate.
                (EventType::VendorOrderCreated, Some(format!("{} more lines", lines.len())))
            }
            (Command::RecordRefund { refunds }, _) => {
                let Some(first) = refunds.first() else {
                    return Err(TransitionError::Invalid("a refund of no line".into()));
                };
                if self.refunds.iter().any(|r| r.refund_id == first.refund_id) {
                    return Err(TransitionError::Invalid(format!("refund {} is recorded already", first.refund_id)));
                }
                if let Some(stranger) = refunds.iter().find(|r| !self.lines.iter().any(|l| l.line.line_id == r.line_id)) {
                    return Err(TransitionError::Invalid(format!("line {} is not in this vendor order", stranger.line_id)));
                }
                next.refunds.extend(refunds.iter().cloned());
                let total = refunds.iter().map(|r| r.amount.to_string()).collect::<Vec<_>>().join(" + ");
                (EventType::Refunded, Some(format!("refund {}: {total}", first.refund_id)))
            }
            _ => return Err(illegal()),
        };
        next.version = self.version + 1;
        let history = HistoryEntry { at: now, seq: next.version, actor, action: event_type.as_str().into(), state: next.state, detail };
        // A later round's events carry it in their ids, so that they are not taken for
        // the first round's.
        let discriminator = if self.round > 1 { format!("r{}v{}", self.round, next.version) } else { format!("v{}", next.version) };
        let mut events = vec![Envelope::new(event_type, &self.order_id, Some(&self.vendor_id), &discriminator, now).in_round(self.round)];
        if next.redact_when_closed && next.is_closed() && !self.is_closed() {
            events.push(Envelope::new(EventType::RedactionDue, &self.order_id, Some(&self.vendor_id), &discriminator, now).in_round(self.round));
        }
        Ok(Transition { vendor_order: next, history, events })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::address::AddressParts;
    use crate::domain::tracking::TrackingNumber;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn fresh() -> VendorOrder {
        let address = Address::parse(AddressParts {
            name: Some("Bob".into()),
            line1: Some("1 Main St".into()),
            city: Some("Louisville".into()),
            country_code: Some("US".into()),
            ..AddressParts::default()
        })
        .unwrap();
        VendorOrder::create(
            OrderId::derive("shopify", "s", "1"),
            VendorId::parse("acme").unwrap(),
            "#1001".into(),
            vec![],
            address,
            "Bob".into(),
            Currency::parse("USD").unwrap(),
            now(),
            &SlaPolicy::default(),
        )
        .0
    }

    fn actor() -> Actor {
        Actor::Vendor(VendorId::parse("acme").unwrap())
    }

    fn ship() -> Command {
        Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap() }
    }

    fn place() -> Command {
        Command::PlaceWithSupplier { supplier_order_ref: "AE-1".into() }
    }

    #[test]
    fn a_vendor_facing_id_names_the_order_and_its_round_and_nothing_else() {
        let order = OrderId::derive("shopify", "", "1");
        assert_eq!(public_id(&order, 1), order.to_string());
        assert_eq!(parse_public_id(&public_id(&order, 1)), Some((order.clone(), 1)));
        assert_eq!(parse_public_id(&public_id(&order, 7)), Some((order.clone(), 7)));
        for hostile in [format!("{order}-1"), format!("{order}-0"), format!("{order}-+2"), format!("{order}-2-2"), format!("{order}-x"), "o_1-2".into(), String::new(), format!("{order}-99999999999")] {
            assert_eq!(parse_public_id(&hostile), None, "{hostile}");
        }
    }

    #[test]
    fn closing_an_order_awaiting_redaction_says_the_redaction_is_due_once() {
        let policy = SlaPolicy::default();
        let pending = VendorOrder { redact_when_closed: true, ..fresh() };
        let placed = pending.apply(place(), actor(), now(), &policy).unwrap();
        assert_eq!(placed.events.len(), 1, "still on its way: nothing due");
        let shipped = placed.vendor_order.apply(ship(), actor(), now(), &policy).unwrap();
        let delivered = shipped.vendor_order.apply(Command::MarkDelivered, actor(), now(), &policy).unwrap();
        let types: Vec<EventType> = delivered.events.iter().map(|e| e.event_type).collect();
        assert_eq!(types, vec![EventType::Delivered, EventType::RedactionDue]);
        let cancelled = pending.apply(Command::Cancel { reason: "storefront".into() }, Actor::Storefront, now(), &policy).unwrap();
        assert_eq!(cancelled.events.last().unwrap().event_type, EventType::RedactionDue);
        let refund = LineRefund { refund_id: "r".into(), line_id: "x".into(), quantity: 1, amount: crate::domain::money::Money::zero(Currency::parse("USD").unwrap()) };
        let after = delivered.vendor_order.apply(Command::RecordRefund { refunds: vec![refund] }, Actor::Storefront, now(), &policy);
        assert!(after.map(|t| t.events.len() == 1).unwrap_or(true), "a change after closing is not a second close");
        let plain = fresh().apply(Command::Cancel { reason: "x".into() }, Actor::Operator, now(), &policy).unwrap();
        assert_eq!(plain.events.len(), 1);
    }

    #[test]
    fn the_happy_path_runs_to_delivered_with_a_history_entry_and_event_each_step() {
        let policy = SlaPolicy::default();
        let placed = fresh().apply(place(), actor(), now(), &policy).unwrap();
        assert_eq!(placed.vendor_order.state, VoState::AwaitingShipment);
        assert_eq!(placed.vendor_order.clocks, vec![policy.ship(now())]);
        assert_eq!(placed.events[0].event_type, EventType::SupplierOrderPlaced);
        let shipped = placed.vendor_order.apply(ship(), actor(), now(), &policy).unwrap();
        assert_eq!(shipped.vendor_order.state, VoState::Shipped);
        assert_eq!(shipped.history.detail.as_deref(), Some("UPS 1Z5R89390357567127"));
        let delivered = shipped.vendor_order.apply(Command::MarkDelivered, actor(), now(), &policy).unwrap();
        assert_eq!(delivered.vendor_order.state, VoState::Delivered);
        assert_eq!(delivered.vendor_order.version, 4);
        assert!(delivered.vendor_order.clocks.is_empty());
    }

    #[test]
    fn cannot_ship_before_the_supplier_order_is_placed() {
        let error = fresh().apply(ship(), actor(), now(), &SlaPolicy::default()).unwrap_err();
        assert_eq!(error, TransitionError::Illegal { from: VoState::AwaitingSupplier, command: "ship" });
        assert_eq!(error.to_string(), "cannot ship an order that is awaiting_supplier");
    }

    #[test]
    fn cancel_only_before_shipment_and_with_a_reason() {
        let policy = SlaPolicy::default();
        let cancel = || Command::Cancel { reason: "supplier out of stock".into() };
        assert!(fresh().apply(cancel(), actor(), now(), &policy).is_ok());
        assert!(matches!(
            fresh().apply(Command::Cancel { reason: " ".into() }, actor(), now(), &policy),
            Err(TransitionError::Invalid(_))
        ));
        let shipped = fresh().apply(place(), actor(), now(), &policy).unwrap().vendor_order.apply(ship(), actor(), now(), &policy).unwrap().vendor_order;
        assert!(matches!(shipped.apply(cancel(), actor(), now(), &policy), Err(TransitionError::Illegal { .. })));
    }

    #[test]
    fn the_same_change_twice_gives_the_same_event_id() {
        let policy = SlaPolicy::default();
        let a = fresh().apply(place(), actor(), now(), &policy).unwrap();
        let b = fresh().apply(place(), actor(), now(), &policy).unwrap();
        assert_eq!(a.events[0].event_id, b.events[0].event_id);
    }

    fn command() -> impl Strategy<Value = Command> {
        prop_oneof![
            Just(place()),
            Just(ship()),
            Just(Command::MarkDelivered),
            Just(Command::Cancel { reason: "r".into() }),
        ]
    }

    proptest! {
        #[test]
        fn no_command_sequence_reaches_an_undefined_state(commands in prop::collection::vec(command(), 0..12)) {
            let policy = SlaPolicy::default();
            let mut order = fresh();
            for command in commands {
                let before = order.clone();
                match order.apply(command, actor(), now(), &policy) {
                    Ok(t) => {
                        prop_assert_eq!(t.vendor_order.version, before.version + 1);
                        prop_assert_eq!(t.history.state, t.vendor_order.state);
                        order = t.vendor_order;
                    }
                    Err(_) => prop_assert_eq!(&order, &before),
                }
                // Invariants of every reachable state.
                match order.state {
                    VoState::AwaitingSupplier => prop_assert!(order.supplier_order_ref.is_none()),
                    VoState::AwaitingShipment => prop_assert!(order.supplier_order_ref.is_some() && order.tracking.is_none()),
                    VoState::Shipped => prop_assert!(order.tracking.is_some() && order.shipped_at.is_some()),
                    VoState::Delivered => prop_assert!(order.tracking.is_some() && order.delivered_at.is_some() && order.clocks.is_empty()),
                    VoState::Cancelled => prop_assert!(order.tracking.is_none() && order.cancel_reason.is_some()),
                }
            }
        }
    }
}
