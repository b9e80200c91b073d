//! Storefront write-back to WooCommerce (issue 26), on both backends, against the
//! stand-in of a site's REST API in `dropflow_scenarios::woocommerce_api` (its module
//! names the documentation it follows). The site is on plain http, so every call is
//! OAuth 1.0a-signed and the stand-in checks each signature.

use dropflow_scenarios::woocommerce_api::{CONSUMER_KEY, CONSUMER_SECRET, Fault, Site, Stand};
use dropflow_scenarios::{Backend, TestApp, WOOCOMMERCE_SECRET, fixture, on_both_backends, spawn_app_configured};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::ports::QueueName;
use reqwest::Method;
use serde_json::{Value, json};

/// The fixture order's id at the site.
const ORDER: &str = "727";
/// Vendor A's parcel (Foo), a Royal Mail number the site lists; vendor B's (Bar), a
/// carrier it does not.
const PARCEL_A: &str = "RB123456785GB";
const PARCEL_B: &str = "YT2412345678901234";

/// The stand-in, holding order 727, with or without the Shipment Tracking extension.
async fn stand_in(extension: bool) -> (String, Stand) {
    let (base, site) = dropflow_scenarios::woocommerce_api::start().await;
    let mut held = site.lock().unwrap();
    held.add_order(ORDER);
    held.tracking_extension = extension;
    drop(held);
    (base, site)
}

async fn spawn(backend: Backend, base: &str, extra: &[(&str, &str)]) -> TestApp {
    let keys = format!("{base}={CONSUMER_KEY}:{CONSUMER_SECRET}");
    let mut settings = vec![("WOOCOMMERCE_API_KEYS", keys.as_str()), ("RETRY_FIRST_BACKOFF_SECONDS", "1")];
    settings.extend_from_slice(extra);
    spawn_app_configured(backend, None, &settings).await
}

/// The site's host, as orders are filed under it.
fn host(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

fn order_id(base: &str) -> String {
    OrderId::derive("woocommerce", &host(base), ORDER).to_string()
}

/// The fixture order `id` as the stand-in's site sends it, changed at `modified`
/// (GMT), both lines with SKUs: vendor A sells Foo2, vendor B Bar3.
fn order_body(base: &str, id: u64, modified: &str) -> Value {
    let mut order: Value = serde_json::from_slice(&fixture("woocommerce/order-processing.json")).unwrap();
    order["id"] = json!(id);
    order["number"] = json!(id.to_string());
    order["date_modified_gmt"] = json!(modified);
    order["line_items"][0]["sku"] = json!("Foo2");
    order["_links"] = json!({"self": [{"href": format!("{base}/wp-json/wc/v3/orders/{id}")}]});
    order
}

/// Vendor A (Foo2) and vendor B (Bar3) onboarded, and order 727 delivered by its
/// webhook.
async fn two_vendor_order(app: &TestApp, base: &str) -> (String, String) {
    two_vendor_order_changed(app, base, "2017-03-22T16:28:08").await
}

async fn two_vendor_order_changed(app: &TestApp, base: &str, modified: &str) -> (String, String) {
    let a = app.onboard("vendor-a", &[]).await;
    app.map_sku("Foo2", "vendor-a", "3.00 USD").await.unwrap();
    let b = app.onboard("vendor-b", &[]).await;
    app.map_sku("Bar3", "vendor-b", "4.10 USD").await.unwrap();
    let order = order_body(base, 727, modified);
    let answer = app.woocommerce_webhook_from(&format!("{base}/"), "order.created", &serde_json::to_vec(&order).unwrap(), WOOCOMMERCE_SECRET).await;
    assert_eq!(answer.status(), 200);
    app.deliver().await;
    (a, b)
}

async fn ship(app: &TestApp, base: &str, key: &str, reference: &str, number: &str) {
    for (step, body) in [("supplier-order", json!({"supplier_order_ref": reference})), ("shipment", json!({"tracking_number": number}))] {
        let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{}/{step}", order_id(base)), key, Some(body)).await;
        assert_eq!(status, 200, "{step}: {answer}");
        app.deliver().await;
    }
}

/// Delivers until `done` holds of the stand-in (retries wait their backoff), or fails.
async fn until(app: &TestApp, site: &Stand, what: &str, done: impl Fn(&Site) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if done(&site.lock().unwrap()) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {:?}", site.lock().unwrap().orders[ORDER]);
        app.deliver().await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Every event of `kind` once more, as a redelivery would bring it.
async fn redeliver(app: &TestApp, base: &str, kind: &str) {
    let events = app.local.app.tables.events(&OrderId::parse(&order_id(base)).unwrap()).await.unwrap();
    for event in events.iter().filter(|e| e.event_type.as_str() == kind) {
        app.local.app.publisher.publish(QueueName::Storefront, serde_json::to_string(event).unwrap()).await.unwrap();
    }
    app.deliver().await;
}

async fn each_parcel_is_one_tracking_item_and_the_order_completes_once_its_last_line_shipped(backend: Backend) {
    let (base, site) = stand_in(true).await;
    let app = spawn(backend, &base, &[]).await;
    let (a, b) = two_vendor_order(&app, &base).await;
    ship(&app, &base, &a, "AE-1", PARCEL_A).await;
    until(&app, &site, "vendor A's tracking item", |s| s.orders[ORDER].trackings.len() == 1).await;
    assert_eq!(site.lock().unwrap().orders[ORDER].status, "processing", "one vendor of two has shipped");
    ship(&app, &base, &b, "CJ-1", PARCEL_B).await;
    until(&app, &site, "vendor B's tracking item and the completion", |s| s.orders[ORDER].status == "completed").await;
    redeliver(&app, &base, "shipped").await;
    let report = app.cli(&["order", "show", &order_id(&base)]).await.unwrap();
    assert!(report.contains("storefront parcel RB123456785GB: written:tracking:a0"), "{report}");
    assert!(report.contains("storefront parcel YT2412345678901234: written:tracking:a1 completed"), "{report}");
    let site = site.lock().unwrap();
    assert!(site.refused.is_empty(), "every call signed and well formed: {:?}", site.refused);
    let order = &site.orders[ORDER];
    assert_eq!(order.trackings[0], json!({"tracking_number": PARCEL_A, "tracking_provider": "Royal Mail", "tracking_id": "a0"}));
    assert_eq!(
        order.trackings[1],
        json!({"tracking_number": PARCEL_B, "custom_tracking_provider": "YunExpress", "custom_tracking_link": "https://t.17track.net/en#nums=%1$s", "tracking_id": "a1"}),
        "a carrier the site does not list gets dropflow's link"
    );
    assert_eq!(order.status_changes, ["completed"], "completed once");
    assert!(order.notes.is_empty());
    let link = order.meta.get("dropflow_status_url").and_then(Value::as_str).unwrap_or_default();
    assert!(link.contains("/status/"), "the order's status page, for the shop to show: {:?}", order.meta);
    assert_eq!(site.writes, 4, "the status link, two tracking items and one completion: the redelivery wrote nothing");
}

async fn without_the_extension_each_parcel_is_one_private_note_even_when_a_write_was_lost_or_refused(backend: Backend) {
    let (base, site) = stand_in(false).await;
    let app = spawn(backend, &base, &[]).await;
    let (a, b) = two_vendor_order(&app, &base).await;
    until(&app, &site, "the order's status link", |s| s.orders[ORDER].meta_writes == 1).await;
    // The first note is applied but its answer lost; the next write finds the site down.
    site.lock().unwrap().faults = vec![Fault::ApplyThenFail, Fault::Unavailable];
    ship(&app, &base, &a, "AE-1", PARCEL_A).await;
    ship(&app, &base, &b, "CJ-1", PARCEL_B).await;
    until(&app, &site, "both notes and the completion", |s| s.faults.is_empty() && s.orders[ORDER].status == "completed").await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    app.deliver().await;
    let site = site.lock().unwrap();
    assert!(site.refused.is_empty(), "{:?}", site.refused);
    let order = &site.orders[ORDER];
    let notes: Vec<&str> = order.notes.iter().map(|n| n["note"].as_str().unwrap()).collect();
    assert_eq!(
        notes,
        [
            "Shipped with Royal Mail, tracking number RB123456785GB: https://t.17track.net/en#nums=RB123456785GB",
            "Shipped with YunExpress, tracking number YT2412345678901234: https://t.17track.net/en#nums=YT2412345678901234",
        ],
        "the retry after the lost answer finds its note and adds none"
    );
    assert!(order.notes.iter().all(|n| n["customer_note"] == false), "dropflow mails the customer, so the notes are private");
    assert_eq!(order.status_changes, ["completed"]);
}

async fn when_the_site_mails_shipments_its_notes_are_customer_notes_and_dropflow_sends_none(backend: Backend) {
    let (base, site) = stand_in(false).await;
    let app = spawn(backend, &base, &[("WOOCOMMERCE_NOTIFY_CUSTOMER", "shop")]).await;
    let (a, _) = two_vendor_order(&app, &base).await;
    ship(&app, &base, &a, "AE-1", PARCEL_A).await;
    until(&app, &site, "the note", |s| s.orders[ORDER].notes.len() == 1).await;
    assert_eq!(site.lock().unwrap().orders[ORDER].notes[0]["customer_note"], true);
    let subjects: Vec<String> = app
        .outbox()
        .await
        .into_iter()
        .filter(|m| m["to"] == "john.doe@example.com")
        .map(|m| m["subject"].as_str().unwrap_or_default().to_lowercase())
        .collect();
    assert!(!subjects.iter().any(|s| s.contains("shipped") || s.contains("on its way")), "never both: {subjects:?}");
    assert!(!subjects.is_empty(), "the order's confirmation is still dropflow's");
}

async fn a_vendors_cancel_is_one_private_note_for_the_merchant(backend: Backend) {
    let (base, site) = stand_in(true).await;
    let app = spawn(backend, &base, &[]).await;
    let (_, b) = two_vendor_order(&app, &base).await;
    let (status, body, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{}/cancel", order_id(&base)), &b, Some(json!({"reason": "Out of stock <b>sorry</b>"}))).await;
    assert_eq!(status, 200, "{body}");
    app.deliver().await;
    until(&app, &site, "the cancel note", |s| !s.orders[ORDER].notes.is_empty()).await;
    redeliver(&app, &base, "cancelled").await;
    let site = site.lock().unwrap();
    let notes = &site.orders[ORDER].notes;
    assert_eq!(notes.len(), 1, "the redelivery adds none: {notes:?}");
    assert_eq!(
        notes[0]["note"],
        "dropflow: vendor vendor-b cancelled 1 x Ship Your Idea – Color: Black, Size: M Test (Out of stock <b>sorry</b>); refund or re-source these items"
    );
    assert_eq!(notes[0]["customer_note"], false, "for the merchant only");
    assert_eq!(site.orders[ORDER].status, "processing", "never cancelled at the site: that would refund the customer");
}

async fn a_key_the_site_refuses_is_recorded_once_and_never_retried(backend: Backend) {
    let (base, site) = stand_in(true).await;
    let keys = format!("{base}={CONSUMER_KEY}:cs_revoked");
    let app = spawn_app_configured(backend, None, &[("WOOCOMMERCE_API_KEYS", keys.as_str()), ("RETRY_FIRST_BACKOFF_SECONDS", "1")]).await;
    let (a, _) = two_vendor_order(&app, &base).await;
    ship(&app, &base, &a, "AE-1", PARCEL_A).await;
    until(&app, &site, "the refused call", |s| !s.refused.is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    app.deliver().await;
    let report = app.cli(&["order", "show", &order_id(&base)]).await.unwrap();
    assert!(report.contains("storefront parcel RB123456785GB: refused:"), "{report}");
    let site = site.lock().unwrap();
    // The order's status link and the parcel: each refused once, neither retried.
    assert_eq!(site.refused.len(), 2, "a refused key is not retried: {:?}", site.refused);
    assert!(site.orders[ORDER].trackings.is_empty());
}

async fn a_corrected_number_replaces_the_parcels_tracking_item(backend: Backend) {
    let (base, site) = stand_in(true).await;
    let app = spawn(backend, &base, &[]).await;
    let (a, _) = two_vendor_order(&app, &base).await;
    ship(&app, &base, &a, "AE-1", PARCEL_B).await;
    until(&app, &site, "the wrong number's item", |s| s.orders[ORDER].trackings.len() == 1).await;
    let path = format!("/vendor/orders/{}/shipments/{PARCEL_B}", order_id(&base));
    let (status, body, _) = app.vendor(Method::PUT, &path, &a, Some(json!({"tracking_number": PARCEL_A}))).await;
    assert_eq!(status, 200, "{body}");
    app.deliver().await;
    until(&app, &site, "the right number's item alone", |s| {
        s.orders[ORDER].trackings.len() == 1 && s.orders[ORDER].trackings[0]["tracking_number"] == PARCEL_A
    })
    .await;
    redeliver(&app, &base, "tracking_corrected").await;
    let site = site.lock().unwrap();
    assert!(site.refused.is_empty(), "{:?}", site.refused);
    let meta_writes = site.orders[ORDER].meta_writes;
    assert_eq!(site.writes - meta_writes, 3, "the first item, the right one, the wrong one deleted: the redelivery wrote nothing");
}

/// `at` as WooCommerce writes GMT dates.
fn gmt(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

async fn an_order_whose_webhooks_never_came_is_routed_by_the_next_reconcile_and_none_is_doubled(backend: Backend) {
    let (base, site) = stand_in(true).await;
    let app = spawn(backend, &base, &[]).await;
    let now = app.now();
    let (a, b) = two_vendor_order_changed(&app, &base, &gmt(now - chrono::Duration::hours(3))).await;
    {
        let mut held = site.lock().unwrap();
        // 727 came by its webhook; 728's webhook never came; 729 changed before the
        // first run's look-back.
        held.list(order_body(&base, 727, &gmt(now - chrono::Duration::hours(3))));
        held.list(order_body(&base, 728, &gmt(now - chrono::Duration::hours(2))));
        held.list(order_body(&base, 729, &gmt(now - chrono::Duration::hours(200))));
    }
    // As of the instant the orders were stamped against (a backend's clock may have
    // moved a second on since).
    let said = app.cli(&["reconcile", "--now", &now.to_rfc3339()]).await.unwrap();
    assert_eq!(said.trim(), "reconciled 1 shops: 2 changed orders read, 2 queued for intake");
    app.deliver().await;
    let numbers = |orders: Vec<Value>| {
        let mut numbers: Vec<String> = orders.iter().map(|o| o["order_number"].as_str().unwrap_or_default().to_string()).collect();
        numbers.sort();
        numbers
    };
    assert_eq!(numbers(app.vendor_orders(&a).await), ["#727", "#728"], "728 routed, 727 not doubled, 729 older than the look-back");
    assert_eq!(numbers(app.vendor_orders(&b).await), ["#727", "#728"]);
    // The next run reads from the cursor (one second of overlap): nothing new is filed.
    let said = app.cli(&["reconcile"]).await.unwrap();
    assert_eq!(said.trim(), "reconciled 1 shops: 1 changed orders read, 1 queued for intake", "only the cursor's own second again");
    app.deliver().await;
    assert_eq!(numbers(app.vendor_orders(&a).await), ["#727", "#728"]);
    let site = site.lock().unwrap();
    assert!(site.refused.is_empty(), "every listing signed, query included: {:?}", site.refused);
    let since: Vec<&str> = site.listings.iter().map(|q| q["modified_after"].as_str()).collect();
    assert_eq!(
        since,
        [gmt(now - chrono::Duration::hours(168) - chrono::Duration::seconds(1)), gmt(now - chrono::Duration::hours(2) - chrono::Duration::seconds(1))]
    );
}

on_both_backends!(
    a_corrected_number_replaces_the_parcels_tracking_item,
    each_parcel_is_one_tracking_item_and_the_order_completes_once_its_last_line_shipped,
    without_the_extension_each_parcel_is_one_private_note_even_when_a_write_was_lost_or_refused,
    when_the_site_mails_shipments_its_notes_are_customer_notes_and_dropflow_sends_none,
    a_vendors_cancel_is_one_private_note_for_the_merchant,
    a_key_the_site_refuses_is_recorded_once_and_never_retried,
    an_order_whose_webhooks_never_came_is_routed_by_the_next_reconcile_and_none_is_doubled,
);
