//! Storefront write-back to Shopify (issue 26), on both backends, against the stand-in
//! of the Admin GraphQL API in `dropflow_scenarios::shopify_admin` (its module names the
//! documentation it follows).

use dropflow_scenarios::shopify_admin::{Fault, Shop, Stand, TOKEN, gid};
use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app_configured};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::ports::QueueName;
use reqwest::Method;
use serde_json::{Value, json};

const SHOP: &str = "lumen.myshopify.com";
/// The fixture order's REST id.
const ORDER: &str = "450789469";
/// Vendor A's parcel (green and red), a Royal Mail number; vendor B's (black), UPS.
const PARCEL_A: &str = "RB123456785GB";
const PARCEL_B: &str = "1Z5R89390357567127";

/// The stand-in with the fixture order #1001: one fulfillment order of its three lines.
async fn stand_in() -> (String, Stand) {
    let (endpoint, shop) = dropflow_scenarios::shopify_admin::start(SHOP).await;
    shop.lock().unwrap().add_order(ORDER, &[("466157049", 1), ("518995019", 1), ("703073504", 1)]);
    (endpoint, shop)
}

/// The settings of an app that writes back to the stand-in at `endpoint`.
fn writing_to(endpoint: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut settings = vec![
        ("SHOPIFY_ADMIN_TOKENS".to_string(), format!("{SHOP}={TOKEN}")),
        ("SHOPIFY_ADMIN_ENDPOINT".to_string(), endpoint.to_string()),
        ("RETRY_FIRST_BACKOFF_SECONDS".to_string(), "1".to_string()),
    ];
    settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    settings
}

async fn spawn(backend: Backend, settings: &[(String, String)]) -> TestApp {
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_app_configured(backend, None, &pairs).await
}

/// The fixture order paid at the shop; vendor A sells green and red, vendor B black.
async fn two_vendor_order(app: &TestApp) -> (String, String) {
    let a = app.onboard("vendor-a", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let b = app.onboard("vendor-b", &["IPOD2008BLACK"]).await;
    let answer = app.shopify_webhook_from(Some(SHOP), "orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await;
    assert_eq!(answer.status(), 200);
    app.deliver().await;
    (a, b)
}

fn order_id() -> String {
    OrderId::derive("shopify", "", "450789469").to_string()
}

async fn ship(app: &TestApp, key: &str, reference: &str, number: &str) {
    for (step, body) in [("supplier-order", json!({"supplier_order_ref": reference})), ("shipment", json!({"tracking_number": number}))] {
        let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{}/{step}", order_id()), key, Some(body)).await;
        assert_eq!(status, 200, "{step}: {answer}");
        app.deliver().await;
    }
}

/// Delivers until `done` holds of the stand-in (retries wait their backoff), or fails.
async fn until(app: &TestApp, shop: &Stand, what: &str, done: impl Fn(&Shop) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let settled = done(&shop.lock().unwrap());
        if settled {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {:?}", shop.lock().unwrap().fulfillments(ORDER));
        app.deliver().await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn lines_of(fulfillment: &Value) -> Vec<(String, u64)> {
    let nodes = fulfillment["fulfillmentLineItems"]["nodes"].as_array().unwrap();
    nodes.iter().map(|n| (n["lineItem"]["id"].as_str().unwrap().to_string(), n["quantity"].as_u64().unwrap())).collect()
}

async fn each_vendor_parcel_is_one_fulfillment_with_its_own_lines_and_tracking(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    let settings = writing_to(&endpoint, &[]);
    let app = spawn(backend, &settings).await;
    let (a, b) = two_vendor_order(&app).await;
    ship(&app, &a, "AE-1", PARCEL_A).await;
    until(&app, &shop, "vendor A's fulfillment", |s| s.fulfillments(ORDER).len() == 1).await;
    ship(&app, &b, "CJ-1", PARCEL_B).await;
    until(&app, &shop, "vendor B's fulfillment", |s| s.fulfillments(ORDER).len() == 2).await;
    // The same shipped events once more, as a redelivery would bring them.
    let events = app.local.app.tables.events(&OrderId::parse(&order_id()).unwrap()).await.unwrap();
    for shipped in events.iter().filter(|e| e.event_type.as_str() == "shipped") {
        app.local.app.publisher.publish(QueueName::Storefront, serde_json::to_string(shipped).unwrap()).await.unwrap();
    }
    app.deliver().await;
    let report = app.cli(&["order", "show", &order_id()]).await.unwrap();
    assert!(report.contains("storefront parcel RB123456785GB: written:gid://shopify/Fulfillment/450789469-1"), "{report}");
    assert!(report.contains("storefront parcel 1Z5R89390357567127: written:gid://shopify/Fulfillment/450789469-2"), "{report}");
    let shop = shop.lock().unwrap();
    assert!(shop.refused.is_empty(), "{:?}", shop.refused);
    assert_eq!((shop.fulfillments(ORDER).len(), shop.creates), (2, 2), "one fulfillment per parcel, a redelivery makes none");
    let fulfillments = shop.fulfillments(ORDER);
    let (first, second) = (&fulfillments[0], &fulfillments[1]);
    assert_eq!(lines_of(first), vec![(gid("LineItem", "466157049"), 1), (gid("LineItem", "518995019"), 1)]);
    assert_eq!(first["trackingInfo"][0], json!({"company": "Royal Mail", "number": PARCEL_A, "url": "https://t.17track.net/en#nums=RB123456785GB"}));
    assert_eq!(lines_of(second), vec![(gid("LineItem", "703073504"), 1)]);
    assert_eq!(first["notifyCustomer"], false, "dropflow mails the customer by default, so the shop does not");
    assert_eq!(second["trackingInfo"][0], json!({"company": "UPS", "number": PARCEL_B, "url": "https://www.ups.com/track?tracknum=1Z5R89390357567127"}));
    assert!(shop.orders[ORDER].remaining.iter().all(|(_, _, left)| *left == 0), "the order reads fulfilled");
}

async fn a_throttle_and_a_call_applied_before_its_answer_was_lost_still_make_one_fulfillment(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    shop.lock().unwrap().faults = vec![Fault::Throttle, Fault::ApplyThenFail];
    let settings = writing_to(&endpoint, &[]);
    let app = spawn(backend, &settings).await;
    let (a, _) = two_vendor_order(&app).await;
    ship(&app, &a, "AE-1", PARCEL_A).await;
    // The throttle waits for the bucket; the lost answer is retried, and the retry reads
    // the fulfillment under the parcel's number instead of making another.
    until(&app, &shop, "the write-back settled", |s| s.faults.is_empty() && s.fulfillments(ORDER).len() == 1).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    app.deliver().await;
    {
        let shop = shop.lock().unwrap();
        assert_eq!((shop.fulfillments(ORDER).len(), shop.creates), (1, 1), "{:?}", shop.fulfillments(ORDER));
    }
    let id = OrderId::parse(&order_id()).unwrap();
    let events = app.local.app.tables.events(&id).await.unwrap();
    let shipped = events.iter().find(|e| e.event_type.as_str() == "shipped").unwrap();
    let mark = app.local.app.tables.sent_message_id(&shipped.event_id, &format!("storefront:{PARCEL_A}")).await.unwrap();
    assert_eq!(mark.as_deref(), Some("written:gid://shopify/Fulfillment/450789469-1"), "the fulfillment's id is kept with the parcel");
}

async fn a_refusal_is_recorded_once_and_never_retried(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    shop.lock().unwrap().faults = vec![Fault::UserError];
    let settings = writing_to(&endpoint, &[]);
    let app = spawn(backend, &settings).await;
    let (a, _) = two_vendor_order(&app).await;
    ship(&app, &a, "AE-1", PARCEL_A).await;
    until(&app, &shop, "the refused call", |s| s.creates == 1).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    app.deliver().await;
    let (creates, made) = {
        let shop = shop.lock().unwrap();
        (shop.creates, shop.fulfillments(ORDER).len())
    };
    assert_eq!((creates, made), (1, 0), "userErrors are permanent: no retry");
    let events = app.local.app.tables.events(&OrderId::parse(&order_id()).unwrap()).await.unwrap();
    let shipped = events.iter().find(|e| e.event_type.as_str() == "shipped").unwrap();
    let mark = app.local.app.tables.sent_message_id(&shipped.event_id, &format!("storefront:{PARCEL_A}")).await.unwrap().unwrap();
    assert_eq!(mark, "refused:Invalid fulfillment order line item quantity requested.");
    let report = app.cli(&["order", "show", &order_id()]).await.unwrap();
    assert!(report.contains("storefront parcel RB123456785GB: refused:Invalid fulfillment order line item quantity requested."), "{report}");
    let outbox = app.outbox().await;
    let to_operator: Vec<&Value> =
        outbox.iter().filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("the storefront did not record parcel RB123456785GB"))).collect();
    assert_eq!(to_operator.len(), 1, "the operator hears once");
    assert!(to_operator[0]["text"].as_str().unwrap().contains("Invalid fulfillment order line item quantity requested."));
    let customer_mail = outbox.iter().filter(|m| m["to"] == "bob.norman@hostmail.com").count();
    assert!(customer_mail >= 2, "the customer's own mail is not held up by the storefront's refusal");
}

async fn when_the_shop_mails_shipments_dropflow_does_not(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    let settings = writing_to(&endpoint, &[("SHOPIFY_NOTIFY_CUSTOMER", "shop")]);
    let app = spawn(backend, &settings).await;
    let (a, _) = two_vendor_order(&app).await;
    ship(&app, &a, "AE-1", PARCEL_A).await;
    until(&app, &shop, "the fulfillment", |s| s.fulfillments(ORDER).len() == 1).await;
    assert_eq!(shop.lock().unwrap().fulfillments(ORDER)[0]["notifyCustomer"], true);
    let subjects: Vec<String> = app
        .outbox()
        .await
        .into_iter()
        .filter(|m| m["to"] == "bob.norman@hostmail.com")
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!subjects.iter().any(|s| s.to_lowercase().contains("shipped") || s.to_lowercase().contains("on its way")), "never both: {subjects:?}");
    assert!(!subjects.is_empty(), "the order's confirmation is still dropflow's: {subjects:?}");
}

/// An AfterShip push of `tag` for `number`.
fn push(event_id: &str, number: &str, tag: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event": "tracking_update", "event_id": event_id, "ts": 1795000000, "is_tracking_first_tag": false,
        "msg": {"tracking_number": number, "slug": "royal-mail", "tag": tag, "subtag": format!("{tag}_001"),
            "checkpoints": [{"checkpoint_time": "2026-11-23T08:00:00Z", "location": "Heathrow", "message": "Arrived at the hub", "tag": tag}]}
    }))
    .unwrap()
}

fn statuses(shop: &Stand, parcel: usize) -> Vec<String> {
    let shop = shop.lock().unwrap();
    let events = shop.fulfillments(ORDER)[parcel]["events"]["nodes"].as_array().cloned().unwrap_or_default();
    events.iter().map(|e| e["status"].as_str().unwrap().to_string()).collect()
}

async fn the_carriers_news_and_each_delivery_become_fulfillment_events_once(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    let app = spawn(backend, &writing_to(&endpoint, &[])).await;
    let (a, b) = two_vendor_order(&app).await;
    ship(&app, &a, "AE-1", PARCEL_A).await;
    ship(&app, &b, "CJ-1", PARCEL_B).await;
    until(&app, &shop, "both fulfillments", |s| s.fulfillments(ORDER).len() == 2).await;
    for (id, tag) in [("ev-1", "InTransit"), ("ev-1", "InTransit"), ("ev-2", "OutForDelivery"), ("ev-3", "Pending")] {
        let answer = app.tracking_push("/webhooks/tracking/aftership", &push(id, PARCEL_A, tag), dropflow_scenarios::AFTERSHIP_SECRET).await;
        assert_eq!(answer.map(|a| a.0), Some(200));
        app.deliver().await;
    }
    until(&app, &shop, "two carrier events", |s| s.fulfillments(ORDER)[0]["events"]["nodes"].as_array().is_some_and(|e| e.len() == 2)).await;
    // Parcel A arrives by the carrier's word, then vendor B marks its parcel delivered,
    // which delivers the whole vendor order: each parcel's DELIVERED is written once.
    let answer = app.tracking_push("/webhooks/tracking/aftership", &push("ev-4", PARCEL_A, "Delivered"), dropflow_scenarios::AFTERSHIP_SECRET).await;
    assert_eq!(answer.map(|a| a.0), Some(200));
    app.deliver().await;
    let (status, body, _) = app.vendor(Method::POST, &format!("/vendor/orders/{}/delivered", order_id()), &b, Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    app.deliver().await;
    until(&app, &shop, "B delivered", |s| s.fulfillments(ORDER)[1]["events"]["nodes"].as_array().is_some_and(|e| !e.is_empty())).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    app.deliver().await;
    assert_eq!(statuses(&shop, 0), ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"], "a repeated push and a tag Shopify has no word for add nothing");
    assert_eq!(statuses(&shop, 1), ["DELIVERED"]);
    let refused = shop.lock().unwrap().refused.clone();
    assert!(refused.is_empty(), "{refused:?}");
}

async fn a_vendors_cancel_tags_and_notes_the_shops_order_once_and_a_storefront_cancel_writes_nothing(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    let app = spawn(backend, &writing_to(&endpoint, &[])).await;
    let (_, b) = two_vendor_order(&app).await;
    let (status, body, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{}/cancel", order_id()), &b, Some(json!({"reason": "Out of stock\n<b>sorry</b>"}))).await;
    assert_eq!(status, 200, "{body}");
    app.deliver().await;
    until(&app, &shop, "the note", |s| s.orders[ORDER].note.is_some()).await;
    // The cancelled event again, as a redelivery brings it.
    let events = app.local.app.tables.events(&OrderId::parse(&order_id()).unwrap()).await.unwrap();
    for cancelled in events.iter().filter(|e| e.event_type.as_str() == "cancelled") {
        app.local.app.publisher.publish(QueueName::Storefront, serde_json::to_string(cancelled).unwrap()).await.unwrap();
    }
    app.deliver().await;
    // The shop cancels the rest itself: nothing of that is written back to it.
    let mut cancelled: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    cancelled["updated_at"] = json!("2026-11-21T09:00:00-05:00");
    cancelled["cancelled_at"] = json!("2026-11-21T09:00:00-05:00");
    let answer = app.shopify_webhook_from(Some(SHOP), "orders/cancelled", &serde_json::to_vec(&cancelled).unwrap(), SHOPIFY_SECRET).await;
    assert_eq!(answer.status(), 200);
    app.deliver().await;
    let shop = shop.lock().unwrap();
    let order = &shop.orders[ORDER];
    assert_eq!(order.tags, ["dropflow-vendor-cancelled"]);
    assert_eq!(
        order.note.as_deref(),
        Some("dropflow: vendor vendor-b cancelled 1 x IPod Nano - 8gb (Out of stock <b>sorry</b>); refund or re-source these items"),
        "one line, the vendor's reason as plain text on it"
    );
    assert_eq!(order.note_writes, 2, "one tag and one note: the redelivery and the shop's own cancel write nothing");
    assert!(order.fulfillments.is_empty() && shop.refused.is_empty(), "{:?}", shop.refused);
}

async fn the_shops_echo_of_a_write_back_changes_nothing(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    let app = spawn(backend, &writing_to(&endpoint, &[])).await;
    let (a, _) = two_vendor_order(&app).await;
    ship(&app, &a, "AE-1", PARCEL_A).await;
    until(&app, &shop, "the fulfillment", |s| s.fulfillments(ORDER).len() == 1).await;
    let seen = |orders: Vec<Value>| orders.iter().map(|o| (o["state"].clone(), o["lines"].clone(), o["shipments"].clone())).collect::<Vec<_>>();
    let before = (app.outbox().await.len(), seen(app.vendor_orders(&a).await));
    // Shopify tells of the fulfillment dropflow made: the order updated (partially
    // fulfilled, a later stamp) and the fulfillment created.
    let mut updated: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    updated["updated_at"] = json!("2026-11-21T09:00:00-05:00");
    updated["fulfillment_status"] = json!("partial");
    let fulfillment = json!({"id": 255858046, "order_id": 450789469, "status": "success", "tracking_number": PARCEL_A, "tracking_company": "Royal Mail"});
    for (topic, body) in [("orders/updated", updated), ("fulfillments/create", fulfillment)] {
        let answer = app.shopify_webhook_from(Some(SHOP), topic, &serde_json::to_vec(&body).unwrap(), SHOPIFY_SECRET).await;
        assert_eq!(answer.status(), 200, "{topic}");
        app.deliver().await;
    }
    assert_eq!((app.outbox().await.len(), seen(app.vendor_orders(&a).await)), before, "no mail, no change to the vendor order");
    let shop = shop.lock().unwrap();
    assert_eq!((shop.fulfillments(ORDER).len(), shop.creates), (1, 1), "the echo writes nothing back");
}

async fn carrier_news_applied_before_its_answer_was_lost_is_one_fulfillment_event(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    let app = spawn(backend, &writing_to(&endpoint, &[])).await;
    let (a, _) = two_vendor_order(&app).await;
    ship(&app, &a, "AE-1", PARCEL_A).await;
    until(&app, &shop, "the fulfillment", |s| s.fulfillments(ORDER).len() == 1).await;
    shop.lock().unwrap().faults = vec![Fault::ApplyThenFail];
    let answer = app.tracking_push("/webhooks/tracking/aftership", &push("ev-1", PARCEL_A, "InTransit"), dropflow_scenarios::AFTERSHIP_SECRET).await;
    assert_eq!(answer.map(|a| a.0), Some(200));
    app.deliver().await;
    until(&app, &shop, "the retry", |s| s.faults.is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    app.deliver().await;
    assert_eq!(statuses(&shop, 0), ["IN_TRANSIT"], "the retry reads the event Shopify applied and writes none");
}

async fn a_corrected_number_updates_its_fulfillment_once_and_frees_the_wrong_one(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    let app = spawn(backend, &writing_to(&endpoint, &[])).await;
    let (a, b) = two_vendor_order(&app).await;
    // Vendor A ships its parcel under vendor B's number by mistake, then corrects it.
    ship(&app, &a, "AE-1", PARCEL_B).await;
    until(&app, &shop, "the fulfillment under the wrong number", |s| s.fulfillments(ORDER).len() == 1).await;
    let path = format!("/vendor/orders/{}/shipments/{}", order_id(), PARCEL_B.to_lowercase());
    for _ in 0..2 {
        let (status, body, _) = app.vendor(Method::PUT, &path, &a, Some(json!({"tracking_number": PARCEL_A}))).await;
        assert_eq!(status, 200, "the same correction twice is one: {body}");
        assert_eq!(body["shipments"][0]["tracking"]["number"], PARCEL_A, "{body}");
        app.deliver().await;
    }
    until(&app, &shop, "the tracking update", |s| s.tracking_updates == 1).await;
    let events = app.local.app.tables.events(&OrderId::parse(&order_id()).unwrap()).await.unwrap();
    let corrections: Vec<_> = events.iter().filter(|e| e.event_type.as_str() == "tracking_corrected").collect();
    assert_eq!(corrections.len(), 1, "one correction, one event");
    for queue in [QueueName::Notify, QueueName::Storefront] {
        app.local.app.publisher.publish(queue, serde_json::to_string(corrections[0]).unwrap()).await.unwrap();
    }
    app.deliver().await;
    // The wrong number was vendor B's all along: B ships under it now.
    ship(&app, &b, "CJ-1", PARCEL_B).await;
    until(&app, &shop, "vendor B's fulfillment", |s| s.fulfillments(ORDER).len() == 2).await;
    let outbox = app.outbox().await;
    let corrected: Vec<&Value> = outbox.iter().filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("corrected tracking number"))).collect();
    assert_eq!(corrected.len(), 1, "the customer hears once");
    assert_eq!(corrected[0]["to"], "bob.norman@hostmail.com");
    let text = corrected[0]["text"].as_str().unwrap();
    assert!(text.contains(PARCEL_A) && text.contains(&format!("{PARCEL_B}, was wrong")), "{text}");
    let shop = shop.lock().unwrap();
    assert!(shop.refused.is_empty(), "{:?}", shop.refused);
    assert_eq!((shop.creates, shop.tracking_updates), (2, 1), "one update, never a second fulfillment of A's parcel");
    let fulfillments = shop.fulfillments(ORDER);
    assert_eq!(fulfillments[0]["trackingInfo"][0], json!({"company": "Royal Mail", "number": PARCEL_A, "url": "https://t.17track.net/en#nums=RB123456785GB"}));
    assert_eq!(lines_of(&fulfillments[0]), vec![(gid("LineItem", "466157049"), 1), (gid("LineItem", "518995019"), 1)], "its lines kept");
    assert_eq!(fulfillments[1]["trackingInfo"][0]["number"], PARCEL_B);
}

/// The fixture order as Shopify holds it, under `id` (its lines' ids moved by the same
/// amount), changed at `updated`.
fn shop_order(id: u64, updated: chrono::DateTime<chrono::Utc>) -> Value {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    let shift = id - 450_789_469;
    order["id"] = id.into();
    order["name"] = format!("#{}", 1001 + shift).into();
    order["updated_at"] = updated.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
    for line in order["line_items"].as_array_mut().unwrap() {
        line["id"] = (line["id"].as_u64().unwrap() + shift).into();
    }
    order
}

async fn a_shopify_order_whose_webhook_never_came_is_routed_by_the_next_reconcile_and_none_is_doubled(backend: Backend) {
    let (endpoint, shop) = dropflow_scenarios::shopify_admin::start(SHOP).await;
    let app = spawn(backend, &writing_to(&endpoint, &[])).await;
    let now = app.now();
    let a = app.onboard("vendor-a", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    let b = app.onboard("vendor-b", &["IPOD2008BLACK"]).await;
    // #1001 came by its webhook; #1002's never came; #1003 changed before the first
    // run's look-back; #1004 is stamped a month ahead (the shop's clock is not ours).
    let delivered = shop_order(450_789_469, now - chrono::Duration::hours(3));
    let answer = app.shopify_webhook_from(Some(SHOP), "orders/paid", delivered.to_string().as_bytes(), SHOPIFY_SECRET).await;
    assert_eq!(answer.status(), 200);
    app.deliver().await;
    {
        let mut held = shop.lock().unwrap();
        held.list(delivered);
        held.list(shop_order(450_789_470, now - chrono::Duration::hours(2)));
        held.list(shop_order(450_789_471, now - chrono::Duration::hours(200)));
        held.list(shop_order(450_789_472, now + chrono::Duration::days(30)));
    }
    let said = app.cli(&["reconcile", "--now", &now.to_rfc3339()]).await.unwrap();
    assert_eq!(said.trim(), "reconciled 1 shops: 3 changed orders read, 3 queued for intake");
    app.deliver().await;
    let numbers = |orders: Vec<Value>| {
        let mut numbers: Vec<String> = orders.iter().map(|o| o["order_number"].as_str().unwrap_or_default().to_string()).collect();
        numbers.sort();
        numbers
    };
    assert_eq!(numbers(app.vendor_orders(&a).await), ["#1001", "#1002", "#1004"], "#1002 routed, #1001 not doubled, #1003 older than the look-back");
    assert_eq!(numbers(app.vendor_orders(&b).await), ["#1001", "#1002", "#1004"]);
    // The cursor stopped at now, not at #1004's stamp: the next run reads from there.
    let said = app.cli(&["reconcile"]).await.unwrap();
    assert_eq!(said.trim(), "reconciled 1 shops: 1 changed orders read, 1 queued for intake", "only the order stamped ahead, again");
    app.deliver().await;
    assert_eq!(numbers(app.vendor_orders(&a).await), ["#1001", "#1002", "#1004"]);
    // A run whose deadline is (nearly) here starts no page: the next run goes on.
    let late = dropflow_shared::services::reconcile::reconcile(&app.local.app, app.now(), Some(std::time::Instant::now())).await.unwrap();
    assert_eq!((late.read, late.unfinished.as_slice()), (0, [SHOP.to_string()].as_slice()));
    let shop = shop.lock().unwrap();
    assert!(shop.refused.is_empty(), "every listing as Shopify takes it: {:?}", shop.refused);
    let after = |at: chrono::DateTime<chrono::Utc>| format!("updated_at:>'{}'", at.format("%Y-%m-%dT%H:%M:%SZ"));
    let second = chrono::Duration::seconds(1);
    assert_eq!(shop.listings, [after(now - chrono::Duration::hours(168) - second), after(now - second)]);
}

async fn the_shops_order_learns_its_status_page_once_and_keeps_its_other_attributes(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    shop.lock().unwrap().orders.get_mut(ORDER).unwrap().attributes = vec![json!({"key": "Gift wrap", "value": "yes"})];
    let app = spawn(backend, &writing_to(&endpoint, &[])).await;
    two_vendor_order(&app).await;
    until(&app, &shop, "the status link", |s| s.orders[ORDER].attribute_writes == 1).await;
    // The accepted order's event once more, as a redelivery would bring it.
    let events = app.local.app.tables.events(&OrderId::parse(&order_id()).unwrap()).await.unwrap();
    let accepted = events.iter().find(|e| e.event_type.as_str() == "order_accepted").expect("the order_accepted event");
    app.local.app.publisher.publish(QueueName::Storefront, serde_json::to_string(accepted).unwrap()).await.unwrap();
    app.deliver().await;
    let shown = app.cli(&["order", "show", &order_id()]).await.unwrap();
    let url = shown.lines().find_map(|l| l.strip_prefix("customer's status page: ")).expect("the link").to_string();
    let shop = shop.lock().unwrap();
    assert!(shop.refused.is_empty(), "{:?}", shop.refused);
    let order = &shop.orders[ORDER];
    assert_eq!(order.attributes, vec![json!({"key": "Gift wrap", "value": "yes"}), json!({"key": "Order status", "value": url})]);
    assert_eq!(order.attribute_writes, 1, "written once: the redelivery found it there");
}

on_both_backends!(
    the_shops_order_learns_its_status_page_once_and_keeps_its_other_attributes,
    a_shopify_order_whose_webhook_never_came_is_routed_by_the_next_reconcile_and_none_is_doubled,
    a_corrected_number_updates_its_fulfillment_once_and_frees_the_wrong_one,
    carrier_news_applied_before_its_answer_was_lost_is_one_fulfillment_event,
    the_shops_echo_of_a_write_back_changes_nothing,
    a_vendors_cancel_tags_and_notes_the_shops_order_once_and_a_storefront_cancel_writes_nothing,
    the_carriers_news_and_each_delivery_become_fulfillment_events_once,
    each_vendor_parcel_is_one_fulfillment_with_its_own_lines_and_tracking,
    a_throttle_and_a_call_applied_before_its_answer_was_lost_still_make_one_fulfillment,
    a_refusal_is_recorded_once_and_never_retried,
    when_the_shop_mails_shipments_dropflow_does_not,
);
