//! AfterShip's tracking pushes end to end, on both backends: each tag group moves the
//! parcel's vendor order as the vendor would (in transit resets the stale clock,
//! delivered delivers, an exception tells the vendor and the operator), the last
//! checkpoint is shown, a repeated event changes nothing, a forged one is refused and
//! an unknown number is ignored.

use chrono::{DateTime, Utc};
use dropflow_scenarios::{AFTERSHIP_SECRET, Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

const NUMBER: &str = "1Z5R89390357567127";

fn order_path() -> String {
    format!("/vendor/orders/{}", OrderId::derive("shopify", "", "450789469"))
}

fn push(event_id: &str, number: &str, tag: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "event": "tracking_update", "event_id": event_id, "ts": 1795000000, "is_tracking_first_tag": true,
        "msg": {"id": "5b7658cec7c33c0e007de3c5", "tracking_number": number, "slug": "ups", "tag": tag, "subtag": format!("{tag}_001"),
            "checkpoints": [{"checkpoint_time": "2026-11-23T08:00:00Z", "location": "Louisville, KY", "message": message, "tag": tag}]}
    }))
    .unwrap()
}

async fn post(app: &TestApp, path: &str, body: &[u8], secret: &str) -> (u16, Value) {
    app.tracking_push(path, body, secret).await.expect("an answer")
}

async fn aftership(app: &TestApp, body: &[u8]) -> (u16, Value) {
    post(app, "/webhooks/tracking/aftership", body, AFTERSHIP_SECRET).await
}

/// A paid order shipped with UPS; returns the vendor's key.
async fn shipped(app: &TestApp) -> String {
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await;
    for (step, body) in [("supplier-order", json!({"supplier_order_ref": "AE-1"})), ("shipment", json!({"tracking_number": NUMBER}))] {
        let (status, answer, _) = app.vendor(Method::POST, &format!("{}/{step}", order_path()), &key, Some(body)).await;
        assert_eq!(status, 200, "{answer}");
    }
    key
}

async fn order(app: &TestApp, key: &str) -> Value {
    app.vendor(Method::GET, &order_path(), key, None).await.1
}

fn stale_due(order: &Value) -> DateTime<Utc> {
    let clock = order["clocks"].as_array().unwrap().iter().find(|c| c["kind"] == "tracking_stale").unwrap_or_else(|| panic!("{order}"));
    DateTime::parse_from_rfc3339(clock["due_at"].as_str().unwrap()).unwrap().with_timezone(&Utc)
}

async fn subjects(app: &TestApp) -> Vec<(String, String)> {
    app.outbox().await.into_iter().map(|m| (m["to"].as_str().unwrap_or_default().to_string(), m["subject"].as_str().unwrap_or_default().to_string())).collect()
}

async fn each_tag_group_moves_the_order_as_the_vendor_would(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = shipped(&app).await;
    let before = stale_due(&order(&app, &key).await);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let (status, answer) = aftership(&app, &push("e-1", NUMBER, "InTransit", "Departed facility")).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
    let moving = order(&app, &key).await;
    assert_eq!(moving["state"], "shipped");
    assert_eq!(
        (moving["last_checkpoint"]["tag"].as_str(), moving["last_checkpoint"]["message"].as_str(), moving["last_checkpoint"]["location"].as_str()),
        (Some("InTransit"), Some("Departed facility"), Some("Louisville, KY")),
        "{moving}"
    );
    assert!(stale_due(&moving) > before, "a push resets the stale clock from when it was received");

    aftership(&app, &push("e-2", NUMBER, "AttemptFail", "Receiver not home <b>")).await;
    let trouble: Vec<_> = subjects(&app).await.into_iter().filter(|(_, s)| s.contains("the carrier reports a problem")).collect();
    let mut recipients: Vec<&str> = trouble.iter().map(|(to, _)| to.as_str()).collect();
    recipients.sort();
    assert_eq!(recipients, ["ipod-shop@vendors.example", "ops@market.example"], "{trouble:?}");

    aftership(&app, &push("e-3", NUMBER, "Delivered", "Delivered, front door")).await;
    let delivered = order(&app, &key).await;
    assert_eq!((delivered["state"].as_str(), delivered["clocks"].clone()), (Some("delivered"), json!([])), "{delivered}");
    assert_eq!(delivered["history"].as_array().unwrap().last().unwrap()["actor"], "system");
    assert!(subjects(&app).await.iter().any(|(to, s)| to == "bob.norman@hostmail.com" && s.contains("was delivered")));
}

async fn a_repeated_push_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = shipped(&app).await;
    let body = push("e-dup", NUMBER, "Exception", "Customs hold");
    for _ in 0..3 {
        assert_eq!(aftership(&app, &body).await.0, 200);
    }
    let history = order(&app, &key).await["history"].as_array().unwrap().len();
    assert_eq!(subjects(&app).await.iter().filter(|(_, s)| s.contains("the carrier reports a problem")).count(), 2, "one mail each to vendor and operator");
    aftership(&app, &body).await;
    assert_eq!(order(&app, &key).await["history"].as_array().unwrap().len(), history);
}

async fn a_forged_push_is_refused_and_an_unknown_number_ignored(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = shipped(&app).await;
    let before = order(&app, &key).await;
    let (status, answer) = post(&app, "/webhooks/tracking/aftership", &push("e-f", NUMBER, "Delivered", "x"), "not the secret").await;
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = aftership(&app, &push("e-u", "9400111899223100000000", "Delivered", "x")).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("queued")), "{answer}");
    assert_eq!(order(&app, &key).await["state"], before["state"], "neither moved the order");
    // A storefront is not a carrier feed, nor the other way round.
    assert_eq!(post(&app, "/webhooks/tracking/shopify", b"{}", SHOPIFY_SECRET).await.0, 404);
    assert_eq!(post(&app, "/webhooks/aftership", &push("e-p", NUMBER, "Delivered", "x"), AFTERSHIP_SECRET).await.0, 404);
}

/// The carrier says "delivered" once per parcel, also for the first parcel of an order
/// whose other lines have not shipped yet: that parcel is delivered (and earns) at once,
/// and the vendor order is delivered when its last parcel is.
async fn a_parcel_delivered_before_the_rest_shipped_counts_and_the_order_is_delivered_with_the_last(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    app.shopify_webhook("orders/paid", &fixture("shopify/orders-create-paid.json"), SHOPIFY_SECRET).await;
    let lines: Vec<String> = order(&app, &key).await["lines"].as_array().unwrap().iter().map(|l| l["line_id"].as_str().unwrap().to_string()).collect();
    let act = |step: &'static str, body: Value| {
        let (app, key) = (&app, &key);
        async move {
            let (status, answer, _) = app.vendor(Method::POST, &format!("{}/{step}", order_path()), key, Some(body)).await;
            assert_eq!(status, 200, "{step}: {answer}");
        }
    };
    act("supplier-order", json!({"supplier_order_ref": "AE-1"})).await;
    act("shipment", json!({"tracking_number": NUMBER, "lines": [lines[0]]})).await;
    assert_eq!(aftership(&app, &push("e-1", NUMBER, "Delivered", "Delivered")).await.0, 200);

    let first = order(&app, &key).await;
    assert_eq!(first["state"], "awaiting_shipment", "two lines have not shipped: {first}");
    assert!(first["shipments"][0]["delivered_at"].is_string(), "the first parcel is delivered: {first}");
    let vendor = dropflow_shared::domain::ids::VendorId::parse("ipod-shop").unwrap();
    let held = app.local.app.tables.balance(&vendor).await.unwrap().currencies.values().map(|b| b.held).sum::<i64>();
    assert!(held > 0, "the delivered parcel earns");

    act("shipment", json!({"tracking_number": "RB123456785GB", "lines": [lines[1], lines[2]]})).await;
    assert_eq!(order(&app, &key).await["state"], "shipped");
    assert_eq!(aftership(&app, &push("e-2", "RB123456785GB", "Delivered", "Delivered")).await.0, 200);
    let last = order(&app, &key).await;
    assert_eq!(last["state"], "delivered", "{last}");
    assert!(last["clocks"].as_array().unwrap().is_empty());
}

on_both_backends!(
    a_parcel_delivered_before_the_rest_shipped_counts_and_the_order_is_delivered_with_the_last,
    each_tag_group_moves_the_order_as_the_vendor_would,
    a_repeated_push_changes_nothing,
    a_forged_push_is_refused_and_an_unknown_number_ignored,
);

/// A local stand-in for AfterShip's tracking API that checks each request as AfterShip
/// documents it (POST /trackings, `as-api-key`, JSON with `tracking_number` and `slug`),
/// refuses the first with a 503 (an outage), then creates each tracking once and answers
/// 4003 ("already exists") after that.
async fn stand_in() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::http::{HeaderMap, StatusCode};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/tracking/2026-07/trackings",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let valid = headers.get("as-api-key").is_some_and(|k| k == "test-aftership-key")
                    && headers.get("content-type").is_some_and(|c| c.to_str().unwrap_or("").starts_with("application/json"))
                    && json["tracking_number"].is_string();
                if !valid {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({"meta": {"code": 401, "message": "bad request"}})));
                }
                let mut log = log.lock().unwrap();
                log.push(json.clone());
                match log.len() {
                    1 => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"meta": {"code": 503}}))),
                    2 => (StatusCode::CREATED, axum::Json(json!({"meta": {"code": 201}, "data": json}))),
                    _ => (StatusCode::BAD_REQUEST, axum::Json(json!({"meta": {"code": 4003, "message": "Tracking already exists."}}))),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/tracking/2026-07", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn a_shipped_parcel_is_registered_with_aftership_once(backend: Backend) {
    let (url, seen) = stand_in().await;
    let settings = [("AFTERSHIP_API_KEY", "test-aftership-key"), ("AFTERSHIP_API_URL", url.as_str()), ("RETRY_FIRST_BACKOFF_SECONDS", "1")];
    let app = dropflow_scenarios::spawn_app_configured(backend, None, &settings).await;
    shipped(&app).await;
    // The outage: the shipped event backs off a second, then registers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        app.deliver().await;
    }
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "one refused by the outage, one that registered: {requests:?}");
    assert_eq!(requests[1], json!({"tracking_number": NUMBER, "slug": "ups"}));
    let shipped_mail = subjects(&app).await.into_iter().filter(|(_, s)| s.contains("has shipped")).count();
    assert_eq!(shipped_mail, 1, "the retry sent the customer's mail once");
    // Nothing more is registered however often the queues are delivered.
    app.deliver().await;
    assert_eq!(seen.lock().unwrap().len(), 2);
}

on_both_backends!(a_shipped_parcel_is_registered_with_aftership_once,);
