//! The SLA clocks end to end, on both backends: each clock of an order's life fires at
//! its due second and not one second before, sends its mail exactly once, and never
//! again; a vendor who acts while the sweep fires wins; two sweeps at once send each
//! mail once; and one sweep's reads grow with what is due, not with the table.

use chrono::{DateTime, Duration, Utc};
use dropflow_scenarios::{Backend, SHOPIFY_SECRET, Start, TestApp, fixture, on_both_backends, spawn_app, spawn_app_at, spawn_app_configured};
use dropflow_shared::adapters::counting::Counting;
use dropflow_shared::adapters::faults::{Chaos, Fault};
use dropflow_shared::domain::ids::{OrderId, VendorId};
use dropflow_shared::domain::vendor_order::VendorOrder;
use dropflow_shared::services::{App, sweep};
use dropflow_shared::store::Tables;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const PAID: &str = "shopify/orders-create-paid.json";
const CUSTOMER: &str = "bob.norman@hostmail.com";
const VENDOR: &str = "ipod-shop@vendors.example";
const OPERATOR: &str = "ops@market.example";

fn order_id() -> OrderId {
    OrderId::derive("shopify", "", "450789469")
}

type Mail = BTreeMap<(String, String), usize>;

async fn mail(app: &TestApp) -> Mail {
    let mut counts = Mail::new();
    for mail in app.outbox().await {
        *counts.entry((mail["to"].as_str().unwrap_or_default().to_string(), mail["subject"].as_str().unwrap_or_default().to_string())).or_default() += 1;
    }
    counts
}

/// The mail sent since `before`: (to, subject) of each new one.
fn new_mail(before: &Mail, after: &Mail) -> Vec<(String, String)> {
    let mut new = Vec::new();
    for (key, n) in after {
        for _ in before.get(key).copied().unwrap_or(0)..*n {
            new.push(key.clone());
        }
    }
    new
}

async fn sweep_at(app: &TestApp, now: DateTime<Utc>) -> sweep::SweepReport {
    let report = sweep::sweep(&app.local.app, now, None).await.expect("sweep");
    app.deliver().await;
    report
}

async fn due_of(app: &TestApp, key: &str, clock: &str) -> DateTime<Utc> {
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), key, None).await;
    let due = order["clocks"].as_array().unwrap().iter().find(|c| c["kind"] == clock).unwrap_or_else(|| panic!("no {clock} clock armed: {order}"));
    DateTime::parse_from_rfc3339(due["due_at"].as_str().unwrap()).unwrap().with_timezone(&Utc)
}

/// Sweeps one second before `clock` is due (nothing), at its due second (each of
/// `expected`, as (to, part of the subject), exactly once), and again (nothing).
async fn fires_once(app: &TestApp, key: &str, clock: &str, expected: &[(&str, &str)]) {
    fire_together(app, key, &[clock], expected).await
}

/// `fires_once` for `clocks` that are all due at the same second.
async fn fire_together(app: &TestApp, key: &str, clocks: &[&str], expected: &[(&str, &str)]) {
    let due = due_of(app, key, clocks[0]).await;
    for clock in clocks {
        assert_eq!(due_of(app, key, clock).await, due, "{clocks:?} are due together");
    }
    let before = mail(app).await;
    sweep_at(app, due - Duration::seconds(1)).await;
    assert_eq!(new_mail(&before, &mail(app).await), Vec::<(String, String)>::new(), "{clocks:?}: nothing a second early");
    let report = sweep_at(app, due).await;
    assert!(report.fired >= 1, "{clocks:?}: {report:?}");
    let sent = new_mail(&before, &mail(app).await);
    assert_eq!(sent.len(), expected.len(), "{clocks:?}: exactly {expected:?}, got {sent:?}");
    for (to, subject) in expected {
        assert_eq!(sent.iter().filter(|(t, s)| t == to && s.contains(subject)).count(), 1, "{clocks:?}: one {subject:?} to {to} in {sent:?}");
    }
    let after = mail(app).await;
    sweep_at(app, due).await;
    assert_eq!(new_mail(&after, &mail(app).await), Vec::<(String, String)>::new(), "{clocks:?}: again, nothing");
}

/// The steps the order is late on, as the vendor's listing shows them.
async fn overdue(app: &TestApp, key: &str) -> Value {
    let (_, page, _) = app.vendor(Method::GET, "/vendor/orders", key, None).await;
    page["orders"][0]["overdue"].clone()
}

async fn step(app: &TestApp, key: &str, path: &str, body: Value) -> Value {
    let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{}/{path}", order_id()), key, Some(body)).await;
    assert_eq!(status, 200, "{path}: {answer}");
    answer
}

async fn paid_order(app: &TestApp) -> String {
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    assert_eq!(app.shopify_webhook("orders/paid", &fixture(PAID), SHOPIFY_SECRET).await.status(), 200);
    key
}

async fn every_clock_of_an_order_fires_once_at_its_due_second(backend: Backend) {
    // On moto one start (a Saturday, whose clocks fall due together): each mail is read
    // back from moto's whole record, and a life there takes minutes.
    let starts = match backend {
        Backend::Embedded => dropflow_scenarios::starts_for(backend),
        Backend::Aws => dropflow_scenarios::starts_for(backend).into_iter().filter(|s| s.name == "Saturday").collect(),
    };
    for start in starts {
        every_clock_fires_once_from(backend, start).await;
    }
}

/// Business days as a calendar counts them, written apart from the domain's own: the
/// date `days` business days after `from`'s local date in `zone`, weekends and
/// `holidays` skipped.
fn business_date_after(from: DateTime<Utc>, days: u32, zone: chrono_tz::Tz, holidays: &[chrono::NaiveDate]) -> chrono::NaiveDate {
    use chrono::Datelike;
    let mut date = from.with_timezone(&zone).date_naive();
    let mut left = days;
    while left > 0 {
        date += Duration::days(1);
        let weekend = date.weekday().number_from_monday() > 5;
        if !weekend && !holidays.contains(&date) {
            left -= 1;
        }
    }
    date
}

async fn every_clock_fires_once_from(backend: Backend, start: Start) {
    let app = spawn_app_at(backend, start.instant(), None, start.settings).await;
    let key = paid_order(&app).await;
    let created = app.now();
    let (place_reminder, place) = (due_of(&app, &key, "place_reminder").await, due_of(&app, &key, "place_with_supplier").await);
    let reminder_gap = place_reminder - created;
    assert!(reminder_gap <= Duration::hours(12) && reminder_gap > Duration::hours(12) - Duration::seconds(30), "{}: reminder at 12 h", start.name);
    assert!((place - place_reminder) == Duration::hours(12), "{}: the deadline at 24 h", start.name);
    fires_once(&app, &key, "place_reminder", &[(VENDOR, "Reminder: order #1001 from your supplier")]).await;
    assert_eq!(overdue(&app, &key).await, json!([]));
    fires_once(&app, &key, "place_with_supplier", &[(OPERATOR, "SLA digest: 1 escalation")]).await;
    assert_eq!(overdue(&app, &key).await, json!(["place_with_supplier"]), "late, though the clock is disarmed");
    let placed = app.now();
    step(&app, &key, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    assert_eq!(overdue(&app, &key).await, json!([]), "placed: that step is done");
    let ship = due_of(&app, &key, "ship").await;
    let sla = &app.local.app.config.sla;
    let zone = sla.timezone;
    assert_eq!(ship.with_timezone(&zone).date_naive(), business_date_after(placed, 5, zone, &sla.holidays), "{}: ship within 5 business days", start.name);
    fires_once(&app, &key, "ship", &[(VENDOR, "is late to ship"), (CUSTOMER, "is taking longer than expected"), (OPERATOR, "SLA digest: 1 escalation")]).await;
    assert_eq!(overdue(&app, &key).await, json!(["ship"]));
    step(&app, &key, "shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    assert_eq!(overdue(&app, &key).await, json!([]));
    // Which comes first depends on the weekday of shipment: from a weekday, five
    // business days are a week, so the dispute window (day 6) opens while tracking is
    // not stale yet, and the vendor is told what to do if it stops moving; from a Sunday they are less, and it opens on stale
    // tracking, which the vendor is told; from a Saturday both are due at the same
    // second, and one mail says both (it once said neither: the checks compared the
    // shipment's milliseconds, not the clocks' seconds).
    let (dispute, stale) = (due_of(&app, &key, "dispute_window").await, due_of(&app, &key, "tracking_stale").await);
    let quiet = (VENDOR, "tracking has gone quiet, chase your supplier");
    let dispute_mail = (VENDOR, "you can open a dispute with the supplier");
    match dispute.cmp(&stale) {
        std::cmp::Ordering::Less => {
            fires_once(&app, &key, "dispute_window", &[(VENDOR, "the supplier's dispute window is open")]).await;
            fires_once(&app, &key, "tracking_stale", &[quiet]).await;
        }
        std::cmp::Ordering::Equal => {
            fire_together(&app, &key, &["dispute_window", "tracking_stale"], &[quiet]).await;
            let chase = app.outbox().await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("tracking has gone quiet")).unwrap();
            assert!(chase["text"].as_str().unwrap().contains("dispute window is open"), "{}: {chase}", start.name);
        }
        std::cmp::Ordering::Greater => {
            fires_once(&app, &key, "tracking_stale", &[quiet]).await;
            fires_once(&app, &key, "dispute_window", &[dispute_mail]).await;
        }
    }
    fires_once(&app, &key, "refund_warning", &[(VENDOR, "the supplier's refund window closes")]).await;
    fires_once(&app, &key, "delivery_promise", &[(CUSTOMER, "is taking longer to arrive"), (OPERATOR, "SLA digest: 1 escalation")]).await;
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), &key, None).await;
    let promised = order["clocks"][0]["overdue_since"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        order["clocks"].as_array().map(Vec::len),
        Some(2),
        "{}: every clock fired once and is gone, but the escalation's repeat and the date the customer was given: {order}",
        start.name
    );
    assert_eq!((order["clocks"][0]["kind"].as_str(), order["clocks"][1]["kind"].as_str()), (Some("delivery_promise"), Some("delivery_promised")), "{order}");
    assert_eq!(
        DateTime::parse_from_rfc3339(order["clocks"][0]["due_at"].as_str().unwrap()).unwrap() - DateTime::parse_from_rfc3339(&promised).unwrap(),
        Duration::hours(24),
        "{}: it escalates again a day after the promise",
        start.name
    );
    assert_eq!(order["overdue"], json!(["delivery_promise"]), "not delivered when promised");
    let delay = app.outbox().await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("taking longer than expected")).unwrap();
    let text = delay["text"].as_str().unwrap();
    assert!(text.contains("being prepared by its maker") && text.contains("expect it to ship by") && !text.contains("has shipped"), "{text}");
}

/// An order paid and not placed with the supplier past its deadline: the reminder and
/// the escalation fired, each once. Returns the vendor's key and the deadline.
async fn unplaced_past_its_deadline(app: &TestApp) -> (String, DateTime<Utc>) {
    let key = paid_order(app).await;
    let deadline = due_of(app, &key, "place_with_supplier").await;
    fires_once(app, &key, "place_reminder", &[(VENDOR, "Reminder: order #1001 from your supplier")]).await;
    fires_once(app, &key, "place_with_supplier", &[(OPERATOR, "SLA digest: 1 escalation")]).await;
    (key, deadline)
}

async fn an_overdue_step_escalates_again_every_day_until_the_vendor_acts(backend: Backend) {
    let app = spawn_app_at(backend, dropflow_scenarios::starts_for(backend)[0].instant(), None, &[]).await;
    let (key, deadline) = unplaced_past_its_deadline(&app).await;
    // Its own arming, a day on, and it fires once: the vendor and the operator hear
    // again, with how late it is now.
    assert_eq!(due_of(&app, &key, "place_with_supplier").await, deadline + Duration::hours(24));
    fires_once(
        &app,
        &key,
        "place_with_supplier",
        &[(VENDOR, "#1001 is still not ordered from the supplier: 1 day 0 h late"), (OPERATOR, "SLA digest: 1 escalation")],
    )
    .await;
    let digest = app.outbox().await.into_iter().rfind(|m| m["subject"].as_str().unwrap().contains("SLA digest")).unwrap();
    assert!(digest["text"].as_str().unwrap().contains("place_with_supplier due") && digest["text"].as_str().unwrap().contains("late by 24h00m"), "{digest}");
    let again = due_of(&app, &key, "place_with_supplier").await;
    assert_eq!(again, deadline + Duration::hours(48), "and again");
    // Someone acts: the step is done and its escalations end with it.
    step(&app, &key, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    let before = mail(&app).await;
    sweep_at(&app, again).await;
    assert_eq!(new_mail(&before, &mail(&app).await), Vec::<(String, String)>::new(), "placed: no more escalations");
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), &key, None).await;
    let kinds: Vec<&str> = order["clocks"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"place_with_supplier") && kinds.contains(&"ship"), "{order}");
}

/// The new date a delay mail gives the customer is a clock: when it passes with the
/// step still not done, the customer hears again (once) and the operator's digest
/// lists it. First the shipping date, then, once shipped, the delivery date.
async fn a_promised_date_that_passes_tells_the_customer_and_the_operator_again(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("SLA_ESCALATION_REPEAT_HOURS", "0")]).await;
    let key = paid_order(&app).await;
    step(&app, &key, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    fires_once(&app, &key, "ship", &[(VENDOR, "is late to ship"), (CUSTOMER, "is taking longer than expected"), (OPERATOR, "SLA digest: 1 escalation")]).await;
    let promised = due_of(&app, &key, "ship_promised").await;
    let delay = app.outbox().await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("taking longer than expected")).unwrap();
    let date = promised.format("%a %d %b %Y").to_string();
    assert!(delay["text"].as_str().unwrap().contains(&format!("expect it to ship by {date}")), "the mail gives the clock's date {date}: {delay}");
    sweep_at(&app, promised - Duration::minutes(1)).await;
    fires_once(&app, &key, "ship_promised", &[(CUSTOMER, "Order #1001 has still not shipped"), (OPERATOR, "SLA digest: 1 escalation")]).await;
    let again = app.outbox().await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("has still not shipped")).unwrap();
    assert!(again["text"].as_str().unwrap().contains(&format!("ship by {date}")) && again["text"].as_str().unwrap().contains("will refund you"), "{again}");

    step(&app, &key, "shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    let promise = due_of(&app, &key, "delivery_promise").await;
    sweep_at(&app, promise - Duration::minutes(1)).await;
    fires_once(&app, &key, "delivery_promise", &[(CUSTOMER, "is taking longer to arrive"), (OPERATOR, "SLA digest: 1 escalation")]).await;
    let by = due_of(&app, &key, "delivery_promised").await;
    let late = app.outbox().await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("taking longer to arrive")).unwrap();
    assert!(late["text"].as_str().unwrap().contains(&format!("If it has not arrived by {}", by.format("%a %d %b %Y"))), "{late}");
    sweep_at(&app, by - Duration::minutes(1)).await;
    fires_once(&app, &key, "delivery_promised", &[(CUSTOMER, "Order #1001 has still not arrived"), (OPERATOR, "SLA digest: 1 escalation")]).await;
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), &key, None).await;
    assert!(!order["clocks"].as_array().unwrap().iter().any(|c| c["kind"] == "delivery_promised"), "told once: {order}");
}

/// With `SLA_AUTO_CANCEL_HOURS` set, an order still not placed with the supplier that
/// long after its deadline is cancelled: the vendor is told not to order it, the
/// operator to refund, the customer that it cannot be sent (in full: nothing else of it
/// comes). The vendor can no longer place it.
async fn an_order_never_placed_is_cancelled_after_the_auto_cancel_hours(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("SLA_ESCALATION_REPEAT_HOURS", "0"), ("SLA_AUTO_CANCEL_HOURS", "48")]).await;
    let (key, deadline) = unplaced_past_its_deadline(&app).await;
    assert_eq!(due_of(&app, &key, "auto_cancel").await, deadline + Duration::hours(48));
    fires_once(
        &app,
        &key,
        "auto_cancel",
        &[
            (VENDOR, "Order #1001 was cancelled: it was not ordered from the supplier in time"),
            (OPERATOR, "vendor ipod-shop's part was cancelled, never ordered"),
            (CUSTOMER, "Your order #1001 cannot be sent"),
        ],
    )
    .await;
    let customer = app.outbox().await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("cannot be sent")).unwrap();
    assert!(customer["text"].as_str().unwrap().contains("could not be obtained from our supplier in time"), "{customer}");
    let (status, answer, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{}/supplier-order", order_id()), &key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    assert_eq!(status, 409, "cancelled: {answer}");
}

async fn with_repeats_off_an_escalation_fires_once(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("SLA_ESCALATION_REPEAT_HOURS", "0")]).await;
    let (key, _) = unplaced_past_its_deadline(&app).await;
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{}", order_id()), &key, None).await;
    assert_eq!(order["clocks"], json!([]), "{order}");
    assert_eq!(order["overdue"], json!(["place_with_supplier"]));
}

/// With the default policy a parcel shipped on a weekday is not stale on day 6 (five
/// business days are a week): the vendor still hears the supplier's dispute window is
/// open, and what to do if the parcel stops moving (it once fired and said nothing).
async fn the_dispute_window_notice_reaches_the_vendor_on_day_six_with_the_default_policy(backend: Backend) {
    let monday = dropflow_scenarios::starts_for(backend).into_iter().find(|s| s.name == "Monday").unwrap();
    let app = spawn_app_at(backend, monday.instant(), None, &[]).await;
    let key = paid_order(&app).await;
    step(&app, &key, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    step(&app, &key, "shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    let shipped = app.now();
    let opens = due_of(&app, &key, "dispute_window").await;
    assert!(opens - shipped <= Duration::days(6) && opens < due_of(&app, &key, "tracking_stale").await, "day 6, before tracking is stale");
    fires_once(&app, &key, "dispute_window", &[(VENDOR, "the supplier's dispute window is open")]).await;
    let notice = app.outbox().await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("dispute window is open")).unwrap();
    let text = notice["text"].as_str().unwrap();
    assert!(text.contains("If the parcel is not moving") && text.contains("open a dispute with the supplier for order AE-1"), "{text}");
}

/// The supplier's refund window closing on an order that has not shipped: the warning
/// asks when it will ship, and never speaks of a parcel that is not moving.
async fn a_refund_warning_before_shipment_does_not_speak_of_a_parcel(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("SLA_SHIP_BUSINESS_DAYS", "20")]).await;
    let key = paid_order(&app).await;
    step(&app, &key, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    fires_once(&app, &key, "refund_warning", &[(VENDOR, "the supplier's refund window closes")]).await;
    let warning = app.outbox().await.into_iter().find(|m| m["subject"].as_str().unwrap().contains("refund window closes")).unwrap();
    let text = warning["text"].as_str().unwrap();
    assert!(text.contains("It has not shipped yet") && !text.contains("parcel is not moving"), "{text}");
}

async fn the_dispute_window_tells_the_vendor_when_tracking_is_stale(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("SLA_TRACKING_STALE_BUSINESS_DAYS", "3")]).await;
    let key = paid_order(&app).await;
    step(&app, &key, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    step(&app, &key, "shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    fires_once(&app, &key, "tracking_stale", &[(VENDOR, "chase your supplier")]).await;
    fires_once(&app, &key, "dispute_window", &[(VENDOR, "you can open a dispute with the supplier")]).await;
}

async fn a_vendor_shipping_while_the_sweep_fires_wins_and_no_breach_is_sent(backend: Backend) {
    for start in dropflow_scenarios::starts_for(backend) {
        vendor_shipping_while_the_sweep_fires_wins(backend, start).await;
    }
}

async fn vendor_shipping_while_the_sweep_fires_wins(backend: Backend, start: Start) {
    // Tracking goes stale and the dispute window opens later than the ship deadline,
    // whatever the weekday: the sweep at that deadline has nothing else to fire. (It
    // once read the wall clock, and failed on weekdays: the dispute window, shipment
    // + 6 days, came before a deadline of a week.)
    let settings: Vec<(&str, &str)> =
        start.settings.iter().copied().chain([("SLA_TRACKING_STALE_BUSINESS_DAYS", "7"), ("SLA_DISPUTE_OPENS_DAYS", "19")]).collect();
    let app = spawn_app_at(backend, start.instant(), Some(Chaos::quiet()), &settings).await;
    let key = paid_order(&app).await;
    step(&app, &key, "supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    let due = due_of(&app, &key, "ship").await;
    // The sweep reads the due order, then its commit is slow ...
    let sweeping = sweep_committing_slowly(&app, due).await;
    // ... and the vendor ships meanwhile: its request is answered 200, not 409.
    let shipped = step(&app, &key, "shipment", json!({"tracking_number": "1Z5R89390357567127"})).await;
    assert_eq!(shipped["state"], "shipped");
    let report = sweeping.await.unwrap().expect("the sweep ends well");
    app.deliver().await;
    assert_eq!(report.fired, 0, "{}: the transition won: {report:?}", start.name);
    let facts = subjects(&app).await;
    assert!(!facts.iter().any(|s| s.contains("late to ship") || s.contains("SLA digest") || s.contains("taking longer")), "{facts:?}");
    assert!(facts.iter().any(|s| s.contains("has shipped")), "{facts:?}");
}

async fn two_sweeps_at_once_send_each_mail_once(backend: Backend) {
    let app = dropflow_scenarios::spawn_app_with(backend, Some(Chaos::quiet())).await;
    let key = paid_order(&app).await;
    let due = due_of(&app, &key, "place_with_supplier").await;
    // One sweep has read the due order and is committing, slowly, while a second one
    // runs whole: the first's commit then finds the order moved on.
    let first = sweep_committing_slowly(&app, due).await;
    let second = sweep::sweep(&app.local.app, due, None).await.unwrap();
    let first = first.await.unwrap().unwrap();
    app.deliver().await;
    assert_eq!(first.fired + second.fired, 1, "one of them fired it: {first:?} {second:?}");
    let digests = subjects(&app).await.into_iter().filter(|s| s.contains("SLA digest")).count();
    assert_eq!(digests, 1, "one digest, from the sweep that fired");
    // The same sweep again, from the command line: nothing left to fire.
    assert!(app.cli(&["sweep", "--now", &due.to_rfc3339()]).await.unwrap().contains("0 fired"));
}

/// The subjects of every mail sent so far, each as often as it was sent.
async fn subjects(app: &TestApp) -> Vec<String> {
    mail(app).await.into_iter().flat_map(|((_, subject), n)| std::iter::repeat_n(subject, n)).collect()
}

/// A sweep as of `due` whose commit is slow: it has read what is due and is in its
/// commit when this returns.
async fn sweep_committing_slowly(
    app: &TestApp,
    due: DateTime<Utc>,
) -> tokio::task::JoinHandle<Result<sweep::SweepReport, dropflow_shared::services::ServiceError>> {
    let store = &app.local.chaos.as_ref().unwrap().store;
    store.queue([Fault::Slow]);
    let sweeping = tokio::spawn({
        let local = app.local.clone();
        async move { sweep::sweep(&local.app, due, None).await }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while store.pending() > 0 {
        assert!(std::time::Instant::now() < deadline, "the sweep never reached its commit");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sweeping
}

/// Seeds `total` vendor orders of which `due` have a clock due now, straight into the
/// store: in transactions of 100 on the embedded store, one put at a time on moto
/// (whose transactions copy the whole table).
async fn seed(app: &App, backend: Backend, total: usize, due: usize) {
    let (template, _) = app.tables.vendor_orders(&VendorId::parse("ipod-shop").unwrap(), None, None, 1).await.unwrap();
    let template: VendorOrder = template.into_iter().next().expect("the paid order's vendor order");
    let mut writes = Vec::new();
    for n in 0..total {
        let created = if n < due { app.clock.now() - Duration::days(2) } else { app.clock.now() };
        let vo = VendorOrder {
            order_id: OrderId::derive("generic", "seed", &n.to_string()),
            created_at: created,
            clocks: app.config.sla.on_created(created),
            ..template.clone()
        };
        match (backend, Tables::put_vendor_order(&vo, None).unwrap()) {
            (Backend::Aws, dropflow_shared::ports::Write::Put { item, condition }) => app.tables.items.put(item, condition).await.unwrap(),
            (_, write) => writes.push(write),
        }
        if writes.len() == 100 {
            app.tables.items.transact(std::mem::take(&mut writes)).await.unwrap();
        }
    }
    if !writes.is_empty() {
        app.tables.items.transact(writes).await.unwrap();
    }
}

async fn a_sweep_reads_what_is_due_not_the_table(backend: Backend) {
    let app = spawn_app(backend).await;
    paid_order(&app).await;
    // moto is slow to fill, and copies the table for each transaction: a smaller table
    // there, with the same 20 due.
    let total = match backend {
        Backend::Embedded => 50_000,
        Backend::Aws => 300,
    };
    seed(&app.local.app, backend, total, 20).await;
    let (counting, counts) = Counting::new(app.local.app.tables.items.clone());
    let counted = App { tables: Tables::new(Arc::new(counting)), ..app.local.app.clone() };
    let report = sweep::sweep(&counted, app.now(), None).await.unwrap();
    assert_eq!((report.due, report.fired, report.escalations), (20, 20, 20), "{report:?}");
    eprintln!("swept {total} vendor orders: {} items read, {} written", counts.reads(), counts.writes());
    assert!(counts.reads() <= 48, "{} items read to fire 20 clocks among {total} vendor orders", counts.reads());
    // And the vendor's scorecard day items (20 missed supplier orders: one item per
    // shard of the day, the counts merged in each commit).
    let scorecard = u64::from(dropflow_shared::store::SCORE_SHARDS);
    assert!(counts.writes() <= 20 * 4 + 2 + scorecard, "{} items written", counts.writes());
}

on_both_backends!(
    every_clock_of_an_order_fires_once_at_its_due_second,
    an_overdue_step_escalates_again_every_day_until_the_vendor_acts,
    with_repeats_off_an_escalation_fires_once,
    a_promised_date_that_passes_tells_the_customer_and_the_operator_again,
    an_order_never_placed_is_cancelled_after_the_auto_cancel_hours,
    the_dispute_window_notice_reaches_the_vendor_on_day_six_with_the_default_policy,
    a_refund_warning_before_shipment_does_not_speak_of_a_parcel,
    the_dispute_window_tells_the_vendor_when_tracking_is_stale,
    a_vendor_shipping_while_the_sweep_fires_wins_and_no_breach_is_sent,
    two_sweeps_at_once_send_each_mail_once,
    a_sweep_reads_what_is_due_not_the_table,
);
