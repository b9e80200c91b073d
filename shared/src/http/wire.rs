//! The vendor API's wire formats (DESIGN, "HTTP contracts"): each response has a type
//! of its own, so that the domain's structs can change without changing what vendors'
//! tools read. Money is `{"amount": "199.00", "currency": "USD"}` with exactly the
//! currency's minor digits; timestamps are RFC 3339 UTC to the second; the internal
//! version never appears in a body (it is the `ETag`).

use crate::domain::address::Address;
use crate::domain::money::Money;
use crate::domain::order::RoutedLine;
use crate::domain::vendor_order::{Actor, Checkpoint, HistoryEntry, VendorOrder};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// An exact amount on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::money))]
#[serde(deny_unknown_fields)]
pub struct MoneyJson {
    /// A decimal string with at most the currency's minor digits ("199.00", "1500").
    pub amount: String,
    /// ISO 4217 ("USD").
    pub currency: String,
}

impl MoneyJson {
    /// The exact amount it says, or why it says none.
    pub fn to_money(&self) -> Result<Money, String> {
        let currency = crate::domain::money::Currency::parse(&self.currency).map_err(|e| e.to_string())?;
        Money::parse_decimal(&self.amount, currency).map_err(|e| e.to_string())
    }
}

impl From<Money> for MoneyJson {
    fn from(money: Money) -> Self {
        MoneyJson { amount: money.decimal(), currency: money.currency.code().to_string() }
    }
}

/// The closed sets the API answers with, as its document names them (the wire
/// carries their snake_case names as strings; the OpenAPI test holds each list to what
/// the domain produces).
#[cfg(feature = "openapi")]
mod sets {
    /// Where a vendor order stands.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum OrderState {
        AwaitingSupplier,
        AwaitingShipment,
        Shipped,
        Delivered,
        Cancelled,
    }

    /// A step past its deadline and not done yet: what to do first.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum OverdueStep {
        PlaceWithSupplier,
        Ship,
        DeliveryPromise,
    }

    /// Who caused a step of an order's history.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum HistoryActor {
        Vendor,
        Operator,
        Storefront,
        System,
    }

    /// Whether a payout still waits for the marketplace's transfer.
    #[derive(utoipa::ToSchema)]
    #[schema(rename_all = "snake_case")]
    pub enum PayoutState {
        Pending,
        Paid,
    }
}
#[cfg(feature = "openapi")]
pub use sets::{HistoryActor, OrderState, OverdueStep, PayoutState};

/// An instant on the wire: RFC 3339, UTC, to the second.
pub fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn instant_opt(at: Option<DateTime<Utc>>) -> Option<String> {
    at.map(instant)
}

/// Where the supplier buys a line, with its cost per unit and for the line.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierJson {
    pub name: String,
    pub product_url: String,
    pub variant: Option<String>,
    pub cost_per_unit: MoneyJson,
    pub cost_total: MoneyJson,
}

/// One line of a vendor order.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineJson {
    pub line_id: String,
    pub sku: Option<String>,
    pub title: String,
    pub variant: Option<String>,
    pub quantity: u32,
    pub unit_price: MoneyJson,
    /// What the customer paid for the line, after its discounts.
    pub paid: MoneyJson,
    pub supplier: SupplierJson,
}

/// The parcel's tracking, with a link for carriers dropflow knows.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackingJson {
    /// The carrier's code (`ups`, `dhl_express`, …), or `other`.
    pub carrier: String,
    /// The carrier's name as people read it (for `other`, as the vendor typed it).
    pub carrier_name: String,
    pub number: String,
    /// Where to follow the parcel: only for a carrier dropflow knows.
    pub url: Option<String>,
}

impl From<&crate::domain::tracking::TrackingNumber> for TrackingJson {
    fn from(t: &crate::domain::tracking::TrackingNumber) -> Self {
        let code = serde_json::to_value(&t.carrier).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "other".into());
        TrackingJson { carrier: code, carrier_name: t.carrier.to_string(), number: t.number.clone(), url: t.link() }
    }
}

/// An armed clock: what is due, and when.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockJson {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::domain::sla::ClockKind))]
    pub kind: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub due_at: String,
    /// On a repeated escalation: the deadline first missed (the step is overdue since).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_since: Option<String>,
}

/// A supplier order of some of the vendor order's lines.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierOrderJson {
    pub reference: String,
    /// The line ids ordered under it.
    pub lines: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub placed_at: String,
}

/// A parcel of some of the vendor order's lines.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShipmentJson {
    pub tracking: TrackingJson,
    /// The line ids in it.
    pub lines: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub shipped_at: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub delivered_at: Option<String>,
}

/// Part of a storefront refund that fell on one of the vendor's lines.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundJson {
    pub refund_id: String,
    pub line_id: String,
    pub quantity: u32,
    pub amount: MoneyJson,
}

/// What the order is worth to the vendor (DESIGN, "Money").
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EconomicsJson {
    /// What the customer paid for the vendor's lines, less refunds.
    pub customer_paid: MoneyJson,
    pub commission: MoneyJson,
    /// The supplier cost of all lines (absent when they are in several currencies).
    pub supplier_cost: Option<MoneyJson>,
    /// Paid − commission − supplier cost; absent when the supplier cost is in another
    /// currency than the order.
    pub margin: Option<MoneyJson>,
}

/// One step of a vendor order's history.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryJson {
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub at: String,
    /// Who: `vendor`, `operator`, `storefront` or `system`.
    #[cfg_attr(feature = "openapi", schema(value_type = HistoryActor))]
    pub actor: String,
    pub action: String,
    #[cfg_attr(feature = "openapi", schema(value_type = OrderState))]
    pub state: String,
    pub detail: Option<String>,
}

impl From<&HistoryEntry> for HistoryJson {
    fn from(entry: &HistoryEntry) -> Self {
        let actor = match entry.actor {
            Actor::Vendor(_) => "vendor",
            Actor::Operator => "operator",
            Actor::Storefront => "storefront",
            Actor::System => "system",
        };
        HistoryJson {
            at: instant(entry.at),
            actor: actor.into(),
            action: entry.action.clone(),
            state: entry.state.as_str().into(),
            detail: entry.detail.clone(),
        }
    }
}

/// The carrier's last word on a parcel of the order (from its tracking feed).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckpointJson {
    pub tracking_number: String,
    /// The feed's status word (`InTransit`, `OutForDelivery`, `Exception`, ...).
    pub tag: String,
    pub message: Option<String>,
    pub location: Option<String>,
    /// When the carrier says it happened.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub checkpoint_at: Option<String>,
    /// When dropflow heard of it.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub received_at: String,
}

/// A vendor order as the API shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::vendor_order))]
pub struct VendorOrderJson {
    pub id: String,
    pub order_number: String,
    #[cfg_attr(feature = "openapi", schema(value_type = OrderState))]
    pub state: String,
    pub currency: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
    /// When the supplier order is due, while that clock runs.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub supplier_deadline: Option<String>,
    /// The steps past their deadline and not done yet (`place_with_supplier`, `ship`,
    /// `delivery_promise`): what to do first.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<OverdueStep>))]
    pub overdue: Vec<String>,
    pub customer_name: String,
    pub shipping_address: Address,
    pub lines: Vec<LineJson>,
    pub supplier_order_ref: Option<String>,
    pub tracking: Option<TrackingJson>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub shipped_at: Option<String>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub delivered_at: Option<String>,
    pub cancel_reason: Option<String>,
    pub clocks: Vec<ClockJson>,
    pub refunds: Vec<RefundJson>,
    /// Each supplier order: its reference and the lines ordered under it.
    pub supplier_orders: Vec<SupplierOrderJson>,
    /// Each parcel: its tracking, the lines in it, when it left and arrived.
    pub shipments: Vec<ShipmentJson>,
    /// The carrier's last checkpoint, once a tracking feed reported one.
    pub last_checkpoint: Option<CheckpointJson>,
    /// Absent only if an amount overflows (never for a real order).
    pub economics: Option<EconomicsJson>,
    /// The order's history, oldest first (in the single-order view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryJson>>,
    /// What each delivered parcel earned the vendor, and until when it is held (in the
    /// single-order view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earnings: Option<Vec<EarningJson>>,
    /// The supplier orders dropflow places and follows for it through a supplier's API
    /// (lines on `review` or `auto`), in the single-order view.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_automation: Option<Vec<PurchaseJson>>,
}

/// A supplier order dropflow places for the vendor: where it stands and what the
/// vendor may do (`POST …/supplier-order/confirm`, `retry`, `manual`).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PurchaseJson {
    /// `aliexpress` or `cj`.
    pub supplier: String,
    /// `review` or `auto`.
    pub mode: String,
    /// `prepared` (awaits the vendor's confirmation), `placing`, `placed`,
    /// `awaiting_payment`, `paid`, `shipped`, `delivered`, `unconfirmed` (the supplier
    /// holds an order under our id but did not name it), `failed`, `manual`,
    /// `cancelled`.
    pub state: String,
    /// The id the supplier knows it by (AliExpress `out_order_id`, CJ `orderNumber`).
    pub supplier_order_id: String,
    /// The supplier's own order numbers, once placed.
    pub references: Vec<String>,
    pub lines: Vec<String>,
    /// Where to pay it, while it waits for payment.
    pub pay_url: Option<String>,
    /// Why it failed or needs the vendor, in words.
    pub reason: Option<String>,
    /// The parcel numbers the supplier gave.
    pub parcels: Vec<String>,
    /// When dropflow looks at it next.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub next_check_at: Option<String>,
}

impl From<&crate::domain::supplier::Purchase> for PurchaseJson {
    fn from(p: &crate::domain::supplier::Purchase) -> Self {
        PurchaseJson {
            supplier: p.api.as_str().into(),
            mode: p.mode.as_str().into(),
            state: p.state.as_str().into(),
            supplier_order_id: p.out_order_id(),
            references: p.references.clone(),
            lines: p.line_ids.clone(),
            pay_url: p.pay_url.clone(),
            reason: p.reason.clone(),
            parcels: p.parcels.clone(),
            next_check_at: instant_opt(p.next_at),
        }
    }
}

/// What one delivered parcel earned the vendor: paid less commission (less refunds),
/// held from delivery until `release_at`, then available for the next payout.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EarningJson {
    pub tracking_number: String,
    pub earned: MoneyJson,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub delivered_at: String,
    /// When the hold ends.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub release_at: String,
    /// When it was released (absent while held).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub released_at: Option<String>,
}

impl From<&crate::domain::ledger::Earning> for EarningJson {
    fn from(e: &crate::domain::ledger::Earning) -> Self {
        EarningJson {
            tracking_number: e.tracking_number.clone(),
            earned: e.earned.into(),
            delivered_at: instant(e.delivered_at),
            release_at: instant(e.release_at),
            released_at: instant_opt(e.released_at),
        }
    }
}

impl VendorOrderJson {
    /// With what its delivered parcels earned (the single-order view).
    pub fn with_earnings(self, earnings: &[crate::domain::ledger::Earning]) -> VendorOrderJson {
        VendorOrderJson { earnings: Some(earnings.iter().map(EarningJson::from).collect()), ..self }
    }

    /// With its automated supplier orders (the single-order view).
    pub fn with_purchases(self, purchases: &[crate::domain::supplier::Purchase]) -> VendorOrderJson {
        VendorOrderJson { supplier_automation: Some(purchases.iter().map(PurchaseJson::from).collect()), ..self }
    }
}

impl From<&RoutedLine> for LineJson {
    fn from(routed: &RoutedLine) -> LineJson {
        let (line, supplier) = (&routed.line, &routed.supplier);
        let cost_total = supplier.supplier_cost.times(line.quantity).unwrap_or(supplier.supplier_cost);
        LineJson {
            line_id: line.line_id.clone(),
            sku: line.sku.as_ref().map(|s| s.to_string()),
            title: line.title.clone(),
            variant: line.variant.clone(),
            quantity: line.quantity,
            unit_price: line.unit_price.into(),
            paid: line.paid.into(),
            supplier: SupplierJson {
                name: supplier.supplier_name.clone(),
                product_url: supplier.product_url.clone(),
                variant: supplier.supplier_variant.clone(),
                cost_per_unit: supplier.supplier_cost.into(),
                cost_total: cost_total.into(),
            },
        }
    }
}

impl From<&Checkpoint> for CheckpointJson {
    fn from(c: &Checkpoint) -> CheckpointJson {
        CheckpointJson {
            tracking_number: c.tracking_number.clone(),
            tag: c.tag.clone(),
            message: c.message.clone(),
            location: c.location.clone(),
            checkpoint_at: instant_opt(c.checkpoint_at),
            received_at: instant(c.received_at),
        }
    }
}

impl VendorOrderJson {
    /// The wire form of `vo` at `now`, its economics at the vendor's `commission_bps`,
    /// with its history when given.
    pub fn new(vo: &VendorOrder, commission_bps: crate::domain::money::CommissionBps, history: Option<&[HistoryEntry]>, now: DateTime<Utc>) -> VendorOrderJson {
        let lines = vo.lines.iter().map(LineJson::from).collect();
        let economics = vo.economics(commission_bps).ok().map(|e| EconomicsJson {
            customer_paid: e.customer_paid.into(),
            commission: e.commission.into(),
            supplier_cost: e.supplier_cost.map(Into::into),
            margin: e.margin.map(Into::into),
        });
        VendorOrderJson {
            id: vo.id(),
            order_number: vo.order_number.clone(),
            state: vo.state.as_str().into(),
            currency: vo.currency.code().to_string(),
            created_at: instant(vo.created_at),
            supplier_deadline: instant_opt(vo.supplier_deadline()),
            overdue: vo.overdue(now).into_iter().map(|kind| kind.as_str().to_string()).collect(),
            customer_name: vo.customer_name.clone(),
            shipping_address: vo.shipping_address.clone(),
            lines,
            supplier_order_ref: vo.supplier_order_ref.clone(),
            tracking: vo.tracking.as_ref().map(TrackingJson::from),
            shipped_at: instant_opt(vo.shipped_at),
            delivered_at: instant_opt(vo.delivered_at),
            cancel_reason: vo.cancel_reason.clone(),
            clocks: vo
                .clocks
                .iter()
                .map(|c| ClockJson { kind: c.kind.as_str().into(), due_at: instant(c.due_at), overdue_since: c.overdue_since.map(instant) })
                .collect(),
            supplier_orders: vo
                .supplier_orders
                .iter()
                .map(|o| SupplierOrderJson { reference: o.reference.clone(), lines: o.line_ids.clone(), placed_at: instant(o.placed_at) })
                .collect(),
            shipments: vo
                .shipments
                .iter()
                .map(|s| ShipmentJson {
                    tracking: (&s.tracking).into(),
                    lines: s.line_ids.clone(),
                    shipped_at: instant(s.shipped_at),
                    delivered_at: instant_opt(s.delivered_at),
                })
                .collect(),
            last_checkpoint: vo.last_checkpoint.as_ref().map(CheckpointJson::from),
            refunds: vo
                .refunds
                .iter()
                .map(|r| RefundJson { refund_id: r.refund_id.clone(), line_id: r.line_id.clone(), quantity: r.quantity, amount: r.amount.into() })
                .collect(),
            economics,
            history: history.map(|entries| entries.iter().map(HistoryJson::from).collect()),
            earnings: None,
            supplier_automation: None,
        }
    }
}

/// A page of the vendor's orders.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::order_page))]
pub struct OrderPageJson {
    pub orders: Vec<VendorOrderJson>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub cursor: Option<String>,
}

/// A SKU's mapping as the vendor sees it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::product))]
pub struct ProductJson {
    pub sku: String,
    pub supplier_name: String,
    pub product_url: String,
    pub supplier_cost: MoneyJson,
    pub supplier_variant: Option<String>,
    /// A claim on a SKU that orders were waiting for: nothing routes to it until the
    /// marketplace operator approves it.
    pub awaiting_approval: bool,
    /// How the supplier step runs: `manual` (the vendor orders by hand), `review`
    /// (dropflow prepares the supplier order, the vendor confirms it) or `auto`.
    pub mode: String,
    /// `aliexpress` or `cj`, when the SKU is bought through a supplier's API.
    pub supplier_api: Option<String>,
    /// The supplier's product (AliExpress `product_id`, CJ `pid`).
    pub supplier_product_id: Option<String>,
    /// The supplier's variant (AliExpress `sku_attr`, CJ `vid`).
    pub supplier_sku: Option<String>,
    /// The supplier's shipping method (AliExpress `logistics_service_name`, CJ
    /// `logisticName`).
    pub shipping_method: Option<String>,
    /// How far (percent) the supplier's price may rise above `supplier_cost` before
    /// dropflow stops placing orders of it; none: no limit.
    pub price_tolerance_percent: Option<u32>,
}

impl From<&crate::domain::order::ProductMapping> for ProductJson {
    fn from(m: &crate::domain::order::ProductMapping) -> Self {
        ProductJson {
            sku: m.sku.to_string(),
            supplier_name: m.supplier_name.clone(),
            product_url: m.product_url.clone(),
            supplier_cost: m.supplier_cost.into(),
            supplier_variant: m.supplier_variant.clone(),
            awaiting_approval: m.awaiting_approval,
            mode: m.mode.as_str().into(),
            supplier_api: m.link.as_ref().map(|l| l.api.as_str().into()),
            supplier_product_id: m.link.as_ref().map(|l| l.product_id.clone()),
            supplier_sku: m.link.as_ref().map(|l| l.sku.clone()),
            shipping_method: m.link.as_ref().map(|l| l.shipping_method.clone()),
            price_tolerance_percent: m.link.as_ref().and_then(|l| l.price_tolerance_percent),
        }
    }
}

/// A page of the vendor's products.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::product_page))]
pub struct ProductPageJson {
    pub products: Vec<ProductJson>,
    pub cursor: Option<String>,
}

/// `PUT /vendor/products/{sku}`: where the vendor buys the SKU.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::product_body))]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    pub supplier_name: String,
    pub product_url: String,
    pub supplier_cost: MoneyJson,
    #[serde(default)]
    pub supplier_variant: Option<String>,
    /// `manual` (default), `review` or `auto`; `review` and `auto` need the supplier's
    /// product below.
    #[serde(default)]
    pub mode: Option<String>,
    /// `aliexpress` or `cj`.
    #[serde(default)]
    pub supplier_api: Option<String>,
    /// AliExpress `product_id` (digits), CJ `pid`.
    #[serde(default)]
    pub supplier_product_id: Option<String>,
    /// AliExpress `sku_attr` (empty for a product of one SKU), CJ `vid` (required).
    #[serde(default)]
    pub supplier_sku: Option<String>,
    /// AliExpress `logistics_service_name` (a freight `code`), CJ `logisticName`.
    #[serde(default)]
    pub shipping_method: Option<String>,
    /// 0-1000: how far (percent) the supplier's price may rise above `supplier_cost`
    /// before dropflow stops placing orders of it and hands them to you; unset: no limit.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000))]
    pub price_tolerance_percent: Option<u32>,
}

impl ProductBody {
    /// Its supplier-automation fields, as the domain checks them.
    pub fn automation(&self) -> crate::domain::order::LinkSpec {
        crate::domain::order::LinkSpec {
            mode: self.mode.clone(),
            supplier_api: self.supplier_api.clone(),
            supplier_product_id: self.supplier_product_id.clone(),
            supplier_sku: self.supplier_sku.clone(),
            shipping_method: self.shipping_method.clone(),
            price_tolerance_percent: self.price_tolerance_percent,
        }
    }
}

/// A currency's balance buckets (DESIGN, "Money").
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BalanceJson {
    pub currency: String,
    pub held: MoneyJson,
    pub available: MoneyJson,
    pub in_payout: MoneyJson,
    pub paid_out: MoneyJson,
}

/// `GET /vendor/balance`: one entry per currency the vendor has earned in.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::balances))]
pub struct BalancesJson {
    pub balances: Vec<BalanceJson>,
}

/// One entry a payout covers: what moved the vendor's available money.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayoutEntryJson {
    pub entry_id: String,
    /// `released` (earnings whose hold ended) or `clawback` (a refund after release).
    pub kind: String,
    /// What it added to the payout (negative for a clawback).
    pub amount: MoneyJson,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub at: String,
    pub detail: String,
}

/// A payout batch: its amount is the sum of its entries.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayoutJson {
    pub payout_id: String,
    pub amount: MoneyJson,
    /// `pending` (created, not transferred yet) or `paid`.
    #[cfg_attr(feature = "openapi", schema(value_type = PayoutState))]
    pub status: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub paid_at: Option<String>,
    /// The operator's transfer reference, once paid.
    pub reference: Option<String>,
    pub entries: Vec<PayoutEntryJson>,
}

impl From<&crate::domain::ledger::Payout> for PayoutJson {
    fn from(p: &crate::domain::ledger::Payout) -> Self {
        PayoutJson {
            payout_id: p.payout_id.clone(),
            amount: p.amount.into(),
            status: p.status.as_str().into(),
            created_at: instant(p.created_at),
            paid_at: instant_opt(p.paid_at),
            reference: p.reference.clone(),
            entries: p
                .entries
                .iter()
                .map(|e| PayoutEntryJson {
                    entry_id: e.entry_id.clone(),
                    kind: e.kind.as_str().into(),
                    amount: e.delta.into(),
                    at: instant(e.at),
                    detail: e.detail.clone(),
                })
                .collect(),
        }
    }
}

impl From<&crate::domain::ledger::Balance> for BalancesJson {
    fn from(balance: &crate::domain::ledger::Balance) -> Self {
        let money = |minor: i64, currency| crate::domain::money::Money::from_minor(minor, currency).into();
        BalancesJson {
            balances: balance
                .currencies
                .iter()
                .map(|(currency, b)| BalanceJson {
                    currency: currency.code().into(),
                    held: money(b.held, *currency),
                    available: money(b.available, *currency),
                    in_payout: money(b.in_payout, *currency),
                    paid_out: money(b.paid_out, *currency),
                })
                .collect(),
        }
    }
}

/// `GET /vendor/payouts`: newest first.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::payout_page))]
pub struct PayoutPageJson {
    pub payouts: Vec<PayoutJson>,
    pub cursor: Option<String>,
}

/// One of the vendor's supplier accounts, as dropflow holds it: who it is and how long
/// its authorization lasts, never a token or a key.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierAccountJson {
    /// `aliexpress` or `cj`.
    pub supplier: String,
    /// The account's name or id as the supplier gave it.
    pub account: Option<String>,
    pub connected_at: String,
    /// When the access token runs out (dropflow refreshes it before then).
    pub access_expires_at: String,
    /// When the authorization itself runs out: connect again before then.
    pub reconnect_by: Option<String>,
    /// The authorization runs out within 7 days: connect the account again.
    pub expiring: bool,
}

impl SupplierAccountJson {
    /// `connection` as the vendor sees it at `now`.
    pub fn new(connection: &crate::domain::supplier::SupplierConnection, now: chrono::DateTime<chrono::Utc>) -> Self {
        SupplierAccountJson {
            supplier: connection.api.as_str().into(),
            account: connection.account.clone(),
            connected_at: instant(connection.connected_at),
            access_expires_at: instant(connection.access_expires_at),
            reconnect_by: connection.refresh_expires_at.map(instant),
            expiring: connection.must_reconnect_soon(now),
        }
    }
}

/// `GET /vendor/suppliers`: the vendor's supplier accounts, and which suppliers this
/// marketplace can connect.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplierAccountsJson {
    pub accounts: Vec<SupplierAccountJson>,
    /// `cj` always; `aliexpress` when the marketplace has an AliExpress app.
    pub available: Vec<String>,
}

/// `POST /vendor/suppliers/cj`: the vendor's CJdropshipping API key (MyCJ → Apps →
/// API), exchanged for tokens at once and kept sealed; never shown again.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CjConnectBody {
    pub api_key: String,
}

/// `POST /vendor/suppliers/aliexpress/authorize`: where to send the vendor to
/// authorize dropflow on AliExpress, and until when that link works.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizeJson {
    pub authorize_url: String,
    pub expires_at: String,
}

/// One measure of a vendor's scorecard: a rate from 0 to 1 over its window.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureJson {
    /// numerator / denominator; null without a denominator (nothing to judge).
    pub value: Option<f64>,
    pub numerator: i64,
    pub denominator: i64,
    /// The days it is read over, up to and including today (UTC).
    pub window_days: u32,
    /// The marketplace's target: a ceiling for a rate of bad things, a floor for
    /// valid tracking and on-time delivery.
    pub target: f64,
    /// `good`, `at_risk` or `failing`.
    pub state: String,
}

/// A vendor's scorecard: late supplier orders, late shipments, valid tracking,
/// pre-fulfillment cancels, on-time delivery and refunds, each over its window.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScorecardJson {
    pub measures: std::collections::BTreeMap<String, MeasureJson>,
    /// Half the orders reach their supplier order within this many hours (30 days).
    pub median_hours_to_supplier_order: Option<i64>,
    /// Half the orders ship within this many hours of arriving (30 days).
    pub median_hours_to_shipment: Option<i64>,
}

impl From<&crate::domain::scorecard::Scorecard> for ScorecardJson {
    fn from(card: &crate::domain::scorecard::Scorecard) -> Self {
        let measures = card
            .measures
            .iter()
            .map(|(measure, r)| {
                let json = MeasureJson {
                    value: r.value,
                    numerator: r.numerator,
                    denominator: r.denominator,
                    window_days: r.window_days,
                    target: r.target,
                    state: r.standing.as_str().into(),
                };
                (measure.as_str().to_string(), json)
            })
            .collect();
        ScorecardJson { measures, median_hours_to_supplier_order: card.median_hours_to_supplier_order, median_hours_to_shipment: card.median_hours_to_shipment }
    }
}
