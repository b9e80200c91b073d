//! WooCommerce order webhooks (`order.created`, `order.updated`, `order.deleted`): the
//! REST v3 order object, amounts exact whether they come as strings or JSON numbers.
//! WooCommerce never retries and sends drafts: a draft or unpaid order is kept and held,
//! and the creation ping (a form body `webhook_id=N`, unsigned) is answered and ignored.

#[cfg(feature = "storefront-writeback")]
pub mod rest;

use super::{Parsed, PayloadError, Source, full_name, line_sku, order_total, shipping_address};
use crate::domain::address::AddressParts;
use crate::domain::ids::{Email, OrderId};
use crate::domain::money::{Currency, DecimalText, Money};
use crate::domain::order::{CanonicalOrder, OrderLine, Payment};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

/// WooCommerce: `X-WC-Webhook-Signature`, `X-WC-Webhook-Topic`, `X-WC-Webhook-Source`.
pub struct WooCommerce;

impl Source for WooCommerce {
    fn name(&self) -> &'static str {
        "woocommerce"
    }
    fn secret_variable(&self) -> &'static str {
        "WOOCOMMERCE_WEBHOOK_SECRET"
    }
    fn local_secret(&self) -> &'static str {
        "dropflow-local-woocommerce-secret"
    }
    fn signature_header(&self) -> &'static str {
        "x-wc-webhook-signature"
    }
    fn topic_header(&self) -> Option<&'static str> {
        Some("x-wc-webhook-topic")
    }
    fn shop_header(&self) -> Option<&'static str> {
        Some("x-wc-webhook-source")
    }
    /// `X-WC-Webhook-Source` is the site's URL (`https://shop.example/`); orders are filed
    /// under its host, as their `_links` name it.
    fn shop_of_header(&self, value: &str) -> String {
        site_of_url(value)
    }
    fn delivery_headers(&self) -> &'static [&'static str] {
        &["x-wc-webhook-delivery-id"]
    }
    /// `WOOCOMMERCE_WEBHOOK_SECRET` may hold `site=secret` pairs (the site's host): the
    /// secret that verified a body then names its site.
    fn per_shop_secrets(&self) -> bool {
        true
    }
    /// The ping WooCommerce sends when a webhook is created: `webhook_id=N`, unsigned.
    fn is_ping(&self, _header: &dyn Fn(&str) -> Option<String>, body: &[u8]) -> bool {
        std::str::from_utf8(body)
            .ok()
            .and_then(|b| b.trim().strip_prefix("webhook_id="))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    }
    fn parse(&self, topic: &str, shop: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
        parse(topic, shop, body)
    }
}

/// The host of a URL (`https://Shop.example:8443/wp-json/…` → `shop.example:8443`),
/// lower-cased: the site an order belongs to.
fn site_of_url(url: &str) -> String {
    let rest = url.trim().split_once("://").map_or(url.trim(), |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or_default().to_lowercase()
}

/// What `order.deleted` says: just the id (`{"id": N}`, what WooCommerce sends for every
/// deleted resource), with the site when the body links to it.
#[derive(Deserialize)]
struct WooDeleted {
    id: serde_json::Value,
    #[serde(default, rename = "_links")]
    links: Option<WooLinks>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct WooOrder {
    id: u64,
    number: Option<String>,
    status: String,
    currency: String,
    date_created_gmt: Option<String>,
    date_modified_gmt: Option<String>,
    date_paid_gmt: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    total: Option<DecimalText>,
    #[serde(default)]
    billing: Option<WooContact>,
    #[serde(default)]
    shipping: Option<WooContact>,
    #[serde(default)]
    line_items: Vec<WooLine>,
    #[serde(default, rename = "_links")]
    links: Option<WooLinks>,
    /// The order's refunds as WooCommerce lists them on the order: totals only.
    #[serde(default)]
    refunds: serde_json::Value,
}

/// A refund as a WooCommerce order lists it: its id and its (negative) total; which
/// lines it was for is not said.
#[derive(Deserialize)]
struct WooRefund {
    id: serde_json::Value,
    total: DecimalText,
}

#[derive(Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct WooContact {
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    address_1: Option<String>,
    address_2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postcode: Option<String>,
    country: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct WooLine {
    id: serde_json::Value,
    name: Option<String>,
    sku: Option<String>,
    #[serde(default)]
    quantity: serde_json::Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    price: Option<DecimalText>,
    /// The line after its discounts, before tax.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    total: Option<DecimalText>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct WooLinks {
    #[serde(rename = "self", default)]
    self_links: Vec<WooLink>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct WooLink {
    href: String,
}

/// A GMT timestamp as WooCommerce writes it ("2017-03-22T19:28:08", no zone).
fn gmt(text: &Option<String>) -> Option<DateTime<Utc>> {
    let text = text.as_deref()?.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
        .or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc)))
}

/// Paid once processing or completed, or once WooCommerce records a payment; drafts
/// and unpaid orders are held; cancelled, refunded and deleted ones are void.
fn payment(order: &WooOrder) -> Payment {
    match order.status.as_str() {
        "cancelled" | "refunded" | "trash" => Payment::Void,
        "processing" | "completed" => Payment::Paid,
        // A block checkout's draft may carry a payment date before the order exists.
        "checkout-draft" | "draft" => Payment::Pending,
        _ if gmt(&order.date_paid_gmt).is_some() && order.status != "failed" => Payment::Paid,
        _ => Payment::Pending,
    }
}

fn line(raw: WooLine, currency: Currency) -> OrderLine {
    let mut problems = Vec::new();
    let quantity = match raw.quantity.as_i64() {
        Some(n) if n >= 0 => u32::try_from(n).unwrap_or(0),
        other => {
            problems.push(format!("quantity {} is not a quantity", other.map_or(raw.quantity.to_string(), |n| n.to_string())));
            0
        }
    };
    let mut amount = |what: &str, value: &Option<DecimalText>| match value.as_ref().map(|v| v.to_money(currency)) {
        Some(Ok(money)) => money,
        Some(Err(e)) => {
            problems.push(format!("{what}: {e}"));
            Money::zero(currency)
        }
        None => {
            problems.push(format!("no {what}"));
            Money::zero(currency)
        }
    };
    let unit_price = amount("price", &raw.price);
    let paid = amount("total", &raw.total);
    let sku = line_sku(raw.sku.as_deref(), &mut problems);
    OrderLine {
        line_id: match &raw.id {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        },
        sku,
        // WooCommerce sends product names HTML-escaped ("Ship Your Idea &ndash; Black"):
        // decoded once here, they are text like every other title, escaped again only
        // where they go into HTML.
        title: raw
            .name
            .map(|n| html_escape::decode_html_entities(&n).into_owned())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "(untitled line)".into()),
        variant: None,
        quantity,
        unit_price,
        paid,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        // A line edited away is dropped from the list: `edited_lines` keeps it removed.
        removed: 0,
    }
}

/// Parses a WooCommerce order webhook body of `topic`.
/// `verified_site` is the site whose secret verified the body ("" for a shared secret).
pub fn parse(topic: &str, verified_site: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
    if topic == "order.deleted" {
        let deleted: WooDeleted = serde_json::from_slice(body).map_err(|e| PayloadError(format!("not a WooCommerce delete: {e}")))?;
        let external_id = super::text_of(&deleted.id);
        if external_id.is_empty() || external_id == "null" {
            return Err(PayloadError("a delete without an id".into()));
        }
        let shop = linked_site(deleted.links.as_ref()).or_else(|| Some(verified_site.to_string()).filter(|s| !s.is_empty()));
        return Ok(Parsed::Deleted { source: "woocommerce".into(), shop, external_id });
    }
    if !matches!(topic, "order.created" | "order.updated") {
        return Ok(Parsed::Ignored(format!("topic {topic:?} is not handled")));
    }
    let raw: WooOrder = serde_json::from_slice(body).map_err(|e| PayloadError(format!("not a WooCommerce order: {e}")))?;
    let currency = Currency::parse(&raw.currency).map_err(|e| PayloadError(format!("currency: {e}")))?;
    let payment = payment(&raw);
    // The site as signed content names it (the body's REST link, or the secret that
    // verified it), never an unsigned header: WooCommerce order ids are only unique
    // within one site.
    let shop = linked_site(raw.links.as_ref()).unwrap_or_else(|| verified_site.to_string());
    let billing = raw.billing.unwrap_or_default();
    let shipping = raw.shipping.unwrap_or_default();
    let customer_email = [shipping.email.as_deref(), billing.email.as_deref()].into_iter().flatten().find_map(|e| Email::parse(e).ok());
    let name = full_name(&shipping.first_name, &shipping.last_name).or_else(|| full_name(&billing.first_name, &billing.last_name));
    let has_address = shipping.address_1.as_deref().is_some_and(|a| !a.trim().is_empty()) || shipping.country.as_deref().is_some_and(|c| !c.trim().is_empty());
    let (shipping_address, address_problem) = if has_address {
        shipping_address(AddressParts {
            name: name.clone(),
            company: shipping.company,
            line1: shipping.address_1,
            line2: shipping.address_2,
            city: shipping.city,
            region: shipping.state,
            postal_code: shipping.postcode,
            country_code: shipping.country,
            phone: shipping.phone.or(billing.phone),
        })
    } else {
        (None, None)
    };
    let lines: Vec<OrderLine> = raw.line_items.into_iter().map(|l| line(l, currency)).collect();
    let total = order_total(raw.total, &lines, currency);
    let created_at = gmt(&raw.date_created_gmt).ok_or_else(|| PayloadError("date_created_gmt is missing or not a timestamp".into()))?;
    let order_id = OrderId::derive("woocommerce", &shop, &raw.id.to_string());
    let refunds = refunds(&order_id, raw.refunds);
    Ok(Parsed::Order(
        Box::new(CanonicalOrder {
            order_id,
            source: "woocommerce".into(),
            shop,
            external_id: raw.id.to_string(),
            order_number: format!("#{}", raw.number.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| raw.id.to_string())),
            currency,
            payment,
            customer_email,
            customer_name: name.unwrap_or_else(|| "Customer".into()),
            shipping_address,
            address_problem,
            lines,
            total,
            created_at,
            updated_at: gmt(&raw.date_modified_gmt).unwrap_or(created_at),
            // WooCommerce keeps no customer language of its own (a translation plugin's
            // meta is not read).
            language: None,
        }),
        refunds,
    ))
}

/// The site of a body's own REST link (`_links.self[0].href`).
fn linked_site(links: Option<&WooLinks>) -> Option<String> {
    links.and_then(|l| l.self_links.first()).map(|l| site_of_url(&l.href)).filter(|s| !s.is_empty())
}

/// The order's refunds, each a total the operator may have to split over lines; one
/// that cannot be read is kept with the reason, never dropped.
fn refunds(order_id: &OrderId, listed: serde_json::Value) -> Vec<super::RefundNotice> {
    super::listed_refunds(order_id, listed, |refund: WooRefund| super::RefundNotice {
        order_id: order_id.clone(),
        refund_id: super::text_of(&refund.id),
        lines: Vec::new(),
        // WooCommerce writes a refund's total as a negative amount: one minus sign is
        // its way of writing it; anything else ("--40.00") stays as sent, to be refused.
        unassigned: Some(DecimalText(refund.total.0.trim().strip_prefix('-').unwrap_or(refund.total.0.trim()).to_string())),
        problem: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/woocommerce/order-processing.json");
        std::fs::read(path).expect("tests/fixtures")
    }

    fn order(topic: &str, body: &[u8]) -> CanonicalOrder {
        match parse(topic, "", body).unwrap() {
            Parsed::Order(order, _) => *order,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_rest_fixture_is_a_paid_order_with_its_empty_sku_line_kept() {
        let order = order("order.created", &fixture());
        assert_eq!(order.payment, Payment::Paid);
        assert_eq!((order.order_number.as_str(), order.total.minor, order.currency.code()), ("#727", 2935, "USD"));
        assert_eq!(order.lines.len(), 2);
        assert_eq!(order.lines[0].sku, None, "the line with an empty SKU is kept, without one");
        assert_eq!((order.lines[0].unit_price.minor, order.lines[0].paid.minor), (300, 600), "a JSON-number price is exact");
        assert_eq!(order.lines[1].sku.as_ref().map(|s| s.as_str()), Some("Bar3"));
        let address = order.shipping_address.expect("an address");
        assert_eq!((address.city.as_str(), address.region.as_deref()), ("San Francisco", Some("CA")));
        assert_eq!(order.customer_email.map(|e| e.to_string()).as_deref(), Some("john.doe@example.com"));
        assert_eq!(order.updated_at.to_rfc3339(), "2017-03-22T19:28:08+00:00");
    }

    #[test]
    fn product_names_are_decoded_once_from_woocommerces_html_escaping() {
        let first = order("order.created", &fixture());
        assert_eq!(first.lines[1].title, "Ship Your Idea \u{2013} Color: Black, Size: M Test");
        let mut raw: serde_json::Value = serde_json::from_slice(&fixture()).unwrap();
        raw["line_items"][1]["name"] = serde_json::json!("Tom &amp;amp; Jerry &lt;b&gt;");
        let twice = order("order.updated", &serde_json::to_vec(&raw).unwrap());
        assert_eq!(twice.lines[1].title, "Tom &amp; Jerry <b>", "once, not until nothing is left to decode");
    }

    #[test]
    fn drafts_and_unpaid_orders_are_held_cancelled_and_deleted_ones_void() {
        let mut raw: serde_json::Value = serde_json::from_slice(&fixture()).unwrap();
        for (status, paid_at, expected) in [
            ("checkout-draft", None, Payment::Pending),
            ("checkout-draft", Some("2017-03-22T19:28:08"), Payment::Pending),
            ("pending", None, Payment::Pending),
            ("on-hold", None, Payment::Pending),
            ("failed", None, Payment::Pending),
            ("on-hold", Some("2017-03-22T19:28:08"), Payment::Paid),
            ("cancelled", None, Payment::Void),
            ("refunded", None, Payment::Void),
            ("completed", None, Payment::Paid),
        ] {
            raw["status"] = serde_json::json!(status);
            raw["date_paid_gmt"] = serde_json::json!(paid_at);
            assert_eq!(order("order.updated", &serde_json::to_vec(&raw).unwrap()).payment, expected, "{status}");
        }
    }

    #[test]
    fn a_delete_is_its_id_with_the_site_signed_content_names() {
        let deleted = |site: &str, body: &[u8]| parse("order.deleted", site, body).unwrap();
        assert_eq!(deleted("", br#"{"id": 727}"#), Parsed::Deleted { source: "woocommerce".into(), shop: None, external_id: "727".into() });
        assert_eq!(
            deleted("shop.example", br#"{"id": 727}"#),
            Parsed::Deleted { source: "woocommerce".into(), shop: Some("shop.example".into()), external_id: "727".into() }
        );
        assert_eq!(
            deleted("", &fixture()),
            Parsed::Deleted { source: "woocommerce".into(), shop: Some("example.com".into()), external_id: "727".into() },
            "a full body links its own site"
        );
        assert!(parse("order.deleted", "", br#"{"status": "trash"}"#).is_err());
    }

    #[test]
    fn a_refund_total_loses_one_minus_sign_and_no_more() {
        let mut raw: serde_json::Value = serde_json::from_slice(&fixture()).unwrap();
        raw["refunds"] = serde_json::json!([{"id": 1, "total": "-10.00"}, {"id": 2, "total": "--40.00"}]);
        let Parsed::Order(_, refunds) = parse("order.updated", "", &serde_json::to_vec(&raw).unwrap()).unwrap() else { panic!("an order") };
        let totals: Vec<&str> = refunds.iter().map(|r| r.unassigned.as_ref().unwrap().0.as_str()).collect();
        assert_eq!(totals, ["10.00", "-40.00"], "--40.00 is not a refund of 40.00");
    }

    #[test]
    fn a_site_is_the_host_of_its_url() {
        assert_eq!(site_of_url("https://Shop.Example/"), "shop.example");
        assert_eq!(site_of_url("http://shop.example:8080/wp-json/wc/v3/orders/1"), "shop.example:8080");
        assert_eq!(site_of_url("shop.example"), "shop.example");
        assert_eq!(WooCommerce.shop_of_header("https://shop.example/"), "shop.example");
    }

    #[test]
    fn prices_as_strings_or_numbers_are_the_same_exact_amount() {
        let mut raw: serde_json::Value = serde_json::from_slice(&fixture()).unwrap();
        raw["line_items"][1]["price"] = serde_json::json!("12.00");
        let as_string = order("order.created", &serde_json::to_vec(&raw).unwrap());
        raw["line_items"][1]["price"] = serde_json::json!(12.0);
        let as_number = order("order.created", &serde_json::to_vec(&raw).unwrap());
        assert_eq!(as_string.lines[1].unit_price, as_number.lines[1].unit_price);
        assert_eq!(as_number.lines[1].unit_price.minor, 1200);
    }

    #[test]
    fn the_creation_ping_is_recognised_and_nothing_else_is() {
        let none = |_: &str| None;
        assert!(WooCommerce.is_ping(&none, b"webhook_id=12"));
        assert!(!WooCommerce.is_ping(&none, b"webhook_id="));
        assert!(!WooCommerce.is_ping(&none, &fixture()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn any_bytes_give_an_order_or_a_reason(noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse("order.created", "", &noise);
        }

        #[test]
        fn a_mutated_fixture_gives_an_order_or_a_reason(edits in proptest::collection::vec((0usize..8192, proptest::prelude::any::<u8>()), 1..16)) {
            let mut body = fixture();
            for (at, byte) in edits {
                let at = at % body.len();
                body[at] = byte;
            }
            let _ = parse("order.updated", "", &body);
        }
    }
}
