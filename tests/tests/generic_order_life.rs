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
    app.cli(&["product", "add", "MUG-1", "--vendor", "mugs", "--supplier", "AliExpress", "--url", "https://www.aliexpress.com/item/9.html", "--cost", "3.00", "--currency", "EUR"]).await.unwrap();
    key
}

async fn orders_of(app: &TestApp, key: &str) -> Vec<Value> {
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", key, None).await;
    list["orders"].as_array().unwrap().clone()
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
    assert_eq!(app.generic_webhook("order.paid", Some("shop-b"), &body, GENERIC_SECRETS[0]).await.status(), 401, "a header cannot borrow another shop's secret");
    assert_eq!(app.generic_webhook("order.paid", None, &body, "made-up").await.status(), 401);
    let (_, one, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", orders_of(&app, &key).await[0]["id"].as_str().unwrap()), &key, None).await;
    assert_eq!(one["lines"][0]["line"]["paid"]["minor"], 2200, "decimal strings are exact: {one}");
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

on_both_backends!(
    each_shop_signs_with_its_own_secret_and_its_orders_are_its_own,
    a_body_missing_a_required_field_is_a_400_naming_it,
    a_cancelled_order_cancels_its_unshipped_vendor_order,
);
