//! A WooCommerce store's orders: the REST fixture (a line with an empty SKU, prices as
//! JSON numbers), drafts held until paid, the creation ping, duplicates and forgeries.

use dropflow_scenarios::{Backend, TestApp, WOOCOMMERCE_SECRET, fixture, on_both_backends, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

const ORDER: &str = "woocommerce/order-processing.json";

fn with(change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture(ORDER)).unwrap();
    change(&mut order);
    serde_json::to_vec(&order).unwrap()
}

async fn onboard(app: &TestApp) -> String {
    let key = app.onboard("woo-vendor", &[]).await;
    app.cli(&["product", "add", "Bar3", "--vendor", "woo-vendor", "--supplier", "CJ", "--url", "https://cjdropshipping.com/p/3.html", "--cost", "4.10", "--currency", "USD"]).await.unwrap();
    key
}

async fn orders_of(app: &TestApp, key: &str) -> Vec<Value> {
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", key, None).await;
    list["orders"].as_array().unwrap().clone()
}

async fn a_paid_woocommerce_order_is_routed_once_and_its_skuless_line_escalated(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    for topic in ["order.created", "order.updated"] {
        assert_eq!(app.woocommerce_webhook(topic, &fixture(ORDER), WOOCOMMERCE_SECRET).await.status(), 200);
    }
    let orders = orders_of(&app, &key).await;
    assert_eq!(orders.len(), 1, "delivered twice, routed once");
    let lines = orders[0]["lines"].as_array().unwrap();
    assert_eq!((lines.len(), lines[0]["line"]["sku"].as_str()), (1, Some("Bar3")));
    assert_eq!(orders[0]["shipping_address"]["city"], "San Francisco");
    let outbox = app.outbox().await;
    let to = |who: &str| outbox.iter().filter(|m| m["to"] == who).count();
    assert_eq!((to("woo-vendor@vendors.example"), to("john.doe@example.com"), to("ops@market.example")), (1, 1, 1), "{outbox:?}");
    let operator = outbox.iter().find(|m| m["to"] == "ops@market.example").unwrap();
    assert!(operator["text"].as_str().unwrap().contains("Woo Single #1"), "the line without a SKU is named");
}

async fn a_draft_is_held_until_its_paid_update(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let draft = with(|o| {
        o["status"] = json!("checkout-draft");
        o["date_paid_gmt"] = Value::Null;
        o["date_modified_gmt"] = json!("2017-03-22T19:20:00");
    });
    assert_eq!(app.woocommerce_webhook("order.created", &draft, WOOCOMMERCE_SECRET).await.status(), 200);
    assert!(orders_of(&app, &key).await.is_empty(), "a draft is not routed");
    assert!(app.outbox().await.is_empty());
    app.woocommerce_webhook("order.updated", &fixture(ORDER), WOOCOMMERCE_SECRET).await;
    assert_eq!(orders_of(&app, &key).await.len(), 1);
    // The draft's delivery arriving again, late, changes nothing.
    app.woocommerce_webhook("order.created", &draft, WOOCOMMERCE_SECRET).await;
    assert_eq!(orders_of(&app, &key).await[0]["state"], "awaiting_supplier");
}

async fn the_creation_ping_is_answered_and_a_forgery_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let ping = app.client.post(format!("{}/webhooks/woocommerce", app.base)).header("Content-Type", "application/x-www-form-urlencoded").body("webhook_id=42").send().await.unwrap();
    assert_eq!(ping.status(), 200);
    assert_eq!(app.deliver().await, 0, "a ping queues nothing");
    let forged = app.woocommerce_webhook("order.created", &fixture(ORDER), "not-the-secret").await;
    assert_eq!(forged.status(), 401);
    let shopify_signed = app.woocommerce_webhook("order.created", &fixture(ORDER), dropflow_scenarios::SHOPIFY_SECRET).await;
    assert_eq!(shopify_signed.status(), 401, "each storefront has its own secret");
}

on_both_backends!(
    a_paid_woocommerce_order_is_routed_once_and_its_skuless_line_escalated,
    a_draft_is_held_until_its_paid_update,
    the_creation_ping_is_answered_and_a_forgery_refused,
);
