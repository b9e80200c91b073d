//! The operator's command line: keys (list, last use, revocation that takes effect on
//! the next request), vendors (list, update, suspend and resume) and the product list.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, fixture, on_both_backends, spawn_app};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;

async fn a_key_is_listed_with_its_last_use_and_a_revoked_one_stops_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &[]).await;
    let listed = app.cli(&["key", "list", "ipod-shop"]).await.unwrap();
    let rows: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows[0], ["prefix", "created", "last_used", "state"], "a header row: {listed}");
    assert_eq!((rows.len(), rows[1][0], rows[1][2], rows[1][3]), (2, &key[..12], "never", "active"), "{listed}");
    assert!(!listed.contains(&key[12..]), "only the prefix is ever shown");
    let json: serde_json::Value = serde_json::from_str(&app.cli(&["key", "list", "ipod-shop", "--json"]).await.unwrap()).unwrap();
    assert_eq!((json[0]["prefix"].as_str(), json[0]["state"].as_str()), (Some(&key[..12]), Some("active")), "{json}");
    for _ in 0..3 {
        assert_eq!(app.vendor(Method::GET, "/vendor/orders", &key, None).await.0, 200);
    }
    let today = app.now().date_naive().to_string();
    assert!(app.cli(&["key", "list", "ipod-shop"]).await.unwrap().contains(&today));
    let said = app.cli(&["key", "revoke", &key[..12]]).await.unwrap();
    assert!(said.contains("revoked"), "{said}");
    assert_eq!(app.vendor(Method::GET, "/vendor/orders", &key, None).await.0, 401, "the next request is refused");
    assert!(app.cli(&["key", "list", "ipod-shop"]).await.unwrap().ends_with("revoked"));
    assert!(app.cli(&["key", "revoke", "dfk_nothere"]).await.is_err());
}

async fn a_suspended_vendor_is_refused_and_routes_nothing_until_resumed(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.cli(&["vendor", "suspend", "ipod-shop"]).await.unwrap();
    let (status, problem, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert_eq!(status, 403);
    assert!(problem["detail"].as_str().unwrap().contains("suspended"), "{problem}");
    app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await;
    let record = app.local.app.tables.order(&OrderId::derive("shopify", "", "450789469")).await.unwrap().unwrap();
    assert_eq!((record.vendors.len(), record.unroutable.len()), (0, 3), "a suspended vendor's SKUs route to no one");
    let said = app.cli(&["vendor", "resume", "ipod-shop"]).await.unwrap();
    assert!(said.contains("3 waiting order lines routed"), "{said}");
    let again = app.cli(&["vendor", "resume", "ipod-shop"]).await.unwrap();
    assert!(again.contains("0 waiting order lines routed"), "resuming again routes nothing twice: {again}");
    app.deliver().await;
    let (status, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert_eq!((status, list["orders"].as_array().unwrap().len()), (200, 1));
}

async fn the_operator_lists_and_updates_vendors_and_products(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN"]).await;
    app.onboard("black-gear", &["IPOD2008BLACK"]).await;
    app.cli(&["vendor", "update", "black-gear", "--commission-bps", "900", "--payee", "DE89 3704 0044 0532 0130 00"]).await.unwrap();
    let vendors = app.cli(&["vendor", "list"]).await.unwrap();
    let lines: Vec<&str> = vendors.lines().collect();
    assert_eq!((lines.len(), lines[0]), (3, "vendor_id\tname\temail\tcommission_bps\tstate\tpayee"), "{vendors}");
    assert!(lines[1].starts_with("black-gear\t") && lines[1].contains("\t900\t") && lines[1].contains("DE89"), "{vendors}");
    let json: serde_json::Value = serde_json::from_str(&app.cli(&["vendor", "list", "--json"]).await.unwrap()).unwrap();
    assert_eq!((json[0]["vendor_id"].as_str(), json[0]["commission_bps"].as_u64()), (Some("black-gear"), Some(900)), "{json}");
    let products = app.cli(&["product", "list"]).await.unwrap();
    assert_eq!(products.lines().count(), 3, "a header and two mappings: {products}");
    let theirs = app.cli(&["product", "list", "--vendor", "ipod-shop"]).await.unwrap();
    assert!(theirs.lines().nth(1).is_some_and(|row| row.starts_with("IPOD2008GREEN\tipod-shop\t")) && theirs.lines().count() == 2, "{theirs}");
    for bad in [
        vec!["vendor", "update", "black-gear", "--commission-bps", "-5"],
        vec!["vendor", "update", "black-gear", "--commission-bps", "10001"],
        vec!["vendor", "update", "nobody", "--name", "X"],
    ] {
        let error = app.cli(&bad).await.unwrap_err();
        assert!(!error.trim().is_empty(), "{bad:?}");
    }
}

async fn the_operator_finds_an_order_by_the_number_customers_quote_and_sees_it_whole(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await;
    let id = OrderId::derive("shopify", "", "450789469");
    app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &key, Some(serde_json::json!({"supplier_order_ref": "AE-77"}))).await;
    for reference in ["#1001", "1001", id.as_str()] {
        let shown = app.cli(&["order", "show", reference]).await.unwrap();
        assert!(shown.starts_with(&format!("order {id} #1001 (shopify scenario.myshopify.com), routed")), "{reference}: {shown}");
        for expected in [
            "customer: Bob Norman <bob.norman@hostmail.com>",
            "Chestnut Street 92",
            "unroutable: 1 x IPod Nano - 8gb [IPOD2008BLACK]",
            "vendor order",
            "(ipod-shop): awaiting_shipment",
            "clock ship due",
            "supplier_order_placed awaiting_shipment: supplier order AE-77",
            "order_accepted -> bob.norman@hostmail.com",
            "vendor_order_created -> ipod-shop@vendors.example",
        ] {
            assert!(shown.contains(expected), "{expected} missing from {shown}");
        }
    }
    assert!(app.cli(&["order", "show", "#9999"]).await.is_err());
    let listed = app.cli(&["orders"]).await.unwrap();
    assert!(listed.contains(id.as_str()) && listed.contains("routed"), "{listed}");
    assert_eq!(app.cli(&["orders", "--state", "held"]).await.unwrap().lines().count(), 1, "the header alone");
    let theirs = app.cli(&["orders", "--vendor", "ipod-shop", "--state", "awaiting_shipment"]).await.unwrap();
    assert!(theirs.contains("#1001"), "{theirs}");
    assert!(app.cli(&["orders", "--state", "lost"]).await.is_err());
    assert!(app.cli(&["orders", "--limit", "0"]).await.is_err());
}

/// The operator takes a SKU away from its vendor: new lines of it wait for a vendor,
/// the rest of the order routes. A vendor added with its payee is listed with it.
async fn the_operator_removes_a_mapping_and_adds_a_vendor_with_its_payee(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let said = app.cli(&["product", "remove", "IPOD2008BLACK"]).await.unwrap();
    assert!(said.contains("no longer maps to vendor ipod-shop"), "{said}");
    assert!(app.cli(&["product", "remove", "IPOD2008BLACK"]).await.is_err(), "removed already");
    assert_eq!(app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
    let record = app.local.app.tables.order(&OrderId::derive("shopify", "", "450789469")).await.unwrap().unwrap();
    assert_eq!(record.unroutable.iter().map(|u| u.line_id.as_str()).collect::<Vec<_>>(), ["703073504"], "{:?}", record.unroutable);
    app.cli(&["vendor", "add", "mugs", "--name", "Mugs", "--email", "mugs@vendors.example", "--payee", "IBAN DE89 3704 0044 0532 0130 00"]).await.unwrap();
    let listed = app.cli(&["vendor", "list"]).await.unwrap();
    assert!(listed.lines().any(|l| l.starts_with("mugs") && l.contains("IBAN DE89 3704 0044 0532 0130 00")), "{listed}");
    assert!(app.cli(&["vendor", "add", "bad", "--name", "Bad", "--email", "bad@vendors.example", "--payee", "two\nlines"]).await.is_err());
}

on_both_backends!(
    the_operator_removes_a_mapping_and_adds_a_vendor_with_its_payee,
    the_operator_finds_an_order_by_the_number_customers_quote_and_sees_it_whole,
    a_key_is_listed_with_its_last_use_and_a_revoked_one_stops_at_once,
    a_suspended_vendor_is_refused_and_routes_nothing_until_resumed,
    the_operator_lists_and_updates_vendors_and_products,
);
