//! Supplier automation: how a vendor's supplier step runs for a SKU (by hand, prepared
//! for the vendor's confirmation, or placed by dropflow through the supplier's API), and
//! the purchase dropflow keeps for each vendor order it places with a supplier: where it
//! stands, what to do next and when. Pure rules; the AliExpress and CJ clients live in
//! `crate::suppliers`, the running of purchases in `services::supplier`.

use super::ids::{InvalidValue, OrderId, VendorId};
use super::money::Money;
use super::tracking::{Carrier, TrackingError, TrackingNumber};
use super::vendor_order::{VendorOrder, public_id};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A supplier whose API dropflow can place orders with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplierApi {
    /// AliExpress's Dropshipping API (openservice.aliexpress.com).
    Aliexpress,
    /// CJdropshipping's API 2.0 (developers.cjdropshipping.com).
    Cj,
}

impl SupplierApi {
    /// Both, in the order `--help` lists them.
    pub const ALL: [SupplierApi; 2] = [SupplierApi::Aliexpress, SupplierApi::Cj];

    /// The wire name (`aliexpress`, `cj`).
    pub fn as_str(self) -> &'static str {
        match self {
            SupplierApi::Aliexpress => "aliexpress",
            SupplierApi::Cj => "cj",
        }
    }

    /// The name people read ("AliExpress", "CJdropshipping").
    pub fn display_name(self) -> &'static str {
        match self {
            SupplierApi::Aliexpress => "AliExpress",
            SupplierApi::Cj => "CJdropshipping",
        }
    }

    /// Reads a wire name.
    pub fn parse(text: &str) -> Result<SupplierApi, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|api| api.as_str() == text.trim())
            .ok_or_else(|| InvalidValue::new("supplier_api", format!("{text:?} is not one of aliexpress, cj")))
    }
}

/// How the supplier step of a SKU's lines runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplierMode {
    /// The vendor orders from the supplier and types the reference in (as always).
    #[default]
    Manual,
    /// dropflow prepares the supplier order; the vendor confirms it before it is placed.
    Review,
    /// dropflow places the supplier order as soon as the vendor order exists.
    Auto,
}

impl SupplierMode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SupplierMode::Manual => "manual",
            SupplierMode::Review => "review",
            SupplierMode::Auto => "auto",
        }
    }

    /// Reads a wire name.
    pub fn parse(text: &str) -> Result<SupplierMode, InvalidValue> {
        [SupplierMode::Manual, SupplierMode::Review, SupplierMode::Auto]
            .into_iter()
            .find(|mode| mode.as_str() == text.trim())
            .ok_or_else(|| InvalidValue::new("mode", format!("{text:?} is not one of manual, review, auto")))
    }

    /// Whether it is the default (kept out of stored items).
    pub fn is_manual(&self) -> bool {
        *self == SupplierMode::Manual
    }
}

/// Where a SKU is bought through a supplier's API: its product, the variant and the
/// shipping method, as the supplier names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierLink {
    pub api: SupplierApi,
    /// AliExpress's `product_id` (digits), CJ's `pid`.
    pub product_id: String,
    /// AliExpress's `sku_attr` (empty for a product of one SKU), CJ's variant `vid`.
    pub sku: String,
    /// AliExpress's `logistics_service_name` (a `code` of `aliexpress.ds.freight.query`),
    /// CJ's `logisticName` (of `freightCalculate`).
    pub shipping_method: String,
    /// How far above the mapping's supplier cost (in percent) the supplier's price may
    /// rise before dropflow stops placing orders of it and hands them to the vendor;
    /// none: the vendor set no limit, and the price is not looked at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_tolerance_percent: Option<u32>,
}

/// The longest supplier id, variant or method name taken.
const MAX_LINK_CHARS: usize = 200;

impl SupplierLink {
    /// A link as a vendor or the operator writes it, checked: every part on one line,
    /// AliExpress's product id in digits, CJ's variant given (its orders name variants
    /// only), a shipping method given.
    pub fn parse(api: &str, product_id: &str, sku: Option<&str>, shipping_method: Option<&str>) -> Result<SupplierLink, InvalidValue> {
        let api = SupplierApi::parse(api)?;
        let fits = |text: &str| text.chars().count() <= MAX_LINK_CHARS && !text.chars().any(char::is_control);
        let product_id = product_id.trim();
        if product_id.is_empty() || !fits(product_id) {
            return Err(InvalidValue::new("supplier_product_id", format!("must be 1-{MAX_LINK_CHARS} characters on one line")));
        }
        if api == SupplierApi::Aliexpress && !product_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("supplier_product_id", "an AliExpress product id is digits"));
        }
        let sku = sku.map(str::trim).unwrap_or_default();
        if !fits(sku) {
            return Err(InvalidValue::new("supplier_sku", format!("must be at most {MAX_LINK_CHARS} characters on one line")));
        }
        if api == SupplierApi::Cj && sku.is_empty() {
            return Err(InvalidValue::new("supplier_sku", "CJ orders name a variant: give its vid"));
        }
        let shipping_method = shipping_method.map(str::trim).unwrap_or_default();
        if shipping_method.is_empty() || !fits(shipping_method) {
            return Err(InvalidValue::new("shipping_method", format!("must be 1-{MAX_LINK_CHARS} characters on one line (the supplier's name of the method)")));
        }
        Ok(SupplierLink { api, product_id: product_id.into(), sku: sku.into(), shipping_method: shipping_method.into(), price_tolerance_percent: None })
    }

    /// Whether the supplier's unit price `quoted` is within the vendor's tolerance above
    /// `cost` (the mapping's supplier cost): `Err` says, in words, why not. A price in
    /// another currency than the cost cannot be compared and is let through (the
    /// supplier bills in its own currency: CJ in USD).
    pub fn price_within(&self, cost: Money, quoted: Money) -> Result<(), String> {
        let Some(tolerance) = self.price_tolerance_percent else { return Ok(()) };
        if quoted.currency != cost.currency {
            return Ok(());
        }
        // quoted ≤ cost × (100 + tolerance) / 100, in integers.
        let ceiling = i128::from(cost.minor) * i128::from(100 + tolerance);
        if i128::from(quoted.minor) * 100 <= ceiling {
            return Ok(());
        }
        Err(format!("{} now charges {quoted} a unit, more than your cost of {cost} plus your tolerance of {tolerance} %", self.api.display_name()))
    }
}

/// The most a vendor's price tolerance may be, in percent.
pub const MAX_PRICE_TOLERANCE_PERCENT: u32 = 1000;

/// Where a purchase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseState {
    /// Prepared for the vendor's confirmation (`review`).
    Prepared,
    /// To be placed (or being placed) with the supplier.
    Placing,
    /// The supplier created it and it is paid for, or payment is not our concern yet.
    Placed,
    /// The supplier created it and waits to be paid (its pay link, if any, is kept).
    AwaitingPayment,
    /// Paid; the supplier is to ship it.
    Paid,
    /// The supplier shipped it: its tracking is on the vendor order.
    Shipped,
    Delivered,
    /// The supplier answered that it already holds an order of this id, without its
    /// reference: placed, and the vendor is asked for the supplier's order number.
    Unconfirmed,
    /// The supplier refused it; the vendor order is the vendor's again.
    Failed,
    /// The vendor (or a failure) took it back by hand.
    Manual,
    /// The supplier cancelled it, or the vendor order was cancelled.
    Cancelled,
}

impl PurchaseState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseState::Prepared => "prepared",
            PurchaseState::Placing => "placing",
            PurchaseState::Placed => "placed",
            PurchaseState::AwaitingPayment => "awaiting_payment",
            PurchaseState::Paid => "paid",
            PurchaseState::Shipped => "shipped",
            PurchaseState::Delivered => "delivered",
            PurchaseState::Unconfirmed => "unconfirmed",
            PurchaseState::Failed => "failed",
            PurchaseState::Manual => "manual",
            PurchaseState::Cancelled => "cancelled",
        }
    }

    /// Whether the supplier holds an order of it (what follows is read back from it).
    pub fn is_placed(self) -> bool {
        matches!(self, PurchaseState::Placed | PurchaseState::AwaitingPayment | PurchaseState::Paid | PurchaseState::Shipped)
    }
}

/// What a supplier says of an order it holds, read back (a push is only a trigger to
/// read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupplierStatus {
    AwaitingPayment,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
}

/// One parcel a supplier reports for an order: its number and carrier as the supplier
/// names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierParcel {
    pub number: String,
    pub carrier: Option<String>,
}

/// A supplier order dropflow places for a vendor order's lines that one supplier's API
/// sells (`review` or `auto`), and follows until delivered. Kept beside the vendor order
/// (its own item, so the sweep's due index can list it by when it is next looked at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    pub order_id: OrderId,
    pub vendor_id: VendorId,
    pub round: u32,
    pub api: SupplierApi,
    pub mode: SupplierMode,
    pub line_ids: Vec<String>,
    pub state: PurchaseState,
    /// Which placing this is: a vendor's retry after a refusal is the next, under an id
    /// of its own (the first was refused, so nothing was bought under it).
    pub attempt: u32,
    /// The supplier's order numbers (AliExpress may split one request by store).
    #[serde(default)]
    pub references: Vec<String>,
    /// Where the vendor pays the supplier, when it waits for payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_url: Option<String>,
    /// The supplier's reason, in words, when it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The parcels already recorded on the vendor order.
    #[serde(default)]
    pub parcels: Vec<String>,
    /// Calls that failed in a row (transient): the next waits longer.
    #[serde(default)]
    pub failures: u32,
    /// When supplier-sync looks at it next (`None`: nothing to do until someone acts).
    pub next_at: Option<DateTime<Utc>>,
    /// When its create call started last (a create whose outcome was lost is sent
    /// again under the same id, never under a new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placing_since: Option<DateTime<Utc>>,
    /// When the supplier created it (what the payment timeout counts from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// How long a create call may take before another run may send it again (with the
/// same id: the supplier holds one order per id).
pub const PLACING_LEASE_SECONDS: i64 = 120;

/// The longest back-off between failing calls.
pub const MAX_BACKOFF_MINUTES: i64 = 60;

impl Purchase {
    /// The purchases a new vendor order needs: one per supplier API its lines are on
    /// (`review` or `auto`), in `review` when any of its lines is. Manual lines need
    /// none.
    pub fn for_vendor_order(vo: &VendorOrder, now: DateTime<Utc>) -> Vec<Purchase> {
        let mut by_api: std::collections::BTreeMap<SupplierApi, (SupplierMode, Vec<String>)> = Default::default();
        for line in &vo.lines {
            let Some(link) = line.supplier.link.as_ref().filter(|_| !line.supplier.mode.is_manual()) else { continue };
            let entry = by_api.entry(link.api).or_insert((SupplierMode::Auto, Vec::new()));
            if line.supplier.mode == SupplierMode::Review {
                entry.0 = SupplierMode::Review;
            }
            entry.1.push(line.line.line_id.clone());
        }
        by_api
            .into_iter()
            .map(|(api, (mode, line_ids))| {
                let auto = mode == SupplierMode::Auto;
                Purchase {
                    order_id: vo.order_id.clone(),
                    vendor_id: vo.vendor_id.clone(),
                    round: vo.round,
                    api,
                    mode,
                    line_ids,
                    state: if auto { PurchaseState::Placing } else { PurchaseState::Prepared },
                    attempt: 1,
                    references: Vec::new(),
                    pay_url: None,
                    reason: None,
                    parcels: Vec::new(),
                    failures: 0,
                    next_at: auto.then_some(now),
                    placing_since: None,
                    placed_at: None,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                }
            })
            .collect()
    }

    /// The purchases to write once lines joined `vo` (a storefront's edit, a SKU mapped
    /// at last), each with the version it replaces: a purchase not sent yet takes its
    /// supplier's lines as they now are (prepared for the vendor's confirmation when any
    /// is on review); a supplier that had none gets one; a purchase whose create may be
    /// on its way, or is past it, is left as it is (the lines that joined are the
    /// vendor's to order, as the new brief says).
    pub fn after_lines_joined(vo: &VendorOrder, existing: &[Purchase], now: DateTime<Utc>) -> Vec<(Purchase, Option<u64>)> {
        let mut writes = Vec::new();
        for wanted in Purchase::for_vendor_order(vo, now) {
            match existing.iter().find(|p| p.api == wanted.api) {
                None => writes.push((wanted, None)),
                Some(current) if current.line_ids == wanted.line_ids => {}
                Some(current) if current.state == PurchaseState::Prepared || (current.state == PurchaseState::Placing && current.placing_since.is_none()) => {
                    let review = wanted.mode == SupplierMode::Review || current.state == PurchaseState::Prepared;
                    let (mode, state, next_at) = match review {
                        true => (SupplierMode::Review, PurchaseState::Prepared, None),
                        false => (current.mode, current.state, current.next_at),
                    };
                    let joined = Purchase { line_ids: wanted.line_ids, mode, state, next_at, ..current.next(now) };
                    writes.push((joined, Some(current.version)));
                }
                Some(_) => {}
            }
        }
        writes
    }

    /// The id the supplier knows this placing by (AliExpress's `out_order_id`, CJ's
    /// `orderNumber`, at most 50 characters): the same for every retry of one placing,
    /// so the supplier never buys twice; the vendor order, its vendor (hashed) and
    /// round, and the attempt.
    pub fn out_order_id(&self) -> String {
        let vendor = hex::encode(&Sha256::digest(self.vendor_id.as_str().as_bytes())[..4]);
        format!("{}-{vendor}-{}-{}", self.order_id, self.round, self.attempt)
    }

    /// The vendor order's id as the vendor knows it.
    pub fn vendor_order_id(&self) -> String {
        public_id(&self.order_id, self.round)
    }

    /// The wait before the next call after `failures` failing ones in a row: 1, 2, 4 …
    /// minutes, at most an hour (or what the supplier asked).
    pub fn backoff(failures: u32, asked: Option<Duration>) -> Duration {
        let doubling = Duration::minutes(1i64 << failures.saturating_sub(1).min(6)).min(Duration::minutes(MAX_BACKOFF_MINUTES));
        asked.map_or(doubling, |asked| asked.max(doubling))
    }

    /// Whether a create call may be sent now: it is to be placed, and no other run's
    /// call is under way (a lease that ran out means that run died).
    pub fn may_place(&self, now: DateTime<Utc>) -> bool {
        self.state == PurchaseState::Placing && self.placing_since.is_none_or(|since| now - since >= Duration::seconds(PLACING_LEASE_SECONDS))
    }

    /// The same purchase at the next version, changed at `now`.
    pub fn next(&self, now: DateTime<Utc>) -> Purchase {
        Purchase { version: self.version + 1, updated_at: now, ..self.clone() }
    }
}

/// A vendor's connected supplier account: its credentials sealed (opened only to call
/// the supplier), and what the vendor and the clocks may read of it in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierConnection {
    pub vendor_id: VendorId,
    pub api: SupplierApi,
    /// The credentials, sealed for this vendor (KMS on AWS, the local key otherwise).
    pub sealed: String,
    /// The account's name or id as the supplier gave it.
    pub account: Option<String>,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub connected_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The vendor was told its refresh token is about to run out (once per connection).
    #[serde(default)]
    pub expiry_warned: bool,
    pub version: u64,
}

/// How long before its refresh token runs out a vendor is told to authorize again.
pub const REFRESH_WARNING_DAYS: i64 = 7;

/// How long before its access token runs out a token is refreshed (AliExpress
/// recommends 30 minutes; a sync run every few minutes must not miss it).
pub const REFRESH_AHEAD_MINUTES: i64 = 60;

impl SupplierConnection {
    /// Whether the access token is to be refreshed before it is used at `now`.
    pub fn needs_refresh(&self, now: DateTime<Utc>) -> bool {
        self.access_expires_at - now <= Duration::minutes(REFRESH_AHEAD_MINUTES)
    }

    /// Whether the vendor is to be told now that it must authorize again soon.
    pub fn refresh_expiring(&self, now: DateTime<Utc>) -> bool {
        !self.expiry_warned && self.must_reconnect_soon(now)
    }

    /// Whether the authorization runs out within `REFRESH_WARNING_DAYS` (or has): what
    /// the dashboard warns of for as long as it holds.
    pub fn must_reconnect_soon(&self, now: DateTime<Utc>) -> bool {
        self.refresh_expires_at.is_some_and(|until| until - now <= Duration::days(REFRESH_WARNING_DAYS))
    }
}

/// A supplier's parcel as a tracking number: its carrier mapped from the supplier's
/// name where dropflow knows it, else inferred from the number, else kept by the
/// supplier's name ("CJPacket Ordinary"); a number that is no tracking number (spaces,
/// symbols, over 40 characters) is refused as a vendor's would be.
pub fn tracking_of(parcel: &SupplierParcel, api: SupplierApi) -> Result<TrackingNumber, TrackingError> {
    let named = parcel.carrier.as_deref().map(Carrier::from_name);
    let known = named.as_ref().filter(|c| !matches!(c, Carrier::Other(_)));
    if let Some(carrier) = known
        && let Ok(tracking) = TrackingNumber::parse(&parcel.number, Some(carrier))
    {
        return Ok(tracking);
    }
    TrackingNumber::parse(&parcel.number, None).or_else(|_| {
        let name = parcel.carrier.clone().filter(|c| !c.trim().is_empty() && c.chars().count() <= 100 && !c.chars().any(char::is_control));
        TrackingNumber::parse(&parcel.number, Some(&Carrier::Other(name.unwrap_or_else(|| api.display_name().to_string()))))
    })
}

impl SupplierStatus {
    /// The purchase state this status puts a placed purchase in.
    pub fn state(self) -> PurchaseState {
        match self {
            SupplierStatus::AwaitingPayment => PurchaseState::AwaitingPayment,
            SupplierStatus::Paid => PurchaseState::Paid,
            SupplierStatus::Shipped => PurchaseState::Shipped,
            SupplierStatus::Delivered => PurchaseState::Delivered,
            SupplierStatus::Cancelled => PurchaseState::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;
    use crate::domain::order::RoutedLine;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn line(id: &str, mode: SupplierMode, api: Option<SupplierApi>) -> RoutedLine {
        let eur = |minor| Money { minor, currency: Currency::parse("EUR").unwrap() };
        let mut routed = RoutedLine::example(id, eur(1000), eur(400));
        routed.supplier.mode = mode;
        routed.supplier.link = api.map(|api| SupplierLink {
            api,
            product_id: "1005001".into(),
            sku: "v1".into(),
            shipping_method: "CAINIAO_STANDARD".into(),
            price_tolerance_percent: None,
        });
        routed
    }

    fn vendor_order(lines: Vec<RoutedLine>) -> VendorOrder {
        let to = crate::domain::vendor_order::Recipient {
            order_id: OrderId::parse("o_0123456789abcdef01234567").unwrap(),
            order_number: "#1".into(),
            shipping_address: crate::domain::address::Address::example(),
            customer_name: "Ada".into(),
            currency: Currency::parse("EUR").unwrap(),
        };
        let now = at("2026-11-25T09:00:00Z");
        VendorOrder::create(to, VendorId::parse("acme").unwrap(), lines, now, &crate::domain::sla::SlaPolicy::default()).0
    }

    #[test]
    fn a_vendor_order_gets_one_purchase_per_supplier_api_and_none_for_manual_lines() {
        let vo = vendor_order(vec![
            line("1", SupplierMode::Auto, Some(SupplierApi::Aliexpress)),
            line("2", SupplierMode::Review, Some(SupplierApi::Cj)),
            line("3", SupplierMode::Auto, Some(SupplierApi::Cj)),
            line("4", SupplierMode::Manual, Some(SupplierApi::Cj)),
            line("5", SupplierMode::Manual, None),
        ]);
        let now = at("2026-11-25T09:00:00Z");
        let purchases = Purchase::for_vendor_order(&vo, now);
        assert_eq!(purchases.len(), 2);
        let (ae, cj) = (&purchases[0], &purchases[1]);
        assert_eq!((ae.api, ae.mode, ae.state, ae.next_at), (SupplierApi::Aliexpress, SupplierMode::Auto, PurchaseState::Placing, Some(now)));
        assert_eq!(ae.line_ids, vec!["1"]);
        // One line in review holds the whole supplier order for the vendor's look.
        assert_eq!((cj.mode, cj.state, cj.next_at), (SupplierMode::Review, PurchaseState::Prepared, None));
        assert_eq!(cj.line_ids, vec!["2", "3"]);
    }

    #[test]
    fn the_id_the_supplier_knows_is_stable_per_attempt_and_fits_cj() {
        let vo = vendor_order(vec![line("1", SupplierMode::Auto, Some(SupplierApi::Cj))]);
        let mut purchase = Purchase::for_vendor_order(&vo, at("2026-11-25T09:00:00Z")).remove(0);
        let first = purchase.out_order_id();
        assert_eq!(first, purchase.clone().out_order_id());
        assert!(first.len() <= 50, "{first}");
        purchase.attempt = 2;
        assert_ne!(purchase.out_order_id(), first);
    }

    #[test]
    fn a_create_under_way_is_not_sent_again_until_its_lease_runs_out() {
        let vo = vendor_order(vec![line("1", SupplierMode::Auto, Some(SupplierApi::Aliexpress))]);
        let start = at("2026-11-25T09:00:00Z");
        let mut purchase = Purchase::for_vendor_order(&vo, start).remove(0);
        assert!(purchase.may_place(start));
        purchase.placing_since = Some(start);
        assert!(!purchase.may_place(start + Duration::seconds(PLACING_LEASE_SECONDS - 1)));
        assert!(purchase.may_place(start + Duration::seconds(PLACING_LEASE_SECONDS)));
    }

    #[test]
    fn failing_calls_back_off_doubling_up_to_an_hour_or_what_the_supplier_asks() {
        assert_eq!(Purchase::backoff(1, None), Duration::minutes(1));
        assert_eq!(Purchase::backoff(3, None), Duration::minutes(4));
        assert_eq!(Purchase::backoff(30, None), Duration::minutes(60));
        assert_eq!(Purchase::backoff(1, Some(Duration::minutes(5))), Duration::minutes(5));
    }

    #[test]
    fn lines_that_join_go_with_a_purchase_not_sent_yet_and_never_with_one_on_its_way() {
        let now = at("2026-11-25T09:05:00Z");
        let first = vendor_order(vec![line("1", SupplierMode::Auto, Some(SupplierApi::Aliexpress))]);
        let existing = Purchase::for_vendor_order(&first, now);
        let joined = vendor_order(vec![
            line("1", SupplierMode::Auto, Some(SupplierApi::Aliexpress)),
            line("2", SupplierMode::Auto, Some(SupplierApi::Aliexpress)),
            line("3", SupplierMode::Review, Some(SupplierApi::Cj)),
        ]);
        let writes = Purchase::after_lines_joined(&joined, &existing, now);
        assert_eq!(writes.len(), 2, "{writes:?}");
        let (ae, version) = writes.iter().find(|(p, _)| p.api == SupplierApi::Aliexpress).unwrap();
        assert_eq!((ae.line_ids.clone(), ae.state, *version), (vec!["1".to_string(), "2".into()], PurchaseState::Placing, Some(1)));
        let (cj, version) = writes.iter().find(|(p, _)| p.api == SupplierApi::Cj).unwrap();
        assert_eq!((cj.line_ids.clone(), cj.state, *version), (vec!["3".to_string()], PurchaseState::Prepared, None), "a supplier that had none gets one");
        // A review line joining an auto purchase not sent: the vendor confirms it all.
        let review =
            vendor_order(vec![line("1", SupplierMode::Auto, Some(SupplierApi::Aliexpress)), line("2", SupplierMode::Review, Some(SupplierApi::Aliexpress))]);
        let (held, _) = &Purchase::after_lines_joined(&review, &existing, now)[0];
        assert_eq!((held.state, held.mode, held.next_at), (PurchaseState::Prepared, SupplierMode::Review, None));
        // A create that may be on its way is never changed.
        let sent: Vec<Purchase> = existing.iter().map(|p| Purchase { placing_since: Some(now), ..p.clone() }).collect();
        assert!(Purchase::after_lines_joined(&joined, &sent, now).iter().all(|(p, _)| p.api != SupplierApi::Aliexpress));
        assert!(Purchase::after_lines_joined(&first, &existing, now).is_empty(), "nothing joined, nothing written");
    }

    #[test]
    fn a_price_may_rise_by_the_vendors_tolerance_and_no_further() {
        let usd = |minor| Money::from_minor(minor, Currency::parse("USD").unwrap());
        let mut link = SupplierLink::parse("cj", "pid-1", Some("vid-1"), Some("CJPacket")).unwrap();
        assert!(link.price_within(usd(200), usd(10_000)).is_ok(), "no tolerance set: the price is not looked at");
        link.price_tolerance_percent = Some(10);
        assert!(link.price_within(usd(200), usd(220)).is_ok(), "exactly 10 % more");
        let said = link.price_within(usd(200), usd(221)).unwrap_err();
        assert!(said.contains("2.21 USD") && said.contains("2.00 USD") && said.contains("10 %"), "{said}");
        assert!(link.price_within(usd(200), usd(150)).is_ok(), "cheaper is fine");
        let eur = Money::from_minor(999_999, Currency::parse("EUR").unwrap());
        assert!(link.price_within(usd(200), eur).is_ok(), "another currency is not compared");
        link.price_tolerance_percent = Some(0);
        assert!(link.price_within(usd(i64::MAX), usd(i64::MAX)).is_ok(), "no overflow");
        assert!(link.price_within(usd(200), usd(201)).is_err());
    }

    #[test]
    fn links_are_checked_per_supplier() {
        assert!(SupplierLink::parse("aliexpress", "1005001", None, Some("CAINIAO_STANDARD")).is_ok());
        assert_eq!(SupplierLink::parse("aliexpress", "abc", None, Some("X")).unwrap_err().field, "supplier_product_id");
        assert_eq!(SupplierLink::parse("cj", "pid-1", None, Some("CJPacket Ordinary")).unwrap_err().field, "supplier_sku");
        assert_eq!(SupplierLink::parse("cj", "pid-1", Some("vid"), None).unwrap_err().field, "shipping_method");
        assert_eq!(SupplierLink::parse("temu", "1", Some("v"), Some("x")).unwrap_err().field, "supplier_api");
        assert_eq!(SupplierLink::parse("cj", "pid\n1", Some("vid"), Some("x")).unwrap_err().field, "supplier_product_id");
    }
}
