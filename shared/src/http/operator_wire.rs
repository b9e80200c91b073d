//! The operator API's wire types (`/operator/*`): what the console and the operator's
//! tools read and send. The vendor API's are in `wire`, and these reuse its pieces
//! (money, instants, history steps).

use super::wire::{HistoryJson, MoneyJson, instant};
use crate::domain::vendor_order::VendorOrder;
use crate::ports::DeadLetter;
use crate::services::operator::OrderReport;
use crate::store::{OrderRecord, VendorProfile};
use serde::{Deserialize, Serialize};

/// An order as the operator's listing shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorOrderJson {
    pub order_id: String,
    /// The number the customer quotes ("#1001").
    pub order_number: String,
    pub source: String,
    pub shop: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
    /// held, routed, cancelled, void or parked.
    pub status: String,
    pub customer_email: Option<String>,
    pub total: MoneyJson,
    /// The vendors it went to.
    pub vendors: Vec<String>,
    /// How many of its lines wait for a vendor: the operator's to give or void.
    pub waiting_lines: usize,
}

impl From<&OrderRecord> for OperatorOrderJson {
    fn from(record: &OrderRecord) -> Self {
        let order = &record.order;
        OperatorOrderJson {
            order_id: order.order_id.to_string(),
            order_number: order.order_number.clone(),
            source: order.source.clone(),
            shop: order.shop.clone(),
            created_at: instant(order.created_at),
            status: record.listed_as().into(),
            customer_email: order.customer_email.as_ref().map(|e| e.to_string()),
            total: order.total.into(),
            vendors: record.vendors.iter().map(|v| v.to_string()).collect(),
            waiting_lines: record.unroutable.len(),
        }
    }
}

/// One page of orders, newest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorOrderPageJson {
    pub orders: Vec<OperatorOrderJson>,
    /// Give it back as `cursor` for the next page; absent on the last.
    pub cursor: Option<String>,
}

/// One line of an order and where it stands.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorLineJson {
    pub line_id: String,
    pub sku: Option<String>,
    pub title: String,
    pub quantity: u32,
    pub paid: MoneyJson,
    /// `routed` (a vendor has it), `waiting` (for a vendor: give or void it), `void`
    /// (no vendor will send it) or `not_sent` (refunded before it was routed, removed).
    pub status: String,
    /// The vendor that has it.
    pub vendor: Option<String>,
    /// Why it waits, or why it was voided.
    pub reason: Option<String>,
}

/// A vendor order of the order, with its history.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorVendorOrderJson {
    /// The id the vendor sees.
    pub id: String,
    pub vendor_id: String,
    pub state: String,
    pub lines: Vec<String>,
    pub history: Vec<HistoryJson>,
}

/// Something the operator did to the order.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionJson {
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub at: String,
    /// The operator key's name (`cli` for the command line).
    pub by: String,
    pub action: String,
    pub reason: String,
}

/// A mail the order sent (while its events are kept, 7 days).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailJson {
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub at: String,
    pub event: String,
    /// What `POST /operator/orders/{id}/resend` names to send it again.
    pub event_id: String,
    pub to: String,
}

/// An order whole, as the operator answers for it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorOrderDetailJson {
    pub order: OperatorOrderJson,
    pub customer_name: String,
    /// The shipping address, a line each; absent when the order has none.
    pub shipping_address: Option<Vec<String>>,
    pub lines: Vec<OperatorLineJson>,
    pub vendor_orders: Vec<OperatorVendorOrderJson>,
    pub actions: Vec<ActionJson>,
    pub mail: Vec<MailJson>,
}

impl OperatorOrderDetailJson {
    /// The detail of `report`.
    pub fn new(report: &OrderReport) -> Self {
        let record = &report.record;
        let vendor_orders: Vec<&VendorOrder> = report.vendor_orders.iter().map(|(vo, _)| vo).collect();
        let lines = record.order.lines.iter().map(|line| line_json(record, &vendor_orders, line)).collect();
        OperatorOrderDetailJson {
            order: record.into(),
            customer_name: record.order.customer_name.clone(),
            shipping_address: record.order.shipping_address.as_ref().map(|a| a.lines()),
            lines,
            vendor_orders: report
                .vendor_orders
                .iter()
                .map(|(vo, history)| OperatorVendorOrderJson {
                    id: vo.id(),
                    vendor_id: vo.vendor_id.to_string(),
                    state: vo.state.as_str().into(),
                    lines: vo.lines.iter().map(|l| l.line.line_id.clone()).collect(),
                    history: history.iter().map(HistoryJson::from).collect(),
                })
                .collect(),
            actions: record
                .actions
                .iter()
                .map(|a| ActionJson { at: instant(a.at), by: a.by.clone(), action: a.action.clone(), reason: a.reason.clone() })
                .collect(),
            mail: report
                .mail
                .iter()
                .map(|m| MailJson { at: instant(m.at), event: m.event_type.clone(), event_id: m.event_id.clone(), to: m.to.clone() })
                .collect(),
        }
    }
}

/// Where one line of `record` stands.
fn line_json(record: &OrderRecord, vendor_orders: &[&VendorOrder], line: &crate::domain::order::OrderLine) -> OperatorLineJson {
    let holder = vendor_orders
        .iter()
        .filter(|vo| vo.state != crate::domain::vendor_order::VoState::Cancelled)
        .find(|vo| vo.lines.iter().any(|l| l.line.line_id == line.line_id));
    let waiting = record.unroutable.iter().find(|u| u.line_id == line.line_id);
    let void = record.void_lines.iter().find(|v| v.line_id == line.line_id);
    let (status, vendor, reason) = match (holder, waiting, void) {
        (Some(vo), _, _) => ("routed", Some(vo.vendor_id.to_string()), None),
        (None, Some(w), _) => ("waiting", None, Some(w.reason.clone())),
        (None, None, Some(v)) => ("void", None, Some(v.reason.clone())),
        (None, None, None) => ("not_sent", None, None),
    };
    OperatorLineJson {
        line_id: line.line_id.clone(),
        sku: line.sku.as_ref().map(|s| s.to_string()),
        title: line.title.clone(),
        quantity: line.quantity,
        paid: line.paid.into(),
        status: status.into(),
        vendor,
        reason,
    }
}

/// Where a given line is bought, when its new vendor does not map its SKU.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GivenSupplierJson {
    pub supplier_name: String,
    /// An https:// address of the product.
    pub product_url: String,
    /// What one unit costs there.
    pub cost: MoneyJson,
}

/// `POST /operator/orders/{id}/give`: lines that wait for a vendor, or every line of a
/// vendor's part not yet ordered from the supplier, to `vendor`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GiveBody {
    /// The line ids (as the order's detail lists them).
    pub lines: Vec<String>,
    pub vendor: String,
    /// Why, for the order's history.
    pub reason: String,
    /// Needed when the vendor does not map the line's SKU.
    pub supplier: Option<GivenSupplierJson>,
}

/// `POST /operator/orders/{id}/address`: where the order ships from now on.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddressFixBody {
    pub address: AddressBody,
    pub reason: String,
}

/// A shipping address as the operator types it (checked like a storefront's: a name,
/// a first line, a city and a two-letter country are needed).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: String,
    pub phone: Option<String>,
}

impl AddressBody {
    /// The address, or what is wrong with it.
    pub fn parse(self) -> Result<crate::domain::address::Address, crate::domain::ids::InvalidValue> {
        crate::domain::address::Address::parse(crate::domain::address::AddressParts {
            name: Some(self.name),
            company: self.company,
            line1: Some(self.line1),
            line2: self.line2,
            city: Some(self.city),
            region: self.region,
            postal_code: self.postal_code,
            country_code: Some(self.country_code),
            phone: self.phone,
        })
    }
}

/// `POST /operator/orders/{id}/resend`: one mail the order sent, again.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResendBody {
    /// The mail's `event_id`, as the order's detail lists it.
    pub event_id: String,
    /// Its recipient, as listed.
    pub to: String,
    pub reason: String,
}

/// `POST /operator/orders/{id}/extend`: more time for one vendor's step.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    /// The vendor whose open vendor order in the order gets the time.
    pub vendor: String,
    /// The clock (`place_with_supplier`, `ship`, `auto_cancel`, …, as the order lists it).
    pub clock: String,
    /// How many hours later it is due (1-720), from its deadline, or from now when that passed.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 720))]
    pub hours: u32,
    pub reason: String,
}

/// `POST /operator/orders/{id}/void`: lines that wait for a vendor, not to be sent.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VoidBody {
    pub lines: Vec<String>,
    pub reason: String,
}

/// An action that needs only its reason.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

/// A vendor as the operator sees it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorVendorJson {
    pub vendor_id: String,
    pub name: String,
    pub email: String,
    /// `active`, `held` (its new orders wait for the operator) or `suspended`.
    pub state: String,
    pub commission_bps: u32,
}

impl From<&VendorProfile> for OperatorVendorJson {
    fn from(v: &VendorProfile) -> Self {
        let state = if v.suspended {
            "suspended"
        } else if v.held {
            "held"
        } else {
            "active"
        };
        OperatorVendorJson {
            vendor_id: v.vendor_id.to_string(),
            name: v.name.clone(),
            email: v.email.to_string(),
            state: state.into(),
            commission_bps: v.commission_bps.get(),
        }
    }
}

/// Every vendor, by id.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorVendorsJson {
    pub vendors: Vec<OperatorVendorJson>,
}

/// A dead letter: what could not be processed, and why.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetterJson {
    pub id: String,
    /// intake, notify, relay or storefront.
    pub queue: String,
    pub reason: String,
    pub bytes: usize,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub first_seen: Option<String>,
    /// What it is about, read from its body ("shipped o_…", "shopify orders/create").
    pub summary: String,
    /// The body as it will be replayed: only when one letter is read.
    pub body: Option<String>,
}

impl DeadLetterJson {
    /// The letter, with its body when `whole`.
    pub fn new(letter: &DeadLetter, whole: bool) -> Self {
        DeadLetterJson {
            id: letter.message_id.clone(),
            queue: letter.queue.clone(),
            reason: letter.reason.clone().unwrap_or_else(|| format!("failed {} receives", letter.receive_count)),
            bytes: letter.body.len(),
            first_seen: letter.first_seen.map(instant),
            summary: summary(&letter.body),
            body: whole.then(|| letter.body.clone()),
        }
    }
}

/// What a queue message is about, from the fields every queue's envelope has.
fn summary(body: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else { return "not JSON".into() };
    let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str).map(str::to_string);
    let what = field("type").or_else(|| field("topic")).or_else(|| field("kind")).unwrap_or_else(|| "message".into());
    let about = field("order_id").or_else(|| field("source")).or_else(|| field("vendor_id"));
    let text = match about {
        Some(about) => format!("{what} {about}"),
        None => what,
    };
    text.chars().take(200).collect()
}

/// The dead letters of every queue, oldest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLettersJson {
    pub dead_letters: Vec<DeadLetterJson>,
}

/// One thing that waits for the operator's decision.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionJson {
    /// `waiting_lines` (an order's lines no vendor has: give or void them),
    /// `supplier_sync` (an order's supplier order whose calls keep failing: look at the
    /// vendor's account, or give the part to another vendor), `overdue` (a vendor's
    /// step past its deadline and escalated: extend its clock, give it to another vendor,
    /// or wait for the vendor), `dead_letter` (replay or
    /// discard it) or `sku_claim` (approve or refuse it).
    pub kind: String,
    /// What it is about: an order id, a dead letter's id, a SKU.
    pub subject: String,
    pub detail: String,
    /// Since when it waits.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub since: Option<String>,
    /// How long it has waited, in whole hours.
    pub age_hours: Option<i64>,
}

/// What waits for a decision, oldest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionsJson {
    pub decisions: Vec<DecisionJson>,
}

/// Who is signed in.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorJson {
    /// The operator key's name.
    pub name: String,
}

/// A vendor and its scorecard.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VendorScorecardJson {
    pub vendor: OperatorVendorJson,
    pub scorecard: super::wire::ScorecardJson,
}

/// Every vendor's scorecard, by vendor id.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorScorecardsJson {
    pub vendors: Vec<VendorScorecardJson>,
}

/// One of a vendor's API keys, as the operator sees it (never the key).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VendorKeyJson {
    /// The key's first characters, to tell keys apart and revoke one.
    pub prefix: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
    /// The last day it was used (YYYY-MM-DD).
    pub last_used: Option<String>,
    pub revoked: bool,
}

/// One vendor whole, for the operator: its profile, balance, keys, products and
/// scorecard (its orders: `GET /operator/orders?vendor=`).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorVendorDetailJson {
    pub vendor: OperatorVendorJson,
    pub balance: super::wire::BalancesJson,
    pub keys: Vec<VendorKeyJson>,
    pub products: Vec<super::wire::ProductJson>,
    pub scorecard: super::wire::ScorecardJson,
}

/// A pending payout with where it goes: one row of the payment run.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingPayoutJson {
    pub vendor_id: String,
    /// The vendor's name and email (empty for a vendor no longer on file).
    pub name: String,
    pub email: String,
    /// Where it is transferred; none: it cannot be paid until the vendor has one.
    pub payee: Option<String>,
    pub payout: super::wire::PayoutJson,
}

/// `GET /operator/payouts`: the pending payouts, oldest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingPayoutsJson {
    pub payouts: Vec<PendingPayoutJson>,
}

/// `POST /operator/payouts/run`: what the run did.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayoutRunJson {
    /// Earnings whose hold ended, released.
    pub released: usize,
    /// The payouts it created.
    pub payouts: Vec<String>,
    /// Vendors and currencies owed less than the minimum (they wait).
    pub below_minimum: usize,
    /// Vendors and currencies whose notes do not add up to their balance: refused, for
    /// a person to look at.
    pub refused: Vec<String>,
}

/// `POST /operator/payouts/{id}/paid`: the transfer's reference, and why.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarkPaidBody {
    /// The bank's or PayPal's reference of the transfer.
    pub reference: String,
    pub reason: String,
}
