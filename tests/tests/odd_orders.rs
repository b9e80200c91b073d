//! No verified order is refused for what it holds: odd SKUs, an address without a city,
//! lines no vendor can ship (quantity 0, a negative amount, an unreadable price). The
//! order is kept, what can be routed is, the rest waits unroutable with its reason and
//! the operator is told. The signature is checked before anything else is read.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, sign, spawn_app};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

const ODD_SKUS: [&str; 3] = ["TEE RED M", "TS-RED #2", "CAFÉ-1"];

fn order_id() -> OrderId {
    OrderId::derive("shopify", "", "450789469")
}

fn line(id: u64, sku: &str, quantity: i64, price: &str) -> Value {
    json!({"id": id, "sku": sku, "title": format!("Item {id}"), "quantity": quantity, "price": price, "variant_title": null})
}

/// The paid fixture with `lines` instead of its own.
fn order_with(lines: Vec<Value>) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["line_items"] = Value::Array(lines);
    serde_json::to_vec(&order).unwrap()
}

async fn map(app: &TestApp, vendor: &str, skus: &[&str]) -> String {
    let key = app.onboard(vendor, &[]).await;
    for sku in skus {
        app.map_sku(sku, vendor, "5.00 USD").await.unwrap();
    }
    key
}

async fn operator_mail(app: &TestApp) -> Vec<String> {
    app.outbox().await.iter().filter(|m| m["to"] == "ops@market.example").map(|m| m["text"].as_str().unwrap_or_default().to_string()).collect()
}

async fn odd_but_real_skus_are_routed_like_any_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let long = "L".repeat(120);
    let mut skus = ODD_SKUS.to_vec();
    skus.push(&long);
    let key = map(&app, "tees", &skus).await;
    let lines = skus.iter().enumerate().map(|(n, sku)| line(n as u64 + 1, sku, 1, "10.00")).collect();
    assert_eq!(app.shopify_webhook("orders/paid", &order_with(lines), SHOPIFY_SECRET).await.status(), 200);
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), &key, None).await;
    let routed: Vec<&str> = order["lines"].as_array().unwrap().iter().map(|l| l["sku"].as_str().unwrap()).collect();
    assert_eq!(routed, skus, "{order}");
    assert!(operator_mail(&app).await.is_empty(), "nothing to escalate");
}

async fn an_address_without_a_city_keeps_the_order_and_tells_the_operator(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = map(&app, "ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["shipping_address"]["city"] = Value::Null;
    assert_eq!(app.shopify_webhook("orders/paid", &serde_json::to_vec(&order).unwrap(), SHOPIFY_SECRET).await.status(), 200);
    let record = app.local.app.tables.order(&order_id()).await.unwrap().expect("kept");
    assert_eq!(record.unroutable.len(), 3);
    assert!(record.unroutable.iter().all(|u| u.reason.contains("city")), "{:?}", record.unroutable);
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert!(list["orders"].as_array().unwrap().is_empty(), "no vendor is sent an order it cannot ship");
    let mail = operator_mail(&app).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("city"), "{}", mail[0]);
}

/// An address fixed at the storefront routes the lines that waited for it, without the
/// operator's `reroute`: each line's reason is decided anew (one whose SKU nobody sells
/// now waits for its SKU, and routes once it is mapped).
async fn lines_that_waited_for_an_address_route_once_it_is_fixed(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = map(&app, "ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["shipping_address"]["city"] = Value::Null;
    order["updated_at"] = json!("2026-11-20T10:00:00-05:00");
    assert_eq!(app.shopify_webhook("orders/paid", &serde_json::to_vec(&order).unwrap(), SHOPIFY_SECRET).await.status(), 200);
    order["shipping_address"]["city"] = json!("Louisville");
    order["updated_at"] = json!("2026-11-20T11:00:00-05:00");
    assert_eq!(app.shopify_webhook("orders/updated", &serde_json::to_vec(&order).unwrap(), SHOPIFY_SECRET).await.status(), 200);
    let (_, routed, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), &key, None).await;
    let skus: Vec<&str> = routed["lines"].as_array().unwrap().iter().map(|l| l["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["IPOD2008GREEN", "IPOD2008RED"], "{routed}");
    assert_eq!(routed["shipping_address"]["city"], "Louisville");
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    let reasons: Vec<&str> = record.unroutable.iter().map(|u| u.reason.as_str()).collect();
    assert_eq!(reasons, ["no vendor sells SKU IPOD2008BLACK"], "the reason is decided anew");
    let mail = operator_mail(&app).await;
    assert_eq!(mail.len(), 2, "the city, then the SKU: {mail:?}");
    map(&app, "black-gear", &["IPOD2008BLACK"]).await;
    assert!(app.local.app.tables.order(&order_id()).await.unwrap().unwrap().unroutable.is_empty(), "mapped: it routed at once");
}

async fn lines_that_cannot_ship_as_sent_wait_and_the_rest_is_routed(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = map(&app, "ipod-shop", &["GOOD", "FREE", "ZERO", "NEG", "ODD", "OVER"]).await;
    let mut over = line(6, "OVER", 1, "10.00");
    over["total_discount"] = json!("311.00");
    let lines =
        vec![line(1, "GOOD", 2, "10.00"), line(2, "FREE", 1, "0.00"), line(3, "ZERO", 0, "10.00"), line(4, "NEG", -1, "10.00"), line(5, "ODD", 1, "ten"), over];
    assert_eq!(app.shopify_webhook("orders/paid", &order_with(lines), SHOPIFY_SECRET).await.status(), 200);
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), &key, None).await;
    let routed: Vec<&str> = order["lines"].as_array().unwrap().iter().map(|l| l["sku"].as_str().unwrap()).collect();
    assert_eq!(routed, ["GOOD", "FREE"], "a free line is a real line to ship: {order}");
    let brief = app.outbox().await.into_iter().find(|m| m["to"] == "ipod-shop@vendors.example").expect("the brief");
    let text = brief["text"].as_str().unwrap();
    assert!(!text.contains("Quantity: 0") && !text.contains("-301"), "{text}");
    let mail = operator_mail(&app).await;
    assert_eq!(mail.len(), 1);
    for reason in ["quantity 0", "negative", "price", "-301.00"] {
        assert!(mail[0].contains(reason), "the operator is told {reason:?}: {}", mail[0]);
    }
}

async fn the_signature_is_checked_before_the_body_is_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let not_utf8 = vec![0xff, 0xfe, b'{', 0x80];
    let unsigned =
        app.client.post(format!("{}/webhooks/shopify", app.base)).header("X-Shopify-Topic", "orders/paid").body(not_utf8.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), 401, "no signature, no answer about the body");
    let signed = app.shopify_webhook("orders/paid", &not_utf8, SHOPIFY_SECRET).await;
    assert_eq!(signed.status(), 400);
    let signed_garbage = app.shopify_webhook("orders/paid", b"not json at all", SHOPIFY_SECRET).await;
    assert_eq!(signed_garbage.status(), 400);
    let problem: Value = signed_garbage.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("not a Shopify order"), "{problem}");
    let wrong = app
        .client
        .post(format!("{}/webhooks/shopify", app.base))
        .header("X-Shopify-Hmac-Sha256", sign("wrong", &not_utf8))
        .body(not_utf8)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

on_both_backends!(
    odd_but_real_skus_are_routed_like_any_other,
    an_address_without_a_city_keeps_the_order_and_tells_the_operator,
    lines_that_waited_for_an_address_route_once_it_is_fixed,
    lines_that_cannot_ship_as_sent_wait_and_the_rest_is_routed,
    the_signature_is_checked_before_the_body_is_read,
);
