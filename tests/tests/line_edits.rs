//! Line edits after routing (issue 23 #5). Shopify never drops an edited line: a removed
//! line keeps its `quantity` and gets `current_quantity: 0`; `orders/edited` carries
//! only the delta and is a trigger, the `orders/updated` after it the truth. Before the
//! supplier order the vendor order follows the storefront and the vendor is told what
//! changed; after it, the vendor is told to amend the supplier order; what left in a
//! parcel goes to the operator. A new line is routed. Money follows the lines.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

const GREEN: &str = "466157049";
const RED: &str = "518995019";
const BLACK: &str = "703073504";

fn order_id() -> String {
    OrderId::derive("shopify", "", "450789469").to_string()
}

/// The paid fixture at `updated_at`, its red line bought 3 times, changed by `change`.
fn version(updated_at: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["updated_at"] = json!(updated_at);
    order["line_items"][1]["quantity"] = json!(3);
    change(&mut order);
    serde_json::to_vec(&order).unwrap()
}

/// Sets the current quantity of the line `id`.
fn current(order: &mut Value, id: &str, quantity: u32) {
    let lines = order["line_items"].as_array_mut().unwrap();
    let line = lines.iter_mut().find(|l| l["id"].to_string().as_str() == id).unwrap();
    line["current_quantity"] = json!(quantity);
}

/// A line the edit added, of `sku`.
fn added(order: &mut Value, id: u64, sku: &str) {
    let mut line = order["line_items"][0].clone();
    line["id"] = json!(id);
    line["sku"] = json!(sku);
    line["title"] = json!(format!("Added {sku}"));
    line["quantity"] = json!(1);
    line["current_quantity"] = json!(1);
    order["line_items"].as_array_mut().unwrap().push(line);
}

async fn routed_to_two_vendors(app: &TestApp) -> (String, String) {
    let ipods = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let black = app.onboard("black-gear", &["IPOD2008BLACK"]).await;
    assert_eq!(app.shopify_webhook("orders/paid", &version("2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await.status(), 200);
    (ipods, black)
}

async fn state(app: &TestApp, key: &str) -> Value {
    let (status, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), key, None).await;
    assert_eq!(status, 200, "{order}");
    order
}

fn quantities(order: &Value) -> Vec<(String, u64)> {
    order["lines"].as_array().unwrap().iter().map(|l| (l["line_id"].as_str().unwrap().to_string(), l["quantity"].as_u64().unwrap())).collect()
}

async fn mail_to(app: &TestApp, to: &str) -> Vec<Value> {
    app.outbox().await.into_iter().filter(|m| m["to"] == to).collect()
}

async fn an_edit_before_the_supplier_order_changes_the_vendor_order_and_tells_the_vendor_what_changed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ipods, black) = routed_to_two_vendors(&app).await;
    assert_eq!(quantities(&state(&app, &ipods).await), [(GREEN.to_string(), 1), (RED.to_string(), 3)]);
    let edit = version("2026-11-20T11:00:00-05:00", |o| {
        current(o, GREEN, 0);
        current(o, RED, 1);
        added(o, 900, "IPOD2008BLACK");
        added(o, 901, "NOT-SOLD-HERE");
    });
    // The delta first (a trigger: nothing changes), then the edited order, twice.
    assert_eq!(app.shopify_webhook("orders/edited", br#"{"order_edit":{"order_id":450789469}}"#, SHOPIFY_SECRET).await.status(), 200);
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("orders/updated", &edit, SHOPIFY_SECRET).await.status(), 200);
    }
    let edited = state(&app, &ipods).await;
    assert_eq!(quantities(&edited), [(RED.to_string(), 1)], "the removed line is gone, the other requantified: {edited}");
    assert_eq!(edited["state"], "awaiting_supplier");
    let notices: Vec<Value> =
        mail_to(&app, "ipod-shop@vendors.example").await.into_iter().filter(|m| m["subject"].as_str().unwrap().contains("lines were edited")).collect();
    assert_eq!(notices.len(), 1, "told once: {notices:?}");
    let text = notices[0]["text"].as_str().unwrap();
    assert!(text.contains("removed: 1 x IPod Nano - 8gb") && text.contains("3 → 1 x IPod Nano - 8gb") && text.contains("order them as they are now"), "{text}");
    // The added line of a SKU black-gear sells joins its order (nothing ordered yet), and
    // the brief goes again; the unmapped one waits for its SKU, the operator told.
    assert_eq!(quantities(&state(&app, &black).await), [(BLACK.to_string(), 1), ("900".to_string(), 1)]);
    let briefs = mail_to(&app, "black-gear@vendors.example").await;
    assert_eq!(briefs.len(), 2, "the first brief and the one with the new line: {briefs:?}");
    assert!(briefs[1]["text"].as_str().unwrap().contains("Added IPOD2008BLACK"));
    let operator = mail_to(&app, "ops@market.example").await;
    assert!(operator.iter().any(|m| m["text"].as_str().unwrap().contains("NOT-SOLD-HERE")), "{operator:?}");
    // Once mapped, it routes like any waiting line.
    app.cli(&[
        "product",
        "add",
        "NOT-SOLD-HERE",
        "--vendor",
        "black-gear",
        "--supplier",
        "AliExpress",
        "--url",
        "https://example.com/x",
        "--cost",
        "1.00",
        "--currency",
        "USD",
    ])
    .await
    .unwrap();
    assert!(quantities(&state(&app, &black).await).contains(&("901".to_string(), 1)));
}

async fn an_edit_after_the_supplier_order_asks_to_amend_it_and_a_shipped_line_goes_to_the_operator(backend: Backend) {
    let app = spawn_app(backend).await;
    let (ipods, black) = routed_to_two_vendors(&app).await;
    let id = order_id();
    let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &ipods, Some(json!({"supplier_order_ref": "AE-77"}))).await;
    assert_eq!(status, 200);
    for (path, body) in [("supplier-order", json!({"supplier_order_ref": "AE-1"})), ("shipment", json!({"tracking_number": "1Z5R89390357567127"}))] {
        let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/{path}"), &black, Some(body)).await;
        assert_eq!(status, 200);
    }
    let edit = version("2026-11-21T09:00:00-05:00", |o| {
        current(o, RED, 0);
        current(o, BLACK, 0);
    });
    assert_eq!(app.shopify_webhook("orders/updated", &edit, SHOPIFY_SECRET).await.status(), 200);
    let amended = state(&app, &ipods).await;
    assert_eq!(quantities(&amended), [(GREEN.to_string(), 1)]);
    assert_eq!(amended["state"], "awaiting_shipment", "what is left was ordered: it waits for shipment");
    let notice = mail_to(&app, "ipod-shop@vendors.example").await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("lines were edited")).unwrap();
    assert!(notice["text"].as_str().unwrap().contains("amend that order to match, or cancel it"), "{notice}");
    assert!(notice["text"].as_str().unwrap().contains("AE-77"));
    let shipped = state(&app, &black).await;
    assert_eq!((shipped["state"].as_str(), quantities(&shipped)), (Some("shipped"), vec![(BLACK.to_string(), 1)]), "a line in a parcel stays as it left");
    let operator: Vec<Value> = mail_to(&app, "ops@market.example")
        .await
        .into_iter()
        .filter(|m| m["subject"].as_str().unwrap().contains("had lines edited after part of it shipped"))
        .collect();
    assert_eq!(operator.len(), 1, "{operator:?}");
    assert!(operator[0]["text"].as_str().unwrap().contains("black-gear: shipped (removed: 1 x IPod Nano - 8gb)"), "{}", operator[0]["text"]);
    // Every line of a vendor order removed: it is cancelled, its vendor told to cancel.
    let none_left = version("2026-11-21T10:00:00-05:00", |o| {
        current(o, RED, 0);
        current(o, BLACK, 0);
        current(o, GREEN, 0);
    });
    assert_eq!(app.shopify_webhook("orders/updated", &none_left, SHOPIFY_SECRET).await.status(), 200);
    let cancelled = state(&app, &ipods).await;
    assert_eq!((cancelled["state"].as_str(), cancelled["cancel_reason"].as_str()), (Some("cancelled"), Some("the storefront removed every line")));
    assert!(mail_to(&app, "ipod-shop@vendors.example").await.iter().any(|m| m["subject"].as_str().unwrap().contains("cancel the supplier order")));
}

async fn a_vendor_earns_on_the_units_it_sends_and_a_refund_of_the_removed_ones_is_not_taken_twice(backend: Backend) {
    let app = spawn_app(backend).await;
    let ipods = app.onboard("ipod-shop", &["IPOD2008RED"]).await;
    let one_line = |updated_at: &str, change: &dyn Fn(&mut Value)| {
        version(updated_at, |o| {
            let red = o["line_items"][1].clone();
            o["line_items"] = json!([red]);
            change(o);
        })
    };
    app.shopify_webhook("orders/paid", &one_line("2026-11-20T10:00:00-05:00", &|_| {}), SHOPIFY_SECRET).await;
    let paid = state(&app, &ipods).await;
    assert_eq!(paid["economics"]["customer_paid"]["amount"], "597.00", "{paid}");
    // Two of the three units are cancelled: Shopify refunds them and lowers the current
    // quantity; the two facts are one.
    let refund = serde_json::to_vec(&json!({
        "id": 77, "order_id": 450789469, "created_at": "2026-11-20T11:00:00-05:00",
        "refund_line_items": [{"id": 1, "quantity": 2, "line_item_id": RED.parse::<u64>().unwrap(), "restock_type": "cancel", "subtotal": "398.00"}]
    }))
    .unwrap();
    let edited = one_line("2026-11-20T11:00:00-05:00", &|o| {
        o["financial_status"] = json!("partially_refunded");
        current(o, RED, 1);
    });
    assert_eq!(app.shopify_webhook("orders/updated", &edited, SHOPIFY_SECRET).await.status(), 200);
    let requantified = state(&app, &ipods).await;
    assert_eq!(quantities(&requantified), [(RED.to_string(), 1)]);
    assert_eq!(requantified["economics"]["customer_paid"]["amount"], "199.00", "the unit it sends: {requantified}");
    assert_eq!(app.shopify_webhook("refunds/create", &refund, SHOPIFY_SECRET).await.status(), 200);
    let refunded = state(&app, &ipods).await;
    assert_eq!(refunded["economics"]["customer_paid"]["amount"], "199.00", "the refund was of the removed units: {refunded}");
    let id = order_id();
    for (path, body) in
        [("supplier-order", json!({"supplier_order_ref": "AE-1"})), ("shipment", json!({"tracking_number": "1Z5R89390357567127"})), ("delivered", json!({}))]
    {
        let (status, body, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/{path}"), &ipods, Some(body)).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, balance, _) = app.vendor(Method::GET, "/vendor/balance", &ipods, None).await;
    let usd = balance["balances"].as_array().unwrap().iter().find(|b| b["currency"] == "USD").cloned().unwrap();
    let expected = app.local.app.config.commission_bps.get();
    let net = 19_900 - (19_900 * i64::from(expected) + 5_000) / 10_000;
    assert_eq!(usd["held"]["amount"], format!("{}.{:02}", net / 100, net % 100), "{balance}");
}

/// A line an edit removed can come back: two versions stamped in one second (Shopify
/// stamps whole seconds) arrive in either order. When the vendor order that held it was
/// cancelled because the edit had removed all its lines, the line is routed again, to a
/// new vendor order: it is never left in a cancelled one (dropflow-sim's convergence
/// check found it lost when the two versions swapped).
async fn a_removed_line_that_comes_back_is_routed_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, black) = routed_to_two_vendors(&app).await;
    let removed = version("2026-11-20T10:05:00-05:00", |o| current(o, BLACK, 0));
    assert_eq!(app.shopify_webhook("orders/updated", &removed, SHOPIFY_SECRET).await.status(), 200);
    assert_eq!(state(&app, &black).await["state"], "cancelled", "its only line was removed");
    let back = version("2026-11-20T10:05:00-05:00", |o| current(o, BLACK, 1));
    assert_eq!(app.shopify_webhook("orders/updated", &back, SHOPIFY_SECRET).await.status(), 200);
    let owners = app.local.app.tables.vendor_orders_of(&OrderId::derive("shopify", "", "450789469")).await.unwrap();
    let open: Vec<_> = owners.iter().filter(|vo| vo.vendor_id.as_str() == "black-gear" && !vo.is_closed()).collect();
    assert_eq!(open.len(), 1, "{owners:?}");
    assert_eq!(open[0].lines.iter().map(|l| (l.line.line_id.as_str(), l.line.quantity)).collect::<Vec<_>>(), [(BLACK, 1)]);
}

on_both_backends!(
    a_removed_line_that_comes_back_is_routed_again,
    an_edit_before_the_supplier_order_changes_the_vendor_order_and_tells_the_vendor_what_changed,
    an_edit_after_the_supplier_order_asks_to_amend_it_and_a_shipped_line_goes_to_the_operator,
    a_vendor_earns_on_the_units_it_sends_and_a_refund_of_the_removed_ones_is_not_taken_twice,
);
