//! The canonical order every storefront's payload is turned into, and the routing of its
//! lines to the vendors who sell them.

use super::address::Address;
use super::ids::{Email, InvalidValue, OrderId, Sku, VendorId};
use super::money::{Currency, Money};
use super::supplier::{MAX_PRICE_TOLERANCE_PERCENT, SupplierLink, SupplierMode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Whether the customer's money is in: only paid orders are routed to vendors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payment {
    /// Captured (fully or partly): the order can be fulfilled.
    Paid,
    /// Authorised or pending: kept and held until paid.
    Pending,
    /// Voided, refunded or otherwise not to be fulfilled.
    Void,
}

impl Payment {
    /// How far on a payment is: pending, paid, void. It only moves forward, so a
    /// version that would move it back is not the newer one.
    pub fn rank(self) -> u8 {
        match self {
            Payment::Pending => 0,
            Payment::Paid => 1,
            Payment::Void => 2,
        }
    }
}

/// A delivery of an order already held, next to the held version: what intake does
/// with it follows from this alone (`arrival`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The order's personal data was redacted at the storefront's request: no delivery
    /// brings it back.
    Redacted,
    /// Stamped before the held version.
    Stale,
    /// Stamped the same second as the held version, different, and it would take the
    /// payment back (void to paid, paid to pending): the held one stands.
    Backward,
    /// The held version again.
    Same,
    /// Newer, or stamped the same second and moving the payment on or keeping it: taken.
    Newer,
}

/// What intake does with a delivery of an order, decided from the order as held (if
/// it is) and the delivery alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Not the newer version (or the order was redacted): nothing changes; why.
    Ignore(String),
    /// The routed version again: its events were committed with the routing.
    AlreadyRouted,
    /// A newer version of a routed order: its vendor orders follow it (a cancel, an
    /// edit, a new address).
    Follow,
    /// Paid: route it now (its earlier versions held it, or it is new).
    Route,
    /// Not paid (pending, or void): kept in this status.
    Hold(OrderStatus),
    /// Held as it is already, in this status: nothing to write.
    HeldAlready,
}

/// Decides what a delivery of `incoming` does, next to `existing` (the order as held).
/// Pure: intake reads, decides here, and writes what the decision says.
pub fn decide(existing: Option<&OrderRecord>, incoming: &CanonicalOrder) -> Decision {
    if let Some(held) = existing {
        let stored = &held.order;
        match arrival(held, incoming) {
            Arrival::Redacted => {
                return Decision::Ignore("the order's personal data was redacted at the storefront's request: no delivery brings it back".into());
            }
            Arrival::Stale => return Decision::Ignore(format!("stale: updated_at {} is older than the stored {}", incoming.updated_at, stored.updated_at)),
            Arrival::Backward => {
                return Decision::Ignore(format!(
                    "stamped the same second as the stored version, and it would take the order from {:?} back to {:?}",
                    stored.payment, incoming.payment
                ));
            }
            Arrival::Same if held.status == OrderStatus::Routed => return Decision::AlreadyRouted,
            _ if held.status == OrderStatus::Routed => return Decision::Follow,
            Arrival::Same | Arrival::Newer => {}
        }
    }
    let status = match incoming.payment {
        Payment::Paid => return Decision::Route,
        Payment::Void => OrderStatus::Void,
        Payment::Pending => OrderStatus::Held,
    };
    if existing.is_some_and(|r| &r.order == incoming && r.status == status) { Decision::HeldAlready } else { Decision::Hold(status) }
}

/// Where `incoming` stands against `held` (versions compared by the storefront's own
/// `updated_at`, a tie told apart by content and by the payment only moving forward).
pub fn arrival(held: &OrderRecord, incoming: &CanonicalOrder) -> Arrival {
    let stored = &held.order;
    if held.is_redacted() {
        Arrival::Redacted
    } else if incoming.updated_at < stored.updated_at {
        Arrival::Stale
    } else if incoming.updated_at > stored.updated_at {
        Arrival::Newer
    } else if incoming == stored {
        Arrival::Same
    } else if incoming.payment.rank() < stored.payment.rank() {
        Arrival::Backward
    } else {
        Arrival::Newer
    }
}

/// One line as the customer bought it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The storefront's id of the line.
    pub line_id: String,
    /// None when the storefront sent no SKU: such a line cannot be routed.
    pub sku: Option<Sku>,
    pub title: String,
    pub variant: Option<String>,
    pub quantity: u32,
    pub unit_price: Money,
    /// What the customer paid for the whole line, after its discounts.
    pub paid: Money,
    /// Why the line cannot be handed to a vendor as the storefront sent it (a SKU or an
    /// amount that is not one): it is kept, unroutable, with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Units the storefront took off the line after checkout (an order edit; a refund
    /// that cancels units): `quantity` is what is still to be sent, `paid` stays what
    /// the customer paid for every unit (what a refund is measured against).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub removed: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl OrderLine {
    /// Whether the storefront took every unit off it: nothing to send or route.
    pub fn is_removed(&self) -> bool {
        self.quantity == 0 && self.removed > 0
    }

    /// What the customer paid for the units still to be sent: all of `paid`, or its
    /// share when units were removed, rounded down (a vendor never earns on a unit it
    /// does not send).
    pub fn paid_for_kept(&self) -> Money {
        let all = u64::from(self.quantity) + u64::from(self.removed);
        if self.removed == 0 || all == 0 {
            return self.paid;
        }
        let share = i128::from(self.paid.minor) * i128::from(self.quantity) / i128::from(all);
        Money::from_minor(share as i64, self.paid.currency)
    }
}

/// A line whose quantity to send changed at the storefront after the order was routed:
/// the line as it is now, and the quantity it had (0: the line is new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineChange {
    pub line: OrderLine,
    pub from: u32,
}

impl LineChange {
    /// How the vendor reads it: "2 → 1 x Mug", "removed: Mug", "new: 1 x Mug".
    pub fn describe(&self) -> String {
        match (self.from, self.line.quantity) {
            (0, to) => format!("new: {to} x {}", self.line.title),
            (from, 0) => format!("removed: {from} x {}", self.line.title),
            (from, to) => format!("{from} → {to} x {}", self.line.title),
        }
    }
}

/// The lines of an order delivered again (`delivered`) over what is held (`stored`): a
/// line the storefront no longer lists (WooCommerce and the generic webhook drop a
/// removed line; Shopify keeps it with `current_quantity: 0`) is kept, with every unit
/// removed, so that refunds and history still find it.
pub fn edited_lines(stored: &[OrderLine], delivered: &[OrderLine]) -> Vec<OrderLine> {
    // A delivery without lines says nothing of them (an order always has one).
    if delivered.is_empty() {
        return stored.to_vec();
    }
    let mut lines = delivered.to_vec();
    for gone in stored.iter().filter(|s| !delivered.iter().any(|d| d.line_id == s.line_id)) {
        lines.push(OrderLine { quantity: 0, removed: gone.removed.saturating_add(gone.quantity), ..gone.clone() });
    }
    lines
}

/// An order's lines with every line id made unique: a storefront that sends one line
/// id on several lines cannot say which of them a refund or an edit means, so each of
/// them is kept unroutable with that reason (the operator decides), and the second and
/// later ones are told apart as `{id}#2`, `{id}#3`.
pub fn set_apart_repeated_ids(lines: Vec<OrderLine>) -> Vec<OrderLine> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in &lines {
        *counts.entry(line.line_id.clone()).or_default() += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    lines
        .into_iter()
        .map(|line| {
            let count = counts[&line.line_id];
            if count < 2 {
                return line;
            }
            let nth = seen.entry(line.line_id.clone()).or_default();
            *nth += 1;
            let reason = format!("the storefront sent line id {:?} on {count} lines: which one a refund or an edit means cannot be told", line.line_id);
            let problem = Some(line.problem.as_ref().map_or(reason.clone(), |p| format!("{p}; {reason}")));
            let line_id = if *nth == 1 { line.line_id.clone() } else { format!("{}#{nth}", line.line_id) };
            OrderLine { line_id, problem, ..line }
        })
        .collect()
}

/// The lines whose quantity to send differs between `before` and `after` (new lines
/// included), in `after`'s order.
pub fn line_changes(before: &[OrderLine], after: &[OrderLine]) -> Vec<LineChange> {
    after
        .iter()
        .filter_map(|line| {
            let from = before.iter().find(|b| b.line_id == line.line_id).map_or(0, |b| b.quantity);
            (from != line.quantity).then(|| LineChange { line: line.clone(), from })
        })
        .collect()
}

/// A storefront order in dropflow's terms, whatever the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonicalOrder {
    pub order_id: OrderId,
    pub source: String,
    pub shop: String,
    pub external_id: String,
    /// The number the customer sees ("#1001").
    pub order_number: String,
    pub currency: Currency,
    pub payment: Payment,
    pub customer_email: Option<Email>,
    pub customer_name: String,
    pub shipping_address: Option<Address>,
    /// Why there is no usable shipping address, when the storefront sent one that is not
    /// (a missing city): the order is kept, its lines unroutable with this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_problem: Option<String>,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub created_at: DateTime<Utc>,
    /// The storefront's own last-modified instant: a later one wins, an older one is stale.
    pub updated_at: DateTime<Utc>,
    /// The customer's language as the storefront gave it (Shopify's `customer_locale`,
    /// the generic `language`: `de`, `en-US`), when it gave one: the status page speaks
    /// it when it can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// Where a vendor buys a SKU: its supplier, the product page, the cost and the variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductMapping {
    pub sku: Sku,
    pub vendor_id: VendorId,
    pub supplier_name: String,
    pub product_url: String,
    pub supplier_cost: Money,
    pub supplier_variant: Option<String>,
    /// A vendor's claim on a SKU that orders were waiting for: those orders (and their
    /// customers' addresses) go to the vendor only once the operator approves it, so it
    /// routes nothing until then.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_approval: bool,
    /// How the supplier step of its lines runs (`manual` unless the vendor chose).
    #[serde(default, skip_serializing_if = "SupplierMode::is_manual")]
    pub mode: SupplierMode,
    /// Where it is bought through a supplier's API, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<SupplierLink>,
}

/// The longest product URL taken.
const MAX_URL_BYTES: usize = 2048;

/// The longest supplier name or variant taken, in characters.
const MAX_SUPPLIER_TEXT_CHARS: usize = 200;

/// A mapping as the operator (`dropflow product add`) or a vendor (`PUT
/// /vendor/products/{sku}`) writes it, before it is checked: its rules live here once,
/// whoever sends it.
#[derive(Debug, Clone)]
pub struct ProductSpec {
    pub sku: String,
    pub supplier_name: String,
    pub product_url: String,
    pub supplier_cost: Money,
    pub supplier_variant: Option<String>,
    pub automation: LinkSpec,
}

/// How a SKU's supplier step runs, as written (`PUT /vendor/products/{sku}`'s fields,
/// `dropflow product add`'s flags), before it is checked.
#[derive(Debug, Clone, Default)]
pub struct LinkSpec {
    /// `manual` (the default), `review` or `auto`.
    pub mode: Option<String>,
    /// `aliexpress` or `cj`, with the supplier's product, variant and shipping method.
    pub supplier_api: Option<String>,
    pub supplier_product_id: Option<String>,
    pub supplier_sku: Option<String>,
    pub shipping_method: Option<String>,
    /// How far (percent) the supplier's price may rise above the supplier cost before
    /// orders of it go back to the vendor; none: no limit.
    pub price_tolerance_percent: Option<u32>,
}

impl ProductSpec {
    /// The mapping this says for `vendor_id`: an https product URL with a host (it
    /// becomes a link in mail and on the dashboard, so no spaces, quotes or angle
    /// brackets), a supplier name and an optional variant on one line each, and a cost
    /// that is not negative. Text is trimmed; an empty variant is none.
    pub fn parse(self, vendor_id: &VendorId) -> Result<ProductMapping, InvalidValue> {
        let url = self.product_url.trim();
        let host = url.strip_prefix("https://").map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
        if host.is_empty() || url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"')) {
            return Err(InvalidValue::new("product_url", format!("must be an https:// address of at most {MAX_URL_BYTES} bytes")));
        }
        let one_line = |text: &str| text.chars().count() <= MAX_SUPPLIER_TEXT_CHARS && !text.chars().any(char::is_control);
        let supplier_name = self.supplier_name.trim();
        if supplier_name.is_empty() || !one_line(supplier_name) {
            return Err(InvalidValue::new("supplier_name", format!("must be 1-{MAX_SUPPLIER_TEXT_CHARS} characters on one line")));
        }
        if self.supplier_cost.minor < 0 {
            return Err(InvalidValue::new("supplier_cost", "cannot be negative"));
        }
        let supplier_variant = self.supplier_variant.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if supplier_variant.as_deref().is_some_and(|v| !one_line(v)) {
            return Err(InvalidValue::new("supplier_variant", format!("must be at most {MAX_SUPPLIER_TEXT_CHARS} characters on one line")));
        }
        let spec = self.automation;
        let mode = spec.mode.as_deref().map(SupplierMode::parse).transpose()?.unwrap_or_default();
        let link = match (spec.supplier_api.as_deref(), spec.supplier_product_id.as_deref()) {
            (None, None) if spec.supplier_sku.is_none() && spec.shipping_method.is_none() => None,
            (None, _) => return Err(InvalidValue::new("supplier_api", "name the supplier (aliexpress or cj) its product, variant and method are of")),
            (Some(_), None) => return Err(InvalidValue::new("supplier_product_id", "is needed with supplier_api")),
            (Some(api), Some(product)) => Some(SupplierLink::parse(api, product, spec.supplier_sku.as_deref(), spec.shipping_method.as_deref())?),
        };
        let link = match (link, spec.price_tolerance_percent) {
            (_, Some(percent)) if percent > MAX_PRICE_TOLERANCE_PERCENT => {
                return Err(InvalidValue::new("price_tolerance_percent", format!("must be 0-{MAX_PRICE_TOLERANCE_PERCENT}")));
            }
            (None, Some(_)) => return Err(InvalidValue::new("price_tolerance_percent", "is about a supplier's API price: give supplier_api and its product")),
            (Some(link), percent) => Some(SupplierLink { price_tolerance_percent: percent, ..link }),
            (None, None) => None,
        };
        if !mode.is_manual() && link.is_none() {
            return Err(InvalidValue::new(
                "mode",
                format!("{} needs the supplier's product: supplier_api, supplier_product_id, supplier_sku, shipping_method", mode.as_str()),
            ));
        }
        Ok(ProductMapping {
            sku: Sku::parse(&self.sku)?,
            vendor_id: vendor_id.clone(),
            supplier_name: supplier_name.to_string(),
            product_url: url.to_string(),
            supplier_cost: self.supplier_cost,
            supplier_variant,
            awaiting_approval: false,
            mode,
            link,
        })
    }
}

/// Where the vendor buys a routed line, as the mapping said when the line was routed
/// (a later change of the mapping does not rewrite a brief already sent). The SKU and
/// the vendor are the line's and the vendor order's own: not stored again here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierSnapshot {
    pub supplier_name: String,
    pub product_url: String,
    pub supplier_cost: Money,
    pub supplier_variant: Option<String>,
    /// How its supplier step runs, as the mapping said when it was routed.
    #[serde(default, skip_serializing_if = "SupplierMode::is_manual")]
    pub mode: SupplierMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<SupplierLink>,
}

impl From<ProductMapping> for SupplierSnapshot {
    fn from(mapping: ProductMapping) -> Self {
        SupplierSnapshot {
            supplier_name: mapping.supplier_name,
            product_url: mapping.product_url,
            supplier_cost: mapping.supplier_cost,
            supplier_variant: mapping.supplier_variant,
            mode: mapping.mode,
            link: mapping.link,
        }
    }
}

/// A line handed to its vendor, with everything needed to order it from the supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutedLine {
    pub line: OrderLine,
    pub supplier: SupplierSnapshot,
}

#[cfg(test)]
impl RoutedLine {
    /// One unit of "Item <id>" paid `paid`, bought from supplier "S" at `cost`: what the
    /// domain's unit tests route.
    pub(crate) fn example(id: &str, paid: Money, cost: Money) -> RoutedLine {
        let line = OrderLine {
            line_id: id.into(),
            sku: None,
            title: format!("Item {id}"),
            variant: None,
            quantity: 1,
            unit_price: paid,
            paid,
            problem: None,
            removed: 0,
        };
        let supplier = SupplierSnapshot {
            supplier_name: "S".into(),
            product_url: "https://s.example/1".into(),
            supplier_cost: cost,
            supplier_variant: None,
            mode: Default::default(),
            link: None,
        };
        RoutedLine { line, supplier }
    }
}

/// Why a line could not be routed: the line is the order's own (`line_id`), not a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnroutableLine {
    pub line_id: String,
    pub reason: String,
}

/// A line no vendor will send: it waited for the operator past `UNROUTABLE_NOTICE_HOURS`,
/// or the operator voided it. It is routed no more; its customer was told it will be
/// refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidLine {
    pub line_id: String,
    /// Why it could not be routed.
    pub reason: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// An order's lines grouped by vendor, and those no vendor sells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    pub by_vendor: BTreeMap<VendorId, Vec<RoutedLine>>,
    pub unroutable: Vec<UnroutableLine>,
}

/// Why `line` cannot go to any vendor whatever the mappings say: a problem the parser
/// found, nothing to ship, or an amount no customer pays. A free line (price 0, a gift)
/// is a real line to ship.
pub fn unshippable(line: &OrderLine) -> Option<String> {
    if let Some(problem) = &line.problem {
        return Some(problem.clone());
    }
    if line.quantity == 0 {
        return Some("the line has quantity 0".into());
    }
    if line.unit_price.minor < 0 || line.paid.minor < 0 {
        return Some(format!("the line has a negative amount (unit price {}, paid {})", line.unit_price, line.paid));
    }
    None
}

/// Routes each line by its SKU through `mapping`; lines without a SKU or a mapping, or
/// that cannot be shipped as sent (`unshippable`), are unroutable, never dropped.
pub fn route(lines: &[OrderLine], mapping: impl Fn(&Sku) -> Option<ProductMapping>) -> Routing {
    let mut routing = Routing::default();
    for line in lines {
        if let Some(reason) = unshippable(line) {
            routing.unroutable.push(UnroutableLine { line_id: line.line_id.clone(), reason });
            continue;
        }
        let found = line.sku.as_ref().map(|sku| (sku, mapping(sku)));
        match found {
            Some((_, Some(supplier))) => {
                routing.by_vendor.entry(supplier.vendor_id.clone()).or_default().push(RoutedLine { line: line.clone(), supplier: supplier.into() })
            }
            Some((sku, None)) => routing.unroutable.push(UnroutableLine { line_id: line.line_id.clone(), reason: format!("no vendor sells SKU {sku}") }),
            None => routing.unroutable.push(UnroutableLine { line_id: line.line_id.clone(), reason: "the line has no SKU".into() }),
        }
    }
    routing
}

// --- The order as intake holds it -----------------------------------------------------

/// Where an order stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Not paid yet: kept, not routed.
    Held,
    /// Lines handed to vendors (some may be unroutable).
    Routed,
    /// Voided or cancelled before routing.
    Void,
    /// Too large to store: kept whole in the intake dead-letter queue, the operator told;
    /// this item holds the order without its lines.
    Parked,
}

impl OrderStatus {
    /// The wire name ("routed").
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Held => "held",
            OrderStatus::Routed => "routed",
            OrderStatus::Void => "void",
            OrderStatus::Parked => "parked",
        }
    }

    /// Reads a wire name.
    pub fn parse(text: &str) -> Option<OrderStatus> {
        [OrderStatus::Held, OrderStatus::Routed, OrderStatus::Void, OrderStatus::Parked].into_iter().find(|s| s.as_str() == text)
    }
}

/// The order item: the canonical order and what intake decided about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub order: CanonicalOrder,
    pub status: OrderStatus,
    pub vendors: Vec<VendorId>,
    pub unroutable: Vec<UnroutableLine>,
    pub routed_at: Option<DateTime<Utc>>,
    /// Addresses the order shipped to before the storefront changed it: personal data
    /// too, which a redaction must find in mail and history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_addresses: Vec<crate::domain::address::Address>,
    /// The storefront asked for the customer's personal data to be erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<Redaction>,
    /// Refunds the storefront did not put on lines (or that could not be read): the
    /// operator splits them over the vendor orders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unassigned_refunds: Vec<UnassignedRefund>,
    /// Refunds of lines that no vendor order held when they came (the order was still
    /// pending, or the line waited for its SKU): each goes with its line when the line
    /// is routed, and a line they refund in full is not routed (`domain::refund`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<crate::domain::vendor_order::LineRefund>,
    /// Lines no vendor will send (voided by the operator, or their wait ended): routed no
    /// more, their customer told they will be refunded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub void_lines: Vec<crate::domain::order::VoidLine>,
    /// What the operator did to the order (gave a line, voided one, fixed the address),
    /// oldest first: the console's and the CLI's actions, each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<OperatorAction>,
    /// The operator fixed the shipping address: it stands against the storefront's
    /// updates that still carry the address it replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_fix: Option<AddressFix>,
    pub version: u64,
}

/// An address the operator fixed, and what the storefront said then. While the
/// storefront keeps sending that address (the customer changed nothing there), the fix
/// stands; another address from it is the customer's own change, and wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressFix {
    pub at: DateTime<Utc>,
    /// The storefront's address the fix replaced (none: it had no usable one).
    pub storefront_address: Option<crate::domain::address::Address>,
}

/// One action of the operator on an order, as its history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAction {
    pub at: DateTime<Utc>,
    /// The operator key's name, or `cli` for the command line.
    pub by: String,
    /// What was done, in the words of the command ("give line 2 to acme").
    pub action: String,
    /// Why, as the operator said it.
    pub reason: String,
    /// The request's `Idempotency-Key` and the fingerprint of the request it came with:
    /// a retry of the same act (its answer lost) finds it here and does nothing again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<(String, String)>,
}

impl OperatorAction {
    /// Whether `record` holds this act already (the same `Idempotency-Key`, sent again);
    /// the key with another request is an error, as on the vendor API.
    pub fn done_in(&self, record: &OrderRecord) -> Result<bool, String> {
        let Some((key, fingerprint)) = &self.idempotency else { return Ok(false) };
        match record.actions.iter().filter_map(|a| a.idempotency.as_ref()).find(|(k, _)| k == key) {
            Some((_, seen)) if seen == fingerprint => Ok(true),
            Some(_) => Err("this Idempotency-Key was used with another request; use a new key for a new request".into()),
            None => Ok(false),
        }
    }
}

impl OrderRecord {
    /// The lines that will not be sent though no vendor order held them: refunded in
    /// full before routing, or voided.
    pub fn not_sent(&self) -> Vec<&str> {
        let refunded = self.order.lines.iter().filter(|l| crate::domain::refund::refunded_in_full(l, &self.refunds)).map(|l| l.line_id.as_str());
        refunded.chain(self.void_lines.iter().map(|v| v.line_id.as_str())).collect()
    }
}

/// A refund kept on the order for the operator, with why dropflow could not record it
/// on lines itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnassignedRefund {
    pub refund_id: String,
    pub amount: Option<crate::domain::money::Money>,
    pub reason: String,
}

/// A storefront's request to erase an order's personal data, and when it was done (an
/// order with vendor orders still on their way is redacted when the last one closes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    pub requested_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

/// The operator's order listings (`dropflow orders --state`): every status, and
/// `cancelled` for a routed order the storefront cancelled afterwards.
pub const ORDER_LISTINGS: [&str; 5] = ["held", "routed", "cancelled", "void", "parked"];

impl OrderRecord {
    /// The listing the order is filed under: its status, except that a routed order the
    /// storefront then cancelled lists as `cancelled` (its vendor orders were cancelled;
    /// it is no longer work in progress).
    pub fn listed_as(&self) -> &'static str {
        if self.status == OrderStatus::Routed && self.order.payment == crate::domain::order::Payment::Void { "cancelled" } else { self.status.as_str() }
    }

    /// A first record of `order` in `status`, nothing routed yet.
    pub fn new(order: CanonicalOrder, status: OrderStatus, version: u64) -> OrderRecord {
        OrderRecord {
            order,
            status,
            vendors: vec![],
            unroutable: vec![],
            routed_at: None,
            former_addresses: vec![],
            redaction: None,
            unassigned_refunds: vec![],
            refunds: vec![],
            void_lines: vec![],
            actions: vec![],
            address_fix: None,
            version,
        }
    }

    /// `incoming` (the storefront's newer version) with the operator's address fix kept
    /// while the storefront still sends the address the fix replaced.
    pub fn keeping_fix(&self, incoming: CanonicalOrder) -> CanonicalOrder {
        match &self.address_fix {
            Some(fix) if incoming.shipping_address == fix.storefront_address => {
                CanonicalOrder { shipping_address: self.order.shipping_address.clone(), address_problem: self.order.address_problem.clone(), ..incoming }
            }
            _ => incoming,
        }
    }

    /// The fix an operator's new address for this order makes: against the storefront's
    /// address of the first fix, when the order was fixed before.
    pub fn fixed_at(&self, at: DateTime<Utc>) -> AddressFix {
        let storefront_address = self.address_fix.as_ref().map_or_else(|| self.order.shipping_address.clone(), |f| f.storefront_address.clone());
        AddressFix { at, storefront_address }
    }

    /// Whether every line of the order still to send has left in a parcel of a live
    /// vendor order: then a storefront without per-line fulfillment (WooCommerce)
    /// reads the order completed. A line no vendor sends (unroutable, voided, or in a
    /// cancelled vendor order) keeps it open; one the storefront removed does not.
    pub fn all_lines_shipped(&self, vendor_orders: &[crate::domain::vendor_order::VendorOrder]) -> bool {
        let live = vendor_orders.iter().filter(|vo| vo.state != crate::domain::vendor_order::VoState::Cancelled);
        let shipped: std::collections::HashSet<&str> = live.flat_map(|vo| vo.shipments.iter().flat_map(|s| s.line_ids.iter().map(String::as_str))).collect();
        let to_send = self.order.lines.iter().filter(|l| l.quantity > l.removed);
        !shipped.is_empty() && to_send.into_iter().all(|l| shipped.contains(l.line_id.as_str()))
    }

    /// Whether its personal data is gone: no delivery may bring it back.
    pub fn is_redacted(&self) -> bool {
        self.redaction.as_ref().is_some_and(|r| r.done_at.is_some())
    }

    /// The order's unroutable lines with why, each line read from the order itself.
    pub fn unroutable_lines(&self) -> impl Iterator<Item = (&crate::domain::order::OrderLine, &str)> {
        let lines: std::collections::HashMap<&str, &crate::domain::order::OrderLine> = self.order.lines.iter().map(|l| (l.line_id.as_str(), l)).collect();
        self.unroutable.iter().filter_map(move |u| lines.get(u.line_id.as_str()).map(|line| (*line, u.reason.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::parse("USD").unwrap())
    }

    fn spec() -> ProductSpec {
        ProductSpec {
            sku: " MUG-1 ".into(),
            supplier_name: " Shenzhen Mugs ".into(),
            product_url: "https://www.aliexpress.com/item/1005.html?sku=2#top".into(),
            supplier_cost: usd(250),
            supplier_variant: Some("  ".into()),
            automation: LinkSpec::default(),
        }
    }

    #[test]
    fn a_mapping_on_review_or_auto_names_the_suppliers_product_and_manual_needs_nothing() {
        let vendor = VendorId::parse("acme").unwrap();
        assert_eq!(spec().parse(&vendor).unwrap().mode, SupplierMode::Manual);
        let auto = |api: Option<&str>| ProductSpec {
            automation: LinkSpec {
                mode: Some("auto".into()),
                supplier_api: api.map(str::to_string),
                supplier_product_id: Some("1005001".into()),
                supplier_sku: Some("14:175#Black".into()),
                shipping_method: Some("CAINIAO_STANDARD".into()),
                price_tolerance_percent: None,
            },
            ..spec()
        };
        let mapped = auto(Some("aliexpress")).parse(&vendor).unwrap();
        assert_eq!((mapped.mode, mapped.link.as_ref().map(|l| l.api)), (SupplierMode::Auto, Some(crate::domain::supplier::SupplierApi::Aliexpress)));
        assert_eq!(auto(None).parse(&vendor).unwrap_err().field, "supplier_api");
        let no_product = ProductSpec { automation: LinkSpec { mode: Some("review".into()), ..LinkSpec::default() }, ..spec() };
        assert_eq!(no_product.parse(&vendor).unwrap_err().field, "mode");
        let odd_mode = ProductSpec { automation: LinkSpec { mode: Some("sometimes".into()), ..LinkSpec::default() }, ..spec() };
        assert_eq!(odd_mode.parse(&vendor).unwrap_err().field, "mode");
    }

    #[test]
    fn an_address_fix_stands_until_the_storefront_sends_another_address() {
        let address = |line1: &str| {
            let parts = crate::domain::address::AddressParts {
                name: Some("Ann".into()),
                line1: Some(line1.into()),
                city: Some("Louisville".into()),
                country_code: Some("US".into()),
                ..Default::default()
            };
            crate::domain::address::Address::parse(parts).unwrap()
        };
        let order = CanonicalOrder { shipping_address: Some(address("1 Wrong St")), ..version(10, Payment::Paid) };
        let mut record = OrderRecord::new(order.clone(), OrderStatus::Routed, 1);
        let at = order.updated_at;
        record.address_fix = Some(record.fixed_at(at));
        record.order.shipping_address = Some(address("1 Right St"));
        // The storefront's next update still carries the address the operator replaced.
        let unchanged = CanonicalOrder { customer_name: "Ann Lee".into(), ..version(11, Payment::Paid) };
        let unchanged = CanonicalOrder { shipping_address: order.shipping_address.clone(), ..unchanged };
        assert_eq!(record.keeping_fix(unchanged).shipping_address, Some(address("1 Right St")));
        // A second fix is still against the storefront's first address.
        assert_eq!(record.fixed_at(at).storefront_address, Some(address("1 Wrong St")));
        // The customer changed it at the storefront: theirs wins.
        let moved = CanonicalOrder { shipping_address: Some(address("9 New Rd")), ..order.clone() };
        assert_eq!(record.keeping_fix(moved).shipping_address, Some(address("9 New Rd")));
        // No fix: the storefront's address, whatever it is.
        record.address_fix = None;
        assert_eq!(record.keeping_fix(order).shipping_address, Some(address("1 Wrong St")));
    }

    #[test]
    fn a_product_spec_parses_into_a_trimmed_mapping_of_its_vendor() {
        let vendor = VendorId::parse("acme").unwrap();
        let mapping = spec().parse(&vendor).unwrap();
        assert_eq!((mapping.sku.as_str(), mapping.supplier_name.as_str()), ("MUG-1", "Shenzhen Mugs"));
        assert_eq!((mapping.vendor_id, mapping.supplier_variant, mapping.awaiting_approval), (vendor, None, false), "an empty variant is none");
    }

    #[test]
    fn a_product_spec_names_the_field_it_refuses() {
        let vendor = VendorId::parse("acme").unwrap();
        let refused = |change: fn(&mut ProductSpec)| {
            let mut s = spec();
            change(&mut s);
            s.parse(&vendor).unwrap_err().field
        };
        assert_eq!(refused(|s| s.product_url = "http://plain.example/item".into()), "product_url");
        assert_eq!(refused(|s| s.product_url = "https:///no-host".into()), "product_url");
        assert_eq!(refused(|s| s.product_url = "https://shop.example/\"><script>".into()), "product_url");
        assert_eq!(refused(|s| s.product_url = format!("https://shop.example/{}", "a".repeat(MAX_URL_BYTES))), "product_url");
        assert_eq!(refused(|s| s.supplier_name = " ".into()), "supplier_name");
        assert_eq!(refused(|s| s.supplier_name = "Mugs\nBcc: x@y.example".into()), "supplier_name");
        assert_eq!(refused(|s| s.supplier_cost = usd(-1)), "supplier_cost");
        assert_eq!(refused(|s| s.supplier_variant = Some("v".repeat(201))), "supplier_variant");
        assert_eq!(refused(|s| s.sku = "".into()), "sku");
    }

    fn line(id: &str, sku: Option<&str>) -> OrderLine {
        OrderLine {
            line_id: id.into(),
            sku: sku.map(|s| Sku::parse(s).unwrap()),
            title: "Thing".into(),
            variant: None,
            quantity: 1,
            unit_price: usd(100),
            paid: usd(100),
            problem: None,
            removed: 0,
        }
    }

    fn mapping(sku: &Sku, vendor: &str) -> ProductMapping {
        ProductMapping {
            sku: sku.clone(),
            vendor_id: VendorId::parse(vendor).unwrap(),
            supplier_name: "AliExpress".into(),
            product_url: "https://example.com/p".into(),
            supplier_cost: usd(40),
            supplier_variant: None,
            awaiting_approval: false,
            mode: SupplierMode::Manual,
            link: None,
        }
    }

    fn version(updated: i64, payment: Payment) -> CanonicalOrder {
        let at = |minutes: i64| DateTime::from_timestamp(1_795_000_000 + minutes * 60, 0).unwrap();
        CanonicalOrder {
            order_id: OrderId::derive("shopify", "s", "1"),
            source: "shopify".into(),
            shop: "s".into(),
            external_id: "1".into(),
            order_number: "#1001".into(),
            currency: Currency::parse("USD").unwrap(),
            payment,
            customer_email: None,
            customer_name: "Ann".into(),
            shipping_address: None,
            address_problem: None,
            lines: vec![line("1", Some("A"))],
            total: usd(100),
            created_at: at(0),
            updated_at: at(updated),
            language: None,
        }
    }

    #[test]
    fn a_delivery_is_placed_against_the_held_version_by_its_stamp_then_its_content_then_its_payment() {
        let held = OrderRecord::new(version(10, Payment::Paid), OrderStatus::Routed, 3);
        assert_eq!(arrival(&held, &version(9, Payment::Void)), Arrival::Stale, "older loses, whatever it says");
        assert_eq!(arrival(&held, &version(11, Payment::Pending)), Arrival::Newer, "newer wins, whatever it says");
        assert_eq!(arrival(&held, &version(10, Payment::Paid)), Arrival::Same);
        // The same second: the payment only moves on.
        assert_eq!(arrival(&held, &version(10, Payment::Void)), Arrival::Newer);
        assert_eq!(arrival(&held, &version(10, Payment::Pending)), Arrival::Backward);
        let renamed = CanonicalOrder { customer_name: "Bea".into(), ..version(10, Payment::Paid) };
        assert_eq!(arrival(&held, &renamed), Arrival::Newer, "an edit stamped the same second, payment kept, is taken");
    }

    #[test]
    fn a_new_order_is_routed_when_paid_and_held_or_voided_otherwise() {
        assert_eq!(decide(None, &version(1, Payment::Paid)), Decision::Route);
        assert_eq!(decide(None, &version(1, Payment::Pending)), Decision::Hold(OrderStatus::Held));
        assert_eq!(decide(None, &version(1, Payment::Void)), Decision::Hold(OrderStatus::Void));
    }

    #[test]
    fn a_held_order_is_routed_once_paid_and_its_same_version_again_writes_nothing() {
        let held = OrderRecord::new(version(10, Payment::Pending), OrderStatus::Held, 1);
        assert_eq!(decide(Some(&held), &version(10, Payment::Pending)), Decision::HeldAlready);
        assert_eq!(decide(Some(&held), &version(11, Payment::Paid)), Decision::Route);
        assert_eq!(decide(Some(&held), &version(11, Payment::Void)), Decision::Hold(OrderStatus::Void));
        assert!(matches!(decide(Some(&held), &version(9, Payment::Paid)), Decision::Ignore(why) if why.starts_with("stale")));
    }

    #[test]
    fn a_routed_order_is_followed_by_its_newer_versions_only() {
        let routed = OrderRecord::new(version(10, Payment::Paid), OrderStatus::Routed, 2);
        assert_eq!(decide(Some(&routed), &version(10, Payment::Paid)), Decision::AlreadyRouted);
        assert_eq!(decide(Some(&routed), &version(12, Payment::Void)), Decision::Follow, "a cancel");
        let moved = CanonicalOrder { customer_name: "Bea".into(), ..version(12, Payment::Paid) };
        assert_eq!(decide(Some(&routed), &moved), Decision::Follow, "an edit");
        assert!(matches!(decide(Some(&routed), &version(10, Payment::Pending)), Decision::Ignore(why) if why.contains("back to")));
    }

    #[test]
    fn no_delivery_brings_back_a_redacted_order() {
        let redaction = Redaction { requested_at: version(10, Payment::Paid).updated_at, done_at: Some(version(12, Payment::Paid).updated_at) };
        let held = OrderRecord { redaction: Some(redaction), ..OrderRecord::new(version(10, Payment::Paid), OrderStatus::Routed, 3) };
        assert_eq!(arrival(&held, &version(99, Payment::Paid)), Arrival::Redacted);
        let asked = OrderRecord { redaction: Some(Redaction { done_at: None, ..held.redaction.clone().unwrap() }), ..held };
        assert_eq!(arrival(&asked, &version(99, Payment::Paid)), Arrival::Newer, "asked for, not done yet: the order still moves");
    }

    #[test]
    fn a_line_id_sent_twice_keeps_both_lines_apart_and_unroutable() {
        let lines = set_apart_repeated_ids(vec![line("1", Some("A")), line("2", Some("A")), line("1", Some("B")), line("1", Some("C"))]);
        let ids: Vec<&str> = lines.iter().map(|l| l.line_id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "1#2", "1#3"]);
        assert!(lines[1].problem.is_none());
        assert!([0, 2, 3].iter().all(|i| lines[*i].problem.as_deref().is_some_and(|p| p.contains("line id \"1\" on 3 lines"))));
        let routing = route(&lines, |sku| Some(mapping(sku, "alpha")));
        assert_eq!(routing.unroutable.len(), 3, "none of them is routed: the operator decides");
    }

    #[test]
    fn lines_are_grouped_per_vendor_and_unknown_skus_kept_aside() {
        let lines = [line("1", Some("A")), line("2", Some("B")), line("3", Some("A2")), line("4", Some("ZZ")), line("5", None)];
        let routing = route(&lines, |sku| match sku.as_str() {
            "A" | "A2" => Some(mapping(sku, "alpha")),
            "B" => Some(mapping(sku, "beta")),
            _ => None,
        });
        let alpha = &routing.by_vendor[&VendorId::parse("alpha").unwrap()];
        assert_eq!(alpha.iter().map(|r| r.line.line_id.as_str()).collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(routing.by_vendor.len(), 2);
        let reasons: Vec<_> = routing.unroutable.iter().map(|u| u.reason.as_str()).collect();
        assert_eq!(reasons, ["no vendor sells SKU ZZ", "the line has no SKU"]);
    }

    #[test]
    fn lines_that_cannot_be_shipped_as_sent_are_kept_unroutable_and_a_free_line_is_routed() {
        let zero = OrderLine { quantity: 0, ..line("1", Some("A")) };
        let refunded_beyond = OrderLine { paid: usd(-301), ..line("2", Some("A")) };
        let negative_price = OrderLine { unit_price: usd(-5), ..line("3", Some("A")) };
        let bad_text = OrderLine { problem: Some("sku: too long".into()), ..line("4", None) };
        let free = OrderLine { unit_price: usd(0), paid: usd(0), ..line("5", Some("A")) };
        let routing = route(&[zero, refunded_beyond, negative_price, bad_text, free], |sku| Some(mapping(sku, "alpha")));
        let reasons: Vec<_> = routing.unroutable.iter().map(|u| (u.line_id.as_str(), u.reason.as_str())).collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(reasons[0].1.contains("quantity 0") && reasons[1].1.contains("negative") && reasons[2].1.contains("negative"), "{reasons:?}");
        assert_eq!(reasons[3], ("4", "sku: too long"));
        let alpha = &routing.by_vendor[&VendorId::parse("alpha").unwrap()];
        assert_eq!(alpha.iter().map(|r| r.line.line_id.as_str()).collect::<Vec<_>>(), ["5"], "the free line ships");
    }
}
