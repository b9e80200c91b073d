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
    app.map_sku("Bar3", "woo-vendor", "4.10 USD").await.unwrap();
    key
}

async fn orders_of(app: &TestApp, key: &str) -> Vec<Value> {
    app.vendor_orders(key).await
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
    assert_eq!((lines.len(), lines[0]["sku"].as_str()), (1, Some("Bar3")));
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
    let ping = app
        .client
        .post(format!("{}/webhooks/woocommerce", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("webhook_id=42")
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    assert_eq!(app.deliver().await, 0, "a ping queues nothing");
    let forged = app.woocommerce_webhook("order.created", &fixture(ORDER), "not-the-secret").await;
    assert_eq!(forged.status(), 401);
    let shopify_signed = app.woocommerce_webhook("order.created", &fixture(ORDER), dropflow_scenarios::SHOPIFY_SECRET).await;
    assert_eq!(shopify_signed.status(), 401, "each storefront has its own secret");
}

async fn vendor_order(app: &TestApp, key: &str) -> Value {
    let id = orders_of(app, key).await[0]["id"].as_str().unwrap().to_string();
    app.vendor(Method::GET, &format!("/vendor/orders/{id}"), key, None).await.1
}

async fn a_refund_of_a_one_line_order_is_recorded_on_that_line_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let one_line = |modified: &str, refunds: Value| {
        with(|o| {
            o["line_items"].as_array_mut().unwrap().remove(0);
            o["date_modified_gmt"] = json!(modified);
            o["refunds"] = refunds;
        })
    };
    app.woocommerce_webhook("order.created", &one_line("2017-03-22T19:28:08", json!([])), WOOCOMMERCE_SECRET).await;
    // WooCommerce lists a refund on the order as a negative total, no lines.
    let refunded = one_line("2017-03-23T10:00:00", json!([{"id": 726, "reason": "", "total": "-10.00"}]));
    for _ in 0..2 {
        app.woocommerce_webhook("order.updated", &refunded, WOOCOMMERCE_SECRET).await;
    }
    let order = vendor_order(&app, &key).await;
    let refunds = order["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{order}");
    assert_eq!((refunds[0]["refund_id"].as_str(), refunds[0]["amount"]["amount"].as_str()), (Some("726"), Some("10.00")));
}

async fn a_refund_that_names_no_lines_of_several_goes_to_the_operator_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let refunded = with(|o| {
        o["date_modified_gmt"] = json!("2017-03-23T10:00:00");
        o["refunds"] = json!([{"id": 726, "reason": "", "total": "-10.00"}]);
    });
    for _ in 0..2 {
        app.woocommerce_webhook("order.updated", &refunded, WOOCOMMERCE_SECRET).await;
    }
    assert!(vendor_order(&app, &key).await["refunds"].as_array().unwrap().is_empty(), "dropflow does not guess which line");
    let operator: Vec<Value> = app.outbox().await.into_iter().filter(|m| m["subject"].as_str().unwrap_or_default().contains("split the refund")).collect();
    assert_eq!(operator.len(), 1, "{operator:?}");
    assert!(operator[0]["text"].as_str().unwrap().contains("10.00"), "{}", operator[0]["text"]);
}

async fn deliveries_in_swapped_order_end_as_the_newest_says(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let cancelled = with(|o| {
        o["status"] = json!("cancelled");
        o["date_modified_gmt"] = json!("2017-03-23T10:00:00");
    });
    // WooCommerce does not retry in order: the cancellation comes first.
    app.woocommerce_webhook("order.updated", &cancelled, WOOCOMMERCE_SECRET).await;
    app.woocommerce_webhook("order.created", &fixture(ORDER), WOOCOMMERCE_SECRET).await;
    assert!(orders_of(&app, &key).await.is_empty(), "the older, paid version does not route a cancelled order");
    let moved = with(|o| {
        o["id"] = json!(728);
        o["shipping"]["address_1"] = json!("1 Market St");
        o["date_modified_gmt"] = json!("2017-03-23T10:00:00");
    });
    let original = with(|o| o["id"] = json!(728));
    app.woocommerce_webhook("order.updated", &moved, WOOCOMMERCE_SECRET).await;
    app.woocommerce_webhook("order.created", &original, WOOCOMMERCE_SECRET).await;
    let order = vendor_order(&app, &key).await;
    assert_eq!(order["shipping_address"]["line1"], "1 Market St", "{order}");
    assert_eq!(app.outbox().await.iter().filter(|m| m["to"] == "woo-vendor@vendors.example").count(), 1, "one brief");
}

async fn an_oversized_body_is_a_413_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let big = with(|o| o["customer_note"] = json!("x".repeat(1024 * 1024)));
    let response = app.woocommerce_webhook("order.created", &big, WOOCOMMERCE_SECRET).await;
    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}

on_both_backends!(
    a_refund_of_a_one_line_order_is_recorded_on_that_line_once,
    a_refund_that_names_no_lines_of_several_goes_to_the_operator_once,
    deliveries_in_swapped_order_end_as_the_newest_says,
    an_oversized_body_is_a_413_problem,
    a_paid_woocommerce_order_is_routed_once_and_its_skuless_line_escalated,
    a_draft_is_held_until_its_paid_update,
    the_creation_ping_is_answered_and_a_forgery_refused,
);
