//! Any shop that can sign a request: DESIGN's canonical order JSON on
//! `/webhooks/generic`, each shop with its own secret, which alone names the shop.

use dropflow_scenarios::{Backend, GENERIC_SECRETS, TestApp, on_both_backends, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

fn order() -> Value {
    json!({"id": "A-1001", "number": "#1001", "currency": "EUR", "financial_status": "paid", "updated_at": "2026-11-20T10:00:00Z",
        "customer": {"name": "Anna Weber", "email": "anna@example.de"},
        "shipping_address": {"name": "Anna Weber", "line1": "Torstraße 1", "city": "Berlin", "postal_code": "10119", "country_code": "DE"},
        "lines": [{"id": "1", "sku": "MUG-1", "title": "Mug", "variant": "blue", "quantity": 2, "unit_price": "12.00", "paid": "22.00"}]})
}

fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

async fn onboard(app: &TestApp) -> String {
    let key = app.onboard("mugs", &[]).await;
    app.map_sku("MUG-1", "mugs", "3.00 EUR").await.unwrap();
    key
}

async fn orders_of(app: &TestApp, key: &str) -> Vec<Value> {
    app.vendor_orders(key).await
}

async fn each_shop_signs_with_its_own_secret_and_its_orders_are_its_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let body = bytes(&order());
    assert_eq!(app.generic_webhook("order.paid", None, &body, GENERIC_SECRETS[0]).await.status(), 200);
    assert_eq!(app.generic_webhook("order.paid", Some("shop-a"), &body, GENERIC_SECRETS[0]).await.status(), 200, "the same order again");
    assert_eq!(orders_of(&app, &key).await.len(), 1);
    assert_eq!(app.generic_webhook("order.paid", Some("shop-b"), &body, GENERIC_SECRETS[1]).await.status(), 200);
    assert_eq!(orders_of(&app, &key).await.len(), 2, "shop-b's A-1001 is another order");
    assert_eq!(
        app.generic_webhook("order.paid", Some("shop-b"), &body, GENERIC_SECRETS[0]).await.status(),
        401,
        "a header cannot borrow another shop's secret"
    );
    assert_eq!(app.generic_webhook("order.paid", None, &body, "made-up").await.status(), 401);
    let (_, one, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", orders_of(&app, &key).await[0]["id"].as_str().unwrap()), &key, None).await;
    assert_eq!(one["lines"][0]["paid"]["amount"], "22.00", "decimal strings are exact: {one}");
}

async fn a_body_missing_a_required_field_is_a_400_naming_it(backend: Backend) {
    let app = spawn_app(backend).await;
    for field in ["id", "currency", "financial_status", "updated_at", "lines"] {
        let mut body = order();
        body.as_object_mut().unwrap().remove(field);
        let response = app.generic_webhook("order.paid", None, &bytes(&body), GENERIC_SECRETS[0]).await;
        assert_eq!(response.status(), 400, "{field}");
        let problem: Value = response.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains(field), "{problem}");
    }
}

async fn a_cancelled_order_cancels_its_unshipped_vendor_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    app.generic_webhook("order.paid", None, &bytes(&order()), GENERIC_SECRETS[0]).await;
    let mut cancelled = order();
    cancelled["updated_at"] = json!("2026-11-20T11:00:00Z");
    cancelled["financial_status"] = json!("voided");
    assert_eq!(app.generic_webhook("order.cancelled", None, &bytes(&cancelled), GENERIC_SECRETS[0]).await.status(), 200);
    assert_eq!(orders_of(&app, &key).await[0]["state"], "cancelled");
}

async fn operator_mail_about(app: &TestApp, what: &str) -> usize {
    app.outbox().await.iter().filter(|m| m["to"] == "ops@market.example" && m["subject"].as_str().unwrap_or_default().contains(what)).count()
}

async fn a_refund_listed_on_the_order_is_recorded_exactly_once_on_its_line(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    app.generic_webhook("order.paid", None, &bytes(&order()), GENERIC_SECRETS[0]).await;
    let mut refunded = order();
    refunded["updated_at"] = json!("2026-11-21T10:00:00Z");
    refunded["financial_status"] = json!("partially_refunded");
    refunded["refunds"] = json!([{"id": "r1", "lines": [{"line_id": "1", "quantity": 1, "amount": "11.00"}]}]);
    for _ in 0..2 {
        assert_eq!(app.generic_webhook("order.refunded", None, &bytes(&refunded), GENERIC_SECRETS[0]).await.status(), 200);
    }
    // A later update lists the same refund again.
    refunded["updated_at"] = json!("2026-11-22T10:00:00Z");
    app.generic_webhook("order.updated", None, &bytes(&refunded), GENERIC_SECRETS[0]).await;
    let vendor_order = &orders_of(&app, &key).await[0];
    let (_, one, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", vendor_order["id"].as_str().unwrap()), &key, None).await;
    let refunds = one["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{one}");
    assert_eq!(
        (refunds[0]["refund_id"].as_str(), refunds[0]["amount"]["amount"].as_str(), refunds[0]["amount"]["currency"].as_str()),
        (Some("r1"), Some("11.00"), Some("EUR"))
    );
    assert_eq!(one["state"], "awaiting_supplier", "a partial refund does not cancel the rest");
}

async fn an_unreadable_refund_keeps_the_order_and_reaches_the_operator_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let mut odd = order();
    odd["refunds"] = json!([{"id": "r9", "lines": "all of them"}]);
    for _ in 0..2 {
        assert_eq!(app.generic_webhook("order.paid", None, &bytes(&odd), GENERIC_SECRETS[0]).await.status(), 200);
    }
    assert_eq!(orders_of(&app, &key).await.len(), 1, "the order is routed all the same");
    assert_eq!(operator_mail_about(&app, "a refund could not be applied").await, 1);
}

async fn deliveries_in_swapped_order_end_as_the_newest_says(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let mut cancelled = order();
    cancelled["updated_at"] = json!("2026-11-20T11:00:00Z");
    cancelled["financial_status"] = json!("voided");
    // The cancellation overtakes the payment.
    app.generic_webhook("order.cancelled", None, &bytes(&cancelled), GENERIC_SECRETS[0]).await;
    app.generic_webhook("order.paid", None, &bytes(&order()), GENERIC_SECRETS[0]).await;
    assert!(orders_of(&app, &key).await.is_empty(), "the older payment does not route a cancelled order");
    assert!(app.outbox().await.is_empty());
}

async fn an_oversized_body_is_a_413_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut big = order();
    big["note"] = json!("x".repeat(1024 * 1024));
    let response = app.generic_webhook("order.paid", None, &bytes(&big), GENERIC_SECRETS[0]).await;
    assert_eq!(response.status(), 413);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
}

on_both_backends!(
    a_refund_listed_on_the_order_is_recorded_exactly_once_on_its_line,
    an_unreadable_refund_keeps_the_order_and_reaches_the_operator_once,
    deliveries_in_swapped_order_end_as_the_newest_says,
    an_oversized_body_is_a_413_problem,
    each_shop_signs_with_its_own_secret_and_its_orders_are_its_own,
    a_body_missing_a_required_field_is_a_400_naming_it,
    a_cancelled_order_cancels_its_unshipped_vendor_order,
);
