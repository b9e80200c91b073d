//! A stand-in of Shopify's Admin GraphQL API, written from Shopify's documentation, for
//! the write-back tests and the simulation:
//! - <https://shopify.dev/docs/api/admin-graphql/latest/objects/FulfillmentOrder> (the
//!   order's fulfillment orders, their line items and `remainingQuantity`);
//! - <https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate>
//!   (`FulfillmentInput`: `lineItemsByFulfillmentOrder`, `trackingInfo`,
//!   `notifyCustomer`; `userErrors`; more than the remaining quantity is an error);
//! - <https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits> (THROTTLED
//!   with `extensions.cost.throttleStatus`);
//! - <https://shopify.dev/docs/api/admin-graphql/latest/input-objects/FulfillmentEventInput>
//!   and <https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentEventStatus>.
//!
//! It checks the token, that inputs come as variables (never in the query text), and
//! every field of each fulfillment; it counts what it created. Each order it knows has
//! one open fulfillment order of its lines.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The shop's Admin API token the stand-in takes.
pub const TOKEN: &str = "shpat_scenario";

/// What the stand-in does to the next call of a kind, before answering as Shopify does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// THROTTLED (HTTP 200, as Shopify answers a query over the bucket).
    Throttle,
    /// Applies a fulfillment, then answers 502 (the caller cannot know it was applied).
    ApplyThenFail,
    /// `userErrors` for the fulfillment, nothing applied.
    UserError,
}

/// One order as the stand-in holds it.
#[derive(Debug, Default, Clone)]
pub struct Order {
    /// (fulfillment order line item id, the order line's id, remaining quantity).
    pub remaining: Vec<(String, String, u32)>,
    pub fulfillments: Vec<Value>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    /// Every write to the order's tags or note.
    pub note_writes: usize,
}

/// The stand-in's shop.
#[derive(Debug, Default)]
pub struct Shop {
    /// By the order's REST id.
    pub orders: BTreeMap<String, Order>,
    /// Every `fulfillmentCreate` call.
    pub creates: usize,
    /// Every `fulfillmentTrackingInfoUpdate` call.
    pub tracking_updates: usize,
    /// Every authorised call, of any kind.
    pub calls: usize,
    /// When each fulfillment was created (the write-back's latency is measured to it).
    pub created_at: Vec<std::time::Instant>,
    pub faults: Vec<Fault>,
    /// What the stand-in refused as malformed (a test expects none).
    pub refused: Vec<String>,
}

impl Shop {
    /// Adds the order `id` with its lines (REST ids) and quantities, or the lines it did
    /// not hold yet (a later version of the order added them).
    pub fn add_order(&mut self, id: &str, lines: &[(&str, u32)]) {
        let order = self.orders.entry(id.to_string()).or_default();
        for (line, quantity) in lines {
            let line_gid = gid("LineItem", line);
            if !order.remaining.iter().any(|(_, known, _)| *known == line_gid) {
                order.remaining.push((format!("gid://shopify/FulfillmentOrderLineItem/{id}-{line}"), line_gid, *quantity));
            }
        }
    }

    /// The fulfillments of order `id`.
    pub fn fulfillments(&self, id: &str) -> Vec<Value> {
        self.orders.get(id).map(|o| o.fulfillments.clone()).unwrap_or_default()
    }
}

/// The stand-in, shared with its server.
pub type Stand = Arc<Mutex<Shop>>;

/// Starts the stand-in for `shop`; its endpoint template (`{shop}` in the path) and
/// its state.
pub async fn start(shop: &str) -> (String, Stand) {
    let state: Stand = Arc::new(Mutex::new(Shop::default()));
    let shared = state.clone();
    let expected = shop.to_string();
    let app = axum::Router::new().route(
        "/{shop}/admin/api/2026-10/graphql.json",
        axum::routing::post(move |axum::extract::Path(shop): axum::extract::Path<String>, headers: axum::http::HeaderMap, body: String| {
            let (state, expected) = (shared.clone(), expected.clone());
            async move {
                let authorised = shop == expected && headers.get("x-shopify-access-token").is_some_and(|t| t == TOKEN);
                if !authorised {
                    let error = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
                    return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(error));
                }
                let mut shop = state.lock().unwrap();
                shop.calls += 1;
                answer(&mut shop, &body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}/{{shop}}/admin/api/2026-10/graphql.json", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, state)
}

/// Shopify's global id.
pub fn gid(kind: &str, id: &str) -> String {
    format!("gid://shopify/{kind}/{id}")
}

type Answer = (axum::http::StatusCode, axum::Json<Value>);

fn ok(data: Value) -> Answer {
    (axum::http::StatusCode::OK, axum::Json(json!({ "data": data })))
}

fn answer(state: &mut Shop, body: &str) -> Answer {
    let request: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let query = request["query"].as_str().unwrap_or_default().to_string();
    let variables = &request["variables"];
    // With every input in `variables`, the query text holds no string literal at all.
    let spliced = query.contains('"') || query.contains("gid://");
    if spliced {
        return refuse(state, &format!("an input was spliced into the query text: {query}"));
    }
    if query.contains("query ParcelState") {
        if state.faults.first() == Some(&Fault::Throttle) {
            state.faults.remove(0);
            let cost = json!({"requestedQueryCost": 152, "actualQueryCost": null, "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 100, "restoreRate": 50.0}});
            let throttled = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}], "extensions": {"cost": cost}});
            return (axum::http::StatusCode::OK, axum::Json(throttled));
        }
        let id = variables["id"].as_str().and_then(|g| g.strip_prefix("gid://shopify/Order/")).unwrap_or_default();
        let Some(order) = state.orders.get(id) else { return ok(json!({"order": null})) };
        let lines: Vec<Value> = order.remaining.iter().map(|(id, line, left)| json!({"id": id, "remainingQuantity": left, "lineItem": {"id": line}})).collect();
        let fulfillment_order = json!({"id": gid("FulfillmentOrder", id), "status": "OPEN",
            "supportedActions": [{"action": "CREATE_FULFILLMENT"}, {"action": "HOLD"}], "lineItems": {"nodes": lines}});
        return ok(json!({"order": {"id": gid("Order", id), "fulfillments": order.fulfillments, "fulfillmentOrders": {"nodes": [fulfillment_order]}}}));
    }
    if query.contains("query OrderNote") {
        let id = variables["id"].as_str().and_then(|g| g.strip_prefix("gid://shopify/Order/")).unwrap_or_default();
        let Some(order) = state.orders.get(id) else { return ok(json!({"order": null})) };
        return ok(json!({"order": {"id": gid("Order", id), "tags": order.tags, "note": order.note}}));
    }
    if query.contains("mutation OrderTagged") || query.contains("mutation OrderNoted") {
        let (id, payload) = if query.contains("OrderTagged") { (&variables["id"], "tagsAdd") } else { (&variables["input"]["id"], "orderUpdate") };
        let id = id.as_str().and_then(|g| g.strip_prefix("gid://shopify/Order/")).unwrap_or_default().to_string();
        let Some(order) = state.orders.get_mut(&id) else { return user_error(payload, "Order does not exist") };
        order.note_writes += 1;
        if payload == "tagsAdd" {
            let tags = variables["tags"].as_array().cloned().unwrap_or_default();
            order.tags.extend(tags.iter().filter_map(|t| t.as_str()).map(str::to_string).filter(|t| !t.is_empty()));
        } else {
            order.note = variables["input"]["note"].as_str().map(str::to_string);
        }
        return ok(json!({ payload: {"userErrors": []} }));
    }
    if query.contains("mutation ParcelShipped") {
        return create(state, &variables["fulfillment"]);
    }
    if query.contains("mutation ParcelCorrected") {
        return tracking_update(state, variables);
    }
    if query.contains("mutation ParcelNews") {
        return fulfillment_event(state, &variables["event"]);
    }
    refuse(state, "an operation the stand-in does not know")
}

fn refuse(state: &mut Shop, why: &str) -> Answer {
    state.refused.push(why.to_string());
    (axum::http::StatusCode::BAD_REQUEST, axum::Json(json!({"errors": [{"message": why}]})))
}

fn user_error(payload: &str, message: &str) -> Answer {
    ok(json!({ payload: {"userErrors": [{"field": ["input"], "message": message}]} }))
}

/// `fulfillmentCreate` as Shopify documents it: each item of one fulfillment order, at
/// most its remaining quantity, with the tracking and `notifyCustomer`.
fn create(state: &mut Shop, input: &Value) -> Answer {
    state.creates += 1;
    let groups = input["lineItemsByFulfillmentOrder"].as_array().cloned().unwrap_or_default();
    let tracking = &input["trackingInfo"];
    let order_id =
        groups.first().and_then(|g| g["fulfillmentOrderId"].as_str()).and_then(|g| g.strip_prefix("gid://shopify/FulfillmentOrder/")).unwrap_or_default();
    let well_formed = groups.len() == 1
        && state.orders.contains_key(order_id)
        && tracking["company"].is_string()
        && tracking["number"].is_string()
        && tracking["url"].as_str().is_some_and(|u| u.starts_with("https://"))
        && input["notifyCustomer"].is_boolean();
    if !well_formed {
        state.refused.push(format!("malformed FulfillmentInput: {input}"));
        return user_error("fulfillmentCreate", "malformed");
    }
    let fault = (!state.faults.is_empty() && state.faults[0] != Fault::Throttle).then(|| state.faults.remove(0));
    if fault == Some(Fault::UserError) {
        return user_error("fulfillmentCreate", "Invalid fulfillment order line item quantity requested.");
    }
    let order = state.orders.get_mut(order_id).expect("checked");
    let items = groups[0]["fulfillmentOrderLineItems"].as_array().cloned().unwrap_or_default();
    let fits = items.iter().all(|item| {
        let quantity = item["quantity"].as_u64().unwrap_or(0) as u32;
        quantity > 0 && order.remaining.iter().any(|(id, _, left)| item["id"] == *id && *left >= quantity)
    });
    if !fits {
        return user_error("fulfillmentCreate", "Invalid fulfillment order line item quantity requested.");
    }
    let mut fulfilled = Vec::new();
    for item in items {
        let quantity = item["quantity"].as_u64().unwrap_or(0) as u32;
        let line = order.remaining.iter_mut().find(|(id, _, _)| item["id"] == *id).expect("checked");
        line.2 -= quantity;
        fulfilled.push(json!({"quantity": quantity, "lineItem": {"id": line.1}}));
    }
    let id = gid("Fulfillment", &format!("{order_id}-{}", order.fulfillments.len() + 1));
    order
        .fulfillments
        .push(json!({"id": id, "trackingInfo": [tracking], "fulfillmentLineItems": {"nodes": fulfilled}, "notifyCustomer": input["notifyCustomer"]}));
    state.created_at.push(std::time::Instant::now());
    if fault == Some(Fault::ApplyThenFail) {
        return (axum::http::StatusCode::BAD_GATEWAY, axum::Json(json!({"errors": "upstream timed out"})));
    }
    ok(json!({"fulfillmentCreate": {"fulfillment": {"id": id}, "userErrors": []}}))
}

/// `fulfillmentTrackingInfoUpdate`: a fulfillment the shop holds takes the tracking
/// (`FulfillmentTrackingInput`: company, number, url) in place of what it had.
fn tracking_update(state: &mut Shop, variables: &Value) -> Answer {
    state.tracking_updates += 1;
    let input = &variables["trackingInfoInput"];
    let well_formed = input["company"].is_string()
        && input["number"].is_string()
        && input["url"].as_str().is_some_and(|u| u.starts_with("https://"))
        && variables["notifyCustomer"].is_boolean();
    let found = state.orders.values_mut().flat_map(|o| o.fulfillments.iter_mut()).find(|f| f["id"] == variables["fulfillmentId"]);
    match found {
        Some(fulfillment) if well_formed => {
            fulfillment["trackingInfo"] = json!([input]);
            ok(json!({"fulfillmentTrackingInfoUpdate": {"fulfillment": {"id": variables["fulfillmentId"]}, "userErrors": []}}))
        }
        _ => {
            state.refused.push(format!("malformed tracking update: {variables}"));
            user_error("fulfillmentTrackingInfoUpdate", "invalid")
        }
    }
}

/// `fulfillmentEventCreate`: an event of a fulfillment the shop holds, with one of
/// Shopify's statuses and an ISO 8601 instant.
fn fulfillment_event(state: &mut Shop, input: &Value) -> Answer {
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
    let found = state.orders.values_mut().flat_map(|o| o.fulfillments.iter_mut()).find(|f| f["id"] == input["fulfillmentId"]);
    match found {
        Some(fulfillment) if STATUSES.contains(&status) && at.is_some() => {
            let events = fulfillment.as_object_mut().expect("an object").entry("events").or_insert(json!({"nodes": []}));
            let list = events["nodes"].as_array_mut().expect("a list");
            list.push(json!({"status": status, "happenedAt": input["happenedAt"], "message": input["message"]}));
            let id = format!("gid://shopify/FulfillmentEvent/{}", list.len());
            if state.faults.first() == Some(&Fault::ApplyThenFail) {
                state.faults.remove(0);
                return (axum::http::StatusCode::BAD_GATEWAY, axum::Json(json!({"errors": "upstream timed out"})));
            }
            ok(json!({"fulfillmentEventCreate": {"fulfillmentEvent": {"id": id}, "userErrors": []}}))
        }
        _ => {
            state.refused.push(format!("malformed FulfillmentEventInput: {input}"));
            user_error("fulfillmentEventCreate", "invalid")
        }
    }
}
