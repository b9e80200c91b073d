//! Storefront write-back to Shopify (issue 26), on both backends, against a stand-in of
//! the Admin GraphQL API written from Shopify's documentation:
//! - <https://shopify.dev/docs/api/admin-graphql/latest/objects/FulfillmentOrder> (the
//!   order's fulfillment orders, their line items and `remainingQuantity`);
//! - <https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate>
//!   (`FulfillmentInput`: `lineItemsByFulfillmentOrder`, `trackingInfo`,
//!   `notifyCustomer`; `userErrors`; more than the remaining quantity is an error);
//! - <https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits> (THROTTLED
//!   with `extensions.cost.throttleStatus`);
//! - <https://shopify.dev/docs/api/admin-graphql/latest/input-objects/FulfillmentEventInput>
//!   and <https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentEventStatus>
//!   (`fulfillmentEventCreate`: `fulfillmentId`, `status`, `happenedAt`, `message`).
//!
//! The stand-in checks the token, that inputs come as variables (never in the query
//! text), and every field of each fulfillment; it counts what it created.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, fixture, on_both_backends, spawn_app_configured};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::ports::QueueName;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const SHOP: &str = "lumen.myshopify.com";
const TOKEN: &str = "shpat_scenario";
/// Vendor A's parcel (green and red), a Royal Mail number; vendor B's (black), UPS.
const PARCEL_A: &str = "RB123456785GB";
const PARCEL_B: &str = "1Z5R89390357567127";

/// What the stand-in does to the next call of a kind, before answering as Shopify does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// THROTTLED (HTTP 200, as Shopify answers a query over the bucket).
    Throttle,
    /// Applies a fulfillment, then answers 502 (the caller cannot know it was applied).
    ApplyThenFail,
    /// `userErrors` for the fulfillment, nothing applied.
    UserError,
}

/// The stand-in's shop: the fixture order #1001 with one fulfillment order of its three
/// lines, the fulfillments made, and the faults to inject.
#[derive(Default)]
struct Shop {
    remaining: Vec<(String, String, u32)>,
    fulfillments: Vec<Value>,
    creates: usize,
    faults: Vec<Fault>,
    refused: Vec<String>,
}

type Stand = Arc<Mutex<Shop>>;

async fn stand_in() -> (String, Stand) {
    let shop = Shop {
        remaining: ["466157049", "518995019", "703073504"]
            .iter()
            .enumerate()
            .map(|(i, line)| (format!("gid://shopify/FulfillmentOrderLineItem/{i}"), gid("LineItem", line), 1))
            .collect(),
        ..Shop::default()
    };
    let state: Stand = Arc::new(Mutex::new(shop));
    let shared = state.clone();
    let app = axum::Router::new().route(
        "/{shop}/admin/api/2026-10/graphql.json",
        axum::routing::post(move |axum::extract::Path(shop): axum::extract::Path<String>, headers: axum::http::HeaderMap, body: String| {
            let state = shared.clone();
            async move { answer(&state, &shop, &headers, &body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/{{shop}}/admin/api/2026-10/graphql.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, state)
}

fn gid(kind: &str, id: &str) -> String {
    format!("gid://shopify/{kind}/{id}")
}

fn answer(state: &Stand, shop: &str, headers: &axum::http::HeaderMap, body: &str) -> (axum::http::StatusCode, axum::Json<Value>) {
    use axum::http::StatusCode;
    let request: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let mut state = state.lock().unwrap();
    let query = request["query"].as_str().unwrap_or_default();
    let refuse = |state: &mut Shop, why: &str| {
        state.refused.push(why.to_string());
        (StatusCode::BAD_REQUEST, axum::Json(json!({"errors": [{"message": why}]})))
    };
    if shop != SHOP || headers.get("x-shopify-access-token").is_none_or(|t| t != TOKEN) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})));
    }
    if query.contains(PARCEL_A) || query.contains(PARCEL_B) || query.contains("450789469") {
        return refuse(&mut state, "an input was spliced into the query text");
    }
    if query.contains("query ParcelState") {
        if request["variables"]["id"] != gid("Order", "450789469") {
            return refuse(&mut state, "not the order's global id");
        }
        if state.faults.first() == Some(&Fault::Throttle) {
            state.faults.remove(0);
            let cost = json!({"requestedQueryCost": 152, "actualQueryCost": null, "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 100, "restoreRate": 50.0}});
            return (
                StatusCode::OK,
                axum::Json(json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}], "extensions": {"cost": cost}})),
            );
        }
        let lines: Vec<Value> = state.remaining.iter().map(|(id, line, left)| json!({"id": id, "remainingQuantity": left, "lineItem": {"id": line}})).collect();
        let order = json!({"id": gid("Order", "450789469"), "fulfillments": state.fulfillments, "fulfillmentOrders": {"nodes": [
            {"id": gid("FulfillmentOrder", "1"), "status": "OPEN", "supportedActions": [{"action": "CREATE_FULFILLMENT"}, {"action": "HOLD"}], "lineItems": {"nodes": lines}}
        ]}});
        return (StatusCode::OK, axum::Json(json!({"data": {"order": order}})));
    }
    if query.contains("mutation ParcelShipped") {
        return create(&mut state, &request["variables"]["fulfillment"]);
    }
    if query.contains("mutation ParcelNews") {
        return fulfillment_event(&mut state, &request["variables"]["event"]);
    }
    refuse(&mut state, "an operation the stand-in does not know")
}

/// `fulfillmentCreate` as Shopify documents it: each item of one fulfillment order, at
/// most its remaining quantity, with the tracking and `notifyCustomer`.
fn create(state: &mut Shop, input: &Value) -> (axum::http::StatusCode, axum::Json<Value>) {
    use axum::http::StatusCode;
    state.creates += 1;
    let groups = input["lineItemsByFulfillmentOrder"].as_array().cloned().unwrap_or_default();
    let tracking = &input["trackingInfo"];
    let well_formed = groups.len() == 1
        && groups[0]["fulfillmentOrderId"] == gid("FulfillmentOrder", "1")
        && tracking["company"].is_string()
        && tracking["number"].is_string()
        && tracking["url"].as_str().is_some_and(|u| u.starts_with("https://"))
        && input["notifyCustomer"].is_boolean();
    if !well_formed {
        state.refused.push(format!("malformed FulfillmentInput: {input}"));
        return (
            StatusCode::OK,
            axum::Json(json!({"data": {"fulfillmentCreate": {"fulfillment": null, "userErrors": [{"field": ["fulfillment"], "message": "malformed"}]}}})),
        );
    }
    let fault = (!state.faults.is_empty() && state.faults[0] != Fault::Throttle).then(|| state.faults.remove(0));
    if fault == Some(Fault::UserError) {
        let errors = json!([{"field": ["fulfillment"], "message": "Invalid fulfillment order line item quantity requested."}]);
        return (StatusCode::OK, axum::Json(json!({"data": {"fulfillmentCreate": {"fulfillment": null, "userErrors": errors}}})));
    }
    let mut fulfilled = Vec::new();
    for item in groups[0]["fulfillmentOrderLineItems"].as_array().cloned().unwrap_or_default() {
        let quantity = item["quantity"].as_u64().unwrap_or(0) as u32;
        let Some(line) = state.remaining.iter_mut().find(|(id, _, left)| item["id"] == *id && *left >= quantity && quantity > 0) else {
            let errors = json!([{"field": ["fulfillment"], "message": "Invalid fulfillment order line item quantity requested."}]);
            return (StatusCode::OK, axum::Json(json!({"data": {"fulfillmentCreate": {"fulfillment": null, "userErrors": errors}}})));
        };
        line.2 -= quantity;
        fulfilled.push(json!({"quantity": quantity, "lineItem": {"id": line.1}}));
    }
    let id = gid("Fulfillment", &(state.fulfillments.len() + 1).to_string());
    state
        .fulfillments
        .push(json!({"id": id, "trackingInfo": [tracking], "fulfillmentLineItems": {"nodes": fulfilled}, "notifyCustomer": input["notifyCustomer"]}));
    if fault == Some(Fault::ApplyThenFail) {
        return (StatusCode::BAD_GATEWAY, axum::Json(json!({"errors": "upstream timed out"})));
    }
    (StatusCode::OK, axum::Json(json!({"data": {"fulfillmentCreate": {"fulfillment": {"id": id}, "userErrors": []}}})))
}

/// `fulfillmentEventCreate`: an event of a fulfillment the shop holds, with one of
/// Shopify's statuses and an ISO 8601 instant.
fn fulfillment_event(state: &mut Shop, input: &Value) -> (axum::http::StatusCode, axum::Json<Value>) {
    const STATUSES: [&str; 11] = [
        "ATTEMPTED_DELIVERY",
        "CARRIER_PICKED_UP",
        "CONFIRMED",
        "DELAYED",
        "DELIVERED",
        "FAILURE",
        "IN_TRANSIT",
        "LABEL_PRINTED",
        "LABEL_PURCHASED",
        "OUT_FOR_DELIVERY",
        "READY_FOR_PICKUP",
    ];
    let status = input["status"].as_str().unwrap_or_default();
    let at = input["happenedAt"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let found = state.fulfillments.iter_mut().find(|f| f["id"] == input["fulfillmentId"]);
    match found {
        Some(fulfillment) if STATUSES.contains(&status) && at.is_some() => {
            let events = fulfillment.as_object_mut().unwrap().entry("events").or_insert(json!([]));
            events.as_array_mut().unwrap().push(json!({"status": status, "message": input["message"]}));
            let id = format!("gid://shopify/FulfillmentEvent/{}", events.as_array().unwrap().len());
            (axum::http::StatusCode::OK, axum::Json(json!({"data": {"fulfillmentEventCreate": {"fulfillmentEvent": {"id": id}, "userErrors": []}}})))
        }
        _ => {
            state.refused.push(format!("malformed FulfillmentEventInput: {input}"));
            let errors = json!([{"field": ["fulfillmentEvent"], "message": "invalid"}]);
            (axum::http::StatusCode::OK, axum::Json(json!({"data": {"fulfillmentEventCreate": {"fulfillmentEvent": null, "userErrors": errors}}})))
        }
    }
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
        assert!(std::time::Instant::now() < deadline, "{what}: {:?}", shop.lock().unwrap().fulfillments);
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
    until(&app, &shop, "vendor A's fulfillment", |s| s.fulfillments.len() == 1).await;
    ship(&app, &b, "CJ-1", PARCEL_B).await;
    until(&app, &shop, "vendor B's fulfillment", |s| s.fulfillments.len() == 2).await;
    // The same shipped events once more, as a redelivery would bring them.
    let events = app.local.app.tables.events(&OrderId::parse(&order_id()).unwrap()).await.unwrap();
    for shipped in events.iter().filter(|e| e.event_type.as_str() == "shipped") {
        app.local.app.publisher.publish(QueueName::Notify, serde_json::to_string(shipped).unwrap()).await.unwrap();
    }
    app.deliver().await;
    let report = app.cli(&["order", "show", &order_id()]).await.unwrap();
    assert!(report.contains("storefront parcel RB123456785GB: written:gid://shopify/Fulfillment/1"), "{report}");
    assert!(report.contains("storefront parcel 1Z5R89390357567127: written:gid://shopify/Fulfillment/2"), "{report}");
    let shop = shop.lock().unwrap();
    assert!(shop.refused.is_empty(), "{:?}", shop.refused);
    assert_eq!((shop.fulfillments.len(), shop.creates), (2, 2), "one fulfillment per parcel, a redelivery makes none");
    let (first, second) = (&shop.fulfillments[0], &shop.fulfillments[1]);
    assert_eq!(lines_of(first), vec![(gid("LineItem", "466157049"), 1), (gid("LineItem", "518995019"), 1)]);
    assert_eq!(first["trackingInfo"][0], json!({"company": "Royal Mail", "number": PARCEL_A, "url": "https://t.17track.net/en#nums=RB123456785GB"}));
    assert_eq!(lines_of(second), vec![(gid("LineItem", "703073504"), 1)]);
    assert_eq!(first["notifyCustomer"], false, "dropflow mails the customer by default, so the shop does not");
    assert_eq!(second["trackingInfo"][0], json!({"company": "UPS", "number": PARCEL_B, "url": "https://www.ups.com/track?tracknum=1Z5R89390357567127"}));
    assert!(shop.remaining.iter().all(|(_, _, left)| *left == 0), "the order reads fulfilled");
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
    until(&app, &shop, "the write-back settled", |s| s.faults.is_empty() && s.fulfillments.len() == 1).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    app.deliver().await;
    {
        let shop = shop.lock().unwrap();
        assert_eq!((shop.fulfillments.len(), shop.creates), (1, 1), "{:?}", shop.fulfillments);
    }
    let id = OrderId::parse(&order_id()).unwrap();
    let events = app.local.app.tables.events(&id).await.unwrap();
    let shipped = events.iter().find(|e| e.event_type.as_str() == "shipped").unwrap();
    let mark = app.local.app.tables.sent_message_id(&shipped.event_id, &format!("storefront:{PARCEL_A}")).await.unwrap();
    assert_eq!(mark.as_deref(), Some("written:gid://shopify/Fulfillment/1"), "the fulfillment's id is kept with the parcel");
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
        (shop.creates, shop.fulfillments.len())
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
    until(&app, &shop, "the fulfillment", |s| s.fulfillments.len() == 1).await;
    assert_eq!(shop.lock().unwrap().fulfillments[0]["notifyCustomer"], true);
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
    let events = shop.fulfillments[parcel]["events"].as_array().cloned().unwrap_or_default();
    events.iter().map(|e| e["status"].as_str().unwrap().to_string()).collect()
}

async fn the_carriers_news_and_each_delivery_become_fulfillment_events_once(backend: Backend) {
    let (endpoint, shop) = stand_in().await;
    let app = spawn(backend, &writing_to(&endpoint, &[])).await;
    let (a, b) = two_vendor_order(&app).await;
    ship(&app, &a, "AE-1", PARCEL_A).await;
    ship(&app, &b, "CJ-1", PARCEL_B).await;
    until(&app, &shop, "both fulfillments", |s| s.fulfillments.len() == 2).await;
    for (id, tag) in [("ev-1", "InTransit"), ("ev-1", "InTransit"), ("ev-2", "OutForDelivery"), ("ev-3", "Pending")] {
        let answer = app.tracking_push("/webhooks/tracking/aftership", &push(id, PARCEL_A, tag), dropflow_scenarios::AFTERSHIP_SECRET).await;
        assert_eq!(answer.map(|a| a.0), Some(200));
        app.deliver().await;
    }
    until(&app, &shop, "two carrier events", |s| s.fulfillments[0]["events"].as_array().is_some_and(|e| e.len() == 2)).await;
    // Parcel A arrives by the carrier's word, then vendor B marks its parcel delivered,
    // which delivers the whole vendor order: each parcel's DELIVERED is written once.
    let answer = app.tracking_push("/webhooks/tracking/aftership", &push("ev-4", PARCEL_A, "Delivered"), dropflow_scenarios::AFTERSHIP_SECRET).await;
    assert_eq!(answer.map(|a| a.0), Some(200));
    app.deliver().await;
    let (status, body, _) = app.vendor(Method::POST, &format!("/vendor/orders/{}/delivered", order_id()), &b, Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    app.deliver().await;
    until(&app, &shop, "B delivered", |s| s.fulfillments[1]["events"].as_array().is_some_and(|e| !e.is_empty())).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    app.deliver().await;
    assert_eq!(statuses(&shop, 0), ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"], "a repeated push and a tag Shopify has no word for add nothing");
    assert_eq!(statuses(&shop, 1), ["DELIVERED"]);
    let refused = shop.lock().unwrap().refused.clone();
    assert!(refused.is_empty(), "{refused:?}");
}

on_both_backends!(
    the_carriers_news_and_each_delivery_become_fulfillment_events_once,
    each_vendor_parcel_is_one_fulfillment_with_its_own_lines_and_tracking,
    a_throttle_and_a_call_applied_before_its_answer_was_lost_still_make_one_fulfillment,
    a_refusal_is_recorded_once_and_never_retried,
    when_the_shop_mails_shipments_dropflow_does_not,
);
