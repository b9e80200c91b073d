//! Shopify webhooks: the order topics (`orders/create`, `orders/paid`,
//! `orders/updated`, `orders/cancelled`: the REST order object, read with exact
//! decimals), `refunds/create`, and the mandatory privacy topics (`customers/redact`,
//! `shop/redact`, `customers/data_request`).

pub mod admin;
pub mod poll;

use super::{Parsed, PayloadError, full_name, line_sku, order_total, shipping_address, text_of};
use crate::domain::address::AddressParts;
use crate::domain::ids::{Email, OrderId};
use crate::domain::money::{Currency, DecimalText, Money};
use crate::domain::order::{CanonicalOrder, OrderLine, Payment};
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ShopifyOrder {
    id: u64,
    name: Option<String>,
    email: Option<String>,
    contact_email: Option<String>,
    currency: String,
    financial_status: Option<String>,
    cancelled_at: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    created_at: DateTime<chrono::FixedOffset>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    updated_at: Option<DateTime<chrono::FixedOffset>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    total_price: Option<DecimalText>,
    #[serde(default)]
    line_items: Vec<ShopifyLine>,
    shipping_address: Option<ShopifyAddress>,
    customer: Option<ShopifyCustomer>,
    /// The customer's language at checkout (`de`, `en-US`).
    customer_locale: Option<String>,
}

/// A line as Shopify sends it. Every field that can be odd is read loosely here, so that
/// an odd line is kept (unroutable, with the reason) instead of refusing the order.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ShopifyLine {
    id: serde_json::Value,
    sku: Option<String>,
    #[serde(default)]
    title: Option<String>,
    variant_title: Option<String>,
    #[serde(default)]
    quantity: serde_json::Value,
    /// What is left to send after order edits and refunds that cancelled units (absent
    /// from older API versions: then `quantity`). A removed line keeps its `quantity`
    /// and gets `current_quantity: 0`.
    #[serde(default)]
    current_quantity: Option<serde_json::Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    price: Option<DecimalText>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    total_discount: Option<DecimalText>,
    #[serde(default)]
    discount_allocations: Vec<DiscountAllocation>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct DiscountAllocation {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    amount: DecimalText,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ShopifyAddress {
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    province_code: Option<String>,
    province: Option<String>,
    zip: Option<String>,
    country_code: Option<String>,
    phone: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub(crate) struct ShopifyCustomer {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
}

fn payment(order: &ShopifyOrder) -> Payment {
    if order.cancelled_at.is_some() {
        return Payment::Void;
    }
    match order.financial_status.as_deref().unwrap_or("pending") {
        "paid" | "partially_paid" | "partially_refunded" => Payment::Paid,
        "refunded" | "voided" => Payment::Void,
        _ => Payment::Pending,
    }
}

/// The line's amounts: (unit price, what was paid for the line).
fn amounts(raw: &ShopifyLine, quantity: u32, currency: Currency) -> Result<(Money, Money), String> {
    let unit_price = raw.price.as_ref().ok_or("no price")?.to_money(currency).map_err(|e| format!("price: {e}"))?;
    let allocated = raw
        .discount_allocations
        .iter()
        .try_fold(Money::zero(currency), |sum, d| sum.checked_add(d.amount.to_money(currency)?))
        .map_err(|e| format!("discount_allocations: {e}"))?;
    let discount = match (&raw.total_discount, allocated.minor) {
        (Some(total), 0) => total.to_money(currency).map_err(|e| format!("total_discount: {e}"))?,
        _ => allocated,
    };
    let paid = unit_price.times(quantity).and_then(|gross| gross.checked_sub(discount)).map_err(|e| format!("price: {e}"))?;
    Ok((unit_price, paid))
}

/// A line in dropflow's terms. It never fails: what cannot be read becomes the line's
/// problem, and the line is kept (unroutable) with the rest of the order.
fn line(raw: ShopifyLine, currency: Currency) -> OrderLine {
    let line_id = text_of(&raw.id);
    let mut problems = Vec::new();
    let quantity = match raw.quantity.as_i64() {
        Some(n) if n >= 0 => u32::try_from(n).unwrap_or_else(|_| {
            problems.push(format!("quantity {n} is not a quantity"));
            0
        }),
        Some(n) => {
            problems.push(format!("quantity {n} is negative"));
            0
        }
        None => {
            problems.push(format!("quantity {} is not a whole number", raw.quantity));
            0
        }
    };
    let (unit_price, paid) = amounts(&raw, quantity, currency).unwrap_or_else(|reason| {
        problems.push(reason);
        (Money::zero(currency), Money::zero(currency))
    });
    let sku = line_sku(raw.sku.as_deref(), &mut problems);
    // Units taken off since checkout: `paid` stays what was paid for all of them.
    let removed = match raw.current_quantity.as_ref().map(serde_json::Value::as_i64) {
        None => 0,
        Some(Some(current)) if (0..=i64::from(quantity)).contains(&current) => quantity - current as u32,
        Some(_) => {
            problems.push(format!(
                "current_quantity {} is not between 0 and the quantity {quantity}",
                raw.current_quantity.as_ref().map_or_else(String::new, |v| v.to_string())
            ));
            0
        }
    };
    OrderLine {
        line_id,
        sku,
        title: raw.title.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "(untitled line)".into()),
        variant: raw.variant_title.filter(|v| !v.trim().is_empty()),
        quantity: quantity - removed,
        unit_price,
        paid,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        removed,
    }
}

/// Shopify: `X-Shopify-Hmac-Sha256`, `X-Shopify-Topic`, `X-Shopify-Shop-Domain`.
pub struct Shopify;

impl super::Source for Shopify {
    fn name(&self) -> &'static str {
        "shopify"
    }
    fn secret_variable(&self) -> &'static str {
        "SHOPIFY_WEBHOOK_SECRET"
    }
    fn local_secret(&self) -> &'static str {
        "dropflow-local-shopify-secret"
    }
    fn shops_variable(&self) -> Option<&'static str> {
        Some("SHOPIFY_SHOP_DOMAINS")
    }
    fn signature_header(&self) -> &'static str {
        "x-shopify-hmac-sha256"
    }
    fn topic_header(&self) -> Option<&'static str> {
        Some("x-shopify-topic")
    }
    fn shop_header(&self) -> Option<&'static str> {
        Some("x-shopify-shop-domain")
    }
    fn delivery_headers(&self) -> &'static [&'static str] {
        &["x-shopify-event-id", "x-shopify-webhook-id"]
    }
    fn parse(&self, topic: &str, shop: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
        parse(topic, shop, body)
    }
}

#[derive(Deserialize)]
struct ShopifyRefund {
    id: serde_json::Value,
    order_id: u64,
    #[serde(default)]
    refund_line_items: Vec<ShopifyRefundLine>,
}

#[derive(Deserialize)]
struct ShopifyRefundLine {
    line_item_id: serde_json::Value,
    #[serde(default)]
    quantity: u32,
    subtotal: DecimalText,
}

/// A `refunds/create` body: the refunded lines with what was given back for each.
fn refund(body: &[u8]) -> Result<Parsed, PayloadError> {
    let raw: ShopifyRefund = serde_json::from_slice(body).map_err(|e| PayloadError(format!("not a Shopify refund: {e}")))?;
    Ok(Parsed::Refund(Box::new(super::RefundNotice::of_lines(
        OrderId::derive("shopify", "", &raw.order_id.to_string()),
        text_of(&raw.id),
        raw.refund_line_items
            .into_iter()
            .map(|l| super::RefundedLine { line_id: text_of(&l.line_item_id), quantity: l.quantity, amount: l.subtotal })
            .collect(),
    ))))
}

/// The body of a privacy topic: which shop, and which of its orders.
#[derive(Deserialize)]
struct ShopifyPrivacy {
    shop_domain: Option<String>,
    #[serde(default)]
    orders_to_redact: Vec<u64>,
    #[serde(default)]
    orders_requested: Vec<u64>,
    data_request: Option<ShopifyDataRequest>,
}

#[derive(Deserialize)]
struct ShopifyDataRequest {
    id: serde_json::Value,
}

/// A privacy topic's body (Shopify's order ids are unique across shops, so an order is
/// found by its id alone; the shop to erase is the signed body's own).
fn privacy(topic: &str, shop: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
    let raw: ShopifyPrivacy = serde_json::from_slice(body).map_err(|e| PayloadError(format!("not a Shopify {topic} body: {e}")))?;
    let orders = |ids: &[u64]| ids.iter().map(|id| OrderId::derive("shopify", "", &id.to_string())).collect();
    let request = match topic {
        "customers/redact" => super::PrivacyRequest::RedactOrders { orders: orders(&raw.orders_to_redact) },
        "shop/redact" => super::PrivacyRequest::RedactShop {
            source: "shopify".into(),
            shop: raw.shop_domain.filter(|d| !d.trim().is_empty()).unwrap_or_else(|| shop.to_string()),
        },
        _ => {
            let request_id = raw.data_request.map(|r| text_of(&r.id)).ok_or_else(|| PayloadError("a data request without data_request.id".into()))?;
            let storefront_ids = raw.orders_requested.iter().map(u64::to_string).collect();
            super::PrivacyRequest::DataRequest { request_id, orders: orders(&raw.orders_requested), storefront_ids }
        }
    };
    Ok(Parsed::Privacy(request))
}

/// Parses the body of a Shopify webhook of `topic` from `shop`.
pub fn parse(topic: &str, shop: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
    match topic {
        "refunds/create" => return refund(body),
        "customers/redact" | "shop/redact" | "customers/data_request" => return privacy(topic, shop, body),
        _ => {}
    }
    // An order edit's own topic carries only the delta; the `orders/updated` Shopify
    // sends with it carries the whole edited order, and that is what is followed.
    if topic == "orders/edited" {
        return Ok(Parsed::Ignored("orders/edited carries only the edit's delta: the orders/updated that follows it carries the edited order".into()));
    }
    if !matches!(topic, "orders/create" | "orders/paid" | "orders/updated" | "orders/cancelled") {
        return Ok(Parsed::Ignored(format!("topic {topic:?} is not handled yet")));
    }
    let raw: ShopifyOrder = serde_json::from_slice(body).map_err(|e| PayloadError(format!("not a Shopify order: {e}")))?;
    let currency = Currency::parse(&raw.currency).map_err(|e| PayloadError(format!("currency: {e}")))?;
    let payment = payment(&raw);
    let customer_email = [raw.email.as_deref(), raw.contact_email.as_deref(), raw.customer.as_ref().and_then(|c| c.email.as_deref())]
        .into_iter()
        .flatten()
        .find_map(|e| Email::parse(e).ok());
    let customer_name = raw
        .shipping_address
        .as_ref()
        .and_then(|a| a.name.clone().or_else(|| full_name(&a.first_name, &a.last_name)))
        .or_else(|| raw.customer.as_ref().and_then(|c| full_name(&c.first_name, &c.last_name)))
        .unwrap_or_else(|| "Customer".into());
    let (shipping_address, address_problem) = match raw.shipping_address {
        None => (None, None),
        Some(a) => shipping_address(AddressParts {
            name: a.name.clone().or_else(|| full_name(&a.first_name, &a.last_name)),
            company: a.company,
            line1: a.address1,
            line2: a.address2,
            city: a.city,
            region: a.province_code.or(a.province),
            postal_code: a.zip,
            country_code: a.country_code,
            phone: a.phone,
        }),
    };
    let lines: Vec<OrderLine> = raw.line_items.into_iter().map(|l| line(l, currency)).collect();
    // An unreadable total is the storefront's display figure: the lines' sum stands in.
    let total = order_total(raw.total_price, &lines, currency);
    let created_at = raw.created_at.with_timezone(&Utc);
    Ok(Parsed::Order(
        Box::new(CanonicalOrder {
            // Shopify's order ids are unique across shops, and the shop header is not signed:
            // the id alone makes the order, so no header can make a second one of a body.
            order_id: OrderId::derive("shopify", "", &raw.id.to_string()),
            source: "shopify".into(),
            shop: shop.to_string(),
            external_id: raw.id.to_string(),
            order_number: raw.name.unwrap_or_else(|| format!("#{}", raw.id)),
            currency,
            payment,
            customer_email,
            customer_name,
            shipping_address,
            address_problem,
            lines,
            total,
            created_at,
            updated_at: raw.updated_at.map_or(created_at, |u| u.with_timezone(&Utc)),
            language: super::language_tag(raw.customer_locale.as_deref()),
        }),
        Vec::new(),
    ))
}

/// A Shopify webhook delivered through an Amazon EventBridge partner event source
/// (<https://shopify.dev/docs/apps/webhooks/configuration/eventbridge>):
/// `detail-type` is `shopifyWebhook`, the delivery's headers are in `detail.metadata`
/// (`X-Shopify-Topic`, `X-Shopify-Shop-Domain`, `X-Shopify-Event-Id`; read in any case,
/// with or without the `X-`) and the order is `detail.payload`, kept byte for byte.
/// There is no HMAC: AWS authenticates the partner, and such a message reaches the
/// intake queue only through the stack's rule, never over HTTP (an HTTP body is always
/// framed by `IntakeMessage::encode`).
#[derive(Deserialize)]
struct EventBridgeEnvelope<'a> {
    #[serde(rename = "detail-type")]
    detail_type: String,
    id: Option<String>,
    #[serde(borrow)]
    detail: EventBridgeDetail<'a>,
}

#[derive(Deserialize)]
struct EventBridgeDetail<'a> {
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(borrow)]
    payload: &'a serde_json::value::RawValue,
}

/// The intake message of an EventBridge envelope of a Shopify webhook; `None` when
/// `text` is not one.
pub fn from_eventbridge(text: &str) -> Option<Result<super::IntakeMessage, String>> {
    let envelope: EventBridgeEnvelope = serde_json::from_str(text).ok()?;
    if envelope.detail_type != "shopifyWebhook" {
        return None;
    }
    let header = |name: &str| {
        envelope
            .detail
            .metadata
            .iter()
            .find(|(key, _)| key.to_ascii_lowercase().trim_start_matches("x-") == name)
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string)
    };
    let Some(topic) = header("shopify-topic") else { return Some(Err("an EventBridge Shopify event without its topic".into())) };
    let shop = header("shopify-shop-domain").unwrap_or_else(|| crate::services::webhook::UNKNOWN_SHOP.into());
    Some(Ok(super::IntakeMessage {
        source: "shopify".into(),
        topic,
        shop,
        claimed_shop: None,
        delivery_id: header("shopify-event-id").or_else(|| header("shopify-webhook-id")).or(envelope.id),
        body: envelope.detail.payload.get().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eventbridge_envelope_reads_as_the_webhook_it_carries_byte_for_byte() {
        let payload = r##"{"id": 450789469, "total_price": "199.00",  "name": "#1001"}"##;
        let envelope = format!(
            r#"{{"version": "0", "id": "eb-1", "detail-type": "shopifyWebhook", "source": "aws.partner/shopify.com/1830279/dropflow",
                "detail": {{"metadata": {{"x-shopify-topic": "orders/paid", "X-Shopify-Shop-Domain": "lumen.myshopify.com", "X-Shopify-Event-Id": "ev-9"}}, "payload": {payload}}}}}"#
        );
        let message = from_eventbridge(&envelope).expect("an envelope").expect("readable");
        assert_eq!((message.source.as_str(), message.topic.as_str(), message.shop.as_str()), ("shopify", "orders/paid", "lumen.myshopify.com"));
        assert_eq!((message.delivery_id.as_deref(), message.body.as_str()), (Some("ev-9"), payload), "the order's bytes as Shopify sent them");
        assert_eq!(crate::sources::IntakeMessage::decode(&envelope).unwrap(), message, "the intake queue takes it as it comes");
        let untitled = envelope.replace("x-shopify-topic", "x-other");
        assert!(from_eventbridge(&untitled).unwrap().is_err(), "no topic, no guess");
        assert!(from_eventbridge(r#"{"detail-type": "Scheduled Event", "detail": {"payload": {}}}"#).is_none());
        assert!(from_eventbridge(r#"{"source": "shopify", "topic": "orders/paid"}"#).is_none());
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/shopify").join(name);
        std::fs::read(path).expect("tests/fixtures")
    }

    fn order(name: &str) -> CanonicalOrder {
        match parse("orders/create", "shop.myshopify.com", &fixture(name)).unwrap() {
            Parsed::Order(order, _) => *order,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_paid_fixture_becomes_a_canonical_order() {
        let order = order("orders-create-paid.json");
        assert_eq!(order.payment, Payment::Paid);
        assert_eq!(order.order_number, "#1001");
        assert_eq!(order.total.minor, 40_994);
        assert_eq!(order.customer_email.unwrap().as_str(), "bob.norman@hostmail.com");
        let skus: Vec<_> = order.lines.iter().map(|l| l.sku.as_ref().unwrap().as_str().to_string()).collect();
        assert_eq!(skus, ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]);
        assert_eq!(order.lines[0].paid.minor, 19_900);
        assert_eq!(order.lines[0].variant.as_deref(), Some("green"));
        let address = order.shipping_address.unwrap();
        assert_eq!((address.city.as_str(), address.country_code.as_str(), address.region.as_deref()), ("Louisville", "US", Some("KY")));
    }

    #[test]
    fn the_customers_locale_is_its_language_when_it_reads_as_one() {
        let with = |locale: &str| {
            let mut body: serde_json::Value = serde_json::from_slice(&fixture("orders-create-paid.json")).unwrap();
            body["customer_locale"] = locale.into();
            match parse("orders/paid", "shop.myshopify.com", body.to_string().as_bytes()).unwrap() {
                Parsed::Order(order, _) => order.language,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(with("de-DE").as_deref(), Some("de-DE"));
        assert_eq!(with("pt_BR").as_deref(), Some("pt-BR"));
        for odd in ["", "<script>", "d", "de-DE-toolongsubtag", "e1"] {
            assert_eq!(with(odd), None, "{odd:?}");
        }
        assert_eq!(order("orders-create-paid.json").language, None, "none given, none taken");
    }

    #[test]
    fn an_authorized_order_is_pending() {
        assert_eq!(order("orders-create-authorized.json").payment, Payment::Pending);
    }

    #[test]
    fn the_unsigned_shop_header_does_not_change_the_order_id() {
        let body = fixture("orders-create-paid.json");
        let id = |shop| match parse("orders/paid", shop, &body).unwrap() {
            Parsed::Order(o, _) => o.order_id,
            _ => unreachable!(),
        };
        assert_eq!(id("a.myshopify.com"), id("b.myshopify.com"));
        assert_eq!(id("a.myshopify.com"), id("unknown-shop"));
        assert_eq!(id("a.myshopify.com"), OrderId::derive("shopify", "", "450789469"));
    }

    #[test]
    fn a_body_that_is_not_an_order_says_what_is_wrong() {
        let error = parse("orders/create", "s", br#"{"hello": "world"}"#).unwrap_err();
        assert!(error.0.contains("missing field"), "{error}");
        let error = parse("orders/create", "s", br#"{"id":1,"created_at":"2026-01-01T00:00:00Z"}"#).unwrap_err();
        assert!(error.0.contains("currency"), "{error}");
    }

    #[test]
    fn odd_lines_and_an_unusable_address_are_kept_with_reasons() {
        let body = br#"{"id":7,"currency":"USD","created_at":"2026-01-01T00:00:00Z","total_price":"1,00","financial_status":"paid",
            "shipping_address":{"name":"Bob","address1":"Main St 1","country_code":"US"},
            "line_items":[
              {"id":1,"sku":"TEE RED M","title":"Tee","quantity":1,"price":"10.00"},
              {"id":2,"sku":"X","title":"Odd","quantity":-1,"price":"10.00"},
              {"id":3,"sku":"Y","title":"Odder","quantity":1,"price":"ten"},
              {"id":4,"sku":"Z","title":"Over-discounted","quantity":1,"price":"10.00","total_discount":"311.00"}]}"#;
        let Parsed::Order(order, _) = parse("orders/paid", "s", body).unwrap() else { panic!() };
        assert!(order.shipping_address.is_none());
        assert!(order.address_problem.as_deref().is_some_and(|p| p.contains("city")), "{:?}", order.address_problem);
        assert_eq!(order.lines.len(), 4);
        assert_eq!(order.lines[0].sku.as_ref().map(|s| s.as_str()), Some("TEE RED M"));
        assert!(order.lines[0].problem.is_none());
        assert!(order.lines[1].problem.as_deref().is_some_and(|p| p.contains("negative")));
        assert!(order.lines[2].problem.as_deref().is_some_and(|p| p.contains("price")));
        assert_eq!(order.lines[3].paid.minor, -30_100, "kept exact; routing refuses the negative amount");
        assert_eq!(order.total.minor, 1_000 - 30_100, "an unreadable total falls back to the lines' sum");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// The parser never panics: arbitrary bytes, or the fixture with bytes changed,
        /// give an order or a reason.
        #[test]
        fn any_bytes_give_an_order_or_a_reason(noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = parse("orders/paid", "s", &noise);
        }

        #[test]
        fn a_mutated_fixture_gives_an_order_or_a_reason(edits in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..16)) {
            let mut body = fixture("orders-create-paid.json");
            for (at, byte) in edits {
                let at = at % body.len();
                body[at] = byte;
            }
            let _ = parse("orders/paid", "s", &body);
        }

        #[test]
        fn a_mutated_privacy_body_gives_a_request_or_a_reason(edits in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..16), which in 0usize..3) {
            let (topic, name) = [("customers/redact", "customers-redact.json"), ("shop/redact", "shop-redact.json"), ("customers/data_request", "customers-data_request.json")][which];
            let mut body = fixture(name);
            for (at, byte) in edits {
                let at = at % body.len();
                body[at] = byte;
            }
            let _ = parse(topic, "s", &body);
        }
    }

    #[test]
    fn the_privacy_topics_name_the_orders_and_the_shop_their_signed_body_names() {
        let ids = |ids: &[u64]| ids.iter().map(|id| OrderId::derive("shopify", "", &id.to_string())).collect::<Vec<_>>();
        let redact = parse("customers/redact", "header.myshopify.com", &fixture("customers-redact.json")).unwrap();
        assert_eq!(redact, Parsed::Privacy(crate::sources::PrivacyRequest::RedactOrders { orders: ids(&[299938, 280263, 220458]) }));
        let shop = parse("shop/redact", "header.myshopify.com", &fixture("shop-redact.json")).unwrap();
        assert_eq!(shop, Parsed::Privacy(crate::sources::PrivacyRequest::RedactShop { source: "shopify".into(), shop: "{shop}.myshopify.com".into() }));
        let request = parse("customers/data_request", "s", &fixture("customers-data_request.json")).unwrap();
        assert_eq!(
            request,
            Parsed::Privacy(crate::sources::PrivacyRequest::DataRequest {
                request_id: "9999".into(),
                orders: ids(&[299938, 280263, 220458]),
                storefront_ids: vec!["299938".into(), "280263".into(), "220458".into()]
            })
        );
        assert!(parse("customers/data_request", "s", br#"{"orders_requested":[1]}"#).unwrap_err().0.contains("data_request.id"));
        assert!(parse("customers/redact", "s", b"[1]").is_err(), "not the body of the topic: a reason, not a panic");
    }

    #[test]
    fn other_topics_are_ignored_with_a_reason() {
        assert!(matches!(parse("products/create", "s", b"{}"), Ok(Parsed::Ignored(_))));
    }

    #[test]
    fn line_discounts_reduce_what_was_paid() {
        let body = br#"{"id":7,"currency":"JPY","created_at":"2026-01-01T00:00:00+09:00","total_price":"2500",
            "financial_status":"paid","line_items":[{"id":1,"sku":"X","title":"T","quantity":3,"price":"1000",
            "discount_allocations":[{"amount":"500"}]}]}"#;
        let Parsed::Order(order, _) = parse("orders/paid", "s", body).unwrap() else { panic!() };
        assert_eq!(order.lines[0].paid.minor, 2_500);
        assert_eq!(order.lines[0].paid.currency.code(), "JPY");
    }

    #[test]
    fn an_edited_line_sends_its_current_quantity_and_keeps_what_was_paid_for_all() {
        let body = br#"{"id":7,"currency":"USD","created_at":"2026-01-01T00:00:00Z","total_price":"30.00",
            "financial_status":"partially_refunded","line_items":[
              {"id":1,"sku":"MUG","title":"Mug","quantity":3,"current_quantity":1,"price":"10.00"},
              {"id":2,"sku":"TEE","title":"Tee","quantity":1,"current_quantity":0,"price":"20.00"},
              {"id":3,"sku":"CAP","title":"Cap","quantity":2,"price":"5.00"},
              {"id":4,"sku":"HAT","title":"Hat","quantity":1,"current_quantity":5,"price":"5.00"}]}"#;
        let Parsed::Order(order, _) = parse("orders/updated", "s", body).unwrap() else { panic!() };
        let sent: Vec<_> = order.lines.iter().map(|l| (l.quantity, l.removed, l.paid.minor)).collect();
        assert_eq!(sent, [(1, 2, 3_000), (0, 1, 2_000), (2, 0, 1_000), (1, 0, 500)]);
        assert!(order.lines[1].is_removed() && !order.lines[0].is_removed());
        assert!(order.lines[3].problem.as_deref().is_some_and(|p| p.contains("current_quantity 5")), "more than was ordered is kept, not trusted");
        assert_eq!(parse("orders/edited", "s", body).map(|p| matches!(p, Parsed::Ignored(_))), Ok(true), "the delta is a trigger, not the truth");
    }
}
