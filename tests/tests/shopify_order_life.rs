//! A real Shopify order's whole life through the HTTP surface, and the ways it can go
//! wrong: duplicates, bad signatures, unpaid orders, unknown SKUs, nosy vendors.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

const PAID: &str = "shopify/orders-create-paid.json";
const AUTHORIZED: &str = "shopify/orders-create-authorized.json";

fn mail_to<'a>(outbox: &'a [Value], to: &str) -> Vec<&'a Value> {
    outbox.iter().filter(|m| m["to"] == to).collect()
}

fn order_id() -> OrderId {
    OrderId::derive("shopify", "", "450789469")
}

async fn first_order_id(app: &TestApp, key: &str) -> String {
    let (status, list, _) = app.vendor(Method::GET, "/vendor/orders", key, None).await;
    assert_eq!(status, 200, "{list}");
    list["orders"][0]["id"].as_str().expect("an order").to_string()
}

async fn a_paid_order_is_routed_fulfilled_and_mailed_end_to_end(backend: Backend) {
    let app = spawn_app(backend).await;
    let ipods = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let black = app.onboard("black-gear", &["IPOD2008BLACK"]).await;

    let response = app.shopify_webhook("orders/create", &fixture(PAID), SHOPIFY_SECRET).await;
    assert_eq!(response.status(), 200);

    // One vendor order per vendor; each vendor sees only its lines.
    let id = first_order_id(&app, &ipods).await;
    assert_eq!(id, order_id().as_str());
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &ipods, None).await;
    assert_eq!(order["state"], "awaiting_supplier");
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    assert_eq!(order["shipping_address"]["city"], "Louisville");
    assert_eq!(order["lines"][0]["supplier"]["product_url"], "https://www.aliexpress.com/item/IPOD2008GREEN.html");
    assert_eq!(order["history"][0]["action"], "created");
    let (_, other, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &black, None).await;
    assert_eq!(other["lines"].as_array().unwrap().len(), 1);

    // The vendor's new-order email is the full supplier brief.
    let outbox = app.outbox().await;
    let brief = mail_to(&outbox, "ipod-shop@vendors.example");
    assert_eq!(brief.len(), 1);
    let text = brief[0]["text"].as_str().unwrap();
    for expected in [
        "Bob Norman",
        "Chestnut Street 92",
        "Louisville KY 40202",
        "US",
        "AliExpress: IPOD2008GREEN store",
        "https://www.aliexpress.com/item/IPOD2008RED.html",
        "Supplier cost: 61.50 USD",
        "Variant: 8GB",
        "Quantity: 1",
        "from your supplier by",
    ] {
        assert!(text.contains(expected), "vendor mail lacks {expected:?}:\n{text}");
    }
    assert!(brief[0]["html"].as_str().unwrap().contains("<a href=\"https://www.aliexpress.com/item/IPOD2008GREEN.html\">"));
    let confirmation = mail_to(&outbox, "bob.norman@hostmail.com");
    assert_eq!(confirmation.len(), 1);
    assert!(confirmation[0]["subject"].as_str().unwrap().contains("#1001 confirmed"));
    assert!(confirmation[0]["text"].as_str().unwrap().contains("409.94 USD"));

    // Supplier order, shipment (carrier inferred), delivery.
    let (status, placed, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &ipods, Some(json!({"supplier_order_ref": "AE-300111"}))).await;
    assert_eq!((status, placed["state"].as_str()), (200, Some("awaiting_shipment")));
    let (status, shipped, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), &ipods, Some(json!({"tracking_number": "1Z5R89390357567127"}))).await;
    assert_eq!((status, shipped["tracking"]["carrier"].as_str()), (200, Some("ups")));
    let outbox = app.outbox().await;
    let shipped_mail =
        mail_to(&outbox, "bob.norman@hostmail.com").into_iter().find(|m| m["subject"].as_str().unwrap().contains("shipped")).expect("shipped mail");
    let text = shipped_mail["text"].as_str().unwrap();
    assert!(text.contains("Carrier: UPS") && text.contains("1Z5R89390357567127"), "{text}");
    let html = shipped_mail["html"].as_str().unwrap();
    assert!(html.contains("href=\"https://www.ups.com/track?tracknum=1Z5R89390357567127\""), "the carrier's link is the mail's action: {html}");
    let (status, delivered, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/delivered"), &ipods, None).await;
    assert_eq!((status, delivered["state"].as_str()), (200, Some("delivered")));
    let outbox = app.outbox().await;
    assert!(mail_to(&outbox, "bob.norman@hostmail.com").iter().any(|m| m["subject"].as_str().unwrap().contains("delivered")));
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &ipods, None).await;
    let actions: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "supplier_order_placed", "shipped", "delivered"]);
}

async fn the_same_delivery_twice_yields_one_vendor_order_and_one_set_of_emails(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/create", &fixture(PAID), SHOPIFY_SECRET).await;
    let mails = app.outbox().await.len();
    assert_eq!(mails, 2, "customer confirmation and vendor brief");
    app.shopify_webhook("orders/create", &fixture(PAID), SHOPIFY_SECRET).await;
    app.shopify_webhook("orders/paid", &fixture(PAID), SHOPIFY_SECRET).await;
    assert_eq!(app.outbox().await.len(), mails);
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert_eq!(list["orders"].as_array().unwrap().len(), 1);
}

async fn a_bad_or_missing_signature_is_401_and_stores_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN"]).await;
    let response = app.shopify_webhook("orders/create", &fixture(PAID), "not-the-secret").await;
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let unsigned =
        app.client.post(format!("{}/webhooks/shopify", app.base)).header("X-Shopify-Topic", "orders/create").body(fixture(PAID)).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(app.deliver().await, 0, "nothing was queued");
    assert!(app.local.app.tables.order(&order_id()).await.unwrap().is_none());
    assert!(app.outbox().await.is_empty());
}

async fn a_signed_body_that_is_not_an_order_is_a_400_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.shopify_webhook("orders/create", br#"{"hello":"world"}"#, SHOPIFY_SECRET).await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("not a Shopify order"), "{problem}");
}

async fn only_a_body_over_a_mebibyte_is_a_413_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let mut order: Value = serde_json::from_slice(&fixture(PAID)).unwrap();
    // Under the 1 MiB body limit, and every character a quote: as JSON inside JSON it
    // would double past the queue's limit; the intake message carries it unescaped.
    order["note"] = Value::String("\"".repeat(450_000));
    let body = serde_json::to_vec(&order).unwrap();
    assert!(body.len() < 1024 * 1024 && body.len() > 900_000, "{}", body.len());
    let response = app.shopify_webhook("orders/paid", &body, SHOPIFY_SECRET).await;
    assert_eq!(response.status(), 200);
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert_eq!(list["orders"].as_array().unwrap().len(), 1, "kept and routed");

    order["note"] = Value::String("x".repeat(1024 * 1024));
    let response = app.shopify_webhook("orders/paid", &serde_json::to_vec(&order).unwrap(), SHOPIFY_SECRET).await;
    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}

async fn an_authorized_order_is_held_until_paid(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let response = app.shopify_webhook("orders/create", &fixture(AUTHORIZED), SHOPIFY_SECRET).await;
    assert_eq!(response.status(), 200);
    let held = app.local.app.tables.order(&order_id()).await.unwrap().expect("order kept");
    assert_eq!(held.status, dropflow_shared::store::OrderStatus::Held);
    assert!(app.outbox().await.is_empty(), "no vendor email for an unpaid order");
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert!(list["orders"].as_array().unwrap().is_empty());

    app.shopify_webhook("orders/paid", &fixture(PAID), SHOPIFY_SECRET).await;
    assert_eq!(mail_to(&app.outbox().await, "ipod-shop@vendors.example").len(), 1);
}

async fn an_unmapped_sku_keeps_the_order_and_tells_the_operator(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN"]).await;
    app.shopify_webhook("orders/create", &fixture(PAID), SHOPIFY_SECRET).await;
    let record = app.local.app.tables.order(&order_id()).await.unwrap().expect("order kept");
    assert_eq!(record.unroutable.len(), 2);
    let outbox = app.outbox().await;
    let operator = mail_to(&outbox, "ops@market.example");
    assert_eq!(operator.len(), 1);
    let text = operator[0]["text"].as_str().unwrap();
    assert!(text.contains("IPOD2008RED") && text.contains("IPOD2008BLACK") && !text.contains("IPOD2008GREEN"), "{text}");
    let id = first_order_id(&app, &key).await;
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &key, None).await;
    assert_eq!(order["lines"].as_array().unwrap().len(), 1);
}

async fn vendors_see_only_their_own_orders_and_get_clear_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let alpha = app.onboard("alpha", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let beta = app.onboard("beta", &[]).await;
    app.shopify_webhook("orders/create", &fixture(PAID), SHOPIFY_SECRET).await;
    let id = first_order_id(&app, &alpha).await;

    let (status, problem, content_type) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &beta, None).await;
    assert_eq!((status, content_type.as_str()), (404, "application/problem+json"), "{problem}");
    let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/delivered"), &beta, None).await;
    assert_eq!(status, 404);
    let (status, _, _) = app.vendor(Method::GET, "/vendor/orders", "dfk_wrong", None).await;
    assert_eq!(status, 401);
    let anonymous = app.client.get(format!("{}/vendor/orders", app.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let (status, problem, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), &alpha, Some(json!({"tracking_number": "1Z5R89390357567127"}))).await;
    assert_eq!(status, 409, "ship before the supplier order: {problem}");
    app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &alpha, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    let (status, problem, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), &alpha, Some(json!({"tracking_number": "1Z5R89390357567128"}))).await;
    assert_eq!(status, 422);
    assert!(problem["detail"].as_str().unwrap().contains("check digit"), "{problem}");
    let (status, problem, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), &alpha, Some(json!({"tracking": 1}))).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("tracking_number"), "{problem}");
    let (status, problem, _) = app.vendor(Method::GET, "/vendor/orders?state=lost", &alpha, None).await;
    assert_eq!(status, 400, "{problem}");
}

async fn an_order_too_large_to_store_is_kept_in_the_dead_letters_and_the_operator_told(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let mut order: Value = serde_json::from_slice(&fixture(PAID)).unwrap();
    let template = order["line_items"][0].clone();
    let skus = ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"];
    order["line_items"] = Value::Array(
        (0..700)
            .map(|n| {
                let mut line = template.clone();
                line["id"] = json!(900_000 + n);
                line["sku"] = json!(skus[n % 3]);
                line["title"] = json!(format!("Engraved iPod {n}: {}", "personalised message ".repeat(20)));
                line
            })
            .collect(),
    );
    let body = serde_json::to_vec(&order).unwrap();
    assert!((550_000..750_000).contains(&body.len()), "a signed order of about 620 KB: {}", body.len());

    let response = app.shopify_webhook("orders/paid", &body, SHOPIFY_SECRET).await;
    assert_eq!(response.status(), 200, "a verified order is never refused for its size once it fits a message");
    let dead = app.cli(&["dlq", "list", "--json"]).await.unwrap();
    let letters: Vec<Value> = serde_json::from_str(&dead).unwrap();
    assert_eq!(letters.len(), 1, "{dead}");
    assert_eq!(letters[0]["queue"], "intake");
    assert!(letters[0]["reason"].as_str().unwrap().contains("too large to store"), "{}", letters[0]["reason"]);
    let outbox = app.outbox().await;
    let operator = mail_to(&outbox, "ops@market.example");
    assert_eq!(operator.len(), 1, "{outbox:?}");
    assert!(operator[0]["subject"].as_str().unwrap().contains("#1001 is too large"), "{}", operator[0]["subject"]);
    assert!(operator[0]["text"].as_str().unwrap().contains("700"), "the mail says how many lines");
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert!(list["orders"].as_array().unwrap().is_empty());

    // The storefront's retry parks it again, and tells nobody twice.
    app.shopify_webhook("orders/paid", &body, SHOPIFY_SECRET).await;
    assert_eq!(mail_to(&app.outbox().await, "ops@market.example").len(), 1);
}

/// Too large because of its address, not its lines: the operator still hears of it.
async fn an_order_too_large_for_its_address_still_reaches_the_operator(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let mut order: Value = serde_json::from_slice(&fixture(PAID)).unwrap();
    order["shipping_address"]["address2"] = json!("Suite ".repeat(90_000));
    let body = serde_json::to_vec(&order).unwrap();
    assert_eq!(app.shopify_webhook("orders/paid", &body, SHOPIFY_SECRET).await.status(), 200);
    let outbox = app.outbox().await;
    let operator = mail_to(&outbox, "ops@market.example");
    assert_eq!(operator.len(), 1, "{operator:?}");
    assert!(operator[0]["subject"].as_str().unwrap().contains("#1001 is too large"), "{}", operator[0]["subject"]);
    assert!(!operator[0]["text"].as_str().unwrap().contains("Suite Suite"), "the mail does not carry the oversized text");
}

/// A Shopify webhook delivered through Amazon EventBridge (the stack's rule puts the
/// partner bus's events on the intake queue as they are; the envelope is Shopify's,
/// <https://shopify.dev/docs/apps/webhooks/configuration/eventbridge>) is routed as the
/// same webhook over HTTPS would be, and its HTTPS twin doubles nothing.
async fn an_order_through_eventbridge_is_routed_like_a_webhook(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("acme-gadgets", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let payload = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    let envelope = format!(
        r#"{{"version": "0", "id": "1f2e", "detail-type": "shopifyWebhook", "source": "aws.partner/shopify.com/1830279/dropflow", "account": "000000000000",
            "time": "2026-12-01T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {{"metadata": {{"Content-Type": "application/json", "X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": "lumen.myshopify.com",
                "X-Shopify-Event-Id": "eb-order-1"}}, "payload": {payload}}}}}"#
    );
    app.local.app.publisher.publish(dropflow_shared::ports::QueueName::Intake, envelope).await.unwrap();
    app.deliver().await;
    let orders = app.vendor_orders(&key).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["lines"].as_array().map(Vec::len), Some(3));
    assert_eq!(app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    assert_eq!(app.vendor_orders(&key).await.len(), 1, "the same order over HTTPS is the same order");
}

on_both_backends!(
    an_order_through_eventbridge_is_routed_like_a_webhook,
    an_order_too_large_to_store_is_kept_in_the_dead_letters_and_the_operator_told,
    an_order_too_large_for_its_address_still_reaches_the_operator,
    a_paid_order_is_routed_fulfilled_and_mailed_end_to_end,
    the_same_delivery_twice_yields_one_vendor_order_and_one_set_of_emails,
    a_bad_or_missing_signature_is_401_and_stores_nothing,
    a_signed_body_that_is_not_an_order_is_a_400_problem,
    only_a_body_over_a_mebibyte_is_a_413_problem,
    an_authorized_order_is_held_until_paid,
    an_unmapped_sku_keeps_the_order_and_tells_the_operator,
    vendors_see_only_their_own_orders_and_get_clear_errors,
);
