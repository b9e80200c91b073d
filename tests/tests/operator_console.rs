//! The operator API (`/operator/*`) on both backends: who may call it (operator keys
//! only, and only there), finding an order every way a customer or carrier quotes it,
//! and the operator's acts (give, void, hold, dead letters), each a domain command with
//! its mail, written into the order's history with its reason.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app, spawn_app_configured};
use dropflow_shared::http::{OPERATOR_ROUTES, VENDOR_ROUTES};
use reqwest::Method;
use serde_json::{Value, json};

on_both_backends!(
    operator_routes_take_operator_keys_only_and_vendor_routes_refuse_them,
    an_order_is_found_by_number_id_customer_email_tracking_number_and_vendor,
    the_operator_gives_a_waiting_line_to_a_vendor_who_is_briefed,
    the_operator_voids_a_waiting_line_with_a_reason_and_the_customer_is_told,
    a_held_vendors_new_orders_wait_until_it_is_released,
    the_operator_replays_one_dead_letter_and_discards_another,
    an_erased_order_is_no_longer_found_by_its_customers_email,
    the_operators_address_fix_reaches_the_vendor_and_outlives_the_storefronts_next_update,
    the_operator_gives_a_vendor_more_time_and_the_sweep_keeps_the_new_deadline,
    the_operator_resends_one_mail_to_one_recipient_once_per_act,
    the_operator_gives_a_vendor_order_not_yet_ordered_to_another_vendor_and_the_first_is_told,
    the_operator_runs_the_payouts_exports_them_and_marks_one_paid_once,
    an_order_overdue_past_its_escalation_waits_in_the_decisions_until_its_vendor_acts,
    an_act_sent_again_with_its_idempotency_key_is_done_once,
);

const CUSTOMER: &str = "bob.norman@hostmail.com";

/// An operator API call with `key`: the status and the JSON body.
async fn operator(app: &TestApp, method: Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let value = response.json().await.unwrap_or(Value::Null);
    app.deliver().await;
    (status, value)
}

/// The order #1001 (lines GREEN, RED, BLACK) paid, with `skus` mapped to vendor
/// `acme`; returns acme's key, an operator key and the order's id.
async fn order_1001(app: &TestApp, skus: &[&str]) -> (String, String, String) {
    let vendor_key = app.onboard("acme", skus).await;
    let operator_key = app.cli(&["operator", "key", "create", "alice"]).await.unwrap().trim().to_string();
    assert_eq!(app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    let (_, found) = operator(app, Method::GET, "/operator/orders?q=%231001", &operator_key, None).await;
    let id = found["orders"][0]["order_id"].as_str().expect("#1001 found").to_string();
    (vendor_key, operator_key, id)
}

/// A path of `routes` with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "o_x").replace("{sku}", "SKU1").replace("{number}", "1Z")
}

async fn operator_routes_take_operator_keys_only_and_vendor_routes_refuse_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let vendor_key = app.onboard("acme", &[]).await;
    let operator_key = app.cli(&["operator", "key", "create", "alice"]).await.unwrap().trim().to_string();
    assert!(operator_key.starts_with("dfo_"), "{operator_key}");
    for (method, path) in OPERATOR_ROUTES {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let url = format!("{}{}", app.base, concrete(path));
        let none = app.client.request(method.clone(), &url).json(&json!({"reason": "x"})).send().await.unwrap().status().as_u16();
        assert_eq!(none, 401, "{method} {path} without a key");
        let vendor = app.client.request(method.clone(), &url).bearer_auth(&vendor_key).json(&json!({"reason": "x"})).send().await.unwrap();
        assert_eq!(vendor.status().as_u16(), 403, "{method} {path} with a vendor's key");
    }
    for (method, path) in VENDOR_ROUTES.iter().filter(|(_, p)| p.starts_with("/vendor/") && !p.ends_with("/callback")) {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let url = format!("{}{}", app.base, concrete(path));
        let status = app.client.request(method.clone(), &url).bearer_auth(&operator_key).json(&json!({})).send().await.unwrap().status().as_u16();
        assert_eq!(status, 403, "{method} {path} with an operator's key");
    }
    // The console is a static page with its sign-in inside; no key opens it.
    let page = app.client.get(format!("{}/operator/app", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(r#"name="api_key""#));
    let (status, me) = operator(&app, Method::GET, "/operator/me", &operator_key, None).await;
    assert_eq!((status, me["name"].as_str()), (200, Some("alice")));
    // A revoked operator key is refused like an unknown one.
    let prefix = &operator_key[..12];
    app.cli(&["operator", "key", "revoke", prefix]).await.unwrap();
    assert_eq!(operator(&app, Method::GET, "/operator/me", &operator_key, None).await.0, 401);
    let listed = app.cli(&["operator", "key", "list"]).await.unwrap();
    assert!(listed.contains(prefix) && listed.contains("alice") && listed.contains("revoked"), "{listed}");
}

async fn an_order_is_found_by_number_id_customer_email_tracking_number_and_vendor(backend: Backend) {
    let app = spawn_app(backend).await;
    let (vendor_key, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let only = vec![id.clone()];
    let find = |q: String| {
        let app = &app;
        let key = key.clone();
        async move {
            let (status, page) = operator(app, Method::GET, &format!("/operator/orders?q={}", urlencoding(&q)), &key, None).await;
            assert_eq!(status, 200, "{q}: {page}");
            page["orders"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(find("#1001".into()).await, only);
    assert_eq!(find("1001".into()).await, only, "the number without its #");
    assert_eq!(find(id.clone()).await, only);
    assert_eq!(find(CUSTOMER.into()).await, only);
    assert_eq!(find("  Bob.Norman@HostMail.com ".into()).await, only, "an address as typed");
    assert!(find("someone.else@hostmail.com".into()).await.is_empty());
    // Shipped: found by its tracking number too.
    let (_, vendor_order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &vendor_key, None).await;
    assert_eq!(vendor_order["order_number"], "#1001");
    app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &vendor_key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    let (status, _, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), &vendor_key, Some(json!({"tracking_number": "1Z5R89390357567127"}))).await;
    assert_eq!(status, 200);
    assert_eq!(find("1Z5R89390357567127".into()).await, only);
    // Every order of a vendor, and every order in a listing.
    let (_, page) = operator(&app, Method::GET, "/operator/orders?vendor=acme", &key, None).await;
    assert_eq!(page["orders"][0]["order_id"], id.as_str());
    let (_, page) = operator(&app, Method::GET, "/operator/orders?state=routed", &key, None).await;
    assert_eq!(page["orders"][0]["customer_email"], CUSTOMER);
    let (status, _) = operator(&app, Method::GET, "/operator/orders?state=lost", &key, None).await;
    assert_eq!(status, 400, "an unknown listing is said");
    // A query of hostile text finds nothing and breaks nothing.
    assert!(find("<script>alert(1)</script>".into()).await.is_empty());
    assert!(find("x".repeat(3000)).await.is_empty());
}

/// Percent-encodes a query value.
fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn the_operator_gives_a_waiting_line_to_a_vendor_who_is_briefed(backend: Backend) {
    let app = spawn_app(backend).await;
    // acme sells GREEN and RED; nobody sells BLACK, which waits. beta maps nothing.
    let (_, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED"]).await;
    app.onboard("beta", &[]).await;
    let (_, detail) = operator(&app, Method::GET, &format!("/operator/orders/{id}"), &key, None).await;
    let black = detail["lines"].as_array().unwrap().iter().find(|l| l["sku"] == "IPOD2008BLACK").unwrap().clone();
    assert_eq!(black["status"], "waiting", "{detail}");
    let (_, queue) = operator(&app, Method::GET, "/operator/queue", &key, None).await;
    assert!(queue["decisions"].as_array().unwrap().iter().any(|d| d["kind"] == "waiting_lines" && d["subject"] == id.as_str()), "{queue}");
    let give_path = format!("/operator/orders/{id}/give");
    let give = |body: Value| operator(&app, Method::POST, &give_path, &key, Some(body));
    // No reason, no act; beta maps no BLACK and no supplier is said; a line that does not wait.
    assert_eq!(give(json!({"lines": ["703073504"], "vendor": "beta", "reason": " "})).await.0, 422);
    assert_eq!(give(json!({"lines": ["703073504"], "vendor": "beta", "reason": "beta stocks it"})).await.0, 422);
    assert_eq!(give(json!({"lines": ["466157049"], "vendor": "beta", "reason": "x"})).await.0, 409, "acme's order is given whole, with RED");
    assert_eq!(give(json!({"lines": ["703073504"], "vendor": "nobody", "reason": "x"})).await.0, 404);
    let supplier =
        json!({"supplier_name": "Beta's <b>supplier</b>", "product_url": "https://supplier.example/black", "cost": {"amount": "40.00", "currency": "USD"}});
    let (status, after) = give(json!({"lines": ["703073504"], "vendor": "beta", "reason": "beta stocks it", "supplier": supplier})).await;
    assert_eq!(status, 200, "{after}");
    let black = after["lines"].as_array().unwrap().iter().find(|l| l["sku"] == "IPOD2008BLACK").unwrap().clone();
    assert_eq!((black["status"].as_str(), black["vendor"].as_str()), (Some("routed"), Some("beta")));
    assert_eq!(after["actions"][0]["by"], "alice");
    assert_eq!(after["actions"][0]["reason"], "beta stocks it");
    assert_eq!(after["order"]["waiting_lines"], 0);
    // Twice is not twice: the line no longer waits.
    assert_eq!(give(json!({"lines": ["703073504"], "vendor": "beta", "reason": "again", "supplier": supplier})).await.0, 409);
    // beta is briefed, with the address and where to buy it (its name as text).
    let brief: Vec<Value> = app.outbox().await.into_iter().filter(|m| m["to"] == "beta@vendors.example").collect();
    assert_eq!(brief.len(), 1, "{brief:?}");
    let text = brief[0]["text"].as_str().unwrap();
    assert!(text.contains("https://supplier.example/black") && text.contains("Beta's") && text.contains("IPOD2008BLACK"), "{text}");
    assert!(!brief[0]["html"].as_str().unwrap_or_default().contains("<b>supplier</b>"), "the supplier's name is text in the html");
    let beta = app.cli(&["key", "create", "beta"]).await.unwrap();
    let orders = app.vendor_orders(beta.trim()).await;
    assert_eq!(orders.len(), 1);
    // The CLI gives with the same words.
    let said = app.cli(&["order", "give", "#1001", "703073504", "--vendor", "beta", "--reason", "again"]).await.unwrap_err();
    assert!(said.contains("beta has these lines already"), "{said}");
}

async fn the_operator_voids_a_waiting_line_with_a_reason_and_the_customer_is_told(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let void_path = format!("/operator/orders/{id}/void");
    let void = |body: Value| operator(&app, Method::POST, &void_path, &key, Some(body));
    assert_eq!(void(json!({"lines": ["703073504"]})).await.0, 422, "a reason is required");
    assert_eq!(void(json!({"lines": ["703073504"], "reason": "line\nbreak"})).await.0, 422, "on one line");
    let (status, after) = void(json!({"lines": ["703073504"], "reason": "discontinued"})).await;
    assert_eq!(status, 200, "{after}");
    let black = after["lines"].as_array().unwrap().iter().find(|l| l["sku"] == "IPOD2008BLACK").unwrap().clone();
    assert_eq!(black["status"], "void");
    assert_eq!(after["actions"][0]["action"], "void lines 703073504");
    let told: Vec<Value> =
        app.outbox().await.into_iter().filter(|m| m["to"] == CUSTOMER && m["subject"].as_str().unwrap().contains("cannot be sent")).collect();
    assert_eq!(told.len(), 1, "the customer is told once");
    assert_eq!(void(json!({"lines": ["703073504"], "reason": "again"})).await.0, 409, "void already");
}

async fn a_held_vendors_new_orders_wait_until_it_is_released(backend: Backend) {
    let app = spawn_app(backend).await;
    let vendor_key = app.onboard("acme", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let key = app.cli(&["operator", "key", "create", "alice"]).await.unwrap().trim().to_string();
    let (status, held) = operator(&app, Method::POST, "/operator/vendors/acme/hold", &key, Some(json!({"reason": "late shipments"}))).await;
    assert_eq!((status, held["state"].as_str()), (200, Some("held")));
    assert_eq!(app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    assert!(app.vendor_orders(&vendor_key).await.is_empty(), "nothing routed to a held vendor");
    let (_, found) = operator(&app, Method::GET, "/operator/orders?q=%231001", &key, None).await;
    let id = found["orders"][0]["order_id"].as_str().unwrap().to_string();
    let (_, detail) = operator(&app, Method::GET, &format!("/operator/orders/{id}"), &key, None).await;
    assert!(detail["lines"][0]["reason"].as_str().unwrap().contains("held for review"), "{detail}");
    // Its key still works on what it has.
    assert_eq!(app.vendor(Method::GET, "/vendor/balance", &vendor_key, None).await.0, 200);
    let said = app.cli(&["vendor", "release", "acme", "--reason", "improved"]).await.unwrap();
    assert!(said.contains("3 waiting order lines routed") || said.contains("routed"), "{said}");
    assert_eq!(app.vendor_orders(&vendor_key).await.len(), 1, "routed on release");
    let (_, vendors) = operator(&app, Method::GET, "/operator/vendors", &key, None).await;
    assert_eq!(vendors["vendors"][0]["state"], "active");
    // One vendor whole: its keys (never the key), products, balance and scorecard.
    let (status, acme) = operator(&app, Method::GET, "/operator/vendors/acme", &key, None).await;
    assert_eq!(status, 200, "{acme}");
    assert_eq!((acme["keys"].as_array().unwrap().len(), acme["products"].as_array().unwrap().len()), (1, 3));
    assert!(!acme.to_string().contains(&vendor_key), "the key itself is never shown");
    assert_eq!(acme["scorecard"]["measures"]["cancel_rate"]["denominator"], 1);
    assert_eq!(operator(&app, Method::GET, "/operator/vendors/nobody", &key, None).await.0, 404);
    // Suspended from the console: its key is refused until it is resumed.
    let (status, suspended) = operator(&app, Method::POST, "/operator/vendors/acme/suspend", &key, Some(json!({"reason": "fraud check"}))).await;
    assert_eq!((status, suspended["state"].as_str()), (200, Some("suspended")));
    assert_eq!(app.vendor(Method::GET, "/vendor/balance", &vendor_key, None).await.0, 403);
    operator(&app, Method::POST, "/operator/vendors/acme/resume", &key, Some(json!({"reason": "cleared"}))).await;
    assert_eq!(app.vendor(Method::GET, "/vendor/balance", &vendor_key, None).await.0, 200);
}

async fn the_operator_replays_one_dead_letter_and_discards_another(backend: Backend) {
    use dropflow_shared::ports::DeadLetterQueue;
    let app = spawn_app(backend).await;
    let key = app.cli(&["operator", "key", "create", "alice"]).await.unwrap().trim().to_string();
    // Two events the notifier could not handle, set aside with their reason.
    let publisher = &app.local.app.publisher;
    publisher.park(DeadLetterQueue::Notify, json!({"type": "mystery", "order_id": "o_1"}).to_string(), "unknown event type").await.unwrap();
    publisher.park(DeadLetterQueue::Notify, json!({"type": "mystery", "order_id": "o_2"}).to_string(), "unknown event type").await.unwrap();
    let (status, letters) = operator(&app, Method::GET, "/operator/dead-letters", &key, None).await;
    assert_eq!(status, 200);
    let letters = letters["dead_letters"].as_array().unwrap().clone();
    assert_eq!(letters.len(), 2, "{letters:?}");
    assert!(letters.iter().all(|l| l["body"].is_null() && l["summary"].as_str().unwrap().starts_with("mystery o_")));
    let (first, second) = (letters[0]["id"].as_str().unwrap().to_string(), letters[1]["id"].as_str().unwrap().to_string());
    let (_, one) = operator(&app, Method::GET, &format!("/operator/dead-letters/{first}"), &key, None).await;
    assert!(one["body"].as_str().unwrap().contains("mystery"), "{one}");
    assert_eq!(operator(&app, Method::POST, &format!("/operator/dead-letters/{first}/replay"), &key, Some(json!({"reason": ""}))).await.0, 422);
    let (status, _) = operator(&app, Method::POST, &format!("/operator/dead-letters/{first}/replay"), &key, Some(json!({"reason": "fixed"}))).await;
    assert_eq!(status, 204);
    let (status, _) = operator(&app, Method::POST, &format!("/operator/dead-letters/{second}/discard"), &key, Some(json!({"reason": "a test"}))).await;
    assert_eq!(status, 204);
    assert_eq!(operator(&app, Method::POST, &format!("/operator/dead-letters/{second}/discard"), &key, Some(json!({"reason": "a test"}))).await.0, 404);
    // The replayed one went back to the notifier, which still cannot handle it: set
    // aside again, as a new letter, once.
    app.deliver().await;
    let (_, left) = operator(&app, Method::GET, "/operator/dead-letters", &key, None).await;
    let left = left["dead_letters"].as_array().unwrap();
    assert!(left.len() <= 1 && left.iter().all(|l| l["summary"] == "mystery o_1"), "{left:?}");
}

async fn an_erased_order_is_no_longer_found_by_its_customers_email(backend: Backend) {
    let app = spawn_app(backend).await;
    let (vendor_key, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    // Closed (cancelled by its vendor), then erased at the shop's request.
    let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/cancel"), &vendor_key, Some(json!({"reason": "out of stock"}))).await;
    assert_eq!(status, 200);
    let redact =
        json!({"shop_id": 954889, "shop_domain": "scenario.myshopify.com", "customer": {"id": 191167, "email": CUSTOMER}, "orders_to_redact": [450789469u64]});
    assert_eq!(app.shopify_webhook("customers/redact", &serde_json::to_vec(&redact).unwrap(), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    let (_, page) = operator(&app, Method::GET, &format!("/operator/orders?q={}", urlencoding(CUSTOMER)), &key, None).await;
    assert_eq!(page["orders"], json!([]), "the address leads nowhere once erased");
    let (_, page) = operator(&app, Method::GET, "/operator/orders?q=%231001", &key, None).await;
    assert_eq!(page["orders"][0]["customer_email"], Value::Null, "the order itself is kept, without it");
}

/// The paid #1001, last updated at `updated_at`, changed by `change`.
fn version_1001(updated_at: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["updated_at"] = json!(updated_at);
    change(&mut order);
    serde_json::to_vec(&order).unwrap()
}

/// Where acme's vendor order ships, as acme's API shows it.
async fn ships_to(app: &TestApp, vendor_key: &str, id: &str) -> String {
    let (_, vo, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), vendor_key, None).await;
    vo["shipping_address"]["line1"].as_str().unwrap_or_default().to_string()
}

async fn the_operators_address_fix_reaches_the_vendor_and_outlives_the_storefronts_next_update(backend: Backend) {
    let app = spawn_app(backend).await;
    let (vendor_key, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let storefront_street = ships_to(&app, &vendor_key, &id).await;
    let path = format!("/operator/orders/{id}/address");
    let fixed =
        json!({"name": "Bob Norman", "line1": "24 Sussex <b>Drive</b>", "city": "Ottawa", "region": "ON", "postal_code": "K1M 1M4", "country_code": "CA"});
    // No reason, or an address no carrier takes: refused, nothing changed.
    assert_eq!(operator(&app, Method::POST, &path, &key, Some(json!({"address": fixed, "reason": " "}))).await.0, 422);
    let no_city = json!({"name": "Bob", "line1": "1 Main St", "city": " ", "country_code": "CA"});
    assert_eq!(operator(&app, Method::POST, &path, &key, Some(json!({"address": no_city, "reason": "typo"}))).await.0, 422);
    assert_eq!(ships_to(&app, &vendor_key, &id).await, storefront_street);

    let (status, detail) = operator(&app, Method::POST, &path, &key, Some(json!({"address": fixed, "reason": "the customer phoned: wrong street"}))).await;
    assert_eq!(status, 200, "{detail}");
    let action = &detail["actions"][0];
    assert!(action["action"].as_str().unwrap().starts_with("fix the shipping address"), "{detail}");
    assert_eq!((action["by"].as_str(), action["reason"].as_str()), (Some("alice"), Some("the customer phoned: wrong street")));
    assert_eq!(ships_to(&app, &vendor_key, &id).await, "24 Sussex <b>Drive</b>");
    let mail: Vec<Value> = app
        .outbox()
        .await
        .into_iter()
        .filter(|m| m["to"] == "acme@vendors.example" && m["subject"].as_str().unwrap().contains("new shipping address"))
        .collect();
    assert_eq!(mail.len(), 1);
    assert!(!mail[0]["html"].as_str().unwrap_or_default().contains("<b>Drive</b>"), "the street is text, never markup");
    assert_eq!(operator(&app, Method::POST, &path, &key, Some(json!({"address": fixed, "reason": "again"}))).await.0, 409, "it ships there already");

    // The storefront's next update still carries the address the fix replaced: the fix stands.
    let noted = version_1001("2026-11-20T12:00:00-05:00", |o| o["note"] = json!("leave it at the door"));
    assert_eq!(app.shopify_webhook("orders/updated", &noted, SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    assert_eq!(ships_to(&app, &vendor_key, &id).await, "24 Sussex <b>Drive</b>");
    // The customer moves the order at the storefront: their address wins.
    let moved = version_1001("2026-11-20T13:00:00-05:00", |o| o["shipping_address"]["address1"] = json!("Elm Street 7"));
    assert_eq!(app.shopify_webhook("orders/updated", &moved, SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    assert_eq!(ships_to(&app, &vendor_key, &id).await, "Elm Street 7");
}

/// acme's ship clock in order `id`: when it is due, and whether it repeats a missed one.
async fn ship_clock(app: &TestApp, vendor_key: &str, id: &str) -> (chrono::DateTime<chrono::Utc>, bool) {
    let (_, vo, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), vendor_key, None).await;
    let clock = vo["clocks"].as_array().unwrap().iter().find(|c| c["kind"] == "ship").unwrap_or_else(|| panic!("no ship clock: {vo}")).clone();
    (clock["due_at"].as_str().unwrap().parse().unwrap(), clock.get("overdue_since").is_some_and(|v| !v.is_null()))
}

async fn the_operator_gives_a_vendor_more_time_and_the_sweep_keeps_the_new_deadline(backend: Backend) {
    let app = spawn_app(backend).await;
    let (vendor_key, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let (status, _, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &vendor_key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    assert_eq!(status, 200);
    let (deadline, _) = ship_clock(&app, &vendor_key, &id).await;
    let path = format!("/operator/orders/{id}/extend");
    let extend = |clock: &str, hours: u32, vendor: &str| json!({"vendor": vendor, "clock": clock, "hours": hours, "reason": "the supplier restocks on Monday"});
    for (body, refused) in [
        (extend("nap", 48, "acme"), 422),
        (extend("ship", 0, "acme"), 422),
        (extend("ship", 721, "acme"), 422),
        (extend("place_with_supplier", 48, "acme"), 422),
        (extend("ship", 48, "beta"), 404),
    ] {
        assert_eq!(operator(&app, Method::POST, &path, &key, Some(body.clone())).await.0, refused, "{body}");
    }
    let (status, detail) = operator(&app, Method::POST, &path, &key, Some(extend("ship", 48, "acme"))).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(ship_clock(&app, &vendor_key, &id).await, (deadline + chrono::Duration::hours(48), false));
    let told: Vec<Value> =
        app.outbox().await.into_iter().filter(|m| m["to"] == "acme@vendors.example" && m["subject"].as_str().unwrap().contains("more time to ship")).collect();
    assert_eq!(told.len(), 1);
    assert!(told[0]["text"].as_str().unwrap().contains("48 more hours"), "{}", told[0]["text"]);

    // The old deadline passes: nothing fires. The new one passes: the breach.
    app.cli(&["sweep", "--now", &(deadline + chrono::Duration::minutes(1)).to_rfc3339()]).await.unwrap();
    assert_eq!(ship_clock(&app, &vendor_key, &id).await, (deadline + chrono::Duration::hours(48), false));
    app.cli(&["sweep", "--now", &(deadline + chrono::Duration::hours(48)).to_rfc3339()]).await.unwrap();
    assert!(ship_clock(&app, &vendor_key, &id).await.1, "missed the new deadline: it escalates again");
    // Late already: more time counts from now, and the repeat still knows since when.
    let (repeat_due, _) = ship_clock(&app, &vendor_key, &id).await;
    let now = repeat_due + chrono::Duration::hours(5);
    app.advance_to(now);
    assert_eq!(operator(&app, Method::POST, &path, &key, Some(extend("ship", 24, "acme"))).await.0, 200);
    let (due, repeat) = ship_clock(&app, &vendor_key, &id).await;
    assert_eq!((due, repeat), (chrono::SubsecRound::trunc_subsecs(now + chrono::Duration::hours(24), 0), true));
}

async fn the_operator_resends_one_mail_to_one_recipient_once_per_act(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let briefs = |outbox: &[Value]| outbox.iter().filter(|m| m["to"] == "acme@vendors.example" && m["subject"].as_str().unwrap().contains("New order")).count();
    let to_customer = |outbox: &[Value]| outbox.iter().filter(|m| m["to"] == CUSTOMER).count();
    let before = app.outbox().await;
    assert_eq!(briefs(&before), 1);
    let (_, detail) = operator(&app, Method::GET, &format!("/operator/orders/{id}"), &key, None).await;
    let brief = detail["mail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["to"] == "acme@vendors.example" && m["event"] == "vendor_order_created")
        .expect("the brief is listed")
        .clone();
    let event_id = brief["event_id"].as_str().unwrap();
    let path = format!("/operator/orders/{id}/resend");
    let resend = |event: &str, to: &str| json!({"event_id": event, "to": to, "reason": "the vendor lost it in spam"});
    // A mail that was not sent there, an event not kept, no reason: refused, nothing sent.
    assert_eq!(operator(&app, Method::POST, &path, &key, Some(resend(event_id, "someone@else.example"))).await.0, 409);
    assert_eq!(operator(&app, Method::POST, &path, &key, Some(resend("evt-nope", "acme@vendors.example"))).await.0, 404);
    assert_eq!(operator(&app, Method::POST, &path, &key, Some(json!({"event_id": event_id, "to": "acme@vendors.example", "reason": ""}))).await.0, 422);
    assert_eq!(briefs(&app.outbox().await), 1);

    let (status, detail) = operator(&app, Method::POST, &path, &key, Some(resend(event_id, "acme@vendors.example"))).await;
    assert_eq!(status, 200, "{detail}");
    assert!(detail["actions"][0]["action"].as_str().unwrap().starts_with("resend the vendor_order_created mail"), "{detail}");
    // Delivered again (a redelivery of the resend): still one more brief, to the vendor only.
    app.deliver().await;
    let after = app.outbox().await;
    assert_eq!(briefs(&after), 2);
    assert_eq!(to_customer(&after), to_customer(&before), "the customer got nothing more");
    // Each act is a resend of its own.
    app.cli(&["order", "resend", &id, event_id, "--to", "acme@vendors.example", "--reason", "again"]).await.unwrap();
    app.deliver().await;
    assert_eq!(briefs(&app.outbox().await), 3);
}

async fn the_operator_gives_a_vendor_order_not_yet_ordered_to_another_vendor_and_the_first_is_told(backend: Backend) {
    let app = spawn_app(backend).await;
    // acme sells GREEN and RED and has not ordered them from the supplier; BLACK waits.
    let (acme, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED"]).await;
    app.onboard("beta", &[]).await;
    let beta = app.cli(&["key", "create", "beta"]).await.unwrap().trim().to_string();
    let customer_mail = |outbox: &[Value]| outbox.iter().filter(|m| m["to"] == CUSTOMER).count();
    let before = customer_mail(&app.outbox().await);
    let give_path = format!("/operator/orders/{id}/give");
    let give = |body: Value| operator(&app, Method::POST, &give_path, &key, Some(body));
    let supplier = json!({"supplier_name": "Beta Supply", "product_url": "https://supplier.example/ipod", "cost": {"amount": "40.00", "currency": "USD"}});
    let both = json!(["466157049", "518995019"]);
    // Only whole, only to another vendor.
    let (status, said) = give(json!({"lines": ["466157049"], "vendor": "beta", "reason": "acme is late", "supplier": supplier})).await;
    assert_eq!(status, 409, "{said}");
    assert!(said["detail"].as_str().unwrap().contains("518995019"), "the line left out is named: {said}");
    assert_eq!(give(json!({"lines": both, "vendor": "acme", "reason": "x"})).await.0, 409, "acme has them already");
    let (status, after) = give(json!({"lines": both, "vendor": "beta", "reason": "acme is late", "supplier": supplier})).await;
    assert_eq!(status, 200, "{after}");
    for line in after["lines"].as_array().unwrap().iter().filter(|l| l["sku"] != "IPOD2008BLACK") {
        assert_eq!((line["status"].as_str(), line["vendor"].as_str()), (Some("routed"), Some("beta")), "{after}");
    }
    assert_eq!(after["actions"][0]["reason"], "acme is late");
    // acme's order is over and acme is told not to buy it; beta is briefed with both
    // lines; the customer, whose items still come, hears nothing.
    let acme_order = &app.vendor_orders(&acme).await[0];
    assert_eq!(acme_order["state"], "cancelled", "{acme_order}");
    let outbox = app.outbox().await;
    let told: Vec<&Value> =
        outbox.iter().filter(|m| m["to"] == "acme@vendors.example" && m["subject"].as_str().unwrap().contains("given to another vendor")).collect();
    assert_eq!(told.len(), 1, "{outbox:?}");
    assert!(told[0]["text"].as_str().unwrap().contains("do not"), "{}", told[0]["text"]);
    let brief: Vec<&Value> = outbox.iter().filter(|m| m["to"] == "beta@vendors.example").collect();
    assert_eq!(brief.len(), 1, "{brief:?}");
    let text = brief[0]["text"].as_str().unwrap();
    assert!(text.contains("IPOD2008GREEN") && text.contains("IPOD2008RED") && text.contains("https://supplier.example/ipod"), "{text}");
    assert_eq!(customer_mail(&outbox), before, "the customer is not told of a cancellation");
    // A refund of GREEN now is recorded once, on beta's order, which sends it.
    let refund = json!({"id": 78, "order_id": 450789469, "created_at": "2026-11-20T11:00:00-05:00",
        "refund_line_items": [{"id": 1, "quantity": 1, "line_item_id": 466157049, "restock_type": "cancel", "subtotal": "199.00"}]});
    assert_eq!(app.shopify_webhook("refunds/create", &serde_json::to_vec(&refund).unwrap(), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    assert_eq!(app.vendor_orders(&acme).await[0]["refunds"].as_array().unwrap().len(), 0, "not on the order handed over");
    assert_eq!(app.vendor_orders(&beta).await[0]["refunds"].as_array().unwrap().len(), 1, "on the order that sends it");
    let vendor_order = format!("/vendor/orders/{}", app.vendor_orders(&beta).await[0]["id"].as_str().unwrap());
    // acme cannot order it now; once beta has, nobody can take it from beta.
    let acme_path = format!("/vendor/orders/{}/supplier-order", acme_order["id"].as_str().unwrap());
    assert_eq!(app.vendor(Method::POST, &acme_path, &acme, Some(json!({"supplier_order_ref": "ACME-1"}))).await.0, 409);
    let (status, placed, _) = app.vendor(Method::POST, &format!("{vendor_order}/supplier-order"), &beta, Some(json!({"supplier_order_ref": "BETA-1"}))).await;
    assert_eq!(status, 200, "{placed}");
    let (status, said) = give(json!({"lines": both, "vendor": "acme", "reason": "back to acme", "supplier": supplier})).await;
    assert_eq!(status, 409, "{said}");
    assert!(said["detail"].as_str().unwrap().contains("ordered its part from the supplier"), "{said}");
}

async fn the_operator_runs_the_payouts_exports_them_and_marks_one_paid_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (acme, key, _) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let id = app.vendor_orders(&acme).await[0]["id"].as_str().unwrap().to_string();
    for (path, body) in
        [("supplier-order", json!({"supplier_order_ref": "AE-1"})), ("shipment", json!({"tracking_number": "1Z5R89390357567127"})), ("delivered", json!({}))]
    {
        let (status, said, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/{path}"), &acme, Some(body)).await;
        assert_eq!(status, 200, "{path}: {said}");
    }
    app.deliver().await;
    let run = |reason: &'static str| operator(&app, Method::POST, "/operator/payouts/run", &key, Some(json!({ "reason": reason })));
    assert_eq!(run(" ").await.0, 422, "a reason first");
    let (status, early) = run("Friday's run").await;
    assert_eq!((status, early["released"].as_u64(), early["payouts"].as_array().map(Vec::len)), (200, Some(0), Some(0)), "still held: {early}");
    app.advance(chrono::Duration::days(15));
    let (_, ran) = run("Friday's run").await;
    assert_eq!((ran["released"].as_u64(), ran["payouts"].as_array().map(Vec::len)), (Some(1), Some(1)), "{ran}");
    let payout_id = ran["payouts"][0].as_str().unwrap().to_string();
    // The payment run: listed with no payee yet, so the CSV leaves it out.
    let (status, pending) = operator(&app, Method::GET, "/operator/payouts", &key, None).await;
    assert_eq!(status, 200);
    assert_eq!((pending["payouts"][0]["payout"]["payout_id"].as_str(), pending["payouts"][0]["payee"].as_str()), (Some(payout_id.as_str()), None), "{pending}");
    let export = || async {
        let response = app.client.get(format!("{}/operator/payouts/export", app.base)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
        response.text().await.unwrap()
    };
    assert_eq!(export().await.lines().count(), 1, "the header alone");
    app.cli(&["vendor", "update", "acme", "--payee", "@SUM(1)"]).await.unwrap();
    let csv = export().await;
    let row = csv.lines().nth(1).expect("a row once acme has a payee");
    assert!(row.starts_with("acme,") && row.contains(",'@SUM(1),") && row.ends_with(&payout_id), "a payee like a formula stays text: {row}");
    // Marked paid once: the same reference again is a repeat, another is refused.
    let paid_path = format!("/operator/payouts/{payout_id}/paid");
    let mark = |reference: &'static str| operator(&app, Method::POST, &paid_path, &key, Some(json!({"reference": reference, "reason": "sent by the bank"})));
    let (status, paid) = mark("SEPA-1").await;
    assert_eq!((status, paid["status"].as_str(), paid["reference"].as_str()), (200, Some("paid"), Some("SEPA-1")), "{paid}");
    assert_eq!(mark("SEPA-1").await.0, 200);
    assert_eq!(mark("SEPA-2").await.0, 409);
    let nobody = operator(&app, Method::POST, "/operator/payouts/p_nobody/paid", &key, Some(json!({"reference": "X", "reason": "r"}))).await;
    assert_eq!(nobody.0, 404);
    let (_, pending) = operator(&app, Method::GET, "/operator/payouts", &key, None).await;
    assert_eq!(pending["payouts"].as_array().map(Vec::len), Some(0), "nothing left to pay: {pending}");
    let (_, balance, _) = app.vendor(Method::GET, "/vendor/balance", &acme, None).await;
    assert_eq!(balance["balances"][0]["paid_out"], paid["amount"], "{balance}");
    let paid_mail =
        app.outbox().await.into_iter().filter(|m| m["to"] == "acme@vendors.example" && m["text"].as_str().unwrap_or_default().contains("SEPA-1")).count();
    assert_eq!(paid_mail, 1, "acme is told once");
}

async fn an_order_overdue_past_its_escalation_waits_in_the_decisions_until_its_vendor_acts(backend: Backend) {
    // Escalated again every 24 hours (a clock stays armed), or once (none is).
    for repeat in ["24", "0"] {
        let app = spawn_app_configured(backend, None, &[("SLA_ESCALATION_REPEAT_HOURS", repeat)]).await;
        let (acme, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED"]).await;
        let overdue = || async {
            let (_, queue) = operator(&app, Method::GET, "/operator/queue", &key, None).await;
            queue["decisions"].as_array().unwrap().iter().filter(|d| d["kind"] == "overdue").cloned().collect::<Vec<Value>>()
        };
        let start = app.now();
        let sweep_at = |hours: i64| {
            let at = (start + chrono::Duration::hours(hours)).to_rfc3339();
            let app = &app;
            async move { app.cli(&["sweep", "--now", &at]).await }
        };
        sweep_at(12).await.unwrap();
        assert!(overdue().await.is_empty(), "a reminder is no escalation");
        sweep_at(30).await.unwrap();
        let late = overdue().await;
        assert_eq!(late.len(), 1, "repeat {repeat}: {late:?}");
        let detail = late[0]["detail"].as_str().unwrap();
        assert!(late[0]["subject"] == id.as_str() && detail.contains("acme") && detail.contains("place_with_supplier"), "{detail}");
        // Escalated again a day later: still one decision.
        sweep_at(56).await.unwrap();
        assert_eq!(overdue().await.len(), 1, "repeat {repeat}");
        // acme orders it from the supplier: nothing waits for the operator.
        let vendor_order = app.vendor_orders(&acme).await[0]["id"].as_str().unwrap().to_string();
        let placed =
            app.vendor(Method::POST, &format!("/vendor/orders/{vendor_order}/supplier-order"), &acme, Some(json!({"supplier_order_ref": "AE-9"}))).await;
        assert_eq!(placed.0, 200, "{}", placed.1);
        assert!(overdue().await.is_empty(), "repeat {repeat}");
    }
}

async fn an_act_sent_again_with_its_idempotency_key_is_done_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (vendor_key, key, id) = order_1001(&app, &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let placed = app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &vendor_key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    assert_eq!(placed.0, 200);
    let (deadline, _) = ship_clock(&app, &vendor_key, &id).await;
    // The answer was lost (a timeout, a 503 after the commit): the client sends it again.
    let app = &app;
    let send = |path: String, idempotency: &'static str, body: Value| {
        let request = app.client.post(format!("{}{path}", app.base)).bearer_auth(&key).header("Idempotency-Key", idempotency).json(&body);
        async move {
            let status = request.send().await.unwrap().status().as_u16();
            app.deliver().await;
            status
        }
    };
    let extend = json!({"vendor": "acme", "clock": "ship", "hours": 48, "reason": "restocks Monday"});
    for _ in 0..2 {
        assert_eq!(send(format!("/operator/orders/{id}/extend"), "k-extend", extend.clone()).await, 200);
    }
    assert_eq!(ship_clock(app, &vendor_key, &id).await.0, deadline + chrono::Duration::hours(48), "extended once");
    let other = json!({"vendor": "acme", "clock": "ship", "hours": 24, "reason": "restocks Monday"});
    assert_eq!(send(format!("/operator/orders/{id}/extend"), "k-extend", other).await, 422, "the key with another request");
    // A resend sent twice with its key: one more brief.
    let (_, detail) = operator(app, Method::GET, &format!("/operator/orders/{id}"), &key, None).await;
    let brief = detail["mail"].as_array().unwrap().iter().find(|m| m["to"] == "acme@vendors.example" && m["event"] == "vendor_order_created").unwrap().clone();
    let briefs =
        |outbox: Vec<Value>| outbox.iter().filter(|m| m["to"] == "acme@vendors.example" && m["subject"].as_str().unwrap().contains("New order")).count();
    let before = briefs(app.outbox().await);
    let resend = json!({"event_id": brief["event_id"], "to": "acme@vendors.example", "reason": "lost in spam"});
    for _ in 0..2 {
        assert_eq!(send(format!("/operator/orders/{id}/resend"), "k-resend", resend.clone()).await, 200);
    }
    assert_eq!(briefs(app.outbox().await), before + 1, "resent once");
    let (_, after) = operator(app, Method::GET, &format!("/operator/orders/{id}"), &key, None).await;
    assert_eq!(after["actions"].as_array().unwrap().len(), 2, "one extension, one resend: {}", after["actions"]);
}
