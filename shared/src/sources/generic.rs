//! The generic signed webhook (`/webhooks/generic`): any shop that can sign a request
//! sends DESIGN's canonical order JSON, with no code of its own here. `id`, `currency`,
//! `financial_status`, `updated_at` and `lines` are required (a 400 names the one that
//! is missing); everything else is optional and unknown fields are ignored. Amounts are
//! decimal strings in the order's currency. The shop is the one whose secret verified the
//! body (`GENERIC_WEBHOOK_SECRET`: one secret, or `shop=secret` pairs).

use super::{Parsed, PayloadError, RefundNotice, RefundedLine, Source, line_sku, order_total, shipping_address, text_of};
use crate::domain::address::AddressParts;
use crate::domain::ids::{Email, OrderId};
use crate::domain::money::{Currency, DecimalText, Money};
use crate::domain::order::{CanonicalOrder, OrderLine, Payment};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// The generic source: `X-Dropflow-Signature`, `X-Dropflow-Topic`, `X-Dropflow-Shop`.
pub struct Generic;

impl Source for Generic {
    fn name(&self) -> &'static str {
        "generic"
    }
    fn secret_variable(&self) -> &'static str {
        "GENERIC_WEBHOOK_SECRET"
    }
    fn local_secret(&self) -> &'static str {
        "dropflow-local-generic-secret"
    }
    fn signature_header(&self) -> &'static str {
        "x-dropflow-signature"
    }
    fn topic_header(&self) -> Option<&'static str> {
        Some("x-dropflow-topic")
    }
    fn shop_header(&self) -> Option<&'static str> {
        Some("x-dropflow-shop")
    }
    fn delivery_headers(&self) -> &'static [&'static str] {
        &["x-dropflow-delivery-id"]
    }
    fn per_shop_secrets(&self) -> bool {
        true
    }
    fn parse(&self, topic: &str, shop: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
        parse(topic, shop, body)
    }
}

/// The fields DESIGN requires, in the order a 400 names them.
const REQUIRED: [&str; 5] = ["id", "currency", "financial_status", "updated_at", "lines"];

/// DESIGN's canonical order JSON, as the generic webhook takes it.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenericOrder {
    /// The shop's own order id (a string or a number).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    id: Value,
    number: Option<String>,
    currency: String,
    financial_status: String,
    /// RFC 3339; a later one wins, an older one changes nothing.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    updated_at: DateTime<chrono::FixedOffset>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    created_at: Option<DateTime<chrono::FixedOffset>>,
    customer: Option<Customer>,
    shipping_address: Option<GenericAddress>,
    lines: Vec<GenericLine>,
    /// The customer's language (`de`, `en-US`): the order-status page speaks it when
    /// it can.
    #[serde(default)]
    language: Option<String>,
    /// A decimal string in the order's currency.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    total: Option<DecimalText>,
    /// Read on its own (`refunds`), so that an odd refund never refuses the order.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<GenericRefund>>))]
    refunds: Value,
}

/// A refund of the generic JSON: its id and what was given back on which lines.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenericRefund {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    id: Value,
    lines: Vec<GenericRefundLine>,
}

/// One refunded line.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenericRefundLine {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    line_id: Value,
    #[serde(default)]
    quantity: u32,
    /// A decimal string in the order's currency.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    amount: DecimalText,
}

/// The order's `refunds`, each with the lines it gave money back on.
fn refunds(order_id: &OrderId, listed: Value) -> Vec<RefundNotice> {
    super::listed_refunds(order_id, listed, |refund: GenericRefund| {
        RefundNotice::of_lines(
            order_id.clone(),
            text_of(&refund.id),
            refund.lines.into_iter().map(|l| RefundedLine { line_id: text_of(&l.line_id), quantity: l.quantity, amount: l.amount }).collect(),
        )
    })
}

/// Who bought.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    name: Option<String>,
    email: Option<String>,
}

/// Where the parcel goes.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenericAddress {
    name: Option<String>,
    company: Option<String>,
    line1: Option<String>,
    line2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
    phone: Option<String>,
}

/// One line as the customer bought it.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenericLine {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    id: Value,
    sku: Option<String>,
    title: Option<String>,
    variant: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    quantity: Value,
    /// A decimal string in the order's currency.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    unit_price: Option<DecimalText>,
    /// What the customer paid for the line, after its discounts.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    paid: Option<DecimalText>,
}

fn line(raw: GenericLine, currency: Currency) -> OrderLine {
    let mut problems = Vec::new();
    let quantity = match raw.quantity.as_i64() {
        Some(n) if n >= 0 => u32::try_from(n).unwrap_or(0),
        _ => {
            problems.push(format!("quantity {} is not a quantity", raw.quantity));
            0
        }
    };
    let mut amount = |what: &str, value: Option<DecimalText>| match value.map(|v| v.to_money(currency)) {
        Some(Ok(money)) => Some(money),
        Some(Err(e)) => {
            problems.push(format!("{what}: {e}"));
            None
        }
        None => None,
    };
    let unit_price = amount("unit_price", raw.unit_price);
    let paid = amount("paid", raw.paid);
    // What was paid defaults to price × quantity; a price defaults to nothing.
    let unit_price = unit_price.unwrap_or_else(|| {
        problems.push("no unit_price".into());
        Money::zero(currency)
    });
    let paid = paid.or_else(|| unit_price.times(quantity).ok()).unwrap_or(Money::zero(currency));
    let sku = line_sku(raw.sku.as_deref(), &mut problems);
    OrderLine {
        line_id: text_of(&raw.id),
        sku,
        title: raw.title.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "(untitled line)".into()),
        variant: raw.variant.filter(|v| !v.trim().is_empty()),
        quantity,
        unit_price,
        paid,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        // A line edited away is dropped from the list: `edited_lines` keeps it removed.
        removed: 0,
    }
}

/// The topics (`X-Dropflow-Topic`) a generic webhook acts on; any other is answered
/// and ignored.
pub const TOPICS: [&str; 4] = ["order.paid", "order.updated", "order.cancelled", "order.refunded"];

/// What happened to the order, as a generic webhook's `X-Dropflow-Topic` says.
// `TOPICS` as the OpenAPI document names them (the OpenAPI test holds the two equal).
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub enum GenericTopic {
    #[schema(rename = "order.paid")]
    Paid,
    #[schema(rename = "order.updated")]
    Updated,
    #[schema(rename = "order.cancelled")]
    Cancelled,
    #[schema(rename = "order.refunded")]
    Refunded,
}

/// Parses a generic order webhook of `topic` from the verified `shop`.
pub fn parse(topic: &str, shop: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
    if !TOPICS.contains(&topic) {
        return Ok(Parsed::Ignored(format!("topic {topic:?} is not one of {}", TOPICS.join(", "))));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| PayloadError(format!("not an order: the body is not JSON ({e})")))?;
    let object = value.as_object().ok_or_else(|| PayloadError("not an order: the body is not a JSON object".into()))?;
    if let Some(missing) = REQUIRED.iter().find(|field| object.get(**field).is_none_or(Value::is_null)) {
        return Err(PayloadError(format!("not an order: the required field {missing:?} is missing")));
    }
    let raw: GenericOrder = serde_json::from_value(value).map_err(|e| PayloadError(format!("not an order: {e}")))?;
    let currency = Currency::parse(&raw.currency).map_err(|e| PayloadError(format!("currency: {e}")))?;
    let payment = match (topic, raw.financial_status.as_str()) {
        ("order.cancelled", _) | (_, "voided" | "refunded") => Payment::Void,
        (_, "paid" | "partially_refunded") => Payment::Paid,
        _ => Payment::Pending,
    };
    let customer = raw.customer.unwrap_or(Customer { name: None, email: None });
    let (shipping_address, address_problem) = match raw.shipping_address {
        None => (None, None),
        Some(a) => shipping_address(AddressParts {
            name: a.name.or_else(|| customer.name.clone()),
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country_code: a.country_code,
            phone: a.phone,
        }),
    };
    let lines: Vec<OrderLine> = raw.lines.into_iter().map(|l| line(l, currency)).collect();
    let total = order_total(raw.total, &lines, currency);
    let external_id = text_of(&raw.id);
    let updated_at = raw.updated_at.with_timezone(&Utc);
    let order_id = OrderId::derive("generic", shop, &external_id);
    let refunds = refunds(&order_id, raw.refunds);
    Ok(Parsed::Order(
        Box::new(CanonicalOrder {
            order_id,
            source: "generic".into(),
            shop: shop.to_string(),
            order_number: raw.number.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| format!("#{external_id}")),
            external_id,
            currency,
            payment,
            customer_email: customer.email.as_deref().and_then(|e| Email::parse(e).ok()),
            customer_name: customer.name.or_else(|| shipping_address.as_ref().map(|a| a.name.clone())).unwrap_or_else(|| "Customer".into()),
            shipping_address,
            address_problem,
            lines,
            total,
            created_at: raw.created_at.map_or(updated_at, |c| c.with_timezone(&Utc)),
            updated_at,
            language: super::language_tag(raw.language.as_deref()),
        }),
        refunds,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DESIGN's example of the generic JSON.
    const EXAMPLE: &str = r##"{"id": "A-1001", "number": "#1001", "currency": "EUR", "financial_status": "paid",
       "updated_at": "2026-11-20T10:00:00Z",
       "customer": {"name": "Anna Weber", "email": "anna@example.de", "phone": "+49 30 1234"},
       "shipping_address": {"name": "Anna Weber", "company": null, "line1": "Torstraße 1", "line2": null,
         "city": "Berlin", "region": null, "postal_code": "10119", "country_code": "DE", "phone": "+49 30 1234"},
       "lines": [{"id": "1", "sku": "MUG-1", "title": "Mug", "variant": "blue", "quantity": 2,
         "unit_price": "12.00", "paid": "22.00"}],
       "refunds": [{"id": "r1", "lines": [{"line_id": "1", "quantity": 1, "amount": "11.00"}]}],
       "unknown_field": {"is": "ignored"}}"##;

    #[test]
    fn the_design_example_is_a_paid_order_of_its_shop() {
        let Parsed::Order(order, _) = parse("order.paid", "shop-a", EXAMPLE.as_bytes()).unwrap() else { panic!() };
        assert_eq!((order.payment, order.order_number.as_str(), order.currency.code()), (Payment::Paid, "#1001", "EUR"));
        assert_eq!((order.lines[0].unit_price.minor, order.lines[0].paid.minor, order.lines[0].quantity), (1200, 2200, 2));
        assert_eq!(order.shipping_address.as_ref().map(|a| a.city.as_str()), Some("Berlin"));
        assert_eq!(order.order_id, OrderId::derive("generic", "shop-a", "A-1001"));
        assert_ne!(order.order_id, OrderId::derive("generic", "shop-b", "A-1001"), "ids are per shop");
    }

    #[test]
    fn a_missing_required_field_is_named() {
        for field in REQUIRED {
            let mut value: Value = serde_json::from_str(EXAMPLE).unwrap();
            value.as_object_mut().unwrap().remove(field);
            let error = parse("order.paid", "s", &serde_json::to_vec(&value).unwrap()).unwrap_err();
            assert!(error.0.contains(&format!("{field:?}")), "{field}: {error}");
        }
    }

    #[test]
    fn a_cancelled_topic_or_a_voided_status_is_void() {
        let Parsed::Order(order, _) = parse("order.cancelled", "s", EXAMPLE.as_bytes()).unwrap() else { panic!() };
        assert_eq!(order.payment, Payment::Void);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn any_bytes_give_an_order_or_a_reason(noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse("order.paid", "s", &noise);
        }

        #[test]
        fn a_mutated_example_gives_an_order_or_a_reason(edits in proptest::collection::vec((0usize..2048, proptest::prelude::any::<u8>()), 1..12)) {
            let mut body = EXAMPLE.as_bytes().to_vec();
            for (at, byte) in edits {
                let at = at % body.len();
                body[at] = byte;
            }
            let _ = parse("order.updated", "s", &body);
        }
    }
}
