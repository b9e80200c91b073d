//! Shopify's mandatory privacy topics. `customers/redact` erases an order's personal
//! data from every item that holds it (the order, its vendor orders, their history, the
//! event items) and from the local outbox's copies of its mail; an order still on its
//! way is erased when it closes. `shop/redact` does the same for a whole shop, and
//! `customers/data_request` mails the operator what is held. Forged or repeated
//! requests change nothing.

use dropflow_scenarios::{Backend, MailBox, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, sign, spawn_app, spawn_app_configured, spawn_app_with};
use dropflow_shared::adapters::faults::{Chaos, Fault};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::ports::QueueName;
use reqwest::Method;
use serde_json::{Value, json};

/// What identifies the fixture's customer, as Shopify sent it.
const PERSONAL: [&str; 7] = ["Bob Norman", "Chestnut Street 92", "Louisville", "40202", "555-625-1199", "bob.norman@hostmail.com", "Elm Street 7"];

fn order_id(external: u64) -> OrderId {
    OrderId::derive("shopify", "", &external.to_string())
}

/// The paid fixture as order `external`, last updated at `updated_at`, changed by `change`.
fn version(external: u64, updated_at: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["id"] = json!(external);
    order["updated_at"] = json!(updated_at);
    change(&mut order);
    serde_json::to_vec(&order).unwrap()
}

fn redact_body(orders: &[u64]) -> Vec<u8> {
    serde_json::to_vec(&json!({"shop_id": 954889, "shop_domain": "scenario.myshopify.com", "customer": {"id": 191167, "email": "bob.norman@hostmail.com", "phone": "555-625-1199"}, "orders_to_redact": orders})).unwrap()
}

async fn vendor_order(app: &TestApp, key: &str, external: u64) -> Value {
    let (status, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id(external)), key, None).await;
    assert_eq!(status, 200, "{order}");
    order
}

async fn step(app: &TestApp, key: &str, external: u64, path: &str, body: Value) {
    let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{}/{path}", order_id(external)), key, Some(body)).await;
    assert_eq!(status, 200, "{path}: {answer}");
}

async fn deliver_to_the_customer(app: &TestApp, key: &str, external: u64) {
    step(app, key, external, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    step(app, key, external, "shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    step(app, key, external, "delivered", json!({})).await;
}

/// Every item of the order's partition, as stored.
async fn stored(app: &TestApp, external: u64) -> String {
    let items = app.local.app.tables.order_items(&order_id(external), "").await.unwrap();
    assert!(items.len() >= 4, "the order, its vendor order, history and events: {items:?}");
    serde_json::to_string(&items).unwrap()
}

fn personal_left_in(text: &str) -> Vec<&'static str> {
    PERSONAL.into_iter().filter(|value| text.contains(value)).collect()
}

/// The local outbox's mail about the order, whole (the AWS backend keeps no copy of
/// mail it sent: SES has it gone).
async fn kept_mail(app: &TestApp) -> Option<String> {
    matches!(app.mail, MailBox::Outbox(_)).then_some(())?;
    Some(serde_json::to_string(&app.outbox().await).unwrap())
}

async fn customers_redact_erases_a_delivered_order_everywhere_and_nothing_brings_it_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &version(1, "2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    // A former address is personal data too: it went out in mail and history.
    app.shopify_webhook(
        "orders/updated",
        &version(1, "2026-11-20T11:00:00-05:00", |o| o["shipping_address"]["address1"] = json!("Elm Street 7")),
        SHOPIFY_SECRET,
    )
    .await;
    deliver_to_the_customer(&app, &key, 1).await;
    assert!(!personal_left_in(&stored(&app, 1).await).is_empty(), "held before the request");

    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("customers/redact", &redact_body(&[1, 999]), SHOPIFY_SECRET).await.status(), 200);
    }

    assert_eq!(personal_left_in(&stored(&app, 1).await), Vec::<&str>::new(), "no item of the order holds personal data");
    let order = vendor_order(&app, &key, 1).await;
    assert_eq!((order["shipping_address"]["line1"].as_str(), order["shipping_address"]["country_code"].as_str()), (Some("[redacted]"), Some("US")));
    assert_eq!(order["state"], "delivered", "the order's facts stay");
    assert_eq!(order["history"].as_array().unwrap().last().unwrap()["action"], "personal_data_redacted");
    if let Some(mail) = kept_mail(&app).await {
        assert!(mail.contains("[redacted]"), "the mail is kept, rid of its personal data");
        assert_eq!(personal_left_in(&mail), Vec::<&str>::new(), "{mail}");
    }
    // Shopify retries an older delivery hours later; or the storefront updates it again.
    app.shopify_webhook("orders/updated", &version(1, "2026-11-22T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    assert_eq!(personal_left_in(&stored(&app, 1).await), Vec::<&str>::new(), "no delivery brings it back");
}

async fn an_order_still_on_its_way_is_redacted_when_it_is_delivered(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &version(2, "2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    step(&app, &key, 2, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    assert_eq!(app.shopify_webhook("customers/redact", &redact_body(&[2]), SHOPIFY_SECRET).await.status(), 200);
    let order = vendor_order(&app, &key, 2).await;
    assert_eq!(order["shipping_address"]["line1"], "Chestnut Street 92", "the supplier still has to deliver it");
    step(&app, &key, 2, "shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    assert_eq!(vendor_order(&app, &key, 2).await["shipping_address"]["line1"], "Chestnut Street 92", "in transit: still needed");
    step(&app, &key, 2, "delivered", json!({})).await;
    assert_eq!(personal_left_in(&stored(&app, 2).await), Vec::<&str>::new(), "erased once it closed");
    if let Some(mail) = kept_mail(&app).await {
        assert_eq!(personal_left_in(&mail), Vec::<&str>::new(), "{mail}");
    }
}

async fn shop_redact_erases_every_order_of_that_shop_and_no_other(backend: Backend) {
    let app = spawn_app(backend).await;
    for external in [3, 4] {
        let held = version(external, "2026-11-20T10:00:00-05:00", |o| o["financial_status"] = json!("authorized"));
        app.shopify_webhook("orders/create", &held, SHOPIFY_SECRET).await;
    }
    // The same app installed on another shop.
    let other = version(5, "2026-11-20T10:00:00-05:00", |o| o["financial_status"] = json!("authorized"));
    post_as_shop(&app, "other.myshopify.com", "orders/create", &other, SHOPIFY_SECRET).await;

    let body = serde_json::to_vec(&json!({"shop_id": 954889, "shop_domain": "scenario.myshopify.com"})).unwrap();
    assert_eq!(app.shopify_webhook("shop/redact", &body, SHOPIFY_SECRET).await.status(), 200);

    for external in [3, 4] {
        let record = app.local.app.tables.order(&order_id(external)).await.unwrap().unwrap();
        assert!(record.is_redacted(), "order {external}");
        assert_eq!(personal_left_in(&serde_json::to_string(&record).unwrap()), Vec::<&str>::new());
    }
    let kept = app.local.app.tables.order(&order_id(5)).await.unwrap().unwrap();
    assert_eq!(kept.order.customer_name, "Bob Norman", "another shop's order is not that shop's to erase");
}

async fn post_as_shop(app: &TestApp, shop: &str, topic: &str, body: &[u8], secret: &str) -> u16 {
    let status = post_undelivered(app, shop, topic, body, secret).await;
    app.deliver().await;
    status
}

/// A Shopify delivery answered and queued, not yet handled.
async fn post_undelivered(app: &TestApp, shop: &str, topic: &str, body: &[u8], secret: &str) -> u16 {
    let response = app
        .client
        .post(format!("{}/webhooks/shopify", app.base))
        .header("X-Shopify-Hmac-Sha256", sign(secret, body))
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Shop-Domain", shop)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

async fn a_data_request_mails_the_operator_what_is_held_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &version(6, "2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    // A hostile request id: it is data, never a header.
    let body = serde_json::to_vec(&json!({"shop_id": 1, "shop_domain": "scenario.myshopify.com", "orders_requested": [6, 404], "customer": {"id": 1, "email": "bob.norman@hostmail.com"}, "data_request": {"id": "9999\r\nBcc: thief@evil.example"}})).unwrap();
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("customers/data_request", &body, SHOPIFY_SECRET).await.status(), 200);
    }
    let (not_held, reports): (Vec<Value>, Vec<Value>) = app
        .outbox()
        .await
        .into_iter()
        .filter(|m| m["subject"].as_str().unwrap_or_default().contains("Data request"))
        .partition(|m| m["subject"].as_str().unwrap_or_default().contains("holds nothing"));
    assert_eq!(reports.len(), 1, "one report, however often the request comes: {reports:?}");
    assert_eq!(not_held.len(), 1, "the order not held is reported too, once: {not_held:?}");
    assert!(not_held[0]["text"].as_str().unwrap().contains("Order 404") && not_held[0]["to"] == "ops@market.example");
    assert_eq!(reports[0]["to"], "ops@market.example");
    let text = reports[0]["text"].as_str().unwrap();
    for held in ["Bob Norman", "bob.norman@hostmail.com", "Chestnut Street 92", "ipod-shop: awaiting_supplier"] {
        assert!(text.contains(held), "{held} missing from {text}");
    }
    assert!(!reports[0]["subject"].as_str().unwrap().contains('\n'));
    assert!(!serde_json::to_string(&app.outbox().await).unwrap().contains("thief@evil.example\""), "no mail went to the injected address");
}

/// A data request naming only orders dropflow never held still reaches the operator:
/// the customer is owed an answer.
async fn a_data_request_for_orders_not_held_still_reaches_the_operator(backend: Backend) {
    let app = spawn_app(backend).await;
    let body = serde_json::to_vec(&json!({"shop_id": 1, "shop_domain": "scenario.myshopify.com", "orders_requested": [77], "customer": {"id": 1, "email": "x@example.com"}, "data_request": {"id": "55"}})).unwrap();
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("customers/data_request", &body, SHOPIFY_SECRET).await.status(), 200);
    }
    let mail: Vec<Value> = app.outbox().await.into_iter().filter(|m| m["to"] == "ops@market.example").collect();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0]["subject"].as_str().unwrap().starts_with("Data request 55: dropflow holds nothing of it"));
    assert!(mail[0]["text"].as_str().unwrap().contains("Order 77"));
}

/// Personal data is kept `RETENTION_DAYS` after an order's last vendor order closes, then
/// purged by the sweep from the due index; the operator sees what is due. 0 keeps it.
async fn customer_data_is_purged_retention_days_after_the_order_closes(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("RETENTION_DAYS", "30")]).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &version(8, "2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    deliver_to_the_customer(&app, &key, 8).await;
    let due = app.cli(&["retention", "--within", "31"]).await.unwrap();
    assert!(due.contains(&order_id(8).to_string()) && due.contains("ipod-shop"), "the operator sees what is due: {due}");
    assert_eq!(app.cli(&["retention"]).await.unwrap(), "due_at\torder_id\tvendor_id", "nothing due yet: the header alone");
    app.advance(chrono::Duration::days(30) - chrono::Duration::minutes(1));
    let early = dropflow_shared::services::sweep::sweep(&app.local.app, app.now(), None).await.unwrap();
    assert_eq!(early.purged, 0);
    assert!(stored(&app, 8).await.contains("Chestnut Street 92"), "kept until it is due");
    app.advance(chrono::Duration::minutes(2));
    let report = dropflow_shared::services::sweep::sweep(&app.local.app, app.now(), None).await.unwrap();
    assert_eq!(report.purged, 1);
    let after = stored(&app, 8).await;
    assert!(!after.contains("Chestnut Street 92") && !after.contains("Bob Norman"), "purged everywhere in the order");
    let again = dropflow_shared::services::sweep::sweep(&app.local.app, app.now() + chrono::Duration::days(1), None).await.unwrap();
    assert_eq!(again.purged, 0, "once");
    assert_eq!(app.cli(&["retention", "--within", "999"]).await.unwrap().lines().count(), 1, "it left the due index: the header alone");

    let kept = spawn_app_configured(backend, None, &[("RETENTION_DAYS", "0")]).await;
    let key = kept.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    kept.shopify_webhook("orders/paid", &version(9, "2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    deliver_to_the_customer(&kept, &key, 9).await;
    let late = dropflow_shared::services::sweep::sweep(&kept.local.app, kept.now() + chrono::Duration::days(3650), None).await.unwrap();
    assert_eq!(late.purged, 0);
    assert!(stored(&kept, 9).await.contains("Chestnut Street 92"), "0 keeps it until the storefront asks");
}

async fn a_mail_sent_while_its_order_is_erased_keeps_no_copy_of_what_was_erased(backend: Backend) {
    let app = spawn_app_with(backend, Some(Chaos::quiet())).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &version(7, "2026-11-20T10:00:00-05:00", |_| {}), SHOPIFY_SECRET).await;
    step(&app, &key, 7, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    step(&app, &key, 7, "shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    // Delivered: the customer's mail is composed from the order as it is now, and the
    // provider takes its time writing it (a slow send) ...
    let url = format!("{}/vendor/orders/{}/delivered", app.base, order_id(7));
    assert_eq!(app.client.post(url).bearer_auth(&key).json(&json!({})).send().await.unwrap().status(), 200);
    app.local.relay().await.unwrap();
    app.local.chaos.as_ref().unwrap().mailer.queue([Fault::Slow]);
    let sending = tokio::spawn({
        let local = app.local.clone();
        async move { local.deliver_batch(QueueName::Notify, std::time::Duration::ZERO).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // ... while the customer's redaction is carried out whole.
    let url = format!("{}/webhooks/shopify", app.base);
    let body = redact_body(&[7]);
    let request = app
        .client
        .post(url)
        .header("X-Shopify-Hmac-Sha256", sign(SHOPIFY_SECRET, &body))
        .header("X-Shopify-Topic", "customers/redact")
        .header("X-Shopify-Shop-Domain", "scenario.myshopify.com");
    assert_eq!(request.body(body).send().await.unwrap().status(), 200);
    app.local.deliver_batch(QueueName::Intake, std::time::Duration::ZERO).await.unwrap();
    assert!(app.local.app.tables.order(&order_id(7)).await.unwrap().unwrap().is_redacted());
    sending.await.unwrap().unwrap();
    app.deliver().await;
    assert_eq!(personal_left_in(&stored(&app, 7).await), Vec::<&str>::new());
    if let Some(mail) = kept_mail(&app).await {
        assert!(mail.contains("was delivered"), "the slow mail went out: {mail}");
        assert_eq!(personal_left_in(&mail), Vec::<&str>::new(), "{mail}");
    }
}

async fn a_forged_privacy_request_is_refused_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.shopify_webhook("orders/create", &version(7, "2026-11-20T10:00:00-05:00", |o| o["financial_status"] = json!("authorized")), SHOPIFY_SECRET).await;
    for topic in ["customers/redact", "shop/redact"] {
        assert_eq!(app.shopify_webhook(topic, &redact_body(&[7]), "not-the-secret").await.status(), 401);
    }
    assert!(!app.local.app.tables.order(&order_id(7)).await.unwrap().unwrap().is_redacted());
    assert_eq!(app.shopify_webhook("customers/redact", b"{not json", SHOPIFY_SECRET).await.status(), 400);
}

/// Shopify does not order its webhooks: an erasure that comes before its order leaves a
/// tombstone, and the order, when it arrives, is kept without the customer's data,
/// handed to no vendor, and the operator told once.
async fn a_redaction_before_its_order_arrives_erases_the_order_when_it_comes(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    assert_eq!(app.shopify_webhook("customers/redact", &redact_body(&[5]), SHOPIFY_SECRET).await.status(), 200);
    for _ in 0..2 {
        let paid = version(5, "2026-11-20T10:00:00-05:00", |_| {});
        assert_eq!(app.shopify_webhook("orders/paid", &paid, SHOPIFY_SECRET).await.status(), 200);
    }
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert_eq!(list["orders"].as_array().unwrap().len(), 0, "no vendor gets an erased customer's address: {list}");
    let items = serde_json::to_string(&app.local.app.tables.order_items(&order_id(5), "").await.unwrap()).unwrap();
    assert!(items.contains("IPod Nano"), "the order is kept: {items}");
    assert_eq!(personal_left_in(&items), Vec::<&str>::new(), "{items}");
    let to_operator: Vec<String> = app
        .outbox()
        .await
        .iter()
        .filter_map(|m| m["subject"].as_str().map(str::to_string))
        .filter(|subject| subject.contains("after its customer's data was erased"))
        .collect();
    assert_eq!(to_operator.len(), 1, "{to_operator:?}");
    let sent = serde_json::to_string(&app.outbox().await).unwrap();
    assert!(!sent.contains("Bob Norman") && !sent.contains("Chestnut Street"), "no mail carries what was erased");
}

/// A redaction that comes while the order's first delivery is being filed (intake read
/// no tombstone, and has not committed yet): the order's commit checks that no
/// tombstone came meanwhile, so it loses, reads again and keeps the order erased; the
/// redaction, reading after its tombstone, found no order. Neither can miss the other.
async fn a_redaction_racing_its_orders_first_delivery_is_never_missed(backend: Backend) {
    let app = spawn_app_with(backend, Some(Chaos::quiet())).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let paid = version(6, "2026-11-20T10:00:00-05:00", |_| {});
    assert_eq!(post_undelivered(&app, "scenario.myshopify.com", "orders/paid", &paid, SHOPIFY_SECRET).await, 200);
    // Intake has read the order's marks (none) and is committing it, slowly ...
    let store = &app.local.chaos.as_ref().unwrap().store;
    store.queue([Fault::Slow]);
    let filing = tokio::spawn({
        let local = app.local.clone();
        async move { local.deliver_batch(QueueName::Intake, std::time::Duration::ZERO).await }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while store.pending() > 0 {
        assert!(std::time::Instant::now() < deadline, "intake never reached its commit");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // ... when the storefront asks to erase its customer's data.
    let redacted = dropflow_shared::services::privacy::redact(&app.local.app, &order_id(6)).await.unwrap();
    assert_eq!(redacted, dropflow_shared::services::privacy::Redacted::Unknown, "not filed yet: a tombstone");
    filing.await.unwrap().unwrap();
    app.deliver().await;
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert_eq!(list["orders"].as_array().unwrap().len(), 0, "no vendor gets an erased customer's address: {list}");
    let items = serde_json::to_string(&app.local.app.tables.order_items(&order_id(6), "").await.unwrap()).unwrap();
    assert!(items.contains("IPod Nano"), "the order is kept: {items}");
    assert_eq!(personal_left_in(&items), Vec::<&str>::new(), "{items}");
}

on_both_backends!(
    a_redaction_racing_its_orders_first_delivery_is_never_missed,
    customers_redact_erases_a_delivered_order_everywhere_and_nothing_brings_it_back,
    an_order_still_on_its_way_is_redacted_when_it_is_delivered,
    shop_redact_erases_every_order_of_that_shop_and_no_other,
    a_data_request_mails_the_operator_what_is_held_once,
    a_data_request_for_orders_not_held_still_reaches_the_operator,
    customer_data_is_purged_retention_days_after_the_order_closes,
    a_forged_privacy_request_is_refused_and_changes_nothing,
    a_mail_sent_while_its_order_is_erased_keeps_no_copy_of_what_was_erased,
    a_redaction_before_its_order_arrives_erases_the_order_when_it_comes,
);
