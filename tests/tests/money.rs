//! A vendor's money end to end, on both backends: a delivered order's earnings held,
//! a refund before release taken from the hold, the release after the holding period,
//! the payout, the operator's CSV export and transfer, a clawback after release netted
//! against later earnings; every step replayed, and the balance always the sum of the
//! ledger. Then random sequences of the same, replays included, checked after each step.

use chrono::{DateTime, Duration, Utc};
use dropflow_scenarios::{Backend, GENERIC_SECRETS, Start, TestApp, on_both_backends, spawn_app, spawn_app_at, spawn_app_configured};
use dropflow_shared::domain::ids::VendorId;
use dropflow_shared::domain::ledger::{Balance, EntryKind};
use dropflow_shared::services::money;
use reqwest::Method;
use serde_json::{Value, json};

const VENDOR: &str = "mugs";

fn order(id: &str, paid: &[&str], refunds: Value) -> Vec<u8> {
    let lines: Vec<Value> = paid
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"id": format!("{}", i + 1), "sku": "MUG-1", "title": format!("Mug {}", i + 1), "quantity": 1, "unit_price": p, "paid": p}))
        .collect();
    let updated = if refunds.as_array().is_some_and(|r| !r.is_empty()) { "2026-11-21T10:00:00Z" } else { "2026-11-20T10:00:00Z" };
    serde_json::to_vec(&json!({"id": id, "number": format!("#{id}"), "currency": "KWD", "financial_status": "paid", "updated_at": updated,
        "customer": {"name": "Anna Weber", "email": "anna@example.de"},
        "shipping_address": {"name": "Anna Weber", "line1": "Torstraße 1", "city": "Berlin", "postal_code": "10119", "country_code": "DE"},
        "lines": lines, "refunds": refunds}))
    .unwrap()
}

async fn onboard(app: &TestApp) -> String {
    let key = app.onboard(VENDOR, &[]).await;
    app.cli(&["vendor", "update", VENDOR, "--payee", "=HYPERLINK(\"http://evil.example\")"]).await.unwrap();
    app.cli(&[
        "product",
        "add",
        "MUG-1",
        "--vendor",
        VENDOR,
        "--supplier",
        "AliExpress",
        "--url",
        "https://www.aliexpress.com/item/9.html",
        "--cost",
        "3.000",
        "--currency",
        "KWD",
    ])
    .await
    .unwrap();
    key
}

/// Places order `id` and takes it to delivered through the vendor API; returns its
/// vendor order id.
async fn deliver(app: &TestApp, key: &str, id: &str, paid: &[&str]) -> String {
    assert_eq!(app.generic_webhook("order.paid", None, &order(id, paid, json!([])), GENERIC_SECRETS[0]).await.status(), 200);
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", key, None).await;
    let vo = list["orders"].as_array().unwrap().iter().find(|o| o["order_number"] == format!("#{id}")).unwrap_or_else(|| panic!("order {id} in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (path, body) in [
        ("supplier-order", json!({"supplier_order_ref": format!("AE-{id}")})),
        ("shipment", json!({"tracking_number": "1Z5R89390357567127"})),
        ("delivered", json!({})),
        ("delivered", json!({})),
    ] {
        let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{vo}/{path}"), key, Some(body)).await;
        assert_eq!(status, 200, "{path} (the second delivered is a repeat): {answer}");
    }
    app.deliver().await;
    vo
}

async fn refund(app: &TestApp, id: &str, paid: &[&str], refunds: Value) {
    let body = order(id, paid, refunds);
    for _ in 0..2 {
        assert_eq!(app.generic_webhook("order.refunded", None, &body, GENERIC_SECRETS[0]).await.status(), 200, "delivered twice, as storefronts do");
    }
}

/// The vendor's KWD balance as the API answers it: (held, available, in_payout, paid_out).
async fn balance(app: &TestApp, key: &str) -> (String, String, String, String) {
    let (status, body, _) = app.vendor(Method::GET, "/vendor/balance", key, None).await;
    assert_eq!(status, 200, "{body}");
    let kwd = body["balances"].as_array().unwrap().iter().find(|b| b["currency"] == "KWD").cloned().unwrap_or(json!({}));
    let amount = |bucket: &str| kwd[bucket]["amount"].as_str().unwrap_or("0.000").to_string();
    (amount("held"), amount("available"), amount("in_payout"), amount("paid_out"))
}

fn kwd(held: &str, available: &str, in_payout: &str, paid_out: &str) -> (String, String, String, String) {
    (held.into(), available.into(), in_payout.into(), paid_out.into())
}

/// The balance is the sum of the ledger, bucket by bucket, and no entry is there twice.
async fn books_add_up(app: &TestApp) {
    let vendor = VendorId::parse(VENDOR).unwrap();
    let ledger = app.local.app.tables.ledger(&vendor).await.unwrap();
    let mut sums = Balance::default();
    for entry in &ledger {
        sums.apply(entry);
    }
    let stored = app.local.app.tables.balance(&vendor).await.unwrap();
    assert_eq!(sums.currencies, stored.currencies, "the balance is the sum of its entries: {ledger:#?}");
    let mut ids: Vec<&str> = ledger.iter().map(|e| e.entry_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ledger.len(), "no entry twice");
}

async fn payouts_at(app: &TestApp, at: DateTime<Utc>) -> money::PayoutReport {
    let report = money::run(&app.local.app, at, None).await.expect("payout release");
    app.deliver().await;
    report
}

async fn vendor_mail(app: &TestApp) -> Vec<String> {
    app.outbox()
        .await
        .into_iter()
        .filter(|m| m["to"] == format!("{VENDOR}@vendors.example"))
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .filter(|s| s.contains("arnings") || s.contains("ayout"))
        .collect()
}

async fn a_vendors_money_is_followed_from_delivery_to_payout_and_always_adds_up(backend: Backend) {
    for start in dropflow_scenarios::starts_for(backend) {
        money_followed_from(backend, start).await;
    }
}

async fn money_followed_from(backend: Backend, start: Start) {
    let app = spawn_app_at(backend, start.instant(), None, start.settings).await;
    let key = onboard(&app).await;
    let delivered_at = app.now();
    deliver(&app, &key, "1001", &["22.125"]).await;
    let ledger = app.local.app.tables.ledger(&VendorId::parse(VENDOR).unwrap()).await.unwrap();
    let held_at = ledger.iter().find(|e| e.kind == EntryKind::Held).expect("held at delivery").at;
    let release_at = held_at + Duration::days(14);
    // 10% of 22.125 is 2.2125, rounded half away from zero: 2.213.
    assert_eq!(balance(&app, &key).await, kwd("19.912", "0.000", "0.000", "0.000"), "held at delivery, once");

    // A partial refund before release: the commission on what is left is 2.000.
    refund(&app, "1001", &["22.125"], json!([{"id": "R1", "lines": [{"line_id": "1", "quantity": 0, "amount": "2.125"}]}])).await;
    assert_eq!(balance(&app, &key).await, kwd("18.000", "0.000", "0.000", "0.000"), "the refund comes out of the hold, once");
    books_add_up(&app).await;

    assert_eq!(payouts_at(&app, delivered_at + Duration::days(13)).await.released, 0, "not before the holding period ends");
    assert_eq!(payouts_at(&app, release_at - Duration::seconds(1)).await.released, 0, "{}: not a second before the hold ends", start.name);
    let report = payouts_at(&app, release_at).await;
    assert_eq!((report.released, report.payouts.len()), (1, 1), "{}: at its second: {report:?}", start.name);
    assert_eq!(balance(&app, &key).await, kwd("0.000", "0.000", "18.000", "0.000"), "released, then all of it in a payout");
    let again = payouts_at(&app, delivered_at + Duration::days(15)).await;
    assert_eq!((again.released, again.payouts.len()), (0, 0), "a second run releases and pays nothing again: {again:?}");
    books_add_up(&app).await;

    let (_, payouts, _) = app.vendor(Method::GET, "/vendor/payouts", &key, None).await;
    let payout = &payouts["payouts"][0];
    let payout_id = payout["payout_id"].as_str().unwrap().to_string();
    assert_eq!(
        (payout["status"].as_str(), payout["amount"]["amount"].as_str(), payout["entries"].as_array().map(Vec::len)),
        (Some("pending"), Some("18.000"), Some(1)),
        "{payouts}"
    );
    assert_eq!(payout["entries"][0]["kind"], "released");

    // Without a payee there is no one to transfer to: the payout is left out (and flagged).
    app.cli(&["vendor", "update", VENDOR, "--payee", ""]).await.unwrap();
    assert_eq!(app.cli(&["payouts", "export", "--csv"]).await.unwrap().lines().count(), 1, "no row with an empty payee");
    app.cli(&["vendor", "update", VENDOR, "--payee", "=HYPERLINK(\"http://evil.example\")"]).await.unwrap();
    let csv = app.cli(&["payouts", "export", "--csv"]).await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "vendor_id,name,email,payee,currency,amount,payout_id");
    assert_eq!(
        rows[1],
        format!("mugs,mugs,mugs@vendors.example,\"'=HYPERLINK(\"\"http://evil.example\"\")\",KWD,18.000,{payout_id}"),
        "a payee that looks like a formula stays text"
    );

    assert!(app.cli(&["payouts", "mark-paid", &payout_id, "--reference", "SEPA-77"]).await.unwrap().contains("paid"));
    assert!(app.cli(&["payouts", "mark-paid", &payout_id, "--reference", "SEPA-77"]).await.is_ok(), "the same transfer again is a repeat");
    assert!(app.cli(&["payouts", "mark-paid", &payout_id, "--reference", "SEPA-78"]).await.is_err(), "another reference is refused");
    app.deliver().await;
    assert_eq!(balance(&app, &key).await, kwd("0.000", "0.000", "0.000", "18.000"));
    assert_eq!(app.cli(&["payouts", "export", "--csv"]).await.unwrap().lines().count(), 1, "nothing pending: the header alone");

    // A refund after release is clawed back from available, which goes negative and is
    // netted against the next earnings before any payout.
    refund(&app, "1001", &["22.125"], json!([{"id": "R1", "lines": [{"line_id": "1", "quantity": 0, "amount": "2.125"}]}, {"id": "R2", "lines": [{"line_id": "1", "quantity": 0, "amount": "5.000"}]}])).await;
    assert_eq!(balance(&app, &key).await, kwd("0.000", "-4.500", "0.000", "18.000"));
    assert!(payouts_at(&app, delivered_at + Duration::days(16)).await.payouts.is_empty(), "nothing is owed");
    let second = app.now();
    deliver(&app, &key, "1002", &["10.000"]).await;
    let report = payouts_at(&app, second + Duration::days(14) + Duration::minutes(1)).await;
    assert_eq!((report.released, report.payouts.len()), (1, 1), "{report:?}");
    assert_eq!(balance(&app, &key).await, kwd("0.000", "0.000", "4.500", "18.000"), "9.000 earned less the 4.500 clawed back");
    let (_, payouts, _) = app.vendor(Method::GET, "/vendor/payouts", &key, None).await;
    let kinds: Vec<&str> = payouts["payouts"][0]["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!((payouts["payouts"][0]["amount"]["amount"].as_str(), kinds), (Some("4.500"), vec!["clawback", "released"]), "newest first: {payouts}");
    books_add_up(&app).await;

    let ledger = app.local.app.tables.ledger(&VendorId::parse(VENDOR).unwrap()).await.unwrap();
    let kinds: Vec<EntryKind> = ledger.iter().map(|e| e.kind).collect();
    for kind in [EntryKind::Held, EntryKind::RefundReversal, EntryKind::Released, EntryKind::Payout, EntryKind::PayoutPaid, EntryKind::Clawback] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }
    let mail = vendor_mail(&app).await;
    assert_eq!(mail.iter().filter(|s| s.starts_with("Earnings released")).count(), 2, "{mail:?}");
    assert_eq!(mail.iter().filter(|s| s.contains("created")).count(), 2, "{mail:?}");
    assert_eq!(mail.iter().filter(|s| s.contains("sent")).count(), 1, "{mail:?}");
    assert!(mail.iter().any(|s| s.starts_with("Earnings released: 18.000 KWD")), "{mail:?}");
}

async fn a_balance_under_the_minimum_waits_for_more(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("PAYOUT_MINIMUM", "KWD:25.000")]).await;
    let key = onboard(&app).await;
    let start = app.now();
    deliver(&app, &key, "2001", &["20.000"]).await;
    let report = payouts_at(&app, start + Duration::days(15)).await;
    assert_eq!((report.released, report.payouts.len(), report.below_minimum), (1, 0, 1));
    assert_eq!(balance(&app, &key).await, kwd("0.000", "18.000", "0.000", "0.000"));
    deliver(&app, &key, "2002", &["10.000"]).await;
    let said = app.cli(&["payouts", "--now", &(start + Duration::days(30)).to_rfc3339()]).await.unwrap();
    assert!(said.contains("1 earnings released, 1 payouts created"), "27.000 is over the minimum: {said}");
    assert_eq!(balance(&app, &key).await, kwd("0.000", "0.000", "27.000", "0.000"));
    books_add_up(&app).await;
}

async fn two_payout_runs_at_once_release_and_pay_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let start = app.now();
    deliver(&app, &key, "3001", &["10.000"]).await;
    deliver(&app, &key, "3002", &["20.000"]).await;
    let at = start + Duration::days(15);
    let (a, b) = tokio::join!(money::run(&app.local.app, at, None), money::run(&app.local.app, at, None));
    let (a, b) = (a.expect("first run"), b.expect("second run"));
    app.deliver().await;
    assert!(a.payouts.len() + b.payouts.len() <= 1, "{a:?} {b:?}");
    assert_eq!(balance(&app, &key).await, kwd("0.000", "0.000", "27.000", "0.000"), "both earnings released once, paid once");
    let (_, payouts, _) = app.vendor(Method::GET, "/vendor/payouts", &key, None).await;
    assert_eq!(payouts["payouts"].as_array().map(Vec::len), Some(1), "{payouts}");
    books_add_up(&app).await;
}

async fn a_payout_run_whose_writes_time_out_after_landing_pays_once(backend: Backend) {
    use dropflow_shared::adapters::faults::{Chaos, Fault};
    let app = dropflow_scenarios::spawn_app_with(backend, Some(Chaos::quiet())).await;
    let key = onboard(&app).await;
    let start = app.now();
    deliver(&app, &key, "4001", &["10.000"]).await;
    // The release's and the payout's commits both land, and both answers are lost.
    app.local.chaos.as_ref().unwrap().store.queue([Fault::TimeoutAfterEffect, Fault::TimeoutAfterEffect]);
    let _ = money::run(&app.local.app, start + Duration::days(15), None).await;
    assert_eq!(app.local.chaos.as_ref().unwrap().store.pending(), 0, "both commits timed out after landing");
    let _ = money::run(&app.local.app, start + Duration::days(15), None).await;
    app.deliver().await;
    assert_eq!(balance(&app, &key).await, kwd("0.000", "0.000", "9.000", "0.000"));
    let (_, payouts, _) = app.vendor(Method::GET, "/vendor/payouts", &key, None).await;
    assert_eq!(payouts["payouts"].as_array().map(Vec::len), Some(1), "{payouts}");
    books_add_up(&app).await;
    let mail = vendor_mail(&app).await;
    assert_eq!((mail.iter().filter(|s| s.starts_with("Earnings released")).count(), mail.iter().filter(|s| s.contains("created")).count()), (1, 1), "{mail:?}");
}

async fn a_payout_paid_before_its_mail_went_out_is_announced_then_confirmed(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let start = app.now();
    deliver(&app, &key, "5001", &["10.000"]).await;
    // The payout is created and transferred before the notifier gets to its mail.
    let report = money::run(&app.local.app, start + Duration::days(15), None).await.unwrap();
    app.cli(&["payouts", "mark-paid", &report.payouts[0], "--reference", "SEPA-9"]).await.unwrap();
    app.deliver().await;
    let mail = vendor_mail(&app).await;
    assert_eq!(
        (mail.iter().filter(|s| s.contains("created")).count(), mail.iter().filter(|s| s.contains("sent")).count()),
        (1, 1),
        "each event's own mail: {mail:?}"
    );
}

/// A small deterministic generator (a seed per case, so a failure names its case).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

/// Random deliveries, refunds (partial and full, before and after release, each
/// delivered twice), releases at random later instants, payouts and transfers: after
/// every step the balance is the sum of the ledger, no entry is there twice, every
/// payout is the sum of what it covers and never more than was available, and what was
/// paid out plus the balance is what was earned less what was refunded.
async fn random_money_lives_always_add_up(backend: Backend) {
    let cases = match backend {
        Backend::Embedded => 4,
        Backend::Aws => 2,
    };
    let mut seen: Vec<EntryKind> = Vec::new();
    for seed in 0..cases {
        let app = spawn_app(backend).await;
        let key = onboard(&app).await;
        let mut dice = Dice(seed + 7);
        let mut orders: Vec<(String, Vec<String>, Vec<Value>)> = Vec::new();
        let mut day = 0i64;
        let start = app.now();
        for step in 0..10 {
            match dice.roll(4) {
                0 | 1 if orders.len() < 4 => {
                    let id = format!("{seed}-{step}");
                    let paid: Vec<String> = (0..=dice.roll(2)).map(|_| format!("{}.{:03}", dice.roll(40), dice.roll(1000))).collect();
                    let paid_refs: Vec<&str> = paid.iter().map(String::as_str).collect();
                    deliver(&app, &key, &id, &paid_refs).await;
                    orders.push((id, paid, Vec::new()));
                }
                0..=2 if !orders.is_empty() => {
                    let pick = dice.roll(orders.len() as u64) as usize;
                    let (id, paid, refunds) = &mut orders[pick];
                    let line = dice.roll(paid.len() as u64) as usize;
                    let amount = format!("{}.{:03}", dice.roll(25), dice.roll(1000));
                    refunds.push(json!({"id": format!("R{step}"), "lines": [{"line_id": format!("{}", line + 1), "quantity": 0, "amount": amount}]}));
                    let paid_refs: Vec<&str> = paid.iter().map(String::as_str).collect();
                    refund(&app, id, &paid_refs, Value::Array(refunds.clone())).await;
                }
                _ => {
                    day += dice.roll(20) as i64;
                    let before = app.local.app.tables.balance(&VendorId::parse(VENDOR).unwrap()).await.unwrap();
                    let report = payouts_at(&app, start + Duration::days(day)).await;
                    for payout_id in &report.payouts {
                        let payout = app.local.app.tables.payout(payout_id).await.unwrap().unwrap();
                        let covered: i64 = payout.entries.iter().map(|e| e.delta.minor).sum();
                        assert_eq!(payout.amount.minor, covered, "seed {seed}: a payout is the sum of what it covers");
                        let released: i64 = app
                            .local
                            .app
                            .tables
                            .ledger(&VendorId::parse(VENDOR).unwrap())
                            .await
                            .unwrap()
                            .iter()
                            .filter(|e| e.kind == EntryKind::Released && e.at == start + Duration::days(day))
                            .map(|e| e.amount.minor)
                            .sum();
                        assert!(payout.amount.minor <= before.of(payout.amount.currency).available + released, "seed {seed}: never more than was available");
                    }
                    if let Some(payout_id) = report.payouts.first().filter(|_| dice.roll(2) == 0) {
                        app.cli(&["payouts", "mark-paid", payout_id, "--reference", &format!("T{step}")]).await.unwrap();
                    }
                }
            }
            books_add_up(&app).await;
            let vendor = VendorId::parse(VENDOR).unwrap();
            let ledger = app.local.app.tables.ledger(&vendor).await.unwrap();
            let of = |kind: EntryKind| ledger.iter().filter(|e| e.kind == kind).map(|e| e.amount.minor).sum::<i64>();
            let b = app.local.app.tables.balance(&vendor).await.unwrap();
            let kwd = b.currencies.values().next().copied().unwrap_or_default();
            assert_eq!(
                kwd.held + kwd.available + kwd.in_payout + kwd.paid_out,
                of(EntryKind::Held) - of(EntryKind::RefundReversal) - of(EntryKind::Clawback),
                "seed {seed}, step {step}: paid out + balance = earned - refunded"
            );
            seen.extend(ledger.iter().map(|e| e.kind));
        }
    }
    for kind in [EntryKind::Held, EntryKind::RefundReversal, EntryKind::Released, EntryKind::Payout] {
        assert!(seen.contains(&kind), "the sequences played a {kind:?}");
    }
}

/// An order's page shows what each delivered parcel earned and until when it is held;
/// once released, when. The listing leaves it out (one read more per order).
async fn an_orders_page_shows_what_it_earned_and_when_it_is_released(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = onboard(&app).await;
    let vo = deliver(&app, &key, "E1", &["10.000"]).await;
    let (_, page, _) = app.vendor(Method::GET, &format!("/vendor/orders/{vo}"), &key, None).await;
    let earnings = page["earnings"].as_array().unwrap_or_else(|| panic!("{page}"));
    assert_eq!(earnings.len(), 1, "{page}");
    let earning = &earnings[0];
    assert_eq!((earning["earned"]["amount"].as_str(), earning["tracking_number"].as_str()), (Some("9.000"), Some("1Z5R89390357567127")), "paid less 10%");
    let at = |field: &str| DateTime::parse_from_rfc3339(earning[field].as_str().unwrap()).unwrap().to_utc();
    assert_eq!(at("release_at") - at("delivered_at"), Duration::days(14), "held HOLDING_DAYS from delivery");
    assert!(earning["released_at"].is_null());
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert!(list["orders"][0].get("earnings").is_none(), "not in the listing: {list}");
    payouts_at(&app, at("release_at") + Duration::hours(1)).await;
    let (_, page, _) = app.vendor(Method::GET, &format!("/vendor/orders/{vo}"), &key, None).await;
    assert!(page["earnings"][0]["released_at"].is_string(), "released: {page}");
}

on_both_backends!(
    an_orders_page_shows_what_it_earned_and_when_it_is_released,
    a_vendors_money_is_followed_from_delivery_to_payout_and_always_adds_up,
    a_balance_under_the_minimum_waits_for_more,
    two_payout_runs_at_once_release_and_pay_once,
    a_payout_run_whose_writes_time_out_after_landing_pays_once,
    a_payout_paid_before_its_mail_went_out_is_announced_then_confirmed,
    random_money_lives_always_add_up,
);
