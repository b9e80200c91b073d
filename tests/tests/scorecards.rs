//! Vendor scorecards on both backends: counted in the commit of each change (a replay
//! counts nothing), read with one Query, equal to a recount from the vendor orders
//! (`dropflow scorecards backfill`), and seen by the vendor and the operator.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app, spawn_app_configured};
use dropflow_shared::adapters::counting::Counting;
use dropflow_shared::domain::ids::VendorId;
use dropflow_shared::services::scorecards;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

on_both_backends!(
    a_late_supplier_order_an_on_time_delivery_and_a_vendor_cancel_are_scored_once_each,
    a_backfill_rebuilds_the_counters_the_commits_kept,
    a_measure_that_turns_is_mailed_once_and_a_failing_vendor_is_held_when_the_policy_says,
);

/// The fixture as order `number` (all three SKUs), paid.
async fn paid(app: &TestApp, number: u64) {
    let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    order["id"] = json!(450_789_469u64 + number);
    order["name"] = json!(format!("#{number}"));
    assert_eq!(app.shopify_webhook("orders/paid", &serde_json::to_vec(&order).unwrap(), SHOPIFY_SECRET).await.status(), 200);
    app.deliver().await;
}

/// The vendor's order ids, oldest first.
async fn ids(app: &TestApp, key: &str) -> Vec<String> {
    let mut ids: Vec<String> = app.vendor_orders(key).await.iter().map(|o| o["id"].as_str().unwrap().to_string()).collect();
    ids.reverse();
    ids
}

fn measure<'a>(card: &'a Value, name: &str) -> (&'a Value, i64, i64, &'a str) {
    let m = &card["measures"][name];
    (&m["value"], m["numerator"].as_i64().unwrap(), m["denominator"].as_i64().unwrap(), m["state"].as_str().unwrap())
}

async fn a_late_supplier_order_an_on_time_delivery_and_a_vendor_cancel_are_scored_once_each(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("acme", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    paid(&app, 1001).await;
    paid(&app, 1002).await;
    let orders = ids(&app, &key).await;
    let (first, second) = (&orders[0], &orders[1]);
    // The first is ordered from the supplier 30 hours in (its clock is 24), shipped,
    // seen by the carrier and delivered the next day; the second is cancelled by the vendor.
    app.advance(chrono::Duration::hours(30));
    let place = json!({"supplier_order_ref": "AE-1"});
    let post = |path: String, body: Value| {
        let app = &app;
        let key = key.clone();
        async move {
            let request = app.client.post(format!("{}{path}", app.base)).bearer_auth(&key).header("Idempotency-Key", format!("k-{path}")).json(&body);
            let status = request.send().await.unwrap().status().as_u16();
            app.deliver().await;
            status
        }
    };
    assert_eq!(post(format!("/vendor/orders/{first}/supplier-order"), place.clone()).await, 200);
    // The same request again (a client's retry): answered, counted once.
    assert_eq!(post(format!("/vendor/orders/{first}/supplier-order"), place).await, 200);
    assert_eq!(post(format!("/vendor/orders/{first}/shipment"), json!({"tracking_number": "1Z5R89390357567127"})).await, 200);
    app.advance(chrono::Duration::hours(24));
    let push = json!({"event": "tracking_update", "event_id": "e-1", "msg": {"tracking_number": "1Z5R89390357567127", "slug": "ups", "tag": "Delivered",
        "checkpoints": [{"checkpoint_time": app.now().to_rfc3339(), "message": "Delivered", "tag": "Delivered"}]}});
    let body = serde_json::to_vec(&push).unwrap();
    assert_eq!(app.aftership_push(&body).await, Some(200));
    assert_eq!(app.aftership_push(&body).await, Some(200), "the feed sends it again");
    app.deliver().await;
    assert_eq!(post(format!("/vendor/orders/{second}/cancel"), json!({"reason": "supplier out of stock"})).await, 200);

    let (status, card, _) = app.vendor(Method::GET, "/vendor/scorecard", &key, None).await;
    assert_eq!(status, 200, "{card}");
    assert_eq!(measure(&card, "late_supplier_order_rate"), (&json!(1.0), 1, 1, "failing"), "{card}");
    assert_eq!(measure(&card, "late_shipment_rate"), (&json!(0.0), 0, 1, "good"));
    assert_eq!(measure(&card, "valid_tracking_rate"), (&json!(1.0), 1, 1, "good"));
    assert_eq!(measure(&card, "on_time_delivery_rate"), (&json!(1.0), 1, 1, "good"));
    assert_eq!(measure(&card, "cancel_rate"), (&json!(0.5), 1, 2, "failing"));
    assert_eq!(measure(&card, "refund_rate"), (&json!(0.0), 0, 2, "good"));
    assert_eq!(card["measures"]["cancel_rate"]["window_days"], 7);
    assert_eq!(card["median_hours_to_supplier_order"], 30);
    assert_eq!(card["median_hours_to_shipment"], 30);

    // A scorecard read is one Query.
    let (counting, counts) = Counting::new(app.local.app.tables.items.clone());
    let counted = dropflow_shared::services::App { tables: dropflow_shared::store::Tables::new(Arc::new(counting)), ..app.local.app.clone() };
    scorecards::read(&counted, &VendorId::parse("acme").unwrap()).await.unwrap();
    assert_eq!(counts.requests().iter().map(|(_, n)| n).sum::<u64>(), 1, "{:?}", counts.requests());

    // The operator sees every vendor's; the CLI prints the same words.
    let operator_key = app.cli(&["operator", "key", "create", "alice"]).await.unwrap().trim().to_string();
    let (status, all, _) = app.vendor(Method::GET, "/operator/scorecards", &operator_key, None).await;
    assert_eq!(status, 200);
    assert_eq!(all["vendors"][0]["scorecard"], card);
    let printed = app.cli(&["scorecards", "--vendor", "acme"]).await.unwrap();
    assert!(printed.contains("cancel_rate\t0.5000\t1\t2\t7\t0.025\tfailing"), "{printed}");
}

async fn a_backfill_rebuilds_the_counters_the_commits_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("acme", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    for number in [1001, 1002, 1003] {
        paid(&app, number).await;
    }
    let orders = ids(&app, &key).await;
    app.vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order", orders[0]), &key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    app.vendor(Method::POST, &format!("/vendor/orders/{}/shipment", orders[0]), &key, Some(json!({"tracking_number": "RB123456785GB"}))).await;
    app.vendor(Method::POST, &format!("/vendor/orders/{}/cancel", orders[1]), &key, Some(json!({"reason": "out of stock"}))).await;
    // A sweep well after: the third's supplier clock has passed (a missed supplier order).
    app.cli(&["sweep", "--now", &(app.now() + chrono::Duration::hours(30)).to_rfc3339()]).await.unwrap();
    app.deliver().await;
    let acme = VendorId::parse("acme").unwrap();
    let kept = scorecards::stored(&app.local.app, &acme).await.unwrap();
    assert_eq!(kept, scorecards::recount(&app.local.app, &acme).await.unwrap());
    let total = |name: &str| kept.values().filter_map(|c| c.get(name)).sum::<i64>();
    assert_eq!((total("orders"), total("placed"), total("shipped"), total("vendor_cancels"), total("place_missed")), (3, 1, 1, 1, 1), "{kept:?}");
    // Sabotage: the counters are wiped (a restore from before scorecards); the backfill
    // rebuilds them, and running it twice changes nothing.
    let (items, _) = app.local.app.tables.all_scores(&acme).await.unwrap();
    let wipe =
        items.into_iter().map(|(pk, sk)| dropflow_shared::ports::Write::Delete { pk, sk, condition: dropflow_shared::ports::Condition::Always }).collect();
    app.local.app.commit(wipe, &[]).await.unwrap();
    assert!(scorecards::stored(&app.local.app, &acme).await.unwrap().is_empty());
    let said = app.cli(&["scorecards", "backfill"]).await.unwrap();
    assert!(said.contains("acme: counters rebuilt from 3 vendor orders"), "{said}");
    assert_eq!(scorecards::stored(&app.local.app, &acme).await.unwrap(), kept);
    app.cli(&["scorecards", "backfill", "--vendor", "acme"]).await.unwrap();
    assert_eq!(scorecards::stored(&app.local.app, &acme).await.unwrap(), kept);
}

/// One of acme's two orders cancelled by acme: its cancel rate is 50 %.
async fn one_of_two_cancelled(app: &TestApp) -> String {
    let key = app.onboard("acme", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    paid(app, 1001).await;
    paid(app, 1002).await;
    let first = ids(app, &key).await.remove(0);
    app.vendor(Method::POST, &format!("/vendor/orders/{first}/cancel"), &key, Some(json!({"reason": "out of stock"}))).await;
    key
}

async fn subjects_to(app: &TestApp, to: &str) -> Vec<String> {
    app.outbox().await.into_iter().filter(|m| m["to"] == to).map(|m| m["subject"].as_str().unwrap_or_default().to_string()).collect()
}

async fn a_measure_that_turns_is_mailed_once_and_a_failing_vendor_is_held_when_the_policy_says(backend: Backend) {
    // Failing (over 2.5 %): the operator is mailed by the daily run (payout-release),
    // once however often it runs,
    // and not again the next day while it stays failing.
    let app = spawn_app(backend).await;
    one_of_two_cancelled(&app).await;
    for hours in [0, 1, 25] {
        app.cli(&["payouts", "--now", &(app.now() + chrono::Duration::hours(hours)).to_rfc3339()]).await.unwrap();
        app.deliver().await;
    }
    let operator = subjects_to(&app, "ops@market.example").await;
    assert_eq!(operator.iter().filter(|s| s.starts_with("Vendor acme is failing: cancels before shipping")).count(), 1, "{operator:?}");
    assert!(!subjects_to(&app, "acme@vendors.example").await.iter().any(|s| s.contains("scorecard")), "failing goes to the operator");
    assert!(app.cli(&["vendor", "list"]).await.unwrap().contains("active"), "no hold without the policy");

    // At risk (a target of 60 %: 50 % is past three quarters of it): the vendor is mailed.
    let app = spawn_app_configured(backend, None, &[("SCORECARD_TARGETS", "cancel_rate=0.6")]).await;
    one_of_two_cancelled(&app).await;
    app.cli(&["payouts"]).await.unwrap();
    app.deliver().await;
    let vendor = subjects_to(&app, "acme@vendors.example").await;
    assert!(vendor.iter().any(|s| s.starts_with("Your scorecard: cancels before shipping is at risk")), "{vendor:?}");

    // The operator's policy holds a failing vendor: its next order waits for review.
    let app = spawn_app_configured(backend, None, &[("SCORECARD_HOLD_FAILING", "true")]).await;
    let key = one_of_two_cancelled(&app).await;
    app.cli(&["payouts"]).await.unwrap();
    app.deliver().await;
    let told = subjects_to(&app, "ops@market.example").await;
    assert!(told.iter().any(|s| s.starts_with("Vendor acme is failing")), "{told:?}");
    paid(&app, 1003).await;
    assert_eq!(ids(&app, &key).await.len(), 2, "the new order waits while acme is held");
    app.cli(&["vendor", "release", "acme", "--reason", "talked it through"]).await.unwrap();
    assert_eq!(ids(&app, &key).await.len(), 3, "routed on release");
}
