//! The vendor API as a vendor's tools meet it: its wire formats (money as exact decimal
//! strings, instants to the second, the version as an `ETag`), the listing newest first
//! and paged, `If-Match`, `Idempotency-Key`, natural repeats, and every kind of bad
//! request answered with the right problem.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// The paid fixture as Shopify order `external`.
fn order(external: u64) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["id"] = json!(external);
    order["name"] = json!(format!("#{external}"));
    serde_json::to_vec(&order).unwrap()
}

async fn vendor_with_orders(app: &TestApp, externals: &[u64]) -> String {
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    for external in externals {
        app.shopify_webhook("orders/paid", &order(*external), SHOPIFY_SECRET).await;
    }
    key
}

async fn ids(app: &TestApp, key: &str, query: &str) -> (Vec<String>, Option<String>) {
    let (status, page, _) = app.vendor(Method::GET, &format!("/vendor/orders{query}"), key, None).await;
    assert_eq!(status, 200, "{page}");
    let ids = page["orders"].as_array().unwrap().iter().map(|o| o["order_number"].as_str().unwrap().to_string()).collect();
    (ids, page["cursor"].as_str().map(str::to_string))
}

/// A vendor's POST to one of its order's actions.
async fn act(app: &TestApp, key: &str, id: &dropflow_shared::domain::ids::OrderId, action: &str, body: Value) -> (u16, Value, String) {
    app.vendor(Method::POST, &format!("/vendor/orders/{id}/{action}"), key, Some(body)).await
}

/// A raw request, for headers the helper does not send.
async fn send(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> reqwest::Response {
    let mut request = app.client.request(method, format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.unwrap();
    app.deliver().await;
    response
}

async fn money_is_exact_text_instants_are_to_the_second_and_the_version_is_the_etag(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1]).await;
    let (list, _) = ids(&app, &key, "").await;
    let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1").to_string();
    let response = send(&app, Method::GET, &format!("/vendor/orders/{id}"), &[("authorization", &format!("Bearer {key}"))], None).await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let order: Value = response.json().await.unwrap();
    assert_eq!(list, ["#1"]);
    assert_eq!(order["lines"][0]["paid"], json!({"amount": "199.00", "currency": "USD"}), "{order}");
    assert_eq!(order["lines"][0]["supplier"]["cost_per_unit"], json!({"amount": "61.50", "currency": "USD"}));
    assert_eq!(order["economics"]["customer_paid"]["amount"], "597.00", "{}", order["economics"]);
    assert!(order["economics"]["margin"]["amount"].is_string());
    let created = order["created_at"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z'), "RFC 3339 UTC to the second: {created}");
    assert!(order.get("version").is_none(), "the version is the ETag, not the body");
    assert!(order["history"][0]["at"].as_str().unwrap().ends_with('Z'));
}

async fn the_listing_is_newest_first_in_every_state_and_pages_by_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1, 2, 3]).await;
    let second = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "2");
    let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{second}/supplier-order"), &key, Some(json!({"supplier_order_ref": "AE-2"}))).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&app, &key, "").await.0, ["#3", "#2", "#1"], "newest first, whatever the state");
    assert_eq!(ids(&app, &key, "?state=awaiting_supplier").await.0, ["#3", "#1"]);
    assert_eq!(ids(&app, &key, "?state=awaiting_shipment").await.0, ["#2"]);
    let (first, cursor) = ids(&app, &key, "?limit=2").await;
    assert_eq!(first, ["#3", "#2"]);
    let (rest, end) = ids(&app, &key, &format!("?limit=2&cursor={}", cursor.expect("a next page"))).await;
    assert_eq!((rest, end), (vec!["#1".to_string()], None));
    for bad in ["?limit=0", "?limit=101", "?limit=ten", "?state=lost", "?cursor=forged"] {
        let (status, problem, content_type) = app.vendor(Method::GET, &format!("/vendor/orders{bad}"), &key, None).await;
        assert_eq!((status, content_type.as_str()), (400, "application/problem+json"), "{bad}: {problem}");
    }
}

async fn a_stale_if_match_is_refused_and_a_current_one_applies(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1]).await;
    let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
    let auth = format!("Bearer {key}");
    let path = format!("/vendor/orders/{id}/supplier-order");
    let stale = send(&app, Method::POST, &path, &[("authorization", &auth), ("if-match", "\"7\"")], Some(r#"{"supplier_order_ref":"AE-1"}"#)).await;
    assert_eq!(stale.status(), 412);
    let current = send(&app, Method::POST, &path, &[("authorization", &auth), ("if-match", "\"1\"")], Some(r#"{"supplier_order_ref":"AE-1"}"#)).await;
    assert_eq!((current.status().as_u16(), current.headers()["etag"].to_str().unwrap()), (200, "\"2\""));
}

async fn an_idempotency_key_replays_its_request_and_refuses_another(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1]).await;
    let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
    let auth = format!("Bearer {key}");
    let path = format!("/vendor/orders/{id}/supplier-order");
    for _ in 0..3 {
        let response =
            send(&app, Method::POST, &path, &[("authorization", &auth), ("idempotency-key", "place-1")], Some(r#"{"supplier_order_ref":"AE-1"}"#)).await;
        assert_eq!(response.status(), 200);
        let order: Value = response.json().await.unwrap();
        assert_eq!((order["state"].as_str(), order["supplier_order_ref"].as_str()), (Some("awaiting_shipment"), Some("AE-1")));
    }
    let other = send(&app, Method::POST, &path, &[("authorization", &auth), ("idempotency-key", "place-1")], Some(r#"{"supplier_order_ref":"AE-9"}"#)).await;
    assert_eq!(other.status(), 422);
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &key, None).await;
    let placed = order["history"].as_array().unwrap().iter().filter(|h| h["action"] == "supplier_order_placed").count();
    assert_eq!(placed, 1, "replays change nothing: {order}");
    let mail = app.outbox().await.len();
    send(&app, Method::POST, &path, &[("authorization", &auth), ("idempotency-key", "place-1")], Some(r#"{"supplier_order_ref":"AE-1"}"#)).await;
    assert_eq!(app.outbox().await.len(), mail, "and mail nobody");
}

async fn repeating_what_happened_with_the_same_data_answers_the_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1]).await;
    let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
    let post = |path: &'static str, body: Value| act(&app, &key, &id, path, body);
    assert_eq!(post("supplier-order", json!({"supplier_order_ref": "AE-1"})).await.0, 200);
    assert_eq!(post("supplier-order", json!({"supplier_order_ref": "AE-1"})).await.0, 200, "the same ref again");
    assert_eq!(post("supplier-order", json!({"supplier_order_ref": "AE-2"})).await.0, 409, "another ref");
    assert_eq!(post("shipment", json!({"tracking_number": "1Z5R89390357567127"})).await.0, 200);
    let (status, again, _) = post("shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    assert_eq!((status, again["state"].as_str()), (200, Some("shipped")));
    assert_eq!(post("shipment", json!({"tracking_number": "1Z5R89390357567136"})).await.0, 409, "another parcel number");
    assert_eq!(post("delivered", json!({})).await.0, 200);
    assert_eq!(post("delivered", json!({})).await.0, 200);
    assert_eq!(post("cancel", json!({"reason": "late"})).await.0, 409, "too late to cancel");
}

async fn bad_requests_get_the_problem_they_are(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1]).await;
    let other = app.onboard("other-shop", &[]).await;
    let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
    let path = format!("/vendor/orders/{id}/supplier-order");
    let auth = format!("Bearer {key}");
    let lower = format!("bearer {key}");
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(send(&app, Method::GET, &format!("/vendor/orders/{id}"), &[("authorization", &lower)], None).await), 200, "the scheme in any case");
    assert_eq!(status(send(&app, Method::GET, "/vendor/orders", &[], None).await), 401);
    assert_eq!(status(send(&app, Method::GET, "/vendor/orders", &[("authorization", "Bearer nope")], None).await), 401);
    assert_eq!(app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &other, None).await.0, 404, "another vendor's order is not found");
    assert_eq!(app.vendor(Method::POST, &path, &other, Some(json!({"supplier_order_ref": "X"}))).await.0, 404);
    assert_eq!(status(send(&app, Method::POST, &path, &[("authorization", &auth)], Some("{not json")).await), 400);
    let typed = send(&app, Method::POST, &path, &[("authorization", &auth)], Some(r#"{"supplier_order_ref": 7}"#)).await;
    assert_eq!(typed.status(), 422);
    let missing = send(&app, Method::POST, &path, &[("authorization", &auth)], Some("{}")).await;
    assert_eq!(missing.status(), 422);
    assert!(missing.text().await.unwrap().contains("supplier_order_ref"), "the missing field is named");
    let big = format!(r#"{{"supplier_order_ref": "{}"}}"#, "x".repeat(1024 * 1024));
    assert_eq!(status(send(&app, Method::POST, &path, &[("authorization", &auth)], Some(&big)).await), 413);
    let wrong_method = send(&app, Method::DELETE, "/vendor/orders", &[("authorization", &auth)], None).await;
    assert_eq!(wrong_method.status(), 405);
    assert_eq!(wrong_method.headers()["content-type"], "application/problem+json");
    assert_eq!(
        status(
            send(&app, Method::POST, &path, &[("authorization", &auth), ("idempotency-key", &"k".repeat(300))], Some(r#"{"supplier_order_ref":"A"}"#)).await
        ),
        400
    );
    // Free text that could never fit is refused with its field named, never a 503.
    let base = format!("/vendor/orders/{id}");
    let (status_code, answer, _) = app.vendor(Method::POST, &format!("{base}/cancel"), &key, Some(json!({"reason": "r".repeat(5000)}))).await;
    assert_eq!(status_code, 422, "{answer}");
    assert!(answer["detail"].as_str().unwrap().contains("reason"), "{answer}");
    for hostile in ["   ", "AE-1\r\nBcc: all@example.com", &"r".repeat(201)] {
        let (status_code, answer, _) = app.vendor(Method::POST, &path, &key, Some(json!({"supplier_order_ref": hostile}))).await;
        assert_eq!(status_code, 422, "{hostile:?} was taken: {answer}");
        assert!(answer["detail"].as_str().unwrap().contains("supplier_order_ref"), "{answer}");
    }
    app.vendor(Method::POST, &path, &key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    let (status_code, answer, _) =
        app.vendor(Method::POST, &format!("{base}/shipment"), &key, Some(json!({"carrier": "c".repeat(5000), "tracking_number": "ABC123456"}))).await;
    assert_eq!(status_code, 422, "{answer}");
    assert!(answer["detail"].as_str().unwrap().contains("carrier"), "{answer}");
}

async fn a_vendor_cancellation_tells_the_customer_kindly_and_the_operator_why(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1]).await;
    let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
    let reason = "supplier <b>out of stock</b>, margins too thin";
    let (status, order, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/cancel"), &key, Some(json!({"reason": reason}))).await;
    assert_eq!((status, order["state"].as_str()), (200, Some("cancelled")));
    let outbox = app.outbox().await;
    let customer: Vec<&Value> =
        outbox.iter().filter(|m| m["to"] == "bob.norman@hostmail.com" && m["subject"].as_str().unwrap().contains("cannot be sent")).collect();
    assert_eq!(customer.len(), 1, "{outbox:?}");
    let said = serde_json::to_string(customer[0]).unwrap();
    assert!(!said.contains("margins") && !said.contains("out of stock"), "the vendor's reason is not the customer's business: {said}");
    let operator: Vec<&Value> =
        outbox.iter().filter(|m| m["to"] == "ops@market.example" && m["subject"].as_str().unwrap().contains("cancelled its part")).collect();
    assert_eq!(operator.len(), 1);
    assert!(operator[0]["text"].as_str().unwrap().contains("margins too thin"));
    assert!(!operator[0]["html"].as_str().unwrap().contains("<b>out"), "the reason is text in the HTML, never markup");
    let (status, _, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/cancel"), &key, Some(json!({"reason": reason}))).await;
    assert_eq!(status, 200, "the same cancellation again");
    assert_eq!(app.outbox().await.len(), outbox.len(), "and nobody is told twice");
}

async fn every_mutation_refuses_bad_bodies_the_same_way(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1]).await;
    let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
    let auth = format!("Bearer {key}");
    let big = format!(r#"{{"x": "{}"}}"#, "x".repeat(1024 * 1024));
    let routes: [(Method, String, &str, &str); 5] = [
        (Method::POST, format!("/vendor/orders/{id}/supplier-order"), r#"{"supplier_order_ref": []}"#, "supplier_order_ref"),
        (Method::POST, format!("/vendor/orders/{id}/shipment"), r#"{"tracking_number": 5}"#, "tracking_number"),
        (Method::POST, format!("/vendor/orders/{id}/cancel"), r#"{"reason": null}"#, "reason"),
        (Method::POST, format!("/vendor/orders/{id}/delivered"), r#"{"surprise": 1}"#, "surprise"),
        (
            Method::PUT,
            "/vendor/products/SKU-9".to_string(),
            r#"{"supplier_name": "S", "product_url": "https://s.example/1", "supplier_cost": "1.00"}"#,
            "supplier_cost",
        ),
    ];
    for (method, path, wrong, field) in routes {
        let status = |r: reqwest::Response| r.status().as_u16();
        assert_eq!(status(send(&app, method.clone(), &path, &[], Some(wrong)).await), 401, "{path}: the key first");
        assert_eq!(status(send(&app, method.clone(), &path, &[("authorization", &auth)], Some("{oops")).await), 400, "{path}");
        assert_eq!(status(send(&app, method.clone(), &path, &[("authorization", &auth)], Some(&big)).await), 413, "{path}");
        let typed = send(&app, method.clone(), &path, &[("authorization", &auth)], Some(wrong)).await;
        assert_eq!(typed.status(), 422, "{path}");
        let problem: Value = typed.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains(field), "{path}: {problem}");
    }
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &key, None).await;
    assert_eq!(order["state"], "awaiting_supplier", "nothing changed");
}

async fn two_suppliers_and_two_parcels_each_get_their_reference_tracking_and_mail(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = vendor_with_orders(&app, &[1]).await;
    let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
    let post = |path: &'static str, body: Value| act(&app, &key, &id, path, body);
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &key, None).await;
    let lines: Vec<String> = order["lines"].as_array().unwrap().iter().map(|l| l["line_id"].as_str().unwrap().to_string()).collect();
    let (status, placed, _) = post("supplier-order", json!({"supplier_order_ref": "AE-1", "lines": [lines[0], lines[1]]})).await;
    assert_eq!((status, placed["state"].as_str()), (200, Some("awaiting_supplier")), "one line is not ordered yet: {placed}");
    let (status, shipped, _) = post("shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    assert_eq!((status, shipped["state"].as_str()), (200, Some("awaiting_supplier")), "{shipped}");
    assert_eq!(post("shipment", json!({"tracking_number": "RB123456785GB", "lines": [lines[2]]})).await.0, 409, "nothing ordered is waiting to ship");
    assert_eq!(post("supplier-order", json!({"supplier_order_ref": "CJ-2"})).await.1["state"], "awaiting_shipment");
    let (_, last, _) = post("shipment", json!({"tracking_number": "RB123456785GB", "carrier": "Royal Mail"})).await;
    assert_eq!(last["state"], "shipped");
    assert_eq!(last["supplier_orders"].as_array().unwrap().iter().map(|o| o["reference"].as_str().unwrap()).collect::<Vec<_>>(), ["AE-1", "CJ-2"]);
    let shipments = last["shipments"].as_array().unwrap();
    assert_eq!((shipments.len(), shipments[0]["lines"].as_array().unwrap().len(), shipments[1]["lines"].as_array().unwrap().len()), (2, 2, 1), "{last}");
    let mail: Vec<Value> =
        app.outbox().await.into_iter().filter(|m| m["to"] == "bob.norman@hostmail.com" && m["subject"].as_str().unwrap().contains("shipped")).collect();
    assert_eq!(mail.len(), 2, "a mail per parcel");
    assert!(
        mail[1]["text"].as_str().unwrap().contains("RB123456785GB") && !mail[1]["text"].as_str().unwrap().contains("1Z5R89390357567127"),
        "each lists its own parcel"
    );
    let (_, half, _) = post("delivered", json!({"tracking_number": "RB123456785GB"})).await;
    assert_eq!(half["state"], "shipped", "one parcel is still on its way");
    assert_eq!(post("delivered", json!({"tracking_number": "RB123456785GB"})).await.0, 200, "the same arrival again");
    assert_eq!(post("delivered", json!({"tracking_number": "NOPE12345"})).await.0, 422);
    let (_, done, _) = post("delivered", json!({"tracking_number": "1Z5R89390357567127"})).await;
    assert_eq!(done["state"], "delivered");
    assert_eq!(
        app.outbox().await.iter().filter(|m| m["subject"].as_str().unwrap().contains("delivered")).count(),
        1,
        "delivered once, when the last parcel arrived"
    );
}

on_both_backends!(
    two_suppliers_and_two_parcels_each_get_their_reference_tracking_and_mail,
    every_mutation_refuses_bad_bodies_the_same_way,
    a_vendor_cancellation_tells_the_customer_kindly_and_the_operator_why,
    money_is_exact_text_instants_are_to_the_second_and_the_version_is_the_etag,
    the_listing_is_newest_first_in_every_state_and_pages_by_limit,
    a_stale_if_match_is_refused_and_a_current_one_applies,
    an_idempotency_key_replays_its_request_and_refuses_another,
    repeating_what_happened_with_the_same_data_answers_the_order,
    bad_requests_get_the_problem_they_are,
);

mod products {
    use super::*;

    fn cable(cost: &str) -> Value {
        json!({"supplier_name": "CJ Dropshipping", "product_url": "https://cjdropshipping.com/p/1.html", "supplier_cost": {"amount": cost, "currency": "EUR"}, "supplier_variant": "2 m"})
    }

    async fn a_vendor_maps_reads_and_deletes_its_own_skus_and_never_another_vendors(backend: Backend) {
        let app = spawn_app(backend).await;
        let a = app.onboard("vendor-a", &[]).await;
        let b = app.onboard("vendor-b", &[]).await;
        // Any SKU text, percent-encoded in the path.
        let path = "/vendor/products/TS-RED%20%232";
        let (status, mapped, _) = app.vendor(Method::PUT, path, &a, Some(cable("1.85"))).await;
        assert_eq!((status, mapped["sku"].as_str(), mapped["supplier_cost"]["amount"].as_str()), (200, Some("TS-RED #2"), Some("1.85")), "{mapped}");
        assert_eq!(app.vendor(Method::PUT, path, &a, Some(cable("1.90"))).await.0, 200, "its own, again");
        let (status, problem, _) = app.vendor(Method::PUT, path, &b, Some(cable("1.00"))).await;
        assert_eq!(status, 409);
        assert!(!problem.to_string().contains("vendor-a"), "the owner is not named: {problem}");
        assert_eq!(app.vendor(Method::GET, path, &b, None).await.0, 404);
        assert_eq!(app.vendor(Method::DELETE, path, &b, None).await.0, 404);
        let (_, list, _) = app.vendor(Method::GET, "/vendor/products", &a, None).await;
        assert_eq!(list["products"].as_array().unwrap().len(), 1);
        let (_, others, _) = app.vendor(Method::GET, "/vendor/products", &b, None).await;
        assert!(others["products"].as_array().unwrap().is_empty());
        assert_eq!(app.vendor(Method::DELETE, path, &a, None).await.0, 204);
        assert_eq!(app.vendor(Method::GET, path, &a, None).await.0, 404);
        // The operator moves a SKU only with --force.
        app.vendor(Method::PUT, path, &a, Some(cable("1.85"))).await;
        let mut by_operator =
            vec!["product", "add", "TS-RED #2", "--vendor", "vendor-b", "--supplier", "AliExpress", "--url", "https://www.aliexpress.com/item/2.html"];
        by_operator.extend(["--cost", "1.00", "--currency", "EUR"]);
        let moved = app.cli(&by_operator).await;
        assert!(moved.is_err(), "{moved:?}");
        by_operator.push("--force");
        app.cli(&by_operator).await.unwrap();
        assert_eq!(app.vendor(Method::GET, path, &b, None).await.0, 200);
    }

    async fn a_bad_mapping_is_refused_with_the_field_named(backend: Backend) {
        let app = spawn_app(backend).await;
        let a = app.onboard("vendor-a", &[]).await;
        for (body, field) in [
            (json!({"supplier_name": "S", "product_url": "http://plain.example/1", "supplier_cost": {"amount": "1.00", "currency": "EUR"}}), "product_url"),
            (json!({"supplier_name": "S", "product_url": "javascript:alert(1)", "supplier_cost": {"amount": "1.00", "currency": "EUR"}}), "product_url"),
            (json!({"supplier_name": "S", "product_url": "https://s.example/1", "supplier_cost": {"amount": "1.005", "currency": "EUR"}}), "supplier_cost"),
            (json!({"supplier_name": "S", "product_url": "https://s.example/1", "supplier_cost": {"amount": "-1.00", "currency": "EUR"}}), "supplier_cost"),
            (json!({"supplier_name": "S", "product_url": "https://s.example/1", "supplier_cost": {"amount": "1", "currency": "XXQ"}}), "supplier_cost"),
            (json!({"supplier_name": "S", "product_url": "https://s.example/1"}), "supplier_cost"),
            (json!({"supplier_name": "", "product_url": "https://s.example/1", "supplier_cost": {"amount": "1.00", "currency": "EUR"}}), "supplier_name"),
        ] {
            let (status, problem, _) = app.vendor(Method::PUT, "/vendor/products/SKU-1", &a, Some(body)).await;
            assert_eq!(status, 422, "{problem}");
            assert!(problem["detail"].as_str().unwrap().contains(field), "{field}: {problem}");
        }
        let (status, mapped, _) = app
            .vendor(
                Method::PUT,
                "/vendor/products/JP-1",
                &a,
                Some(json!({"supplier_name": "S", "product_url": "https://s.example/1", "supplier_cost": {"amount": "1500", "currency": "JPY"}})),
            )
            .await;
        assert_eq!((status, mapped["supplier_cost"]["amount"].as_str()), (200, Some("1500")));
    }

    /// A vendor's claim on a SKU that orders wait for hands it nothing (no order, no
    /// address) until the operator approves it; a refused claim leaves them waiting.
    async fn a_vendor_claim_on_a_waiting_sku_routes_its_orders_once_the_operator_approves_it(backend: Backend) {
        let app = spawn_app(backend).await;
        let a = app.onboard("vendor-a", &["IPOD2008GREEN"]).await;
        let b = app.onboard("vendor-b", &[]).await;
        app.shopify_webhook("orders/paid", &order(1), SHOPIFY_SECRET).await;
        let body = json!({"supplier_name": "AliExpress", "product_url": "https://www.aliexpress.com/item/9.html", "supplier_cost": {"amount": "60.00", "currency": "USD"}});
        let (status, claimed, _) = app.vendor(Method::PUT, "/vendor/products/IPOD2008RED", &a, Some(body.clone())).await;
        assert_eq!((status, claimed["awaiting_approval"].as_bool()), (200, Some(true)), "{claimed}");
        let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
        let skus = |order: &Value| -> Vec<String> { order["lines"].as_array().unwrap().iter().map(|l| l["sku"].as_str().unwrap().to_string()).collect() };
        let (_, before, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &a, None).await;
        assert_eq!(skus(&before), ["IPOD2008GREEN"], "not before the operator approves");
        // Another vendor's claim on it: 409, without naming whose it is.
        let (status, problem, _) = app.vendor(Method::PUT, "/vendor/products/IPOD2008RED", &b, Some(body.clone())).await;
        assert_eq!(status, 409);
        assert!(!problem.to_string().contains("vendor-a"), "{problem}");
        let operator: Vec<Value> =
            app.outbox().await.into_iter().filter(|m| m["to"] == "ops@market.example" && m["subject"].as_str().unwrap().contains("claims a SKU")).collect();
        assert_eq!(operator.len(), 1, "{operator:?}");
        assert!(operator[0]["text"].as_str().unwrap().contains("IPOD2008RED") && operator[0]["text"].as_str().unwrap().contains("vendor-a"));
        assert!(
            app.cli(&["product", "list"])
                .await
                .unwrap()
                .contains("IPOD2008RED\tvendor-a\tAliExpress\t60.00 USD\thttps://www.aliexpress.com/item/9.html\tawaiting approval")
        );
        assert!(app.cli(&["product", "approve", "IPOD2008RED"]).await.unwrap().contains("1 waiting order lines routed"));
        let (_, after, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &a, None).await;
        assert_eq!(skus(&after), ["IPOD2008GREEN", "IPOD2008RED"]);
        assert!(app.cli(&["product", "approve", "IPOD2008RED"]).await.is_err(), "approved once");
        // A refused claim: the line keeps waiting, and the SKU is free to map again.
        let (status, _, _) = app.vendor(Method::PUT, "/vendor/products/IPOD2008BLACK", &b, Some(body.clone())).await;
        assert_eq!(status, 200);
        app.cli(&["product", "refuse", "IPOD2008BLACK"]).await.unwrap();
        assert_eq!(app.vendor(Method::GET, "/vendor/products/IPOD2008BLACK", &b, None).await.0, 404);
        let (_, orders, _) = app.vendor(Method::GET, "/vendor/orders", &b, None).await;
        assert_eq!(orders["orders"], json!([]), "vendor-b never saw the order");
        // A SKU no order waits for is the vendor's at once.
        let (_, free, _) = app.vendor(Method::PUT, "/vendor/products/FRESH-1", &b, Some(body)).await;
        assert_eq!(free["awaiting_approval"], false);
    }

    /// The operator refuses a claim while an approval of it commits (two operators, or
    /// one command retried): the refusal deletes only the claim it read, so the approval
    /// stands, with the orders it routed, and the refusal says the SKU changed.
    async fn a_refusal_racing_an_approval_leaves_the_approved_mapping(backend: Backend) {
        use dropflow_shared::adapters::faults::{Chaos, Fault};
        use dropflow_shared::services::{ServiceError, products};
        let app = dropflow_scenarios::spawn_app_with(backend, Some(Chaos::quiet())).await;
        let a = app.onboard("vendor-a", &["IPOD2008GREEN"]).await;
        app.shopify_webhook("orders/paid", &order(1), SHOPIFY_SECRET).await;
        let body = json!({"supplier_name": "AliExpress", "product_url": "https://www.aliexpress.com/item/9.html", "supplier_cost": {"amount": "60.00", "currency": "USD"}});
        assert_eq!(app.vendor(Method::PUT, "/vendor/products/IPOD2008RED", &a, Some(body)).await.0, 200);
        // The refusal has read the claim; its delete is slow ...
        let store = &app.local.chaos.as_ref().unwrap().store;
        store.queue([Fault::Slow]);
        let refusing = tokio::spawn({
            let local = app.local.clone();
            async move { products::refuse(&local.app, "IPOD2008RED").await }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while store.pending() > 0 {
            assert!(std::time::Instant::now() < deadline, "the refusal never reached its delete");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // ... and the approval commits meanwhile, routing the waiting line.
        let (approved, routed) = products::approve(&app.local.app, "IPOD2008RED").await.unwrap();
        assert_eq!((approved.awaiting_approval, routed), (false, 1));
        let refused = refusing.await.unwrap();
        assert!(matches!(refused, Err(ServiceError::Conflict(ref reason)) if reason.contains("changed meanwhile")), "{refused:?}");
        app.deliver().await;
        let (status, mapping, _) = app.vendor(Method::GET, "/vendor/products/IPOD2008RED", &a, None).await;
        assert_eq!((status, mapping["awaiting_approval"].as_bool()), (200, Some(false)), "the approval stands: {mapping}");
        let id = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "1");
        let (_, routed, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &a, None).await;
        assert_eq!(routed["lines"].as_array().unwrap().len(), 2, "{routed}");
    }

    /// `PUT` and `DELETE /vendor/products/{sku}` take an `Idempotency-Key` as every
    /// vendor mutation does: the same request again replays, another request with the
    /// key is refused.
    async fn a_product_mapping_honours_its_idempotency_key(backend: Backend) {
        let app = spawn_app(backend).await;
        let a = app.onboard("vendor-a", &[]).await;
        let put = |cost: &str| {
            let body = json!({"supplier_name": "S", "product_url": "https://s.example/1", "supplier_cost": {"amount": cost, "currency": "EUR"}});
            app.client.put(format!("{}/vendor/products/SKU-K", app.base)).bearer_auth(&a).header("Idempotency-Key", "map-1").json(&body).send()
        };
        let first = put("1.00").await.unwrap();
        assert_eq!(first.status(), 200);
        let again = put("1.00").await.unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(again.json::<Value>().await.unwrap()["supplier_cost"]["amount"], "1.00");
        let other = put("2.00").await.unwrap();
        assert_eq!(other.status(), 422, "another request with the same key");
        assert_eq!(app.vendor(Method::GET, "/vendor/products/SKU-K", &a, None).await.1["supplier_cost"]["amount"], "1.00", "and it changed nothing");
        // A delete retried after its answer was lost is answered as the first was, not
        // with "not one of your SKUs"; the PUT's key on a delete is another request.
        let delete = |key: &'static str| app.client.delete(format!("{}/vendor/products/SKU-K", app.base)).bearer_auth(&a).header("Idempotency-Key", key).send();
        assert_eq!(delete("map-1").await.unwrap().status(), 422, "the key of the PUT");
        assert_eq!(delete("unmap-1").await.unwrap().status(), 204);
        assert_eq!(delete("unmap-1").await.unwrap().status(), 204, "the same delete again");
        assert_eq!(delete("unmap-2").await.unwrap().status(), 404, "a new delete of a SKU no longer mapped");
        assert_eq!(app.vendor(Method::GET, "/vendor/products/SKU-K", &a, None).await.0, 404);
    }

    async fn balance_and_payouts_answer_in_their_final_shape(backend: Backend) {
        let app = spawn_app(backend).await;
        let a = app.onboard("vendor-a", &[]).await;
        assert_eq!(app.vendor(Method::GET, "/vendor/balance", &a, None).await.1, json!({"balances": []}));
        assert_eq!(app.vendor(Method::GET, "/vendor/payouts", &a, None).await.1, json!({"payouts": [], "cursor": null}));
        assert_eq!(send(&app, Method::GET, "/vendor/balance", &[], None).await.status(), 401);
    }

    on_both_backends!(
        a_refusal_racing_an_approval_leaves_the_approved_mapping,
        a_vendor_maps_reads_and_deletes_its_own_skus_and_never_another_vendors,
        a_bad_mapping_is_refused_with_the_field_named,
        a_vendor_claim_on_a_waiting_sku_routes_its_orders_once_the_operator_approves_it,
        a_product_mapping_honours_its_idempotency_key,
        balance_and_payouts_answer_in_their_final_shape,
    );
}

/// Serves `router` on a free loopback port; its base URL.
async fn serve_router(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

#[tokio::test]
async fn vendor_api_serves_the_dashboard_under_a_policy_that_runs_only_its_own_code() {
    let app = spawn_app(Backend::Embedded).await;
    let vendor_api = serve_router(dropflow_shared::http::vendor_router(app.local.app.clone())).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{vendor_api}/vendor/app")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let header = |name: &str| page.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    let policy = header("content-security-policy");
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'"] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(page.text().await.unwrap().contains(r#"name="api_key""#));
    for (asset, kind) in [("app.js", "text/javascript"), ("app.css", "text/css")] {
        let response = client.get(format!("{vendor_api}/vendor/app/{asset}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with(kind), "{asset}");
    }
    let slash = client.get(format!("{vendor_api}/vendor/app/")).send().await.unwrap();
    assert_eq!(
        (slash.status().as_u16(), slash.headers()["location"].to_str().unwrap()),
        (308, "../app"),
        "one address for the page, so its relative links resolve"
    );
    let unknown = client.get(format!("{vendor_api}/vendor/app/..%2F..%2Fetc%2Fpasswd")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    let webhook = serve_router(dropflow_shared::http::webhook_router(app.local.app.clone())).await;
    assert_eq!(client.get(format!("{webhook}/vendor/app")).send().await.unwrap().status(), 404, "order-webhook serves no page");
    assert_eq!(client.get(format!("{}/vendor/app", app.base)).send().await.unwrap().status(), 200, "dropflow serve has it too");
}
