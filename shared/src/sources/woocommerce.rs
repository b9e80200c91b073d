//! WooCommerce order webhooks (`order.created`, `order.updated`, `order.deleted`): the
//! REST v3 order object, amounts exact whether they come as strings or JSON numbers.
//! WooCommerce never retries and sends drafts: a draft or unpaid order is kept and held,
//! and the creation ping (a form body `webhook_id=N`, unsigned) is answered and ignored.

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
    fn signature_header(&self) -> &'static str {
        "x-wc-webhook-signature"
    }
    fn topic_header(&self) -> Option<&'static str> {
        Some("x-wc-webhook-topic")
    }
    fn shop_header(&self) -> Option<&'static str> {
        Some("x-wc-webhook-source")
    }
    fn delivery_headers(&self) -> &'static [&'static str] {
        &["x-wc-webhook-delivery-id"]
    }
    /// The ping WooCommerce sends when a webhook is created: `webhook_id=N`, unsigned.
    fn is_ping(&self, _header: &dyn Fn(&str) -> Option<String>, body: &[u8]) -> bool {
        std::str::from_utf8(body)
            .ok()
            .and_then(|b| b.trim().strip_prefix("webhook_id="))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    }
    fn parse(&self, topic: &str, _shop: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
        parse(topic, body)
    }
}

#[derive(Deserialize)]
struct WooOrder {
    id: u64,
    number: Option<String>,
    status: String,
    currency: String,
    date_created_gmt: Option<String>,
    date_modified_gmt: Option<String>,
    date_paid_gmt: Option<String>,
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
struct WooContact {
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
struct WooLine {
    id: serde_json::Value,
    name: Option<String>,
    sku: Option<String>,
    #[serde(default)]
    quantity: serde_json::Value,
    price: Option<DecimalText>,
    /// The line after its discounts, before tax.
    total: Option<DecimalText>,
}

#[derive(Deserialize)]
struct WooLinks {
    #[serde(rename = "self", default)]
    self_links: Vec<WooLink>,
}

#[derive(Deserialize)]
struct WooLink {
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
fn payment(order: &WooOrder, topic: &str) -> Payment {
    if topic == "order.deleted" {
        return Payment::Void;
    }
    match order.status.as_str() {
        "cancelled" | "refunded" | "trash" => Payment::Void,
        "processing" | "completed" => Payment::Paid,
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
        title: raw.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "(untitled line)".into()),
        variant: None,
        quantity,
        unit_price,
        paid,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    }
}

/// Parses a WooCommerce order webhook body of `topic`.
pub fn parse(topic: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
    if !matches!(topic, "order.created" | "order.updated" | "order.deleted") {
        return Ok(Parsed::Ignored(format!("topic {topic:?} is not handled")));
    }
    let raw: WooOrder = serde_json::from_slice(body).map_err(|e| PayloadError(format!("not a WooCommerce order: {e}")))?;
    let currency = Currency::parse(&raw.currency).map_err(|e| PayloadError(format!("currency: {e}")))?;
    let payment = payment(&raw, topic);
    // The shop as the signed body names it (its REST link), never an unsigned header:
    // WooCommerce order ids are only unique within one shop.
    let shop = raw
        .links
        .as_ref()
        .and_then(|l| l.self_links.first())
        .and_then(|l| l.href.split("://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_lowercase();
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
        }),
        refunds,
    ))
}

/// The order's refunds, each a total the operator may have to split over lines; one
/// that cannot be read is kept with the reason, never dropped.
fn refunds(order_id: &OrderId, listed: serde_json::Value) -> Vec<super::RefundNotice> {
    super::listed_refunds(order_id, listed, |refund: WooRefund| super::RefundNotice {
        order_id: order_id.clone(),
        refund_id: super::text_of(&refund.id),
        lines: Vec::new(),
        // WooCommerce writes a refund's total as a negative amount.
        unassigned: Some(DecimalText(refund.total.0.trim().trim_start_matches('-').to_string())),
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
        match parse(topic, body).unwrap() {
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
    fn drafts_and_unpaid_orders_are_held_cancelled_and_deleted_ones_void() {
        let mut raw: serde_json::Value = serde_json::from_slice(&fixture()).unwrap();
        for (status, paid_at, expected) in [
            ("checkout-draft", None, Payment::Pending),
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
        assert_eq!(order("order.deleted", &fixture()).payment, Payment::Void);
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
            let _ = parse("order.created", &noise);
        }

        #[test]
        fn a_mutated_fixture_gives_an_order_or_a_reason(edits in proptest::collection::vec((0usize..8192, proptest::prelude::any::<u8>()), 1..16)) {
            let mut body = fixture();
            for (at, byte) in edits {
                let at = at % body.len();
                body[at] = byte;
            }
            let _ = parse("order.updated", &body);
        }
    }
}
