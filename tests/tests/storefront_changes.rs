//! A routed order changing at the storefront: a cancellation reaches every vendor order
//! that has not shipped (and its vendor is told to cancel the supplier order), a new
//! address reaches every vendor order that has not shipped (and its vendor is told);
//! what has shipped stays and the operator is told. Older or repeated deliveries change
//! nothing. A refund is recorded, exactly and once, on the vendor order of its lines.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

fn order_id() -> String {
    OrderId::derive("shopify", "", "450789469").to_string()
}

/// The paid fixture, last updated at `updated_at`, changed by `change`.
fn version(updated_at: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["updated_at"] = json!(updated_at);
    change(&mut order);
    serde_json::to_vec(&order).unwrap()
}

/// Two vendors with the order routed to both; returns their keys.
async fn routed_to_two_vendors(app: &TestApp) -> (String, String) {
    let ipods = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let black = app.onboard("black-gear", &["IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &version("2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    (ipods, black)
}

async fn ship(app: &TestApp, key: &str) {
    let id = order_id();
    let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    assert_eq!(status, 200);
    let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), key, Some(json!({"tracking_number": "1Z5R89390357567127"}))).await;
    assert_eq!(status, 200);
}

async fn state(app: &TestApp, key: &str) -> Value {
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), key, None).await;
    order
}

async fn subjects_to(app: &TestApp, to: &str) -> Vec<String> {
    app.outbox().await.iter().filter(|m| m["to"] == to).map(|m| m["subject"].as_str().unwrap().to_string()).collect()
}

async fn a_cancel_after_a_partial_shipment_cancels_the_rest_and_tells_the_operator(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ipods, black) = routed_to_two_vendors(&app).await;
    ship(&app, &ipods).await;
    let cancel = version("2026-11-21T09:00:00-05:00", |o| {
        o["cancelled_at"] = json!("2026-11-21T09:00:00-05:00");
        o["financial_status"] = json!("voided");
    });
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("orders/cancelled", &cancel, SHOPIFY_SECRET).await.status(), 200);
    }
    assert_eq!(state(&app, &black).await["state"], "cancelled");
    assert_eq!(state(&app, &ipods).await["state"], "shipped", "what shipped stays shipped");
    let vendor_mail = subjects_to(&app, "black-gear@vendors.example").await;
    assert_eq!(vendor_mail.iter().filter(|s| s.contains("cancel the supplier order")).count(), 1, "{vendor_mail:?}");
    let operator = app.outbox().await.into_iter().filter(|m| m["to"] == "ops@market.example").collect::<Vec<_>>();
    let attention: Vec<&Value> = operator.iter().filter(|m| m["subject"].as_str().unwrap().contains("was cancelled after part of it shipped")).collect();
    assert_eq!(attention.len(), 1, "{operator:?}");
    assert!(attention[0]["text"].as_str().unwrap().contains("ipod-shop: shipped"));
    let (status, _, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order", order_id()), &black, Some(json!({"supplier_order_ref": "AE-2"}))).await;
    assert_eq!(status, 409, "the vendor can no longer buy a cancelled order");
}

async fn a_new_address_reaches_unshipped_vendor_orders_and_the_operator_hears_of_the_rest(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ipods, black) = routed_to_two_vendors(&app).await;
    let moved = |updated_at: &str, street: &str| version(updated_at, |o| o["shipping_address"]["address1"] = json!(street));
    app.shopify_webhook("orders/updated", &moved("2026-11-20T12:00:00-05:00", "Elm Street 7"), SHOPIFY_SECRET).await;
    for key in [&ipods, &black] {
        assert_eq!(state(&app, key).await["shipping_address"]["line1"], "Elm Street 7");
    }
    assert_eq!(subjects_to(&app, "black-gear@vendors.example").await.iter().filter(|s| s.contains("new shipping address")).count(), 1);

    ship(&app, &ipods).await;
    app.shopify_webhook("orders/updated", &moved("2026-11-20T14:00:00-05:00", "Oak Road 3"), SHOPIFY_SECRET).await;
    assert_eq!(state(&app, &black).await["shipping_address"]["line1"], "Oak Road 3");
    assert_eq!(state(&app, &ipods).await["shipping_address"]["line1"], "Elm Street 7", "a shipped parcel's address is history");
    let operator = subjects_to(&app, "ops@market.example").await;
    assert_eq!(operator.iter().filter(|s| s.contains("new shipping address after part of it shipped")).count(), 1, "{operator:?}");

    // An older delivery, arriving late, changes nothing.
    app.shopify_webhook("orders/updated", &moved("2026-11-20T13:00:00-05:00", "Stale Lane 1"), SHOPIFY_SECRET).await;
    assert_eq!(state(&app, &black).await["shipping_address"]["line1"], "Oak Road 3");
    let history: Vec<String> = state(&app, &black).await["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap().to_string()).collect();
    assert_eq!(history, ["created", "address_changed", "address_changed"]);
}

async fn a_refund_of_one_line_is_recorded_once_on_its_vendor_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ipods, black) = routed_to_two_vendors(&app).await;
    let refund = serde_json::to_vec(&json!({
        "id": 509562969, "order_id": 450789469, "created_at": "2026-11-22T10:00:00-05:00", "note": "scratched",
        "refund_line_items": [{"id": 104689539, "quantity": 1, "line_item_id": 518995019, "subtotal": 195.67, "total_tax": 3.98}]
    }))
    .unwrap();
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("refunds/create", &refund, SHOPIFY_SECRET).await.status(), 200);
    }
    let ipod_order = state(&app, &ipods).await;
    let refunds = ipod_order["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "delivered twice, recorded once: {ipod_order}");
    assert_eq!((refunds[0]["line_id"].as_str(), refunds[0]["amount"]["amount"].as_str()), (Some("518995019"), Some("195.67")), "a JSON number, exact");
    assert!(state(&app, &black).await["refunds"].as_array().unwrap().is_empty(), "the other vendor's lines were not refunded");
    let events = app.local.app.tables.events(&OrderId::derive("shopify", "", "450789469")).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event_type.as_str() == "refunded").count(), 1);
}

async fn deliveries_in_swapped_order_end_as_the_newest_says(backend: Backend) {
    let app = spawn_app(backend).await;
    let ipods = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let created = version("2026-11-20T10:00:00-05:00", |o| o["financial_status"] = json!("authorized"));
    let paid_and_moved = version("2026-11-20T11:00:00-05:00", |o| o["shipping_address"]["address1"] = json!("Elm Street 7"));
    // The newer version arrives first, the creation hours later (Shopify's retries).
    app.shopify_webhook("orders/updated", &paid_and_moved, SHOPIFY_SECRET).await;
    app.shopify_webhook("orders/create", &created, SHOPIFY_SECRET).await;
    app.shopify_webhook("orders/updated", &paid_and_moved, SHOPIFY_SECRET).await;
    let order = state(&app, &ipods).await;
    assert_eq!((order["state"].as_str(), order["shipping_address"]["line1"].as_str()), (Some("awaiting_supplier"), Some("Elm Street 7")), "{order}");
    let history: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(history, ["created"], "the stale creation changed nothing");
    assert_eq!(subjects_to(&app, "ipod-shop@vendors.example").await.len(), 1);
}

/// A routed order the storefront cancels is no longer listed as routed work: the
/// operator's listing files it under `cancelled`.
async fn a_routed_order_cancelled_by_the_storefront_lists_as_cancelled(backend: Backend) {
    let app = spawn_app(backend).await;
    routed_to_two_vendors(&app).await;
    let id = order_id().to_string();
    assert!(app.cli(&["orders", "--state", "routed"]).await.unwrap().contains(&id));
    let cancel = version("2026-11-21T09:00:00-05:00", |o| {
        o["cancelled_at"] = json!("2026-11-21T09:00:00-05:00");
        o["financial_status"] = json!("voided");
    });
    assert_eq!(app.shopify_webhook("orders/cancelled", &cancel, SHOPIFY_SECRET).await.status(), 200);
    assert!(!app.cli(&["orders", "--state", "routed"]).await.unwrap().contains(&id), "not routed work any more");
    let cancelled = app.cli(&["orders", "--state", "cancelled"]).await.unwrap();
    assert!(cancelled.contains(&id) && cancelled.contains("\tcancelled\t"), "{cancelled}");
    assert!(app.cli(&["orders"]).await.unwrap().contains("\tcancelled\t"));
}

on_both_backends!(
    a_routed_order_cancelled_by_the_storefront_lists_as_cancelled,
    deliveries_in_swapped_order_end_as_the_newest_says,
    a_refund_of_one_line_is_recorded_once_on_its_vendor_order,
    a_cancel_after_a_partial_shipment_cancels_the_rest_and_tells_the_operator,
    a_new_address_reaches_unshipped_vendor_orders_and_the_operator_hears_of_the_rest,
);
