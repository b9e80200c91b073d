//! Lines nobody sold route themselves once their SKU is mapped: into a new vendor order
//! for a vendor that had none in the order, or into the vendor's order while nothing has
//! been ordered from the supplier, or else into the vendor's next vendor order beside
//! the one that moved on, which is left alone.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

fn order_id() -> OrderId {
    OrderId::derive("shopify", "", "450789469")
}

async fn map(app: &TestApp, sku: &str, vendor: &str) -> String {
    app.map_sku(sku, vendor, "61.50 USD").await.unwrap()
}

async fn lines_of(app: &TestApp, key: &str) -> Vec<String> {
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), key, None).await;
    order["lines"].as_array().map(|l| l.iter().map(|l| l["sku"].as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

async fn mapping_a_waiting_sku_routes_its_lines_to_the_right_vendor_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let ipods = app.onboard("ipod-shop", &["IPOD2008GREEN"]).await;
    let black = app.onboard("black-gear", &[]).await;
    app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await;
    assert_eq!(app.local.app.tables.order(&order_id()).await.unwrap().unwrap().unroutable.len(), 2);

    // RED joins ipod-shop's order: nothing was ordered from the supplier yet.
    let said = map(&app, "IPOD2008RED", "ipod-shop").await;
    assert!(said.contains("1 waiting order lines routed"), "{said}");
    app.deliver().await;
    assert_eq!(lines_of(&app, &ipods).await, ["IPOD2008GREEN", "IPOD2008RED"]);
    let briefs: Vec<Value> = app.outbox().await.into_iter().filter(|m| m["to"] == "ipod-shop@vendors.example").collect();
    assert_eq!(briefs.len(), 2, "the vendor gets the whole brief again, with the new line");
    // The second brief says which line is new, in its subject and body, so that the
    // first line is not bought twice.
    let (subject, text) = (briefs[1]["subject"].as_str().unwrap(), briefs[1]["text"].as_str().unwrap());
    assert!(subject.starts_with("Order #1001: 1 x IPod Nano - 8gb (red) joined it; order all 2 lines by"), "{subject}");
    assert!(text.contains("NEW: IPod Nano - 8gb (red)") && !text.contains("NEW: IPod Nano - 8gb (green)"), "{text}");
    assert!(text.contains("do not order from both"), "{text}");
    assert!(!briefs[0]["text"].as_str().unwrap().contains("NEW:"), "the first brief marks nothing");

    // ipod-shop orders from its supplier; BLACK then goes to black-gear, which had none.
    let (status, _, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order", order_id()), &ipods, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    assert_eq!(status, 200);
    map(&app, "IPOD2008BLACK", "black-gear").await;
    app.deliver().await;
    assert_eq!(lines_of(&app, &black).await, ["IPOD2008BLACK"]);
    assert_eq!(app.outbox().await.iter().filter(|m| m["to"] == "black-gear@vendors.example").count(), 1);
    let record = app.local.app.tables.order(&order_id()).await.unwrap().unwrap();
    assert!(record.unroutable.is_empty(), "{:?}", record.unroutable);
    assert!(
        app.local.app.tables.waiting_orders(&dropflow_shared::domain::ids::Sku::parse("IPOD2008BLACK").unwrap()).await.unwrap().is_empty(),
        "no longer waiting"
    );

    // Mapping again, or rerouting by hand, routes nothing twice.
    map(&app, "IPOD2008BLACK", "black-gear").await;
    assert_eq!(app.cli(&["reroute", order_id().as_str()]).await.unwrap(), format!("0 lines of order {} routed", order_id()));
    app.deliver().await;
    assert_eq!(lines_of(&app, &black).await, ["IPOD2008BLACK"]);
}

async fn a_line_for_a_vendor_whose_order_moved_on_makes_its_next_vendor_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let ipods = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await;
    app.vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order", order_id()), &ipods, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    map(&app, "IPOD2008RED", "ipod-shop").await;
    app.deliver().await;
    assert_eq!(lines_of(&app, &ipods).await, ["IPOD2008GREEN", "IPOD2008BLACK"], "an order placed with the supplier is not changed");
    let second = format!("{}-2", order_id());
    let (status, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{second}"), &ipods, None).await;
    assert_eq!(status, 200, "{order}");
    assert_eq!(
        (order["id"].as_str(), order["state"].as_str(), order["lines"][0]["sku"].as_str()),
        (Some(second.as_str()), Some("awaiting_supplier"), Some("IPOD2008RED"))
    );
    let history: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(history, ["created"], "each vendor order has its own history");
    let briefs: Vec<String> =
        app.outbox().await.into_iter().filter(|m| m["to"] == "ipod-shop@vendors.example").map(|m| m["html"].as_str().unwrap().to_string()).collect();
    assert_eq!(briefs.len(), 2, "a brief for the new vendor order, not taken for the first one's");
    assert!(briefs[1].contains(&format!("http://127.0.0.1:3000/vendor/app#orders/{second}")), "the brief links to its own order's page: {}", briefs[1]);
    let (status, placed, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{second}/supplier-order"), &ipods, Some(json!({"supplier_order_ref": "AE-2"}))).await;
    assert_eq!((status, placed["supplier_order_ref"].as_str()), (200, Some("AE-2")));
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &ipods, None).await;
    assert_eq!(list["orders"].as_array().unwrap().len(), 2);
    assert!(app.local.app.tables.order(&order_id()).await.unwrap().unwrap().unroutable.is_empty());
    // Rerouting again makes no third.
    app.cli(&["reroute", order_id().as_str()]).await.unwrap();
    app.deliver().await;
    let (status, _, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}-3", order_id()), &ipods, None).await;
    assert_eq!(status, 404);
}

async fn a_cancelled_order_routes_nothing_when_its_skus_are_mapped(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let black = app.onboard("black-gear", &[]).await;
    app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await;
    let mut cancelled: serde_json::Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    cancelled["updated_at"] = json!("2026-11-21T09:00:00-05:00");
    cancelled["cancelled_at"] = json!("2026-11-21T09:00:00-05:00");
    app.shopify_webhook("orders/cancelled", &serde_json::to_vec(&cancelled).unwrap(), SHOPIFY_SECRET).await;
    let said = map(&app, "IPOD2008BLACK", "black-gear").await;
    assert!(!said.contains("routed"), "{said}");
    app.deliver().await;
    assert!(lines_of(&app, &black).await.is_empty(), "no vendor is handed a line of a cancelled order");
    assert!(app.outbox().await.iter().all(|m| m["to"] != "black-gear@vendors.example"));
}

on_both_backends!(
    a_cancelled_order_routes_nothing_when_its_skus_are_mapped,
    mapping_a_waiting_sku_routes_its_lines_to_the_right_vendor_order,
    a_line_for_a_vendor_whose_order_moved_on_makes_its_next_vendor_order,
);
