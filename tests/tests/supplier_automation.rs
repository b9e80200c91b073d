//! Supplier automation end to end: vendors' AliExpress and CJ accounts connected, SKUs
//! on `auto` and `review`, supplier orders placed through the stand-ins of both APIs
//! and followed to delivered, each bought exactly once through lost answers, a killed
//! process, refusals, bans and expired tokens.

use dropflow_scenarios::{Backend, GENERIC_SECRETS, TestApp, aliexpress_api, cj_api, on_both_backends, spawn_app_configured};
use reqwest::Method;
use serde_json::{Value, json};

/// The stand-ins of both suppliers, as the app is configured with them.
struct Suppliers {
    ae: aliexpress_api::Stand,
    cj: cj_api::Stand,
}

/// An app whose supplier clients speak to fresh stand-ins of both APIs.
async fn spawn(backend: Backend) -> (TestApp, Suppliers) {
    let (ae_url, ae) = aliexpress_api::start().await;
    let (cj_url, cj) = cj_api::start().await;
    let settings = [
        ("ALIEXPRESS_API_URL", ae_url.as_str()),
        ("ALIEXPRESS_APP_KEY", aliexpress_api::APP_KEY),
        ("ALIEXPRESS_APP_SECRET", aliexpress_api::APP_SECRET),
        ("CJ_API_URL", cj_url.as_str()),
        ("SUPPLIER_POLL_MINUTES", "30"),
    ];
    (spawn_app_configured(backend, None, &settings).await, Suppliers { ae, cj })
}

/// The AliExpress vendor (its lamp on `auto`) and the CJ vendor (its mug on `review`),
/// both connected; their keys.
async fn onboard(app: &TestApp) -> (String, String) {
    let ae_key = app.onboard("lamps", &[]).await;
    let cj_key = app.onboard("mugs", &[]).await;
    let said = app.cli(&["supplier", "connect", "lamps", "aliexpress", "--code", aliexpress_api::CODE]).await.unwrap();
    assert!(said.contains("AliExpress") && !said.contains("ae-access"), "no token is printed: {said}");
    app.cli(&["supplier", "connect", "mugs", "cj", "--api-key", cj_api::API_KEY]).await.unwrap();
    let lamp = "product add LAMP-1 --vendor lamps --supplier AliExpress --url https://www.aliexpress.com/item/1005001234567890.html --cost 9.00 \
        --currency USD --mode auto --supplier-api aliexpress --supplier-product 1005001234567890 --supplier-sku 14:175#Black --shipping-method CAINIAO_STANDARD";
    app.cli(&lamp.split_whitespace().collect::<Vec<_>>()).await.unwrap();
    let mug = json!({"supplier_name": "CJ", "product_url": "https://cjdropshipping.com/product/mug-p-1.html", "supplier_cost": {"amount": "2.10", "currency": "USD"},
        "mode": "review", "supplier_api": "cj", "supplier_product_id": "1424608189734850560", "supplier_sku": "92511400-C758-4474-93CA-66D442F5F787",
        "shipping_method": "CJPacket Ordinary"});
    let (status, mapped, _) = app.vendor(Method::PUT, "/vendor/products/MUG-1", &cj_key, Some(mug)).await;
    assert_eq!((status, mapped["mode"].as_str(), mapped["supplier_api"].as_str()), (200, Some("review"), Some("cj")), "{mapped}");
    (ae_key, cj_key)
}

/// A paid order of one lamp and two mugs, shipping to Berlin.
fn order(id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"id": id, "number": format!("#{id}"), "currency": "EUR", "financial_status": "paid", "updated_at": "2026-11-25T08:00:00Z",
        "customer": {"name": "Anna Weber", "email": "anna@example.de"},
        "shipping_address": {"name": "Anna Weber", "line1": "Torstraße 1", "city": "Berlin", "region": "Berlin", "postal_code": "10119", "country_code": "DE", "phone": "+49 30 1234567"},
        "lines": [{"id": "1", "sku": "LAMP-1", "title": "Lamp", "quantity": 1, "unit_price": "30.00", "paid": "30.00"},
                  {"id": "2", "sku": "MUG-1", "title": "Mug", "quantity": 2, "unit_price": "12.00", "paid": "24.00"}]}))
    .unwrap()
}

/// The vendor's one order, whole (with its supplier automation).
async fn the_order(app: &TestApp, key: &str) -> Value {
    let id = app.vendor_orders(key).await[0]["id"].as_str().unwrap().to_string();
    app.vendor(Method::GET, &format!("/vendor/orders/{id}"), key, None).await.1
}

/// One supplier-sync run, then every queue delivered (mail, write-backs).
async fn sync(app: &TestApp) -> String {
    let said = app.cli(&["supplier-sync"]).await.unwrap();
    app.deliver().await;
    said
}

async fn mail_to(app: &TestApp, to: &str, subject: &str) -> usize {
    app.outbox().await.iter().filter(|m| m["to"] == to && m["subject"].as_str().unwrap_or_default().contains(subject)).count()
}

async fn a_two_vendor_order_runs_to_delivered_with_no_vendor_typing_a_reference_or_a_number(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (ae_key, cj_key) = onboard(&app).await;
    assert_eq!(app.generic_webhook("order.paid", None, &order("2001"), GENERIC_SECRETS[0]).await.status(), 200);

    // auto: placed at once; review: prepared, nothing bought until the vendor confirms.
    sync(&app).await;
    let lamp = the_order(&app, &ae_key).await;
    assert_eq!(lamp["state"], "awaiting_shipment", "{lamp}");
    let ae_purchase = &lamp["supplier_automation"][0];
    assert_eq!((ae_purchase["supplier"].as_str(), ae_purchase["state"].as_str()), (Some("aliexpress"), Some("awaiting_payment")), "{lamp}");
    let ae_id = ae_purchase["supplier_order_id"].as_str().unwrap().to_string();
    assert_eq!(lamp["supplier_order_ref"], ae_purchase["references"][0]);
    {
        let ae = s.ae.lock().unwrap();
        assert_eq!(ae.bought(&ae_id), 1);
        let request = &ae.orders.values().next().unwrap().request;
        assert_eq!(request["logistics_address"]["country"], "DE");
        assert_eq!(request["logistics_address"]["province"], "Berlin");
        assert_eq!(request["product_items"][0]["sku_attr"], "14:175#Black");
        assert_eq!(request["product_items"][0]["logistics_service_name"], "CAINIAO_STANDARD");
    }
    assert_eq!(mail_to(&app, "lamps@vendors.example", "pay the AliExpress order").await, 1, "the vendor is asked to pay it");
    let mug = the_order(&app, &cj_key).await;
    assert_eq!((mug["state"].as_str(), mug["supplier_automation"][0]["state"].as_str()), (Some("awaiting_supplier"), Some("prepared")), "{mug}");
    assert!(s.cj.lock().unwrap().orders.is_empty());

    let (status, confirmed, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order/confirm", mug["id"].as_str().unwrap()), &cj_key, None).await;
    assert_eq!((status, confirmed["supplier_automation"][0]["state"].as_str()), (200, Some("placing")), "{confirmed}");
    sync(&app).await;
    let mug = the_order(&app, &cj_key).await;
    let cj_id = mug["supplier_automation"][0]["supplier_order_id"].as_str().unwrap().to_string();
    assert_eq!(mug["state"], "awaiting_shipment", "{mug}");
    assert!(mug["supplier_automation"][0]["pay_url"].as_str().unwrap().starts_with("https://cjdropshipping.com/pay/"), "{mug}");
    assert_eq!(s.cj.lock().unwrap().order_of(&cj_id).unwrap().body["products"][0]["quantity"], 2);

    // Paid, shipped and delivered at the suppliers: read back on the next runs.
    s.ae.lock().unwrap().pay_all();
    s.cj.lock().unwrap().pay_all();
    app.advance(chrono::Duration::minutes(31));
    sync(&app).await;
    assert_eq!(the_order(&app, &ae_key).await["supplier_automation"][0]["state"], "paid");
    s.ae.lock().unwrap().ship(&ae_id, "LP00123456789012");
    s.cj.lock().unwrap().ship(&cj_id, "YT2412345678901234");
    app.advance(chrono::Duration::minutes(31));
    sync(&app).await;
    let (lamp, mug) = (the_order(&app, &ae_key).await, the_order(&app, &cj_key).await);
    assert_eq!((lamp["state"].as_str(), lamp["tracking"]["number"].as_str()), (Some("shipped"), Some("LP00123456789012")), "{lamp}");
    assert_eq!((mug["state"].as_str(), mug["tracking"]["number"].as_str()), (Some("shipped"), Some("YT2412345678901234")), "{mug}");
    assert_eq!(mug["tracking"]["carrier_name"], "YunExpress", "the carrier is inferred from the number: {mug}");
    assert!(mail_to(&app, "anna@example.de", "shipped").await >= 1, "the customer hears of the parcels");
    s.ae.lock().unwrap().deliver(&ae_id);
    s.cj.lock().unwrap().deliver(&cj_id);
    app.advance(chrono::Duration::minutes(31));
    sync(&app).await;
    assert_eq!(the_order(&app, &ae_key).await["state"], "delivered");
    assert_eq!(the_order(&app, &cj_key).await["state"], "delivered");

    // Nothing was bought twice, nothing the stand-ins refused, and more runs change nothing.
    app.advance(chrono::Duration::hours(2));
    let said = sync(&app).await;
    assert!(said.contains("0 placed, 0 read back"), "{said}");
    let ae_orders = s.ae.lock().unwrap().orders.len();
    assert_eq!((ae_orders, s.cj.lock().unwrap().orders.len()), (1, 1));
    assert_eq!(s.ae.lock().unwrap().refused, Vec::<String>::new());
    assert_eq!(s.cj.lock().unwrap().refused, Vec::<String>::new());
    assert_eq!(s.cj.lock().unwrap().token_fetches, 1, "CJ's token was fetched once (it allows one per 5 minutes)");
    // AliExpress's test-status refresh token lasts two days: the vendor is told once to
    // authorize again.
    assert_eq!(mail_to(&app, "lamps@vendors.example", "Authorize your AliExpress account again").await, 1);
    let calls = (s.ae.lock().unwrap().calls, s.cj.lock().unwrap().calls);
    let checks = (s.ae.lock().unwrap().catalog_calls, s.cj.lock().unwrap().catalog_calls);
    eprintln!(
        "supplier calls for one order to delivered (connect and the mapping's check included): AliExpress {}, CJ {}; of which the mapping's check: {}, {}",
        calls.0, calls.1, checks.0, checks.1
    );
}

async fn a_create_whose_answer_was_lost_is_found_not_bought_again(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (ae_key, cj_key) = onboard(&app).await;
    app.map_sku_on_cj("MUG-1", "mugs", "auto").await.unwrap();
    s.cj.lock().unwrap().faults.push(cj_api::Fault::CreateThenFail);
    s.ae.lock().unwrap().faults.push(aliexpress_api::Fault::CreateThenFail);
    app.generic_webhook("order.paid", None, &order("2002"), GENERIC_SECRETS[0]).await;
    let said = sync(&app).await;
    assert!(said.contains("0 placed"), "both answers were lost: {said}");
    // The lease of the lost create runs out; the next run asks CJ for the order under its id.
    app.advance(chrono::Duration::minutes(3));
    sync(&app).await;
    let mug = the_order(&app, &cj_key).await;
    let cj_id = mug["supplier_automation"][0]["supplier_order_id"].as_str().unwrap().to_string();
    assert_eq!(mug["state"], "awaiting_shipment", "found by its orderNumber: {mug}");
    let counts = {
        let cj = s.cj.lock().unwrap();
        (cj.bought(&cj_id), cj.creates[&cj_id])
    };
    assert_eq!(counts, (1, 1), "CJ was asked, not sent the create again");
    // AliExpress has no lookup: the same create again is its repeat, and the vendor confirms.
    let lamp = the_order(&app, &ae_key).await;
    let ae_id = lamp["supplier_automation"][0]["supplier_order_id"].as_str().unwrap().to_string();
    assert_eq!((lamp["state"].as_str(), lamp["supplier_automation"][0]["state"].as_str()), (Some("awaiting_supplier"), Some("unconfirmed")), "{lamp}");
    let counts = {
        let ae = s.ae.lock().unwrap();
        (ae.bought(&ae_id), ae.creates[&ae_id])
    };
    assert_eq!(counts, (1, 2));
    assert_eq!(mail_to(&app, "lamps@vendors.example", "confirm the AliExpress order number").await, 1);
    // The vendor records the number it finds; dropflow follows that order from then on.
    let number = s.ae.lock().unwrap().order_of(&ae_id).unwrap().id.clone();
    let (status, _, _) = app
        .vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order", lamp["id"].as_str().unwrap()), &ae_key, Some(json!({"supplier_order_ref": number})))
        .await;
    assert_eq!(status, 200);
    s.ae.lock().unwrap().pay_all();
    s.ae.lock().unwrap().ship(&ae_id, "LP00123456789012");
    app.advance(chrono::Duration::minutes(31));
    sync(&app).await;
    app.advance(chrono::Duration::minutes(1));
    sync(&app).await;
    assert_eq!(the_order(&app, &ae_key).await["state"], "shipped", "the adopted order's parcel is pulled back");
    assert_eq!(s.ae.lock().unwrap().orders.len(), 1);
}

async fn a_run_out_of_time_begins_no_step_and_leaves_the_purchase_due(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (ae_key, _) = onboard(&app).await;
    app.generic_webhook("order.paid", None, &order("2008"), GENERIC_SECRETS[0]).await;
    let now = app.now();
    // A deadline closer than one step's calls can take: nothing is begun.
    let soon = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let report = dropflow_shared::services::supplier::sync(&app.local.app, now, Some(soon)).await.unwrap();
    assert_eq!((report.complete, report.placed), (false, 0), "{report:?}");
    assert!(s.ae.lock().unwrap().orders.is_empty());
    let report =
        dropflow_shared::services::supplier::sync(&app.local.app, now, Some(std::time::Instant::now() + std::time::Duration::from_secs(600))).await.unwrap();
    assert_eq!((report.complete, report.placed), (true, 1), "{report:?}");
    app.deliver().await;
    assert_eq!(the_order(&app, &ae_key).await["state"], "awaiting_shipment");
}

async fn an_aliexpress_order_goes_with_aliexpresss_own_province_and_city_names(backend: Backend) {
    let (app, s) = spawn(backend).await;
    onboard(&app).await;
    for (id, region, city) in [("2009", "bayern", "nuremberg"), ("2010", "Baden-Württemberg", "Ulm")] {
        let mut paid: Value = serde_json::from_slice(&order(id)).unwrap();
        paid["shipping_address"]["region"] = json!(region);
        paid["shipping_address"]["city"] = json!(city);
        paid["lines"] = json!([paid["lines"][0]]);
        app.generic_webhook("order.paid", None, &serde_json::to_vec(&paid).unwrap(), GENERIC_SECRETS[0]).await;
    }
    sync(&app).await;
    let ae = s.ae.lock().unwrap();
    let sent: Vec<(String, String)> = ae
        .orders
        .values()
        .map(|o| (o.request["logistics_address"]["province"].as_str().unwrap().into(), o.request["logistics_address"]["city"].as_str().unwrap().into()))
        .collect();
    assert!(sent.contains(&("Bayern".into(), "Nuremberg".into())), "AliExpress's spelling: {sent:?}");
    assert!(sent.contains(&("Baden-Wurttemberg".into(), "Ulm".into())), "a city it does not list goes as given: {sent:?}");
    assert_eq!(ae.address_reads, 1, "one read of Germany's list serves both orders");
}

async fn a_line_mapped_late_joins_the_supplier_order_not_placed_yet(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (ae_key, _) = onboard(&app).await;
    // The lamp and a white lamp nobody sells yet: the white one waits.
    let mut paid: Value = serde_json::from_slice(&order("2011")).unwrap();
    paid["lines"] = json!([paid["lines"][0], {"id": "3", "sku": "LAMP-W", "title": "White lamp", "quantity": 1, "unit_price": "30.00", "paid": "30.00"}]);
    app.generic_webhook("order.paid", None, &serde_json::to_vec(&paid).unwrap(), GENERIC_SECRETS[0]).await;
    let white = "product add LAMP-W --vendor lamps --supplier AliExpress --url https://www.aliexpress.com/item/1005001234567890.html --cost 9.00 \
        --currency USD --mode auto --supplier-api aliexpress --supplier-product 1005001234567890 --supplier-sku 14:173 --shipping-method CAINIAO_STANDARD";
    app.cli(&white.split_whitespace().collect::<Vec<_>>()).await.unwrap();
    app.deliver().await;
    let lamp = the_order(&app, &ae_key).await;
    assert_eq!(lamp["lines"].as_array().unwrap().len(), 2, "the white lamp joined: {lamp}");
    assert_eq!(lamp["supplier_automation"][0]["lines"], json!(["1", "3"]), "{lamp}");
    sync(&app).await;
    let ae = s.ae.lock().unwrap();
    assert_eq!(ae.orders.len(), 1, "one supplier order for both");
    let items = ae.orders.values().next().unwrap().request["product_items"].clone();
    assert_eq!(items.as_array().unwrap().iter().map(|i| i["sku_attr"].as_str().unwrap()).collect::<Vec<_>>(), ["14:175#Black", "14:173#White"]);
}

async fn an_order_number_that_does_not_read_goes_to_the_vendor_to_confirm_never_bought_again(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (_, cj_key) = onboard(&app).await;
    app.map_sku_on_cj("MUG-1", "mugs", "auto").await.unwrap();
    s.cj.lock().unwrap().faults.push(cj_api::Fault::OddId);
    app.generic_webhook("order.paid", None, &order("2012"), GENERIC_SECRETS[0]).await;
    let said = sync(&app).await;
    assert!(said.contains("1 handed back"), "{said}");
    let mug = the_order(&app, &cj_key).await;
    let purchase = &mug["supplier_automation"][0];
    assert_eq!((mug["state"].as_str(), purchase["state"].as_str()), (Some("awaiting_supplier"), Some("unconfirmed")), "{mug}");
    assert!(purchase["reason"].as_str().unwrap().contains("does not read"), "{purchase}");
    app.advance(chrono::Duration::hours(2));
    sync(&app).await;
    let cj = s.cj.lock().unwrap();
    assert_eq!((cj.orders.len(), cj.creates.values().sum::<usize>()), (1, 1), "bought once, never sent again");
}

async fn a_process_killed_while_placing_buys_nothing_twice(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (_, cj_key) = onboard(&app).await;
    app.map_sku_on_cj("MUG-1", "mugs", "auto").await.unwrap();
    let manual = "product add LAMP-1 --vendor lamps --supplier AE --url https://www.aliexpress.com/item/1.html --cost 9.00 --currency USD";
    app.cli(&manual.split_whitespace().collect::<Vec<_>>()).await.unwrap();
    s.cj.lock().unwrap().faults.push(cj_api::Fault::CreateThenHang);
    app.generic_webhook("order.paid", None, &order("2003"), GENERIC_SECRETS[0]).await;
    // The run is killed while CJ's answer is on its way (the order made, not recorded).
    let running = {
        let local = app.local.clone();
        tokio::spawn(
            async move { dropflow_shared::services::supplier::sync(&local.app, dropflow_shared::ports::Clock::now(local.app.clock.as_ref()), None).await },
        )
    };
    for _ in 0..200 {
        if !s.cj.lock().unwrap().orders.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    running.abort();
    assert_eq!(s.cj.lock().unwrap().orders.len(), 1);
    let mug = the_order(&app, &cj_key).await;
    assert_eq!(mug["state"], "awaiting_supplier");
    // A run before the lease ran out leaves it alone; the one after finds the order.
    sync(&app).await;
    assert_eq!(the_order(&app, &cj_key).await["state"], "awaiting_supplier");
    app.advance(chrono::Duration::minutes(3));
    sync(&app).await;
    let mug = the_order(&app, &cj_key).await;
    let cj_id = mug["supplier_automation"][0]["supplier_order_id"].as_str().unwrap().to_string();
    assert_eq!(mug["state"], "awaiting_shipment", "{mug}");
    let counts = {
        let cj = s.cj.lock().unwrap();
        (cj.bought(&cj_id), cj.creates[&cj_id])
    };
    assert_eq!(counts, (1, 1));
    // The lamp's mapping is manual: no supplier order is automated for it (unchanged path).
    assert!(s.ae.lock().unwrap().orders.is_empty());
}

async fn a_refusal_goes_back_to_the_vendor_and_a_retry_places_it_under_a_new_id(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (ae_key, _) = onboard(&app).await;
    s.ae.lock().unwrap().faults.push(aliexpress_api::Fault::Refuse("INVENTORY_HOLD_ERROR".into()));
    app.generic_webhook("order.paid", None, &order("2004"), GENERIC_SECRETS[0]).await;
    let said = sync(&app).await;
    assert!(said.contains("1 handed back"), "{said}");
    let lamp = the_order(&app, &ae_key).await;
    let purchase = &lamp["supplier_automation"][0];
    assert_eq!((lamp["state"].as_str(), purchase["state"].as_str()), (Some("awaiting_supplier"), Some("failed")), "{lamp}");
    assert!(purchase["reason"].as_str().unwrap().contains("out of stock"), "the reason in words: {purchase}");
    assert_eq!(mail_to(&app, "lamps@vendors.example", "order from AliExpress yourself").await, 1);
    let first_id = purchase["supplier_order_id"].as_str().unwrap().to_string();
    let id = lamp["id"].as_str().unwrap();
    let (status, retried, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order/retry"), &ae_key, None).await;
    assert_eq!(status, 200, "{retried}");
    assert_ne!(retried["supplier_automation"][0]["supplier_order_id"].as_str().unwrap(), first_id, "a new attempt, a new id");
    sync(&app).await;
    assert_eq!(the_order(&app, &ae_key).await["state"], "awaiting_shipment");
    // Nothing left to retry or confirm: 409 with the reason.
    let (status, problem, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order/retry"), &ae_key, None).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(s.ae.lock().unwrap().orders.len(), 1);
}

/// A `PUT /vendor/products/{sku}` body for the lamp on AliExpress: `cost` in USD, and
/// what differs from the stand-in's product.
fn lamp_body(cost: &str, sku: &str, method: &str, tolerance: Option<u32>) -> Value {
    json!({"supplier_name": "AliExpress", "product_url": "https://www.aliexpress.com/item/1005001234567890.html", "supplier_cost": {"amount": cost, "currency": "USD"},
        "mode": "auto", "supplier_api": "aliexpress", "supplier_product_id": aliexpress_api::PRODUCT, "supplier_sku": sku, "shipping_method": method,
        "price_tolerance_percent": tolerance})
}

async fn a_supplier_link_is_checked_with_the_supplier_before_it_is_kept(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let key = app.onboard("lamps", &[]).await;
    let put = |body: Value| app.vendor(Method::PUT, "/vendor/products/LAMP-1", &key, Some(body));
    let (status, problem, _) = put(lamp_body("9.00", "14:175", "CAINIAO_STANDARD", None)).await;
    assert_eq!(status, 422, "nothing can be checked before the account is connected: {problem}");
    assert!(problem["detail"].as_str().unwrap().contains("connect"), "{problem}");
    app.cli(&["supplier", "connect", "lamps", "aliexpress", "--code", aliexpress_api::CODE]).await.unwrap();

    let (status, problem, _) = put(lamp_body("9.00", "14:999", "CAINIAO_STANDARD", None)).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("14:175#Black"), "the variants there are named: {problem}");
    let (status, problem, _) = put(lamp_body("9.00", "14:175", "DHL_EXPRESS", None)).await;
    assert_eq!(status, 422, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("DHL_EXPRESS") && detail.contains("CAINIAO_STANDARD") && detail.contains("US"), "the methods offered are named: {problem}");
    let (status, problem, _) = put(lamp_body("5.00", "14:175", "CAINIAO_STANDARD", Some(10))).await;
    assert_eq!(status, 422, "the supplier charges more than the cost allows: {problem}");
    assert!(problem["detail"].as_str().unwrap().contains("9.00 USD"), "{problem}");
    let (status, problem, _) = put(lamp_body("9.00", "14:175", "CAINIAO_STANDARD", Some(1001))).await;
    assert_eq!(status, 422, "{problem}");

    // Accepted as the supplier spells the variant and the method.
    let (status, mapped, _) = put(lamp_body("8.50", "14:175", "cainiao_standard", Some(10))).await;
    assert_eq!(status, 200, "{mapped}");
    assert_eq!(
        (mapped["supplier_sku"].as_str(), mapped["shipping_method"].as_str(), mapped["price_tolerance_percent"].as_u64()),
        (Some("14:175#Black"), Some("CAINIAO_STANDARD"), Some(10)),
        "{mapped}"
    );
    // The same mapping again is not checked again; nothing malformed was ever sent.
    let calls = s.ae.lock().unwrap().catalog_calls;
    let (status, _, _) = put(lamp_body("8.50", "14:175#Black", "CAINIAO_STANDARD", Some(10))).await;
    assert_eq!((status, s.ae.lock().unwrap().catalog_calls), (200, calls));
    assert_eq!(s.ae.lock().unwrap().refused, Vec::<String>::new());

    // CJ: a variant of another product than the one named is refused.
    app.cli(&["supplier", "connect", "lamps", "cj", "--api-key", cj_api::API_KEY]).await.unwrap();
    let said = app.map_sku_on_cj("MUG-1", "lamps", "auto").await.unwrap();
    assert!(said.contains("MUG-1"), "{said}");
    let wrong = "product add MUG-2 --vendor lamps --supplier CJ --url https://cjdropshipping.com/p/m.html --cost 2.10 --currency USD --mode auto \
        --supplier-api cj --supplier-product p-OTHER --supplier-sku vid-MUG-2 --shipping-method CJPacket";
    let refused = app.cli(&wrong.split_whitespace().collect::<Vec<_>>()).await.unwrap_err();
    assert!(refused.contains("p-MUG-2"), "{refused}");
}

async fn a_price_risen_beyond_the_vendors_tolerance_or_no_stock_hands_the_order_back_before_anything_is_bought(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (ae_key, cj_key) = onboard(&app).await;
    // The mug on auto with a tolerance of 10 % over its 2.10 USD cost.
    let mug = json!({"supplier_name": "CJ", "product_url": "https://cjdropshipping.com/product/mug-p-1.html", "supplier_cost": {"amount": "2.10", "currency": "USD"},
        "mode": "auto", "supplier_api": "cj", "supplier_product_id": "1424608189734850560", "supplier_sku": "92511400-C758-4474-93CA-66D442F5F787",
        "shipping_method": "CJPacket Ordinary", "price_tolerance_percent": 10});
    assert_eq!(app.vendor(Method::PUT, "/vendor/products/MUG-1", &cj_key, Some(mug)).await.0, 200);
    let (status, _, _) =
        app.vendor(Method::PUT, "/vendor/products/LAMP-1", &ae_key, Some(lamp_body("9.00", "14:175#Black", "CAINIAO_STANDARD", Some(0)))).await;
    assert_eq!(status, 200);
    s.cj.lock().unwrap().set_price("92511400-C758-4474-93CA-66D442F5F787", "2.50");
    s.ae.lock().unwrap().set_offer(aliexpress_api::PRODUCT, "14:175#Black", "9.00", 0);
    app.generic_webhook("order.paid", None, &order("2007"), GENERIC_SECRETS[0]).await;
    let said = sync(&app).await;
    assert!(said.contains("2 handed back"), "{said}");
    let mug = the_order(&app, &cj_key).await;
    let purchase = &mug["supplier_automation"][0];
    assert_eq!((mug["state"].as_str(), purchase["state"].as_str()), (Some("awaiting_supplier"), Some("failed")), "{mug}");
    let reason = purchase["reason"].as_str().unwrap();
    assert!(reason.contains("2.50 USD") && reason.contains("2.10 USD") && reason.contains("10 %"), "{reason}");
    let lamp = the_order(&app, &ae_key).await;
    assert!(lamp["supplier_automation"][0]["reason"].as_str().unwrap().contains("0 of LAMP-1 in stock"), "{lamp}");
    assert!(s.cj.lock().unwrap().orders.is_empty() && s.ae.lock().unwrap().orders.is_empty(), "nothing bought");
    assert_eq!(mail_to(&app, "mugs@vendors.example", "order from CJdropshipping yourself").await, 1);

    // The price is back within the tolerance: the vendor's retry places it.
    s.cj.lock().unwrap().set_price("92511400-C758-4474-93CA-66D442F5F787", "2.31");
    let id = mug["id"].as_str().unwrap();
    assert_eq!(app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order/retry"), &cj_key, None).await.0, 200);
    sync(&app).await;
    assert_eq!(the_order(&app, &cj_key).await["state"], "awaiting_shipment");
    assert_eq!(s.cj.lock().unwrap().orders.len(), 1);
}

/// Where a response sends the browser.
fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn a_vendor_connects_its_own_accounts_cj_by_key_and_aliexpress_through_its_oauth_flow(backend: Backend) {
    let (ae_url, _ae) = aliexpress_api::start().await;
    let settings = [
        ("ALIEXPRESS_API_URL", ae_url.as_str()),
        ("ALIEXPRESS_APP_KEY", aliexpress_api::APP_KEY),
        ("ALIEXPRESS_APP_SECRET", aliexpress_api::APP_SECRET),
        ("CJ_API_URL", &cj_api::start().await.0),
        ("PUBLIC_BASE_URL", "https://market.example"),
    ];
    let app = spawn_app_configured(backend, None, &settings).await;
    let key = app.onboard("lamps", &[]).await;
    let other = app.onboard("mugs", &[]).await;
    let (status, listed, _) = app.vendor(Method::GET, "/vendor/suppliers", &key, None).await;
    assert_eq!((status, listed["accounts"].as_array().map(Vec::len), &listed["available"]), (200, Some(0), &json!(["aliexpress", "cj"])));

    // CJ: a wrong key is refused at once; the right one connects, and nothing secret comes back.
    let (status, problem, _) = app.vendor(Method::POST, "/vendor/suppliers/cj", &key, Some(json!({"api_key": "CJ0@api@wrong"}))).await;
    assert_eq!(status, 422, "{problem}");
    let (status, account, _) = app.vendor(Method::POST, "/vendor/suppliers/cj", &key, Some(json!({"api_key": cj_api::API_KEY}))).await;
    assert_eq!((status, account["supplier"].as_str()), (200, Some("cj")), "{account}");
    assert!(!account.to_string().contains("cj-access") && !account.to_string().contains(cj_api::API_KEY), "{account}");

    // AliExpress: the vendor's browser goes to AliExpress and comes back with a code.
    let (status, started, _) = app.vendor(Method::POST, "/vendor/suppliers/aliexpress/authorize", &key, None).await;
    assert_eq!(status, 200, "{started}");
    let authorize = url::Url::parse(started["authorize_url"].as_str().unwrap()).unwrap();
    let asked: std::collections::BTreeMap<String, String> = authorize.query_pairs().into_owned().collect();
    assert!(authorize.as_str().starts_with(&format!("{ae_url}/oauth/authorize")), "{authorize}");
    assert_eq!(asked["redirect_uri"], "https://market.example/vendor/suppliers/aliexpress/callback");
    assert_eq!(asked["client_id"], aliexpress_api::APP_KEY);
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = location(&browser.get(authorize.as_str()).send().await.unwrap());
    let callback = back.replace("https://market.example", &app.base);
    let landed = browser.get(&callback).send().await.unwrap();
    assert_eq!((landed.status().as_u16(), location(&landed)), (303, "../../app?supplier_connected=aliexpress#suppliers".to_string()));
    // The same callback again, a forged state and a run-out one connect nothing.
    let again = location(&browser.get(&callback).send().await.unwrap());
    assert!(again.contains("supplier_error=") && again.contains("used+already"), "{again}");
    let forged = location(&browser.get(format!("{}/vendor/suppliers/aliexpress/callback?code=x&state=00ff", app.base)).send().await.unwrap());
    assert!(forged.contains("supplier_error="), "{forged}");
    let (_, late, _) = app.vendor(Method::POST, "/vendor/suppliers/aliexpress/authorize", &other, None).await;
    app.advance(chrono::Duration::minutes(16));
    let late_back = location(&browser.get(late["authorize_url"].as_str().unwrap()).send().await.unwrap()).replace("https://market.example", &app.base);
    assert!(location(&browser.get(&late_back).send().await.unwrap()).contains("supplier_error="));

    let (_, listed, _) = app.vendor(Method::GET, "/vendor/suppliers", &key, None).await;
    let accounts = listed["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{listed}");
    let ae = accounts.iter().find(|a| a["supplier"] == "aliexpress").unwrap();
    // The stand-in's authorization lasts two days: within the week's warning.
    assert_eq!((ae["account"].as_str(), ae["expiring"].as_bool()), (Some("vendor@aliexpress.example"), Some(true)), "{ae}");
    assert!(ae["reconnect_by"].is_string(), "{ae}");
    assert!(!listed.to_string().contains("ae-access") && !listed.to_string().contains("ae-refresh"), "{listed}");
    let (_, theirs, _) = app.vendor(Method::GET, "/vendor/suppliers", &other, None).await;
    assert_eq!(theirs["accounts"], json!([]), "another vendor sees none of them, and the late authorization connected nothing");
    let (status, _, _) = app.vendor(Method::GET, "/vendor/suppliers", "df_wrong", None).await;
    assert_eq!(status, 401);
}

async fn an_expired_token_is_refreshed_and_a_ban_waits(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (ae_key, cj_key) = onboard(&app).await;
    s.ae.lock().unwrap().expire_tokens();
    s.cj.lock().unwrap().faults.push(cj_api::Fault::Limit);
    app.generic_webhook("order.paid", None, &order("2005"), GENERIC_SECRETS[0]).await;
    let (_, mug, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", app.vendor_orders(&cj_key).await[0]["id"].as_str().unwrap()), &cj_key, None).await;
    app.vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order/confirm", mug["id"].as_str().unwrap()), &cj_key, None).await;
    sync(&app).await;
    assert_eq!(s.ae.lock().unwrap().refreshes, 1, "the refused token was refreshed once");
    assert_eq!(the_order(&app, &cj_key).await["state"], "awaiting_supplier", "CJ's limit: later");
    app.advance(chrono::Duration::minutes(2));
    sync(&app).await;
    assert_eq!(the_order(&app, &ae_key).await["state"], "awaiting_shipment");
    assert_eq!(the_order(&app, &cj_key).await["state"], "awaiting_shipment");
    assert_eq!(s.cj.lock().unwrap().token_fetches, 1);
}

async fn a_supplier_order_failing_again_and_again_waits_in_the_operators_decisions_until_it_goes_through(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (_, cj_key) = onboard(&app).await;
    let operator = app.cli(&["operator", "key", "create", "alice"]).await.unwrap().trim().to_string();
    let decisions = || async {
        let queue: Value = app.client.get(format!("{}/operator/queue", app.base)).bearer_auth(&operator).send().await.unwrap().json().await.unwrap();
        queue["decisions"].as_array().unwrap().iter().filter(|d| d["kind"] == "supplier_sync").cloned().collect::<Vec<Value>>()
    };
    app.generic_webhook("order.paid", None, &order("2006"), GENERIC_SECRETS[0]).await;
    app.deliver().await;
    let mug = app.vendor_orders(&cj_key).await[0]["id"].as_str().unwrap().to_string();
    app.vendor(Method::POST, &format!("/vendor/orders/{mug}/supplier-order/confirm"), &cj_key, None).await;
    // CJ answers "too many requests" three times running: each run backs off and tries again.
    s.cj.lock().unwrap().faults.extend([cj_api::Fault::Limit, cj_api::Fault::Limit, cj_api::Fault::Limit]);
    for run in 1..=3 {
        assert!(decisions().await.is_empty(), "not after {} failures", run - 1);
        sync(&app).await;
        app.advance(chrono::Duration::minutes(10));
    }
    let failing = decisions().await;
    assert_eq!(failing.len(), 1, "{failing:?}");
    let detail = failing[0]["detail"].as_str().unwrap();
    assert!(detail.contains("mugs") && detail.contains("CJ") && detail.contains("3 calls failed"), "{detail}");
    // CJ is back: the order is placed and the decision is gone.
    sync(&app).await;
    assert_eq!(the_order(&app, &cj_key).await["state"], "awaiting_shipment");
    assert!(decisions().await.is_empty());
}

/// Posts a supplier's push to the webhook, with CJ's `sign` when given; the status.
async fn push(app: &TestApp, supplier: &str, body: &str, sign: Option<&str>) -> u16 {
    let mut request = app.client.post(format!("{}/webhooks/supplier/{supplier}", app.base)).header("content-type", "application/json").body(body.to_string());
    if let Some(sign) = sign {
        request = request.header("sign", sign);
    }
    let status = request.send().await.unwrap().status().as_u16();
    app.deliver().await;
    status
}

async fn a_push_has_the_order_read_back_at_once_and_a_lost_one_waits_for_the_poll(backend: Backend) {
    let (app, s) = spawn(backend).await;
    let (ae_key, cj_key) = onboard(&app).await;
    app.generic_webhook("order.paid", None, &order("2006"), GENERIC_SECRETS[0]).await;
    let mug = the_order(&app, &cj_key).await;
    app.vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order/confirm", mug["id"].as_str().unwrap()), &cj_key, None).await;
    sync(&app).await;
    let cj_id = the_order(&app, &cj_key).await["supplier_automation"][0]["supplier_order_id"].as_str().unwrap().to_string();
    let ae_id = the_order(&app, &ae_key).await["supplier_automation"][0]["supplier_order_id"].as_str().unwrap().to_string();
    s.cj.lock().unwrap().pay_all();
    s.cj.lock().unwrap().ship(&cj_id, "YT2412345678901234");
    s.ae.lock().unwrap().pay_all();
    s.ae.lock().unwrap().ship(&ae_id, "LP00123456789012");
    // CJ pushes (twice: CJ retries), long before the next poll: the next run reads it.
    let (body, sign) = s.cj.lock().unwrap().push_of(&cj_id, "m-1").unwrap();
    assert_eq!(push(&app, "cj", &body, Some("bm90IGl0")).await, 401, "a forged sign");
    assert_eq!(push(&app, "cj", &body, None).await, 401, "no sign");
    assert_eq!(push(&app, "cj", &body, Some(&sign)).await, 200);
    assert_eq!(push(&app, "cj", &body, Some(&sign)).await, 200, "the same push again");
    assert_eq!(push(&app, "temu", &body, Some(&sign)).await, 404);
    assert_eq!(push(&app, "cj", "not json", Some(&sign)).await, 400);
    app.advance(chrono::Duration::minutes(1));
    sync(&app).await;
    assert_eq!(the_order(&app, &cj_key).await["state"], "shipped", "read back on the push");
    // AliExpress's push was lost: the poll finds the parcel all the same.
    assert_eq!(the_order(&app, &ae_key).await["state"], "awaiting_shipment");
    app.advance(chrono::Duration::minutes(30));
    sync(&app).await;
    assert_eq!(the_order(&app, &ae_key).await["state"], "shipped", "read back by the poll");
    // A push of an order dropflow does not follow changes nothing.
    let stray = json!({"data": {"buyerId": 1, "orderId": "999", "orderStatus": "OrderShipped"}, "message_type": 53, "seller_id": "1", "site": "ae_global", "timestamp": 1}).to_string();
    assert_eq!(push(&app, "aliexpress", &stray, None).await, 200);
    let shipped_mail = mail_to(&app, "anna@example.de", "shipped").await;
    sync(&app).await;
    assert_eq!(mail_to(&app, "anna@example.de", "shipped").await, shipped_mail, "nothing shipped twice");
}

on_both_backends!(
    a_push_has_the_order_read_back_at_once_and_a_lost_one_waits_for_the_poll,
    a_two_vendor_order_runs_to_delivered_with_no_vendor_typing_a_reference_or_a_number,
    a_create_whose_answer_was_lost_is_found_not_bought_again,
    a_process_killed_while_placing_buys_nothing_twice,
    a_refusal_goes_back_to_the_vendor_and_a_retry_places_it_under_a_new_id,
    an_expired_token_is_refreshed_and_a_ban_waits,
    a_supplier_link_is_checked_with_the_supplier_before_it_is_kept,
    a_price_risen_beyond_the_vendors_tolerance_or_no_stock_hands_the_order_back_before_anything_is_bought,
    a_vendor_connects_its_own_accounts_cj_by_key_and_aliexpress_through_its_oauth_flow,
    a_run_out_of_time_begins_no_step_and_leaves_the_purchase_due,
    an_aliexpress_order_goes_with_aliexpresss_own_province_and_city_names,
    a_line_mapped_late_joins_the_supplier_order_not_placed_yet,
    an_order_number_that_does_not_read_goes_to_the_vendor_to_confirm_never_bought_again,
    a_supplier_order_failing_again_and_again_waits_in_the_operators_decisions_until_it_goes_through,
);
