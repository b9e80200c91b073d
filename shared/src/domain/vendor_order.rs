//! A vendor order (one order's lines that one vendor sells) and its state machine:
//! each transition is a pure function of (order, command, now) that returns the next
//! order, its history entry and the events it causes, or says why it is illegal.

use super::address::Address;
use super::events::{Briefed, Cancelled, CancelledBy, CarrierNews, ClockFired, Envelope, EventType, LinesEdited, ParcelShipped};
use super::ids::{OrderId, SupplierOrderRef, VendorId};
use super::money::{Currency, Money};
use super::order::{CanonicalOrder, OrderLine, RoutedLine};
use super::sla::{Clock, ClockKind, SlaPolicy};
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
    /// Every state, in the order an order goes through them.
    pub const ALL: [VoState; 5] = [VoState::AwaitingSupplier, VoState::AwaitingShipment, VoState::Shipped, VoState::Delivered, VoState::Cancelled];

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

    /// Whether the step a deadline of `kind` is for is still to be done in this state:
    /// a late step stops being overdue once the order has moved past it.
    pub fn awaits(self, kind: ClockKind) -> bool {
        use VoState::*;
        match kind {
            ClockKind::PlaceReminder | ClockKind::PlaceWithSupplier | ClockKind::AutoCancel => self == AwaitingSupplier,
            ClockKind::Ship | ClockKind::ShipPromised => matches!(self, AwaitingSupplier | AwaitingShipment),
            ClockKind::TrackingStale | ClockKind::DeliveryPromise | ClockKind::DeliveryPromised | ClockKind::RefundWarning | ClockKind::DisputeWindow => {
                self == Shipped
            }
        }
    }

    /// Reads a wire name.
    pub fn parse(text: &str) -> Option<VoState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
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
    /// Lines ordered from a supplier under one reference (`None`: every line not yet
    /// ordered). The vendor order is placed once every line is.
    PlaceWithSupplier {
        supplier_order_ref: SupplierOrderRef,
        lines: Option<Vec<String>>,
    },
    /// Ordered lines leaving in one parcel (`None`: every ordered line not yet shipped).
    /// The vendor order is shipped once every line is.
    Ship {
        tracking: TrackingNumber,
        lines: Option<Vec<String>>,
    },
    /// The vendor typed a parcel's number wrong: until it is delivered the parcel
    /// (`from`) takes the right one, with its lines; the storefront's record and the
    /// customer follow.
    CorrectTracking {
        from: String,
        to: TrackingNumber,
    },
    /// A parcel arrived (`None`: every parcel); delivered once every line shipped and
    /// every parcel arrived.
    MarkDelivered {
        tracking_number: Option<String>,
    },
    Cancel {
        reason: String,
    },
    /// The storefront changed where the order goes: allowed until it ships.
    ChangeAddress {
        address: Address,
    },
    /// The storefront edited lines this order holds: each as it now is (fewer or more
    /// units, or none: removed). Allowed until the line is in a parcel; a line ordered
    /// from the supplier changes too, and its vendor is told to amend that order. With
    /// every line removed the order is cancelled.
    ChangeLines {
        lines: Vec<OrderLine>,
    },
    /// Lines of the order that had no vendor, now mapped to this one: they join while
    /// nothing has been ordered from the supplier.
    AddLines {
        lines: Vec<RoutedLine>,
    },
    /// The storefront refunded some of this order's lines: recorded exactly, in any
    /// state, once per refund.
    RecordRefund {
        refunds: Vec<LineRefund>,
    },
    /// The operator gives the vendor more time: the running clock of `kind` moves
    /// `hours` later, counted from its deadline, or from now when it fired already and
    /// repeats (the step is late; the repeat still says since when). What the customer
    /// was promised and the scorecard's deadlines do not move.
    ExtendClock {
        kind: ClockKind,
        hours: u32,
    },
    /// The operator gives the order to another vendor (`to`) before anything of it was
    /// ordered from the supplier: it ends here, cancelled, and its lines go on in `to`'s
    /// order (the service hands them out in the same transaction).
    HandOver {
        to: VendorId,
    },
    /// A carrier's news of one parcel (a tracking push): it moves, it arrived, or it is
    /// in trouble.
    CarrierUpdate {
        tracking_number: String,
        status: CarrierStatus,
        checkpoint: Checkpoint,
    },
}

/// What a carrier's news means for the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarrierStatus {
    /// On its way (info received, in transit, out for delivery, at a pickup point).
    InTransit,
    Delivered,
    /// A failed attempt, an exception, or tracking expired: someone has to act.
    Exception,
}

/// The last thing a carrier said of a parcel, as the vendor order shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub tracking_number: String,
    /// The carrier feed's own word ("InTransit", "Exception").
    pub tag: String,
    pub message: Option<String>,
    pub location: Option<String>,
    /// When the carrier says it happened.
    pub checkpoint_at: Option<DateTime<Utc>>,
    /// When dropflow heard of it (what the stale clock counts from).
    pub received_at: DateTime<Utc>,
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::PlaceWithSupplier { .. } => "place with supplier",
            Command::Ship { .. } => "ship",
            Command::CorrectTracking { .. } => "correct a tracking number of",
            Command::MarkDelivered { .. } => "mark delivered",
            Command::Cancel { .. } => "cancel",
            Command::ChangeAddress { .. } => "change the address of",
            Command::ChangeLines { .. } => "change the lines of",
            Command::AddLines { .. } => "add lines to",
            Command::RecordRefund { .. } => "record a refund on",
            Command::CarrierUpdate { .. } => "record carrier news on",
            Command::ExtendClock { .. } => "extend a clock of",
            Command::HandOver { .. } => "hand over",
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
    /// Every supplier order of its lines (several suppliers: several).
    #[serde(default)]
    pub supplier_orders: Vec<SupplierOrder>,
    /// Every parcel (one supplier order may ship in several, several in one).
    #[serde(default)]
    pub shipments: Vec<Shipment>,
    /// The carrier's last word on any of its parcels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checkpoint: Option<Checkpoint>,
    /// The escalating deadlines that fired (the sweep disarms a clock when it fires, so
    /// this is what remembers that the step is late); `overdue` keeps those not done yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breached: Vec<ClockKind>,
    /// When its customer's personal data is due to be purged (`RETENTION_DAYS` after
    /// it closed); the sweep finds it on the due index and purges the order once every
    /// vendor order of it is closed and due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_at: Option<DateTime<Utc>>,
    /// The operator gave it to this vendor (`Command::HandOver`): cancelled here, its
    /// lines go on in that vendor's order, and the customer's page shows them there only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_to: Option<VendorId>,
    /// The vendor itself cancelled it (a scorecard's pre-fulfillment cancel).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled_by_vendor: bool,
    /// What its vendor's scorecard counters hold of it (`domain::scorecard::facts`, as
    /// of its last commit): a commit adds only the difference, so a replay adds nothing.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scored: std::collections::BTreeMap<String, i64>,
    /// Bumped by every change; writes are conditional on the version read.
    pub version: u64,
}

/// Lines the vendor ordered from a supplier under one reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierOrder {
    pub reference: String,
    pub line_ids: Vec<String>,
    pub placed_at: DateTime<Utc>,
}

/// One parcel: its tracking number and the lines in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub tracking: TrackingNumber,
    pub line_ids: Vec<String>,
    pub shipped_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Where the customer was told the parcel waits (a pickup point's location, `""`
    /// when the carrier named none): the same pickup again is no news to mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_told: Option<String>,
    /// When the carrier first had news of it (its number is real and scanned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_seen_at: Option<DateTime<Utc>>,
}

/// Part of a storefront refund that falls on one of a vendor order's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRefund {
    pub refund_id: String,
    pub line_id: String,
    pub quantity: u32,
    pub amount: super::money::Money,
}

/// What a vendor order is worth to its vendor (DESIGN, "Money"): what the customer paid
/// for its lines less refunds, the marketplace's commission on that (per line, rounded
/// half away from zero), the supplier cost, and the margin, computed only when the
/// supplier cost is in the order's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Economics {
    pub customer_paid: Money,
    pub commission: Money,
    /// The lines' supplier costs summed, when they share one currency.
    pub supplier_cost: Option<Money>,
    pub margin: Option<Money>,
}

/// A line of the operator's digest: a clock that fired as an escalation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub vendor_id: VendorId,
    pub order_id: OrderId,
    /// The vendor-facing id (`public_id`).
    pub vendor_order: String,
    pub order_number: String,
    pub clock: ClockKind,
    /// The deadline first missed (also in a repeat), so the digest says how late it is.
    pub due_at: DateTime<Utc>,
}

/// Clocks that fired: the change to commit, and what it escalates.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub transition: Transition,
    pub escalations: Vec<Escalation>,
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

/// The longest cancellation reason a vendor may give: a reason is read by people, and
/// a vendor order must always fit its item.
pub const MAX_REASON_CHARS: usize = 1000;

/// How long a tracking number another vendor shipped under stays theirs.
pub const NUMBER_REUSE_DAYS: i64 = 180;

/// The lines a command names that the supplier order or parcel it repeats (`held`, when
/// it repeats one) does not hold yet. A repeat that names no lines is a client's retry
/// and adds nothing: only lines named outright join an existing one.
fn joining(lines: &Option<Vec<String>>, held: Option<&Vec<String>>) -> Option<Vec<String>> {
    match (lines, held) {
        (_, None) => lines.clone(),
        (None, Some(_)) => Some(Vec::new()),
        (Some(named), Some(held)) => Some(named.iter().filter(|id| !held.contains(id)).cloned().collect()),
    }
}

/// The order's side of a new vendor order: whose it is, where it goes and in what
/// currency. Every vendor order of one order shares it, so intake and rerouting build it
/// once from the order (`Recipient::of`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub order_id: OrderId,
    pub order_number: String,
    pub shipping_address: Address,
    pub customer_name: String,
    pub currency: Currency,
}

impl Recipient {
    /// The recipient of `order`'s vendor orders, or None when it has no usable shipping
    /// address (such an order is never routed).
    pub fn of(order: &CanonicalOrder) -> Option<Recipient> {
        Some(Recipient {
            order_id: order.order_id.clone(),
            order_number: order.order_number.clone(),
            shipping_address: order.shipping_address.clone()?,
            customer_name: order.customer_name.clone(),
            currency: order.currency,
        })
    }
}

impl VendorOrder {
    /// Its vendor-facing id (`public_id`).
    pub fn id(&self) -> String {
        public_id(&self.order_id, self.round)
    }

    /// A freshly routed vendor order, awaiting the supplier order, with its 24 h clock:
    /// `lines` of the order for `to`, handed to `vendor_id`.
    pub fn create(to: Recipient, vendor_id: VendorId, lines: Vec<RoutedLine>, now: DateTime<Utc>, policy: &SlaPolicy) -> (VendorOrder, HistoryEntry) {
        let Recipient { order_id, order_number, shipping_address, customer_name, currency } = to;
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
            clocks: policy.on_created(now),
            supplier_order_ref: None,
            tracking: None,
            shipped_at: None,
            delivered_at: None,
            cancel_reason: None,
            refunds: Vec::new(),
            redact_when_closed: false,
            round: 1,
            supplier_orders: Vec::new(),
            shipments: Vec::new(),
            last_checkpoint: None,
            breached: Vec::new(),
            purge_at: None,
            handed_to: None,
            cancelled_by_vendor: false,
            scored: Default::default(),
            version: 1,
        };
        let history = HistoryEntry { at: now, seq: 1, actor: Actor::Storefront, action: "created".into(), state: VoState::AwaitingSupplier, detail: None };
        (vendor_order, history)
    }

    /// Its economics at `commission_bps` (a money overflow is an error, never a wrap).
    pub fn economics(&self, commission_bps: super::money::CommissionBps) -> Result<Economics, super::money::MoneyError> {
        let zero = Money::zero(self.currency);
        let (mut paid, mut commission) = (zero, zero);
        let mut cost: Option<Money> = None;
        let mut mixed = false;
        for routed in &self.lines {
            let refunded = self.refunds.iter().filter(|r| r.line_id == routed.line.line_id).try_fold(zero, |sum, r| sum.checked_add(r.amount))?;
            let net = super::refund::line_value(&routed.line, refunded)?;
            paid = paid.checked_add(net)?;
            commission = commission.checked_add(net.basis_points(commission_bps))?;
            let line_cost = routed.supplier.supplier_cost.times(routed.line.quantity)?;
            cost = match cost {
                None => Some(line_cost),
                Some(sum) if sum.currency == line_cost.currency => Some(sum.checked_add(line_cost)?),
                Some(sum) => {
                    mixed = true;
                    Some(sum)
                }
            };
        }
        let supplier_cost = if mixed { None } else { Some(cost.unwrap_or(zero)) };
        let margin = match supplier_cost {
            Some(cost) if cost.currency == self.currency => Some(paid.checked_sub(commission)?.checked_sub(cost)?),
            _ => None,
        };
        Ok(Economics { customer_paid: paid, commission, supplier_cost, margin })
    }

    /// Whether `command` asks for what already happened, with the same data (the same
    /// tracking number for a shipped order): a client's retry, answered with the order
    /// as it is rather than a conflict.
    pub fn repeats(&self, command: &Command) -> bool {
        use VoState::*;
        match command {
            // The same reference or number with no line it does not hold yet.
            Command::PlaceWithSupplier { supplier_order_ref, lines } => {
                self.state != Cancelled
                    && self
                        .supplier_orders
                        .iter()
                        .any(|o| o.reference == supplier_order_ref.as_str() && lines.iter().flatten().all(|id| o.line_ids.contains(id)))
            }
            Command::Ship { tracking, lines } => {
                self.state != Cancelled
                    && self.shipments.iter().any(|s| s.tracking.number == tracking.number && lines.iter().flatten().all(|id| s.line_ids.contains(id)))
            }
            // The parcel carries the right number already, and the wrong one no more.
            Command::CorrectTracking { from, to } => self.parcel(from).is_none() && self.parcel(&to.number).is_some_and(|i| self.shipments[i].tracking == *to),
            Command::MarkDelivered { tracking_number: None } => self.state == Delivered,
            Command::MarkDelivered { tracking_number: Some(number) } => {
                self.shipments.iter().any(|s| s.tracking.number.eq_ignore_ascii_case(number.trim()) && s.delivered_at.is_some())
            }
            Command::Cancel { reason } => self.state == Cancelled && self.cancel_reason.as_deref() == Some(reason.trim()),
            _ => false,
        }
    }

    /// Moves the state on after lines were taken off: every line left ordered from the
    /// supplier waits for shipment (the ship clock starts), every line left in a parcel
    /// is shipped (the clocks of a shipped order start), or delivered when every parcel
    /// arrived already.
    fn settle(&mut self, now: DateTime<Utc>, policy: &SlaPolicy) {
        let placed = self.unplaced_lines().is_empty();
        let all_sent = placed && !self.shipments.is_empty() && self.unshipped_placed_lines().is_empty();
        if all_sent && self.shipments.iter().all(|s| s.delivered_at.is_some()) {
            self.state = VoState::Delivered;
            self.shipped_at.get_or_insert(now);
            self.delivered_at = Some(now);
            self.clocks.clear();
        } else if all_sent {
            self.state = VoState::Shipped;
            self.shipped_at = Some(now);
            self.clocks.retain(|c| c.kind == ClockKind::RefundWarning);
            self.clocks.extend(policy.on_shipped(now));
        } else if placed && self.state == VoState::AwaitingSupplier {
            self.state = VoState::AwaitingShipment;
            self.clocks.retain(|c| c.kind == ClockKind::RefundWarning);
            self.clocks.push(policy.ship(now));
        }
    }

    /// Lines not yet in any supplier order, in order.
    pub fn unplaced_lines(&self) -> Vec<String> {
        self.lines.iter().map(|l| l.line.line_id.clone()).filter(|id| !self.supplier_orders.iter().any(|o| o.line_ids.contains(id))).collect()
    }

    /// Lines ordered from a supplier and not yet in a parcel, in order.
    pub fn unshipped_placed_lines(&self) -> Vec<String> {
        let placed = |id: &String| self.supplier_orders.iter().any(|o| o.line_ids.contains(id));
        let shipped = |id: &String| self.shipments.iter().any(|s| s.line_ids.contains(id));
        self.lines.iter().map(|l| l.line.line_id.clone()).filter(|id| placed(id) && !shipped(id)).collect()
    }

    /// The lines a command names, checked against `allowed` (default: all of those).
    fn named_lines(&self, lines: &Option<Vec<String>>, allowed: Vec<String>, what: &str) -> Result<Vec<String>, TransitionError> {
        let named = match lines {
            None => allowed.clone(),
            Some(named) => {
                let mut unique: Vec<String> = Vec::new();
                for id in named {
                    if !self.lines.iter().any(|l| &l.line.line_id == id) {
                        return Err(TransitionError::Invalid(format!("lines: {id:?} is not a line of this order")));
                    }
                    if !allowed.contains(id) {
                        return Err(TransitionError::Invalid(format!("lines: line {id:?} cannot be {what} now")));
                    }
                    if !unique.contains(id) {
                        unique.push(id.clone());
                    }
                }
                unique
            }
        };
        if named.is_empty() {
            return Err(TransitionError::Invalid(format!("lines: no line to be {what}")));
        }
        Ok(named)
    }

    /// Whether nothing more happens to it before money settles: delivered or cancelled.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, VoState::Delivered | VoState::Cancelled)
    }

    /// Whether this order keeps `number` from another vendor at `now`: while its parcel
    /// under that number is on its way, and for `NUMBER_REUSE_DAYS` after it shipped
    /// (carriers recycle numbers; until then a number of someone else's is a typo or a
    /// fraud, and would send that parcel's news and earnings to the wrong order).
    pub fn holds_number(&self, number: &str, now: DateTime<Utc>) -> bool {
        self.shipments.iter().filter(|s| s.tracking.number.eq_ignore_ascii_case(number.trim())).any(|s| {
            let on_its_way = !self.is_closed() && s.delivered_at.is_none();
            on_its_way || now - s.shipped_at < chrono::Duration::days(NUMBER_REUSE_DAYS)
        })
    }

    /// The deadline to order from the supplier, while that clock runs.
    pub fn supplier_deadline(&self) -> Option<DateTime<Utc>> {
        self.clocks.iter().find(|c| c.kind == super::sla::ClockKind::PlaceWithSupplier).map(super::sla::Clock::deadline)
    }

    /// The steps late at `now` and not done yet: a deadline that fired while the order is
    /// still short of it, or one past due that the sweep has not reached. What the vendor
    /// should do first (the dashboard highlights it).
    pub fn overdue(&self, now: DateTime<Utc>) -> Vec<ClockKind> {
        let due = self.clocks.iter().filter(|c| c.kind.is_step() && c.due_at <= now).map(|c| c.kind);
        let mut kinds: Vec<ClockKind> = self.breached.iter().copied().chain(due).filter(|kind| self.state.awaits(*kind)).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// The steps escalated to the operator (their escalating deadline fired) and still
    /// not done: what puts the order in the operator's decisions.
    pub fn escalated(&self) -> Vec<ClockKind> {
        self.breached.iter().copied().filter(|kind| self.state.awaits(*kind)).collect()
    }

    /// Whether any step is `escalated`, without collecting them (every write of a
    /// vendor order asks, to choose its due-index family).
    pub fn is_escalated(&self) -> bool {
        self.breached.iter().any(|kind| self.state.awaits(*kind))
    }

    /// The earliest armed clock (what the due-clock index points at).
    pub fn next_due(&self) -> Option<&Clock> {
        self.clocks.iter().min_by_key(|c| c.due_at)
    }

    /// What tells this vendor order's events apart at `version`: a later round's events
    /// carry the round in their ids, so that they are not taken for the first round's.
    fn discriminator(&self, version: u64) -> String {
        if self.round > 1 { format!("r{}v{version}", self.round) } else { format!("v{version}") }
    }

    /// When a carrier last had news of it: the last push received, else the shipment.
    pub fn last_news_at(&self) -> Option<DateTime<Utc>> {
        self.last_checkpoint.as_ref().map(|c| c.received_at).or(self.shipped_at)
    }

    /// Fires every clock due at `now` (the sweep): each is disarmed in the same change,
    /// with the events it calls for; None when nothing is due (a transition won the race).
    /// A reminder whose deadline is due as well is not sent: the breach says it.
    pub fn fire(&self, now: DateTime<Utc>, policy: &SlaPolicy) -> Option<Fired> {
        let (due, kept): (Vec<Clock>, Vec<Clock>) = self.clocks.iter().cloned().partition(|c| c.due_at <= now);
        if due.is_empty() {
            return None;
        }
        // An order still not placed with the supplier `SLA_AUTO_CANCEL_HOURS` after its
        // deadline is cancelled, as a cancel by the vendor would (its mail says why).
        if due.iter().any(|c| c.kind == ClockKind::AutoCancel) && self.state == VoState::AwaitingSupplier && self.supplier_orders.is_empty() {
            let hours = policy.auto_cancel_hours.unwrap_or_default();
            let reason = format!("not ordered from the supplier within {hours} h of its deadline");
            let mut transition = self.apply(Command::Cancel { reason }, Actor::System, now, policy).ok()?;
            for event in transition.events.iter_mut().filter(|e| e.event_type == EventType::Cancelled) {
                *event = event.clone().with(&Cancelled { by: Some(CancelledBy::Sla), to: None });
            }
            return Some(Fired { transition, escalations: Vec::new() });
        }
        let mut next = self.clone();
        next.clocks = kept;
        next.version = self.version + 1;
        let breached = due.iter().any(|c| c.kind == ClockKind::PlaceWithSupplier);
        let deadline = |kind: ClockKind| self.clocks.iter().find(|c| c.kind == kind).map(|c| c.due_at);
        let (mut events, mut escalations) = (Vec::new(), Vec::new());
        for clock in &due {
            // What this escalation promises the customer next, or decides (a first one).
            let follow = policy.after_first_escalation(clock, now).filter(|c| c.kind != ClockKind::AutoCancel || self.supplier_orders.is_empty());
            let promised = follow.as_ref().map(|c| c.due_at);
            let fired = ClockFired { clock: Some(clock.kind), ..ClockFired::default() };
            let fact = match clock.kind {
                ClockKind::PlaceReminder if breached => None,
                ClockKind::PlaceReminder => Some((EventType::SlaReminder, ClockFired { deadline: deadline(ClockKind::PlaceWithSupplier), ..fired })),
                // A repeat: the vendor hears again how late the step is (the customer
                // was told at the first escalation).
                _ if clock.overdue_since.is_some() => Some((EventType::SlaBreached, ClockFired { due_at: Some(clock.deadline()), repeat: true, ..fired })),
                ClockKind::PlaceWithSupplier => Some((EventType::SlaBreached, ClockFired { due_at: Some(clock.due_at), ..fired })),
                ClockKind::Ship => Some((EventType::SlaBreached, ClockFired { due_at: Some(clock.due_at), promised, ..fired })),
                // The date the customer was given passed with the step still not done:
                // they hear again, and the operator's digest lists it.
                ClockKind::ShipPromised | ClockKind::DeliveryPromised => Some((EventType::SlaBreached, ClockFired { promised: Some(clock.due_at), ..fired })),
                // Placed meanwhile (in part): nothing to cancel.
                ClockKind::AutoCancel => None,
                ClockKind::TrackingStale => {
                    let dispute_open = self.shipped_at.is_some_and(|at| policy.dispute_open(at, now));
                    Some((EventType::SlaReminder, ClockFired { last_news_at: self.last_news_at(), dispute_open, ..fired }))
                }
                ClockKind::DeliveryPromise => Some((EventType::DeliveryDelayed, ClockFired { due_at: Some(clock.due_at), promised, ..fired })),
                ClockKind::RefundWarning => {
                    let closes_at = self.supplier_orders.first().map(|o| o.placed_at + chrono::Duration::days(policy.refund_window_days));
                    Some((EventType::RefundWindowClosing, ClockFired { closes_at, ..fired }))
                }
                // The vendor hears the supplier's dispute window is open, whatever the
                // tracking says (how stale it is decides what the mail asks); not when
                // tracking goes stale at the same second: that mail says the window is open.
                ClockKind::DisputeWindow if due.iter().any(|c| c.kind == ClockKind::TrackingStale) => None,
                ClockKind::DisputeWindow => {
                    let last = self.last_news_at();
                    let stale = last.is_some_and(|last| policy.is_stale(last, now));
                    Some((EventType::DisputeWindowOpen, ClockFired { last_news_at: last, stale: Some(stale), ..fired }))
                }
            };
            if let Some((event_type, payload)) = fact {
                let discriminator = format!("{}.{}", self.discriminator(next.version), clock.kind.as_str());
                events.push(Envelope::new(event_type, &self.order_id, Some(&self.vendor_id), &discriminator, now).in_round(self.round).with(&payload));
            }
            if clock.kind.escalates() {
                if clock.kind.is_step() && !next.breached.contains(&clock.kind) {
                    next.breached.push(clock.kind);
                }
                next.clocks.extend(policy.escalate_again(clock, now));
                next.clocks.extend(follow);
                escalations.push(Escalation {
                    vendor_id: self.vendor_id.clone(),
                    order_id: self.order_id.clone(),
                    vendor_order: self.id(),
                    order_number: self.order_number.clone(),
                    clock: clock.kind,
                    due_at: clock.deadline(),
                });
            }
        }
        let fired = due.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>().join(", ");
        let history = HistoryEntry { at: now, seq: next.version, actor: Actor::System, action: "clock_fired".into(), state: next.state, detail: Some(fired) };
        Some(Fired { transition: Transition { vendor_order: next, history, events }, escalations })
    }

    /// Applies `command` by `actor` at `now`; the order itself is not changed. Each
    /// command is one method that changes a copy and says what happened (`Change`);
    /// `conclude` turns that into the history entry and the event, the same for all.
    pub fn apply(&self, command: Command, actor: Actor, now: DateTime<Utc>, policy: &SlaPolicy) -> Result<Transition, TransitionError> {
        use VoState::*;
        let mut next = self.clone();
        let change = match (&command, self.state) {
            (Command::PlaceWithSupplier { supplier_order_ref, lines }, AwaitingSupplier) => self.place(&mut next, supplier_order_ref, lines, now, policy)?,
            (Command::Ship { tracking, lines }, AwaitingSupplier | AwaitingShipment) if !self.unshipped_placed_lines().is_empty() => {
                self.ship(&mut next, tracking, lines, now, policy)?
            }
            (Command::CorrectTracking { from, to }, AwaitingShipment | Shipped) => self.correct_tracking(&mut next, from, to)?,
            // A parcel is delivered on its own: also the first parcel of an order whose
            // other lines have not shipped yet (the carrier says it once).
            (Command::MarkDelivered { tracking_number }, Shipped | AwaitingShipment) if !self.shipments.is_empty() => {
                self.deliver(&mut next, tracking_number.as_deref(), now)?
            }
            (Command::Cancel { reason }, AwaitingSupplier | AwaitingShipment) if self.shipments.is_empty() => {
                next.cancelled_by_vendor = matches!(actor, Actor::Vendor(_));
                cancel(&mut next, reason)?
            }
            (Command::HandOver { to }, AwaitingSupplier) if self.supplier_orders.is_empty() => {
                if *to == self.vendor_id {
                    return Err(TransitionError::Invalid(format!("the order is vendor {to}'s already")));
                }
                let handed_over = super::events::Cancelled { by: Some(CancelledBy::HandedOver), to: Some(to.clone()) };
                next.handed_to = Some(to.clone());
                cancel(&mut next, &format!("given to vendor {to} by the operator"))?.with(&handed_over)
            }
            (Command::ChangeAddress { address }, AwaitingSupplier | AwaitingShipment) if self.shipments.is_empty() => {
                if *address == self.shipping_address {
                    return Err(TransitionError::Invalid("the address is the same".into()));
                }
                next.shipping_address = address.clone();
                Change::of(EventType::AddressChanged, Some(address.lines().join(", ")))
            }
            (Command::ChangeLines { lines }, AwaitingSupplier | AwaitingShipment) => self.change_lines(&mut next, lines, now, policy)?,
            (Command::AddLines { lines }, AwaitingSupplier) if self.supplier_orders.is_empty() => {
                if lines.is_empty() {
                    return Err(TransitionError::Invalid("no lines to add".into()));
                }
                next.lines.extend(lines.iter().cloned());
                // The brief is sent again, whole, naming the lines that are new (so that
                // nobody buys the first ones twice): the event is a new one (its id
                // carries the version), so it is not taken for a duplicate.
                let briefed = Briefed { added: lines.iter().map(|l| l.line.line_id.clone()).collect() };
                Change::of(EventType::VendorOrderCreated, Some(format!("{} more lines", lines.len()))).with(&briefed)
            }
            // The carrier's "delivered" for a parcel still on its way: exactly as if the
            // vendor had said so.
            (Command::CarrierUpdate { tracking_number, status: CarrierStatus::Delivered, checkpoint }, Shipped | AwaitingShipment)
                if self.parcel(tracking_number).is_some_and(|i| self.shipments[i].delivered_at.is_none()) =>
            {
                let mut delivered = self.apply(Command::MarkDelivered { tracking_number: Some(tracking_number.clone()) }, actor, now, policy)?;
                delivered.vendor_order.last_checkpoint = Some(checkpoint.clone());
                delivered.vendor_order.seen_by_carrier(tracking_number, now);
                return Ok(delivered);
            }
            (Command::CarrierUpdate { tracking_number, status, checkpoint }, AwaitingSupplier | AwaitingShipment | Shipped) => {
                self.carrier_update(&mut next, tracking_number, *status, checkpoint, now, policy)?
            }
            (Command::RecordRefund { refunds }, _) => self.record_refund(&mut next, refunds)?,
            (Command::ExtendClock { kind, hours }, AwaitingSupplier | AwaitingShipment | Shipped) => extend_clock(&mut next, *kind, *hours, now)?,
            _ => return Err(TransitionError::Illegal { from: self.state, command: command.name() }),
        };
        Ok(self.conclude(next, change, actor, now, policy))
    }

    /// Notes the carrier's first news of parcel `tracking_number` (at `now`).
    fn seen_by_carrier(&mut self, tracking_number: &str, now: DateTime<Utc>) {
        if let Some(i) = self.parcel(tracking_number) {
            self.shipments[i].carrier_seen_at.get_or_insert(now);
        }
    }

    /// The parcel `tracking_number` names (any case, trimmed), by its index.
    fn parcel(&self, tracking_number: &str) -> Option<usize> {
        self.shipments.iter().position(|s| s.tracking.number.eq_ignore_ascii_case(tracking_number.trim()))
    }

    /// `PlaceWithSupplier`: the lines named (or all unplaced) are ordered under the
    /// reference; the same reference again with lines it does not hold adds them to it.
    fn place(
        &self,
        next: &mut VendorOrder,
        supplier_order_ref: &SupplierOrderRef,
        lines: &Option<Vec<String>>,
        now: DateTime<Utc>,
        policy: &SlaPolicy,
    ) -> Result<Change, TransitionError> {
        let reference = supplier_order_ref.as_str();
        let existing = self.supplier_orders.iter().position(|o| o.reference == reference);
        let held = existing.map(|i| &self.supplier_orders[i].line_ids);
        let line_ids = self.named_lines(&joining(lines, held), self.unplaced_lines(), "ordered from a supplier")?;
        if self.supplier_orders.is_empty() {
            next.clocks.push(policy.refund_warning(now));
        }
        match existing {
            Some(i) => next.supplier_orders[i].line_ids.extend(line_ids),
            None => next.supplier_orders.push(SupplierOrder { reference: reference.to_string(), line_ids, placed_at: now }),
        }
        next.supplier_order_ref.get_or_insert_with(|| reference.to_string());
        if next.unplaced_lines().is_empty() {
            next.state = VoState::AwaitingShipment;
            next.clocks.retain(|c| c.kind == ClockKind::RefundWarning);
            next.clocks.push(policy.ship(now));
        }
        Ok(Change::of(EventType::SupplierOrderPlaced, Some(format!("supplier order {reference}"))))
    }

    /// `Ship`: a parcel of the named (or all) placed lines; the same number again with
    /// lines it does not carry adds them to the parcel. Its event names the parcel, so
    /// that its mail lists the lines in it.
    fn ship(
        &self,
        next: &mut VendorOrder,
        tracking: &TrackingNumber,
        lines: &Option<Vec<String>>,
        now: DateTime<Utc>,
        policy: &SlaPolicy,
    ) -> Result<Change, TransitionError> {
        let existing = self.shipments.iter().position(|s| s.tracking.number == tracking.number);
        if existing.is_some_and(|i| self.shipments[i].delivered_at.is_some()) {
            return Err(TransitionError::Invalid(format!("parcel {} is delivered already", tracking.number)));
        }
        let held = existing.map(|i| &self.shipments[i].line_ids);
        let line_ids = self.named_lines(&joining(lines, held), self.unshipped_placed_lines(), "shipped")?;
        match existing {
            Some(i) => next.shipments[i].line_ids.extend(line_ids),
            None => next.shipments.push(Shipment {
                tracking: tracking.clone(),
                line_ids,
                shipped_at: now,
                delivered_at: None,
                pickup_told: None,
                carrier_seen_at: None,
            }),
        }
        next.tracking = Some(tracking.clone());
        if next.unplaced_lines().is_empty() && next.unshipped_placed_lines().is_empty() {
            next.state = VoState::Shipped;
            next.shipped_at = Some(now);
            next.clocks.retain(|c| c.kind == ClockKind::RefundWarning);
            next.clocks.extend(policy.on_shipped(now));
        }
        let parcel = ParcelShipped { tracking_number: tracking.number.clone() };
        Ok(Change::of(EventType::Shipped, Some(format!("{} {}", tracking.carrier, tracking.number))).with(&parcel))
    }

    /// `CorrectTracking`: the parcel `from` (any case) takes the number `to`, until it
    /// is delivered; a number another parcel of the order has is refused. The
    /// carrier's news of the wrong number is no longer the parcel's.
    fn correct_tracking(&self, next: &mut VendorOrder, from: &str, to: &TrackingNumber) -> Result<Change, TransitionError> {
        let i = self.parcel(from).ok_or_else(|| TransitionError::Invalid(format!("no parcel {:?} in this order", from.trim())))?;
        let old = &self.shipments[i].tracking;
        if self.shipments[i].delivered_at.is_some() {
            return Err(TransitionError::Invalid(format!("parcel {} is delivered already: its number stays", old.number)));
        }
        if self.parcel(&to.number).is_some() {
            return Err(TransitionError::Invalid(format!("tracking_number: parcel {} is in this order already", to.number)));
        }
        next.shipments[i].tracking = to.clone();
        if next.tracking.as_ref().is_some_and(|t| t.number == old.number) {
            next.tracking = Some(to.clone());
        }
        if next.last_checkpoint.as_ref().is_some_and(|c| c.tracking_number.eq_ignore_ascii_case(&old.number)) {
            next.last_checkpoint = None;
        }
        let corrected = super::events::TrackingCorrected { from: old.number.clone(), tracking_number: to.number.clone() };
        Ok(Change::of(EventType::TrackingCorrected, Some(format!("parcel {} is now {} {}", old.number, to.carrier, to.number))).with(&corrected))
    }

    /// `MarkDelivered`: the parcel named, or every one still out, has arrived; the
    /// order is delivered when it had shipped whole and every parcel is in.
    fn deliver(&self, next: &mut VendorOrder, tracking_number: Option<&str>, now: DateTime<Utc>) -> Result<Change, TransitionError> {
        let arrived: Vec<usize> = match tracking_number.map(str::trim) {
            None => (0..next.shipments.len()).filter(|i| next.shipments[*i].delivered_at.is_none()).collect(),
            Some(number) => {
                let found = self.parcel(number).ok_or_else(|| TransitionError::Invalid(format!("tracking_number: no parcel {number:?} in this order")))?;
                if next.shipments[found].delivered_at.is_some() {
                    return Err(TransitionError::Invalid(format!("parcel {number} is delivered already")));
                }
                vec![found]
            }
        };
        if arrived.is_empty() {
            return Err(TransitionError::Invalid("every parcel is delivered already".into()));
        }
        for i in &arrived {
            next.shipments[*i].delivered_at = Some(now);
        }
        if self.state == VoState::Shipped && next.shipments.iter().all(|s| s.delivered_at.is_some()) {
            next.state = VoState::Delivered;
            next.delivered_at = Some(now);
            next.clocks.clear();
            Ok(Change::of(EventType::Delivered, None))
        } else {
            let parcels = arrived.iter().map(|i| format!("parcel {} delivered", next.shipments[*i].tracking.number)).collect::<Vec<_>>();
            Ok(Change::of(EventType::TrackingUpdated, Some(parcels.join(", "))))
        }
    }

    /// `ChangeLines`: the storefront's new quantities of lines not yet shipped; a line
    /// at zero leaves (every line at zero cancels, keeping the lines for its mail). The
    /// supplier orders holding a changed line are named, to be amended.
    fn change_lines(&self, next: &mut VendorOrder, lines: &[OrderLine], now: DateTime<Utc>, policy: &SlaPolicy) -> Result<Change, TransitionError> {
        let mut changes = Vec::new();
        let mut amend = Vec::new();
        for line in lines {
            let Some(at) = next.lines.iter().position(|r| r.line.line_id == line.line_id) else {
                return Err(TransitionError::Invalid(format!("line {} is not in this vendor order", line.line_id)));
            };
            // What left in a parcel is the operator's to settle with the customer.
            if self.shipments.iter().any(|s| s.line_ids.contains(&line.line_id)) {
                return Err(TransitionError::Illegal { from: self.state, command: "change the lines of" });
            }
            let change = super::order::LineChange { line: line.clone(), from: next.lines[at].line.quantity };
            if change.from == line.quantity {
                continue;
            }
            if let Some(order) = self.supplier_orders.iter().find(|o| o.line_ids.contains(&line.line_id))
                && !amend.contains(&order.reference)
            {
                amend.push(order.reference.clone());
            }
            changes.push(change.describe());
            next.lines[at].line = line.clone();
        }
        if changes.is_empty() {
            return Err(TransitionError::Invalid("the lines are as they were".into()));
        }
        let edited = LinesEdited { changes: changes.clone(), amend };
        if next.lines.iter().all(|r| r.line.quantity == 0) {
            // Cancelled as it was: its mail and history name what is not to be sent.
            let reason = "the storefront removed every line".to_string();
            next.lines = self.lines.clone();
            next.state = VoState::Cancelled;
            next.cancel_reason = Some(reason.clone());
            next.clocks.clear();
            return Ok(Change::of(EventType::Cancelled, Some(reason)).with(&edited));
        }
        let removed: Vec<String> = next.lines.iter().filter(|r| r.line.quantity == 0).map(|r| r.line.line_id.clone()).collect();
        next.lines.retain(|r| r.line.quantity > 0);
        for order in &mut next.supplier_orders {
            order.line_ids.retain(|id| !removed.contains(id));
        }
        next.settle(now, policy);
        Ok(Change::of(EventType::LinesChanged, Some(changes.join("; "))).with(&edited))
    }

    /// `CarrierUpdate` (other than a parcel's first "delivered"): news of a parcel,
    /// which resets the stale clock; a new problem is an exception, the same problem
    /// reported again is news only. Its event says whether it repeats the last news.
    fn carrier_update(
        &self,
        next: &mut VendorOrder,
        tracking_number: &str,
        status: CarrierStatus,
        checkpoint: &Checkpoint,
        now: DateTime<Utc>,
        policy: &SlaPolicy,
    ) -> Result<Change, TransitionError> {
        if self.parcel(tracking_number).is_none() {
            return Err(TransitionError::Invalid(format!("no parcel {tracking_number:?} in this order")));
        }
        next.last_checkpoint = Some(checkpoint.clone());
        next.seen_by_carrier(tracking_number, now);
        // Any news resets the stale clock, counted from when it was received.
        if let Some(stale) = next.clocks.iter_mut().find(|c| c.kind == ClockKind::TrackingStale) {
            *stale = policy.tracking_stale(now);
        } else if self.state == VoState::Shipped && status != CarrierStatus::Delivered {
            next.clocks.push(policy.tracking_stale(now));
        }
        let detail = Some(format!("{} {}: {}", tracking_number.trim(), checkpoint.tag, checkpoint.message.as_deref().unwrap_or("-")));
        let last = self.last_checkpoint.as_ref().filter(|c| c.tracking_number.eq_ignore_ascii_case(&checkpoint.tracking_number) && c.tag == checkpoint.tag);
        // The same problem reported again (the carrier's feed repeats itself) is news
        // for the stale clock, not a new problem to alert anyone of.
        let reported_already = last.is_some_and(|c| c.message == checkpoint.message);
        let event_type = if status == CarrierStatus::Exception && !reported_already { EventType::TrackingException } else { EventType::TrackingUpdated };
        // A parcel waiting at the pickup point the customer was told of already (it left
        // and came back, or the feed said so again in between other news): no new mail.
        let mut pickup_again = false;
        if checkpoint.tag == "AvailableForPickup"
            && let Some(shipment) = next.shipments.iter_mut().find(|s| s.tracking.number.eq_ignore_ascii_case(tracking_number.trim()))
        {
            let place = checkpoint.location.clone().unwrap_or_default();
            pickup_again = shipment.pickup_told.as_ref() == Some(&place);
            shipment.pickup_told = Some(place);
        }
        // The same news of the same parcel as last time: nobody is told again.
        Ok(Change::of(event_type, detail).with(&CarrierNews { checkpoint: checkpoint.clone(), again: last.is_some() || pickup_again }))
    }

    /// `RecordRefund`: the storefront's refund of some of this order's lines, once.
    fn record_refund(&self, next: &mut VendorOrder, refunds: &[LineRefund]) -> Result<Change, TransitionError> {
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
        Ok(Change::of(EventType::Refunded, Some(format!("refund {}: {total}", first.refund_id))))
    }

    /// What every command ends with: the new version, the purge date of an order that
    /// closes, the history entry and the event (with the redaction due, when the
    /// customer asked for it and the order has just closed).
    fn conclude(&self, mut next: VendorOrder, change: Change, actor: Actor, now: DateTime<Utc>, policy: &SlaPolicy) -> Transition {
        next.version = self.version + 1;
        if next.is_closed() && !self.is_closed() {
            next.purge_at = policy.purge_at(now);
        }
        let Change { event_type, detail, payload } = change;
        let history = HistoryEntry { at: now, seq: next.version, actor, action: event_type.as_str().into(), state: next.state, detail };
        // A later round's events carry it in their ids, so that they are not taken for
        // the first round's.
        let discriminator = self.discriminator(next.version);
        let mut event = Envelope::new(event_type, &self.order_id, Some(&self.vendor_id), &discriminator, now).in_round(self.round);
        event.payload = payload;
        let mut events = vec![event];
        if next.redact_when_closed && next.is_closed() && !self.is_closed() {
            events.push(Envelope::new(EventType::RedactionDue, &self.order_id, Some(&self.vendor_id), &discriminator, now).in_round(self.round));
        }
        Transition { vendor_order: next, history, events }
    }
}

/// `Cancel` of an order with nothing shipped: it needs a reason of a sensible length.
fn cancel(next: &mut VendorOrder, reason: &str) -> Result<Change, TransitionError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(TransitionError::Invalid("a cancellation needs a reason".into()));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(TransitionError::Invalid(format!("reason: at most {MAX_REASON_CHARS} characters")));
    }
    next.state = VoState::Cancelled;
    next.cancel_reason = Some(reason.to_string());
    next.clocks.clear();
    Ok(Change::of(EventType::Cancelled, Some(reason.to_string())))
}

/// The most hours one extension gives (30 days).
pub const MAX_EXTEND_HOURS: u32 = 720;

/// `ExtendClock`: the clock of `kind` that runs is due `hours` later than its deadline,
/// or than `now` when that passed (a repeat of a late step).
fn extend_clock(next: &mut VendorOrder, kind: ClockKind, hours: u32, now: DateTime<Utc>) -> Result<Change, TransitionError> {
    if !(1..=MAX_EXTEND_HOURS).contains(&hours) {
        return Err(TransitionError::Invalid(format!("hours: from 1 to {MAX_EXTEND_HOURS}")));
    }
    let clock =
        next.clocks.iter_mut().find(|c| c.kind == kind).ok_or_else(|| TransitionError::Invalid(format!("no {} clock runs on this order", kind.as_str())))?;
    clock.due_at = super::sla::Clock::new(kind, clock.due_at.max(now) + chrono::Duration::hours(i64::from(hours))).due_at;
    let extended = super::events::ClockExtended { clock: kind, due_at: clock.due_at, hours };
    Ok(Change::of(EventType::ClockExtended, Some(format!("{} now due {}", kind.as_str(), clock.due_at.to_rfc3339()))).with(&extended))
}

/// What one command did, for `conclude`: the fact, its history line and its payload.
struct Change {
    event_type: EventType,
    detail: Option<String>,
    payload: serde_json::Value,
}

impl Change {
    fn of(event_type: EventType, detail: Option<String>) -> Change {
        Change { event_type, detail, payload: serde_json::Value::Null }
    }

    /// With the event's typed payload (serialising plain data cannot fail).
    fn with<P: Serialize>(self, payload: &P) -> Change {
        Change { payload: serde_json::to_value(payload).unwrap_or_default(), ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::CommissionBps;
    use crate::domain::tracking::TrackingNumber;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn fresh() -> VendorOrder {
        let address = Address::example();
        let to = Recipient {
            order_id: OrderId::derive("shopify", "s", "1"),
            order_number: "#1001".into(),
            shipping_address: address,
            customer_name: "Bob".into(),
            currency: Currency::parse("USD").unwrap(),
        };
        VendorOrder::create(to, VendorId::parse("acme").unwrap(), vec![line("1"), line("2")], now(), &SlaPolicy::default()).0
    }

    fn line(id: &str) -> RoutedLine {
        let usd = Currency::parse("USD").unwrap();
        RoutedLine::example(id, Money::parse_decimal("10.00", usd).unwrap(), Money::parse_decimal("4.00", usd).unwrap())
    }

    #[test]
    fn a_parcel_back_at_the_pickup_point_it_was_told_of_is_no_new_mail() {
        let policy = SlaPolicy::default();
        let placed = fresh()
            .apply(Command::PlaceWithSupplier { supplier_order_ref: SupplierOrderRef::parse("S-1").unwrap(), lines: None }, actor(), now(), &policy)
            .unwrap();
        let tracking = TrackingNumber::parse("1Z5R89390357567127", None).unwrap();
        let mut vo = placed.vendor_order.apply(Command::Ship { tracking, lines: None }, actor(), now(), &policy).unwrap().vendor_order;
        let news = |tag: &str, location: &str| Checkpoint {
            tracking_number: "1Z5R89390357567127".into(),
            tag: tag.into(),
            message: None,
            location: Some(location.into()),
            checkpoint_at: None,
            received_at: now(),
        };
        let mut again = Vec::new();
        for (tag, location) in [
            ("AvailableForPickup", "Austin"),
            ("InTransit", "Austin"),
            ("AvailableForPickup", "Austin"),
            ("InTransit", "Austin"),
            ("AvailableForPickup", "Dallas"),
        ] {
            let status = CarrierStatus::InTransit;
            let t = vo
                .apply(
                    Command::CarrierUpdate { tracking_number: "1Z5R89390357567127".into(), status, checkpoint: news(tag, location) },
                    actor(),
                    now(),
                    &policy,
                )
                .unwrap();
            again.push(t.events[0].payload_as::<CarrierNews>().unwrap().again);
            vo = t.vendor_order;
        }
        assert_eq!(again, [false, false, true, false, false], "the same pickup point again is no news; another is");
    }

    #[test]
    fn a_number_is_held_while_its_parcel_travels_and_for_180_days_after_it_shipped() {
        let policy = SlaPolicy::default();
        let placed = fresh()
            .apply(Command::PlaceWithSupplier { supplier_order_ref: SupplierOrderRef::parse("AE-1").unwrap(), lines: None }, actor(), now(), &policy)
            .unwrap();
        let tracking = TrackingNumber::parse("1Z5R89390357567127", None).unwrap();
        let shipped = placed.vendor_order.apply(Command::Ship { tracking, lines: None }, actor(), now(), &policy).unwrap().vendor_order;
        let later = |days: i64| now() + chrono::Duration::days(days);
        assert!(shipped.holds_number("1z5r89390357567127 ", later(1)), "numbers compare as carriers do");
        assert!(shipped.holds_number("1Z5R89390357567127", later(400)), "a parcel still on its way holds it however old");
        assert!(!shipped.holds_number("RB123456785GB", later(1)));
        let delivered = shipped.apply(Command::MarkDelivered { tracking_number: None }, actor(), later(10), &policy).unwrap().vendor_order;
        assert!(delivered.holds_number("1Z5R89390357567127", later(179)));
        assert!(!delivered.holds_number("1Z5R89390357567127", later(NUMBER_REUSE_DAYS)), "carriers recycle numbers");
    }

    #[test]
    fn a_parcels_wrong_number_is_corrected_until_it_is_delivered_and_a_retry_repeats() {
        let policy = SlaPolicy::default();
        let placed = fresh()
            .apply(Command::PlaceWithSupplier { supplier_order_ref: SupplierOrderRef::parse("AE-1").unwrap(), lines: None }, actor(), now(), &policy)
            .unwrap();
        let wrong = TrackingNumber::parse("1Z999AA10123456784", None).unwrap();
        let shipped = placed.vendor_order.apply(Command::Ship { tracking: wrong, lines: None }, actor(), now(), &policy).unwrap().vendor_order;
        let right = TrackingNumber::parse("RB123456785GB", None).unwrap();
        let correct = Command::CorrectTracking { from: "1z999aa10123456784".into(), to: right.clone() };
        let corrected = shipped.apply(correct.clone(), actor(), now(), &policy).unwrap();
        let vo = &corrected.vendor_order;
        assert_eq!((vo.shipments.len(), &vo.shipments[0].tracking, vo.shipments[0].line_ids.len()), (1, &right, 2), "the same parcel, its lines kept");
        assert_eq!((vo.tracking.as_ref(), vo.state), (Some(&right), VoState::Shipped));
        let event = &corrected.events[0];
        assert_eq!(event.event_type, EventType::TrackingCorrected);
        assert_eq!(event.payload, serde_json::json!({"from": "1Z999AA10123456784", "tracking_number": "RB123456785GB"}));
        assert!(vo.repeats(&correct), "the same correction again is what already happened");
        let again = vo.apply(correct, actor(), now(), &policy);
        assert!(matches!(again, Err(TransitionError::Invalid(_))), "{again:?}");
        let same = vo.apply(Command::CorrectTracking { from: "RB123456785GB".into(), to: right.clone() }, actor(), now(), &policy);
        assert!(matches!(same, Err(TransitionError::Invalid(_))), "a parcel of the order has that number already: {same:?}");
        let delivered = vo.apply(Command::MarkDelivered { tracking_number: None }, actor(), now(), &policy).unwrap().vendor_order;
        let late = delivered.apply(
            Command::CorrectTracking { from: "RB123456785GB".into(), to: TrackingNumber::parse("1Z5R89390357567127", None).unwrap() },
            actor(),
            now(),
            &policy,
        );
        assert!(matches!(late, Err(TransitionError::Illegal { .. })), "a delivered order's numbers stay: {late:?}");
    }

    #[test]
    fn two_suppliers_and_two_parcels_move_the_order_as_its_least_advanced_line() {
        let policy = SlaPolicy::default();
        let one = |id: &str| Some(vec![id.to_string()]);
        let first = fresh()
            .apply(Command::PlaceWithSupplier { supplier_order_ref: SupplierOrderRef::parse("AE-1").unwrap(), lines: one("1") }, actor(), now(), &policy)
            .unwrap();
        assert_eq!(first.vendor_order.state, VoState::AwaitingSupplier, "line 2 is not ordered yet");
        let early = first.vendor_order.apply(
            Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: one("2") },
            actor(),
            now(),
            &policy,
        );
        assert!(matches!(early, Err(TransitionError::Invalid(_))), "line 2 cannot ship before it is ordered: {early:?}");
        let parcel_one = first
            .vendor_order
            .apply(Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None }, actor(), now(), &policy)
            .unwrap();
        assert_eq!(
            (parcel_one.vendor_order.state, parcel_one.events[0].event_type),
            (VoState::AwaitingSupplier, EventType::Shipped),
            "a parcel left; the order is as far as line 2"
        );
        let both = parcel_one
            .vendor_order
            .apply(Command::PlaceWithSupplier { supplier_order_ref: SupplierOrderRef::parse("AE-2").unwrap(), lines: None }, actor(), now(), &policy)
            .unwrap();
        assert_eq!(both.vendor_order.state, VoState::AwaitingShipment);
        assert_eq!(both.vendor_order.supplier_orders.iter().map(|o| o.reference.as_str()).collect::<Vec<_>>(), ["AE-1", "AE-2"]);
        let reused = both.vendor_order.apply(
            Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None },
            actor(),
            now(),
            &policy,
        );
        assert!(
            reused.is_err() && both.vendor_order.repeats(&Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None }),
            "the same parcel again is a repeat"
        );
        let parcel_two = both
            .vendor_order
            .apply(Command::Ship { tracking: TrackingNumber::parse("RB123456785GB", None).unwrap(), lines: None }, actor(), now(), &policy)
            .unwrap();
        assert_eq!(parcel_two.vendor_order.state, VoState::Shipped);
        let half = parcel_two.vendor_order.apply(Command::MarkDelivered { tracking_number: Some("RB123456785GB".into()) }, actor(), now(), &policy).unwrap();
        assert_eq!((half.vendor_order.state, half.events[0].event_type), (VoState::Shipped, EventType::TrackingUpdated));
        let all = half.vendor_order.apply(Command::MarkDelivered { tracking_number: Some("1Z5R89390357567127".into()) }, actor(), now(), &policy).unwrap();
        assert_eq!((all.vendor_order.state, all.events[0].event_type), (VoState::Delivered, EventType::Delivered));
        let stranger = fresh().apply(
            Command::PlaceWithSupplier { supplier_order_ref: SupplierOrderRef::parse("AE-3").unwrap(), lines: one("9") },
            actor(),
            now(),
            &policy,
        );
        assert!(matches!(stranger, Err(TransitionError::Invalid(reason)) if reason.contains("\"9\"")));
        let cancel_after_a_parcel = parcel_one.vendor_order.apply(Command::Cancel { reason: "x".into() }, actor(), now(), &policy);
        assert!(matches!(cancel_after_a_parcel, Err(TransitionError::Illegal { .. })), "a parcel left: too late to cancel");
    }

    fn actor() -> Actor {
        Actor::Vendor(VendorId::parse("acme").unwrap())
    }

    fn edited(vo: &VendorOrder, id: &str, quantity: u32) -> Command {
        let line = vo.lines.iter().find(|r| r.line.line_id == id).unwrap().line.clone();
        let removed = line.removed + line.quantity.saturating_sub(quantity);
        Command::ChangeLines { lines: vec![OrderLine { quantity, removed, ..line }] }
    }

    #[test]
    fn a_storefront_edit_follows_the_lines_until_they_leave_in_a_parcel() {
        let policy = SlaPolicy::default();
        let storefront = Actor::Storefront;
        // Before the supplier order: the line changes, and the vendor reads what changed.
        let fewer = fresh().apply(edited(&fresh(), "1", 0), storefront.clone(), now(), &policy).unwrap();
        assert_eq!(fewer.vendor_order.lines.iter().map(|r| r.line.line_id.as_str()).collect::<Vec<_>>(), ["2"]);
        assert_eq!((fewer.vendor_order.state, fewer.events[0].event_type), (VoState::AwaitingSupplier, EventType::LinesChanged));
        let edit: LinesEdited = fewer.events[0].payload_as().unwrap();
        assert_eq!(edit.changes[0], "removed: 1 x Item 1");
        assert!(edit.amend.is_empty(), "nothing ordered: nothing to amend");
        // Every line removed: the order is cancelled, and the vendor mailed as for a cancel.
        let none = fewer.vendor_order.apply(edited(&fewer.vendor_order, "2", 0), storefront.clone(), now(), &policy).unwrap();
        assert_eq!((none.vendor_order.state, none.events[0].event_type), (VoState::Cancelled, EventType::Cancelled));
        assert!(none.vendor_order.clocks.is_empty());
        // After the supplier order: the vendor amends it.
        let placed = fresh().apply(place(), actor(), now(), &policy).unwrap().vendor_order;
        let more = placed.apply(edited(&placed, "2", 3), storefront.clone(), now(), &policy).unwrap();
        let edit: LinesEdited = more.events[0].payload_as().unwrap();
        assert_eq!(edit.amend, ["AE-1"]);
        assert_eq!(edit.changes[0], "1 → 3 x Item 2");
        assert_eq!(more.vendor_order.lines[1].line.quantity, 3);
        // The same edit again changes nothing.
        assert!(matches!(more.vendor_order.apply(edited(&more.vendor_order, "2", 3), storefront.clone(), now(), &policy), Err(TransitionError::Invalid(_))));
        // Line 1 left in a parcel, line 2 not: line 1 cannot change; removing line 2
        // leaves only what shipped, and the order is shipped.
        let part = placed
            .apply(
                Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: Some(vec!["1".into()]) },
                actor(),
                now(),
                &policy,
            )
            .unwrap()
            .vendor_order;
        assert!(matches!(part.apply(edited(&part, "1", 0), storefront.clone(), now(), &policy), Err(TransitionError::Illegal { .. })));
        let rest = part.apply(edited(&part, "2", 0), storefront.clone(), now(), &policy).unwrap().vendor_order;
        assert_eq!(rest.state, VoState::Shipped);
        assert!(rest.clocks.iter().any(|c| c.kind == ClockKind::DeliveryPromise), "a shipped order's clocks run");
        // Its parcel had arrived already: removing the rest delivers the order.
        let arrived = part.apply(Command::MarkDelivered { tracking_number: None }, actor(), now(), &policy).unwrap().vendor_order;
        let done = arrived.apply(edited(&arrived, "2", 0), storefront, now(), &policy).unwrap().vendor_order;
        assert_eq!((done.state, done.clocks.len()), (VoState::Delivered, 0));
    }

    fn ship() -> Command {
        Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None }
    }

    fn place() -> Command {
        Command::PlaceWithSupplier { supplier_order_ref: SupplierOrderRef::parse("AE-1").unwrap(), lines: None }
    }

    fn priced(currency: &str, paid: &str, quantity: u32, cost: &str, cost_currency: &str) -> VendorOrder {
        use crate::domain::order::{OrderLine, RoutedLine, SupplierSnapshot};
        let (order_currency, cost_currency) = (Currency::parse(currency).unwrap(), Currency::parse(cost_currency).unwrap());
        let paid = Money::parse_decimal(paid, order_currency).unwrap();
        let line = OrderLine { line_id: "1".into(), sku: None, title: "T".into(), variant: None, quantity, unit_price: paid, paid, problem: None, removed: 0 };
        let supplier = SupplierSnapshot {
            supplier_name: "S".into(),
            product_url: "https://s.example/1".into(),
            supplier_cost: Money::parse_decimal(cost, cost_currency).unwrap(),
            supplier_variant: None,
            mode: Default::default(),
            link: None,
        };
        VendorOrder { currency: order_currency, lines: vec![RoutedLine { line, supplier }], ..fresh() }
    }

    #[test]
    fn the_margin_is_exact_in_every_currency_and_commission_rounds_half_away_from_zero() {
        // (currency, paid, quantity, cost per unit) -> (commission, margin) at 12.5 %.
        for (currency, paid, quantity, cost, commission, margin) in
            [("USD", "19.99", 1, "7.33", "2.50", "10.16"), ("JPY", "2500", 2, "500", "313", "1187"), ("KWD", "12.345", 1, "5.000", "1.543", "5.802")]
        {
            let economics = priced(currency, paid, quantity, cost, currency).economics(CommissionBps::new(1250).unwrap()).unwrap();
            assert_eq!(
                (economics.commission.decimal(), economics.margin.map(|m| m.decimal())),
                (commission.to_string(), Some(margin.to_string())),
                "{currency}"
            );
        }
        let refunded = VendorOrder {
            refunds: vec![LineRefund {
                refund_id: "r".into(),
                line_id: "1".into(),
                quantity: 1,
                amount: Money::parse_decimal("9.99", Currency::parse("USD").unwrap()).unwrap(),
            }],
            ..priced("USD", "19.99", 1, "7.33", "USD")
        };
        let economics = refunded.economics(CommissionBps::new(1250).unwrap()).unwrap();
        assert_eq!(
            (economics.customer_paid.decimal(), economics.commission.decimal()),
            ("10.00".into(), "1.25".into()),
            "the refunded part's commission goes back"
        );
        let foreign = priced("USD", "19.99", 1, "50", "CNY").economics(CommissionBps::new(1250).unwrap()).unwrap();
        assert_eq!((foreign.supplier_cost.map(|c| c.to_string()), foreign.margin), (Some("50.00 CNY".into()), None), "no margin across currencies");
    }

    #[test]
    fn a_vendor_facing_id_names_the_order_and_its_round_and_nothing_else() {
        let order = OrderId::derive("shopify", "", "1");
        assert_eq!(public_id(&order, 1), order.to_string());
        assert_eq!(parse_public_id(&public_id(&order, 1)), Some((order.clone(), 1)));
        assert_eq!(parse_public_id(&public_id(&order, 7)), Some((order.clone(), 7)));
        for hostile in [
            format!("{order}-1"),
            format!("{order}-0"),
            format!("{order}-+2"),
            format!("{order}-2-2"),
            format!("{order}-x"),
            "o_1-2".into(),
            String::new(),
            format!("{order}-99999999999"),
        ] {
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
        let delivered = shipped.vendor_order.apply(Command::MarkDelivered { tracking_number: None }, actor(), now(), &policy).unwrap();
        let types: Vec<EventType> = delivered.events.iter().map(|e| e.event_type).collect();
        assert_eq!(types, vec![EventType::Delivered, EventType::RedactionDue]);
        let cancelled = pending.apply(Command::Cancel { reason: "storefront".into() }, Actor::Storefront, now(), &policy).unwrap();
        assert_eq!(cancelled.events.last().unwrap().event_type, EventType::RedactionDue);
        let refund = LineRefund { refund_id: "r".into(), line_id: "x".into(), quantity: 1, amount: Money::zero(Currency::parse("USD").unwrap()) };
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
        assert_eq!(placed.vendor_order.clocks, vec![policy.refund_warning(now()), policy.ship(now())], "the place clocks are disarmed in the same change");
        assert_eq!(placed.events[0].event_type, EventType::SupplierOrderPlaced);
        let shipped = placed.vendor_order.apply(ship(), actor(), now(), &policy).unwrap();
        assert_eq!(shipped.vendor_order.state, VoState::Shipped);
        let mut armed: Vec<ClockKind> = shipped.vendor_order.clocks.iter().map(|c| c.kind).collect();
        armed.sort();
        assert_eq!(armed, [ClockKind::TrackingStale, ClockKind::DeliveryPromise, ClockKind::RefundWarning, ClockKind::DisputeWindow]);
        assert_eq!(shipped.history.detail.as_deref(), Some("UPS 1Z5R89390357567127"));
        let delivered = shipped.vendor_order.apply(Command::MarkDelivered { tracking_number: None }, actor(), now(), &policy).unwrap();
        assert_eq!(delivered.vendor_order.state, VoState::Delivered);
        assert_eq!(delivered.vendor_order.version, 4);
        assert!(delivered.vendor_order.clocks.is_empty());
    }

    fn kinds(events: &[Envelope]) -> Vec<(EventType, String)> {
        events.iter().map(|e| (e.event_type, e.payload_as::<ClockFired>().unwrap().clock.map(|c| c.as_str().to_string()).unwrap_or_default())).collect()
    }

    #[test]
    fn a_clock_fires_at_its_due_second_and_only_once() {
        let policy = SlaPolicy::default();
        let vo = fresh();
        let reminder = vo.clocks[0].due_at;
        assert!(vo.fire(reminder - chrono::Duration::seconds(1), &policy).is_none(), "one second early: nothing");
        let fired = vo.fire(reminder, &policy).unwrap();
        assert_eq!(kinds(&fired.transition.events), [(EventType::SlaReminder, "place_reminder".to_string())]);
        assert!(fired.escalations.is_empty(), "a reminder is no escalation");
        let after = fired.transition.vendor_order;
        assert_eq!((after.version, after.clocks.len()), (vo.version + 1, 1), "the reminder is disarmed, the deadline still armed");
        assert!(after.fire(reminder, &policy).is_none(), "again: nothing");
        let breached = after.fire(vo.clocks[1].due_at, &policy).unwrap();
        assert_eq!(kinds(&breached.transition.events), [(EventType::SlaBreached, "place_with_supplier".to_string())]);
        assert_eq!(breached.escalations[0].clock, ClockKind::PlaceWithSupplier);
    }

    #[test]
    fn a_reminder_overtaken_by_its_deadline_is_not_sent() {
        let vo = fresh();
        let late = vo.fire(vo.clocks[1].due_at + chrono::Duration::hours(5), &SlaPolicy::default()).unwrap();
        assert_eq!(kinds(&late.transition.events), [(EventType::SlaBreached, "place_with_supplier".to_string())]);
        let again: Vec<_> = late.transition.vendor_order.clocks.iter().map(|c| (c.kind, c.overdue_since)).collect();
        assert_eq!(again, [(ClockKind::PlaceWithSupplier, Some(vo.clocks[1].due_at))], "only the deadline's repeat is armed");
    }

    #[test]
    fn a_missed_deadline_stays_overdue_after_the_sweep_until_the_step_is_done() {
        let policy = SlaPolicy::default();
        let vo = fresh();
        let deadline = vo.clocks[1].due_at;
        assert!(vo.overdue(deadline - chrono::Duration::seconds(1)).is_empty(), "not yet");
        assert_eq!(vo.overdue(deadline), [ClockKind::PlaceWithSupplier], "past due before any sweep");
        let swept = vo.fire(deadline, &policy).unwrap().transition.vendor_order;
        assert_eq!(swept.supplier_deadline(), Some(deadline), "the deadline missed, though its repeat is armed a day on");
        assert_eq!(swept.clocks[0].due_at, deadline + chrono::Duration::hours(24));
        let off = SlaPolicy { escalation_repeat_hours: 0, ..SlaPolicy::default() };
        assert!(vo.fire(deadline, &off).unwrap().transition.vendor_order.supplier_deadline().is_none(), "repeats off: the clock is disarmed");
        assert_eq!(swept.overdue(deadline + chrono::Duration::days(3)), [ClockKind::PlaceWithSupplier], "still late: the sweep fired it, nobody placed");
        let placed = swept.apply(place(), actor(), deadline + chrono::Duration::days(3), &policy).unwrap().vendor_order;
        assert!(placed.overdue(deadline + chrono::Duration::days(3)).is_empty(), "placed late: that step is done");
        let reminder_only = vo.fire(vo.clocks[0].due_at, &policy).unwrap().transition.vendor_order;
        assert!(reminder_only.overdue(vo.clocks[0].due_at).is_empty(), "a reminder is not a deadline");
    }

    #[test]
    fn an_order_never_placed_is_cancelled_once_the_auto_cancel_hours_pass() {
        let policy = SlaPolicy { auto_cancel_hours: Some(48), ..SlaPolicy::default() };
        let vo = fresh();
        let deadline = vo.clocks[1].due_at;
        let breached = vo.fire(deadline, &policy).unwrap().transition.vendor_order;
        let cancel_at = breached.clocks.iter().find(|c| c.kind == ClockKind::AutoCancel).map(|c| c.due_at);
        assert_eq!(cancel_at, Some(deadline + chrono::Duration::hours(48)), "armed by the first escalation");
        let repeated = breached.fire(deadline + chrono::Duration::hours(24), &policy).unwrap().transition.vendor_order;
        assert_eq!(repeated.clocks.iter().filter(|c| c.kind == ClockKind::AutoCancel).count(), 1, "a repeat arms no second cancel");
        let ended = repeated.fire(deadline + chrono::Duration::hours(48), &policy).unwrap();
        assert_eq!(ended.transition.vendor_order.state, VoState::Cancelled);
        assert!(ended.transition.vendor_order.clocks.is_empty());
        let event = ended.transition.events.iter().find(|e| e.event_type == EventType::Cancelled).expect("a cancel");
        assert_eq!(event.payload_as::<Cancelled>().unwrap().by, Some(CancelledBy::Sla));
        // Placed meanwhile: nothing is cancelled.
        let placed = repeated.apply(place(), actor(), deadline + chrono::Duration::hours(30), &policy).unwrap().vendor_order;
        assert!(!placed.clocks.iter().any(|c| c.kind == ClockKind::AutoCancel), "placing disarms it");
        // Unset (the default): never armed.
        assert!(!vo.fire(deadline, &SlaPolicy::default()).unwrap().transition.vendor_order.clocks.iter().any(|c| c.kind == ClockKind::AutoCancel));
    }

    #[test]
    fn the_date_a_delay_mail_gives_is_a_clock_that_tells_the_customer_again() {
        let policy = SlaPolicy::default();
        let placed = fresh().apply(place(), actor(), now(), &policy).unwrap().vendor_order;
        let ship_due = placed.clocks.iter().find(|c| c.kind == ClockKind::Ship).unwrap().due_at;
        let late = placed.fire(ship_due, &policy).unwrap();
        let promised = late.transition.vendor_order.clocks.iter().find(|c| c.kind == ClockKind::ShipPromised).map(|c| c.due_at).expect("armed");
        assert_eq!(late.transition.events[0].payload_as::<ClockFired>().unwrap().promised, Some(promised), "the mail gives the clock's date");
        let broken = late.transition.vendor_order.fire(promised, &policy).unwrap();
        let said: Vec<_> = broken
            .transition
            .events
            .iter()
            .map(|e| (e.event_type, e.payload_as::<ClockFired>().unwrap().clock.map(|c| c.as_str().to_string()).unwrap_or_default()))
            .collect();
        assert!(said.contains(&(EventType::SlaBreached, "ship_promised".to_string())), "{said:?}");
        assert!(broken.escalations.iter().any(|e| e.clock == ClockKind::ShipPromised), "the operator's digest lists it");
        assert!(!broken.transition.vendor_order.clocks.iter().any(|c| c.kind == ClockKind::ShipPromised), "told once");
    }

    fn shipped_order(policy: &SlaPolicy) -> VendorOrder {
        let placed = fresh().apply(place(), actor(), now(), policy).unwrap().vendor_order;
        placed.apply(ship(), actor(), now(), policy).unwrap().vendor_order
    }

    fn due(vo: &VendorOrder, kind: ClockKind) -> DateTime<Utc> {
        vo.clocks.iter().find(|c| c.kind == kind).unwrap().due_at
    }

    #[test]
    fn the_dispute_window_opens_with_a_notice_whatever_the_tracking_says() {
        // With three business days to stale, day 6 after a Friday shipment is stale.
        let policy = SlaPolicy { tracking_stale_business_days: 3, ..SlaPolicy::default() };
        let quiet = shipped_order(&policy);
        let opens = due(&quiet, ClockKind::DisputeWindow);
        // Swept at both: one mail, the stale reminder's, says the window is open.
        let both = quiet.fire(opens, &policy).unwrap().transition.events;
        assert_eq!(both.len(), 1, "{both:?}");
        assert_eq!((both[0].event_type, both[0].payload_as::<ClockFired>().unwrap().dispute_open), (EventType::SlaReminder, true));
        // Swept when tracking went stale, then again when the window opens: its own mail.
        let stale = quiet.fire(due(&quiet, ClockKind::TrackingStale), &policy).unwrap().transition.vendor_order;
        let fired = stale.fire(opens, &policy).unwrap();
        let types: Vec<EventType> = fired.transition.events.iter().map(|e| e.event_type).collect();
        assert!(types.contains(&EventType::DisputeWindowOpen), "{types:?}");
        let news = Command::CarrierUpdate {
            tracking_number: "1Z5R89390357567127".into(),
            status: CarrierStatus::InTransit,
            checkpoint: checkpoint("InTransit", opens - chrono::Duration::days(1)),
        };
        // Carrier news the day before: tracking moves, and the notice says so (not stale).
        let moving = quiet.apply(news, Actor::System, opens - chrono::Duration::days(1), &policy).unwrap().vendor_order;
        let fired = moving.fire(opens, &policy).unwrap();
        let notice: Vec<_> = fired.transition.events.iter().filter(|e| e.event_type == EventType::DisputeWindowOpen).collect();
        assert_eq!(notice.len(), 1, "{:?}", fired.transition.events);
        assert_eq!(notice[0].payload_as::<ClockFired>().unwrap().stale, Some(false));
        assert!(!moving.clocks.iter().any(|c| c.kind == ClockKind::DisputeWindow && c.due_at > opens));
    }

    fn checkpoint(tag: &str, received_at: DateTime<Utc>) -> Checkpoint {
        Checkpoint {
            tracking_number: "1Z5R89390357567127".into(),
            tag: tag.into(),
            message: Some("Departed facility".into()),
            location: Some("Louisville, KY".into()),
            checkpoint_at: None,
            received_at,
        }
    }

    #[test]
    fn carrier_news_resets_the_stale_clock_and_a_delivered_push_delivers() {
        let policy = SlaPolicy::default();
        let shipped = shipped_order(&policy);
        let later = now() + chrono::Duration::days(3);
        let news = Command::CarrierUpdate {
            tracking_number: "1z5r89390357567127".into(),
            status: CarrierStatus::InTransit,
            checkpoint: checkpoint("InTransit", later),
        };
        let moved = shipped.apply(news, Actor::System, later, &policy).unwrap();
        assert_eq!(moved.events[0].event_type, EventType::TrackingUpdated);
        assert_eq!(due(&moved.vendor_order, ClockKind::TrackingStale), policy.tracking_stale(later).due_at, "counted from when the push was received");
        assert_eq!(moved.vendor_order.last_checkpoint.as_ref().map(|c| c.tag.as_str()), Some("InTransit"));
        let trouble = Command::CarrierUpdate {
            tracking_number: "1Z5R89390357567127".into(),
            status: CarrierStatus::Exception,
            checkpoint: checkpoint("Exception", later),
        };
        let troubled = moved.vendor_order.apply(trouble.clone(), Actor::System, later, &policy).unwrap();
        assert_eq!(troubled.events[0].event_type, EventType::TrackingException);
        // The same problem pushed again (dropflow-sim seed 3, history 15): news, not a
        // second alert.
        assert_eq!(troubled.vendor_order.apply(trouble, Actor::System, later, &policy).unwrap().events[0].event_type, EventType::TrackingUpdated);
        let arrived = Command::CarrierUpdate {
            tracking_number: "1Z5R89390357567127".into(),
            status: CarrierStatus::Delivered,
            checkpoint: checkpoint("Delivered", later),
        };
        let delivered = moved.vendor_order.apply(arrived, Actor::System, later, &policy).unwrap();
        assert_eq!((delivered.vendor_order.state, delivered.events[0].event_type), (VoState::Delivered, EventType::Delivered));
        assert!(delivered.vendor_order.clocks.is_empty(), "every clock disarmed on delivery");
        let stranger =
            Command::CarrierUpdate { tracking_number: "RB123456785GB".into(), status: CarrierStatus::InTransit, checkpoint: checkpoint("InTransit", later) };
        assert!(matches!(shipped.apply(stranger, Actor::System, later, &policy), Err(TransitionError::Invalid(_))));
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
        assert!(matches!(fresh().apply(Command::Cancel { reason: " ".into() }, actor(), now(), &policy), Err(TransitionError::Invalid(_))));
        let shipped = fresh().apply(place(), actor(), now(), &policy).unwrap().vendor_order.apply(ship(), actor(), now(), &policy).unwrap().vendor_order;
        assert!(matches!(shipped.apply(cancel(), actor(), now(), &policy), Err(TransitionError::Illegal { .. })));
    }

    #[test]
    fn an_order_is_handed_over_only_before_anything_is_ordered_and_only_to_another_vendor() {
        let policy = SlaPolicy::default();
        let to = VendorId::parse("beta").unwrap();
        let hand_over = || Command::HandOver { to: to.clone() };
        let handed = fresh().apply(hand_over(), Actor::Operator, now(), &policy).unwrap();
        assert_eq!((handed.vendor_order.state, handed.vendor_order.handed_to.as_ref()), (VoState::Cancelled, Some(&to)));
        assert!(handed.vendor_order.clocks.is_empty(), "its clocks stop");
        assert!(!handed.vendor_order.cancelled_by_vendor, "not the vendor's cancel on its scorecard");
        let said: super::super::events::Cancelled = handed.events[0].payload_as().unwrap();
        assert_eq!((said.by, said.to.as_ref()), (Some(CancelledBy::HandedOver), Some(&to)));
        let own = Command::HandOver { to: fresh().vendor_id.clone() };
        assert!(matches!(fresh().apply(own, Actor::Operator, now(), &policy), Err(TransitionError::Invalid(_))));
        let placed = fresh().apply(place(), actor(), now(), &policy).unwrap().vendor_order;
        assert!(matches!(placed.apply(hand_over(), Actor::Operator, now(), &policy), Err(TransitionError::Illegal { .. })));
        assert!(matches!(handed.vendor_order.apply(hand_over(), Actor::Operator, now(), &policy), Err(TransitionError::Illegal { .. })));
    }

    #[test]
    fn the_same_change_twice_gives_the_same_event_id() {
        let policy = SlaPolicy::default();
        let a = fresh().apply(place(), actor(), now(), &policy).unwrap();
        let b = fresh().apply(place(), actor(), now(), &policy).unwrap();
        assert_eq!(a.events[0].event_id, b.events[0].event_id);
    }

    fn command() -> impl Strategy<Value = Command> {
        prop_oneof![Just(place()), Just(ship()), Just(Command::MarkDelivered { tracking_number: None }), Just(Command::Cancel { reason: "r".into() }),]
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
