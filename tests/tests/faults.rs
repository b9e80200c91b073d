//! Nothing lost, nothing doubled, with faults injected under every port: a queue that
//! will not take the event a vendor action committed, a store that times out after the
//! write landed, a mailer that fails after it sent, a replay of one signed body under
//! other shop headers, and the whole walking-skeleton story at a 10% fault rate.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, sign, spawn_app, spawn_app_configured, spawn_app_with};
use dropflow_shared::adapters::faults::{Chaos, Fault};
use dropflow_shared::domain::ids::{OrderId, VendorId};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashMap;

const PAID: &str = "shopify/orders-create-paid.json";

fn order_id() -> OrderId {
    OrderId::derive("shopify", "", "450789469")
}

/// Mail counted by (recipient, subject).
async fn mail_counts(app: &TestApp) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for mail in app.outbox().await {
        let key = (mail["to"].as_str().unwrap_or_default().to_string(), mail["subject"].as_str().unwrap_or_default().to_string());
        *counts.entry(key).or_default() += 1;
    }
    counts
}

fn chaos(app: &TestApp) -> &Chaos {
    app.local.chaos.as_ref().expect("the app runs with fault injectors")
}

/// A vendor with all three SKUs, the paid order routed to it, placed with the supplier;
/// returns its key and the order id.
async fn placed_order(app: &TestApp) -> (String, String) {
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    assert_eq!(app.shopify_webhook("orders/paid", &fixture(PAID), SHOPIFY_SECRET).await.status(), 200);
    let id = order_id().to_string();
    let (status, body, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    assert_eq!(status, 200, "{body}");
    (key, id)
}

async fn a_committed_event_goes_out_even_when_the_queue_refuses_it_at_first(backend: Backend) {
    let app = spawn_app_with(backend, Some(Chaos::quiet())).await;
    let (key, id) = placed_order(&app).await;
    chaos(&app).queues.set_rate(1.0);
    // The vendor's change commits with its event; the queue is not on its path.
    let request =
        app.client.post(format!("{}/vendor/orders/{id}/shipment", app.base)).bearer_auth(&key).json(&json!({"tracking_number": "1Z5R89390357567127"}));
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(app.local.relay().await.is_err(), "the relay can neither send nor park while the queue is down");
    assert!(!mail_counts(&app).await.keys().any(|(_, subject)| subject.contains("shipped")));
    chaos(&app).queues.set_rate(0.0);
    app.deliver().await;
    let shipped: usize = mail_counts(&app).await.iter().filter(|((_, s), _)| s.contains("shipped")).map(|(_, n)| n).sum();
    assert_eq!(shipped, 1, "the shipped mail went out once the queue came back");
    let (status, again, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), &key, Some(json!({"tracking_number": "1Z5R89390357567127"}))).await;
    assert_eq!((status, again["state"].as_str()), (200, Some("shipped")), "the same parcel again is the order as it is: {again}");
    let shipped: usize = mail_counts(&app).await.iter().filter(|((_, s), _)| s.contains("shipped")).map(|(_, n)| n).sum();
    assert_eq!(shipped, 1, "shipped once");
}

async fn a_store_timeout_after_the_write_landed_converges_without_a_double_effect(backend: Backend) {
    let app = spawn_app_with(backend, Some(Chaos::quiet())).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    // Intake's transaction lands, its answer is lost, the retry meets its own write.
    chaos(&app).store.queue([Fault::TimeoutAfterEffect]);
    assert_eq!(app.shopify_webhook("orders/paid", &fixture(PAID), SHOPIFY_SECRET).await.status(), 200);
    assert_eq!(chaos(&app).store.injected(), 1);
    let key = app.cli(&["key", "create", "ipod-shop"]).await.unwrap();
    let id = order_id().to_string();
    // So does a vendor action's.
    app.vendor(Method::POST, &format!("/vendor/orders/{id}/supplier-order"), &key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    chaos(&app).store.queue([Fault::TimeoutAfterEffect]);
    let (status, shipped, _) =
        app.vendor(Method::POST, &format!("/vendor/orders/{id}/shipment"), &key, Some(json!({"tracking_number": "1Z5R89390357567127"}))).await;
    assert_eq!((status, shipped["state"].as_str()), (200, Some("shipped")), "{shipped}");
    assert_eq!(chaos(&app).store.injected(), 2);
    let (_, order, _) = app.vendor(Method::GET, &format!("/vendor/orders/{id}"), &key, None).await;
    let actions: Vec<&str> = order["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["created", "supplier_order_placed", "shipped"]);
    assert!(mail_counts(&app).await.values().all(|&n| n == 1), "{:?}", mail_counts(&app).await);
    let events = app.local.app.tables.events(&order_id()).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event_type.as_str() == "shipped").count(), 1);
}

async fn a_mail_claim_whose_answer_was_lost_is_still_ours(backend: Backend) {
    use dropflow_shared::ports::QueueName;
    use std::time::Duration;
    let app = spawn_app_with(backend, Some(Chaos::quiet())).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let body = fixture(PAID);
    let request = app
        .client
        .post(format!("{}/webhooks/shopify", app.base))
        .header("X-Shopify-Hmac-Sha256", sign(SHOPIFY_SECRET, &body))
        .header("X-Shopify-Topic", "orders/paid");
    assert_eq!(request.body(body.clone()).send().await.unwrap().status(), 200);
    while app.local.deliver_batch(QueueName::Intake, Duration::ZERO).await.unwrap() > 0 {}
    // The next write is the first mail's claim: it lands, its answer is lost, the retry
    // meets it. Without a way to know the claim as its own, the notifier would wait out
    // its own lease.
    chaos(&app).store.queue([Fault::TimeoutAfterEffect]);
    app.deliver().await;
    assert_eq!(chaos(&app).store.injected(), 1);
    let counts = mail_counts(&app).await;
    assert_eq!((counts.len(), counts.values().sum::<usize>()), (2, 2), "both mails at once, once: {counts:?}");
}

async fn a_mailer_failing_after_it_sent_doubles_at_most_that_one_mail(backend: Backend) {
    // SES has no idempotency key: the mail whose answer was lost goes out twice. The
    // local outbox replaces a re-sent mail's file: no duplicate at all.
    let duplicates = match backend {
        Backend::Aws => 1,
        Backend::Embedded => 0,
    };
    let app = spawn_app_with(backend, Some(Chaos::quiet())).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    chaos(&app).mailer.queue([Fault::TimeoutAfterEffect]);
    app.shopify_webhook("orders/paid", &fixture(PAID), SHOPIFY_SECRET).await;
    let counts = mail_counts(&app).await;
    assert_eq!(counts.len(), 2, "the confirmation and the vendor's brief: {counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 2 + duplicates, "at most the one mail whose answer was lost went out twice: {counts:?}");
    // Redelivery sends nothing more.
    app.shopify_webhook("orders/paid", &fixture(PAID), SHOPIFY_SECRET).await;
    assert_eq!(mail_counts(&app).await.values().sum::<usize>(), 2 + duplicates);
}

async fn one_signed_body_under_other_shop_headers_is_one_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let body = fixture(PAID);
    for shop in [Some("scenario.myshopify.com"), Some("evil.myshopify.com"), Some("other.example"), None] {
        assert_eq!(app.shopify_webhook_from(shop, "orders/paid", &body, SHOPIFY_SECRET).await.status(), 200);
    }
    let (_, list, _) = app.vendor(Method::GET, "/vendor/orders", &key, None).await;
    assert_eq!(list["orders"].as_array().unwrap().len(), 1, "{list}");
    assert!(app.local.app.tables.vendor_order(&order_id(), &VendorId::parse("ipod-shop").unwrap()).await.unwrap().is_some());
    let counts = mail_counts(&app).await;
    assert_eq!((counts.len(), counts.values().sum::<usize>()), (2, 2), "{counts:?}");
}

async fn with_an_allow_list_only_the_listed_shops_are_taken(backend: Backend) {
    let app = spawn_app_configured(backend, None, &[("SHOPIFY_SHOP_DOMAINS", "Scenario.myshopify.com, other.myshopify.com")]).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let body = fixture(PAID);
    let post = |shop: Option<&'static str>| app.shopify_webhook_from(shop, "orders/paid", &body, SHOPIFY_SECRET);
    assert_eq!(post(Some("evil.myshopify.com")).await.status(), 401);
    assert_eq!(post(None).await.status(), 401);
    assert_eq!(app.deliver().await, 0, "nothing from an unlisted shop was queued");
    assert_eq!(post(Some("scenario.myshopify.com")).await.status(), 200);
    app.deliver().await;
    assert!(app.local.app.tables.order(&order_id()).await.unwrap().is_some());
}

async fn the_walking_skeleton_completes_with_a_tenth_of_all_calls_failing(backend: Backend) {
    // A message that failed comes back after 1 s, then 2, 4, 8...: the storm is
    // outlasted within the test's patience however the dice fall (10 s at first in
    // production, where the patience is an hour).
    let app = spawn_app_configured(backend, Some(Chaos::quiet()), &[("RETRY_FIRST_BACKOFF_SECONDS", "1")]).await;
    // The operator's set-up first, on calm ports (operator commands run on the app
    // itself, and a vendor add whose answer is lost says "already exists" when retried).
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED"]).await;
    app.onboard("black-gear", &["IPOD2008BLACK"]).await;
    chaos(&app).set_rate(0.1);
    for _ in 0..2 {
        assert_eq!(app.shopify_webhook("orders/create", &fixture(PAID), SHOPIFY_SECRET).await.status(), 200);
    }
    let id = order_id().to_string();
    let steps: [(&str, Option<Value>, &str); 3] = [
        ("supplier-order", Some(json!({"supplier_order_ref": "AE-300111"})), "awaiting_shipment"),
        ("shipment", Some(json!({"tracking_number": "1Z5R89390357567127"})), "shipped"),
        ("delivered", None, "delivered"),
    ];
    for (step, body, state) in steps {
        let (status, answer, _) = app.vendor(Method::POST, &format!("/vendor/orders/{id}/{step}"), &key, body).await;
        assert_eq!((status, answer["state"].as_str()), (200, Some(state)), "{step}: {answer}");
    }
    let expected = [
        ("bob.norman@hostmail.com", "confirmed"),
        ("bob.norman@hostmail.com", "shipped"),
        ("bob.norman@hostmail.com", "delivered"),
        ("ipod-shop@vendors.example", "New order"),
        ("black-gear@vendors.example", "New order"),
    ];
    // A message whose handling failed outright backs off before it is offered again, as
    // SQS does: the mail is late, never lost. Deliver until it is in.
    let started = std::time::Instant::now();
    let counts = loop {
        app.deliver().await;
        let counts = mail_counts(&app).await;
        let to = |who: &str, what: &str| counts.iter().filter(|((t, s), _)| t == who && s.contains(what)).map(|(_, n)| *n).sum::<usize>();
        let missing: Vec<_> = expected.iter().filter(|(who, what)| to(who, what) == 0).collect();
        if missing.is_empty() {
            break counts;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let mut letters = Vec::new();
            for queue in dropflow_shared::ports::DeadLetterQueue::ALL {
                letters.extend(app.local.queues.dead_letters(queue).await.unwrap());
            }
            panic!("{missing:?} never arrived: {counts:?}; dead letters: {letters:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let doubled: usize = counts.values().map(|n| n - 1).sum();
    assert!(doubled as u64 <= chaos(&app).mailer.injected(), "only mail whose send timed out after it went out may be doubled: {counts:?}");
    assert!(chaos(&app).injected() > 0, "faults were injected");
}

async fn a_throttled_mail_backs_off_and_goes_out_later_instead_of_dead_lettering(backend: Backend) {
    use dropflow_shared::ports::{DeadLetterQueue, QueueName};
    use std::time::Duration;
    let app = spawn_app_with(backend, Some(Chaos::quiet())).await;
    app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    // SES says "rate exceeded" for longer than the in-process retries last.
    chaos(&app).mailer.queue([Fault::Throttle; 12]);
    app.shopify_webhook("orders/paid", &fixture(PAID), SHOPIFY_SECRET).await;
    assert!(mail_counts(&app).await.len() < 2, "the burst held mail back");
    assert!(app.local.queues.dead_letters(DeadLetterQueue::Notify).await.unwrap().is_empty());
    assert!(app.local.queues.receive(QueueName::Notify, 10, Duration::ZERO).await.unwrap().is_empty(), "the throttled event waits out its backoff");
    // After the first backoff (10 s) the event comes back and the mail goes out.
    let deadline = std::time::Instant::now() + Duration::from_secs(25);
    while mail_counts(&app).await.len() < 2 && std::time::Instant::now() < deadline {
        app.local.deliver_batch(QueueName::Notify, Duration::from_secs(2)).await.unwrap();
    }
    let counts = mail_counts(&app).await;
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(app.local.queues.dead_letters(DeadLetterQueue::Notify).await.unwrap().is_empty());
}

on_both_backends!(
    a_throttled_mail_backs_off_and_goes_out_later_instead_of_dead_lettering,
    a_mail_claim_whose_answer_was_lost_is_still_ours,
    a_committed_event_goes_out_even_when_the_queue_refuses_it_at_first,
    a_store_timeout_after_the_write_landed_converges_without_a_double_effect,
    a_mailer_failing_after_it_sent_doubles_at_most_that_one_mail,
    one_signed_body_under_other_shop_headers_is_one_order,
    with_an_allow_list_only_the_listed_shops_are_taken,
    the_walking_skeleton_completes_with_a_tenth_of_all_calls_failing,
);
