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
//! - <https://shopify.dev/docs/api/admin-graphql/latest/queries/orders> (the orders
//!   changed after a time, `sortKey: UPDATED_AT`, paged by `after`/`pageInfo`) and
//!   <https://shopify.dev/docs/api/admin-graphql/latest/objects/Order> with
//!   <https://shopify.dev/docs/api/admin-graphql/latest/objects/LineItem> (one order
//!   read back; amounts as `MoneyBag`s, ids as global ids).
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
    /// Its custom attributes (`{key, value}`), and every write of them.
    pub attributes: Vec<Value>,
    pub attribute_writes: usize,
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
    /// The orders it lists when asked what changed: the newest REST body of each, as
    /// its webhook carries it (`list`).
    pub listed: Vec<Value>,
    /// Every listing's search (`updated_at:>'…'`).
    pub listings: Vec<String>,
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

    /// The shop holds the order of `body` (a REST order, as its webhook carries it): it
    /// is read back by the poll, and its lines can be fulfilled. An older version than
    /// the one held changes nothing.
    pub fn list(&mut self, body: Value) {
        let Some(id) = body["id"].as_u64().map(|id| id.to_string()) else { return };
        let stamp = |o: &Value| o["updated_at"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
        if self.listed.iter().any(|o| o["id"] == body["id"] && stamp(o) > stamp(&body)) {
            return;
        }
        let lines: Vec<(String, u32)> =
            body["line_items"].as_array().into_iter().flatten().map(|l| (l["id"].to_string(), l["quantity"].as_u64().unwrap_or(0) as u32)).collect();
        let lines: Vec<(&str, u32)> = lines.iter().map(|(line, quantity)| (line.as_str(), *quantity)).collect();
        self.add_order(&id, &lines);
        self.listed.retain(|o| o["id"] != body["id"]);
        self.listed.push(body);
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
    if query.contains("query OrderAttributes") {
        let id = variables["id"].as_str().and_then(|g| g.strip_prefix("gid://shopify/Order/")).unwrap_or_default();
        let Some(order) = state.orders.get(id) else { return ok(json!({"order": null})) };
        return ok(json!({"order": {"id": gid("Order", id), "customAttributes": order.attributes}}));
    }
    if query.contains("mutation OrderAttributed") {
        // `orderUpdate` with `customAttributes`: the list given replaces the order's.
        let input = &variables["input"];
        let id = input["id"].as_str().and_then(|g| g.strip_prefix("gid://shopify/Order/")).unwrap_or_default().to_string();
        let attributes = input["customAttributes"].as_array().cloned().unwrap_or_default();
        if attributes.iter().any(|a| !a["key"].is_string() || !a["value"].is_string() || a.as_object().is_some_and(|o| o.len() != 2)) {
            return refuse(state, &format!("custom attributes Shopify would not take: {attributes:?}"));
        }
        let Some(order) = state.orders.get_mut(&id) else { return user_error("orderUpdate", "Order does not exist") };
        order.attributes = attributes;
        order.attribute_writes += 1;
        return ok(json!({"orderUpdate": {"order": {"id": gid("Order", &id)}, "userErrors": []}}));
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
    if query.contains("query ChangedOrders") {
        return changed_orders(state, &query, variables);
    }
    if query.contains("query OrderAsWebhook") {
        let id = variables["id"].as_str().and_then(|g| g.strip_prefix("gid://shopify/Order/")).unwrap_or_default();
        let order = state.listed.iter().find(|o| o["id"].as_u64().is_some_and(|n| id.parse() == Ok(n))).map(|o| as_graphql(o, variables["after"].as_str()));
        return ok(json!({ "order": order }));
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

/// How many orders one listing page holds (the query's `first`).
const LISTING_PAGE: usize = 100;

/// `orders(first: 100, after, query: "updated_at:>'…'", sortKey: UPDATED_AT)`: ids and
/// change times of the orders changed after the search's time, oldest first. The
/// cursor is the offset (Shopify's are opaque).
fn changed_orders(state: &mut Shop, query: &str, variables: &Value) -> Answer {
    let search = variables["query"].as_str().unwrap_or_default().to_string();
    state.listings.push(search.clone());
    let since = search.strip_prefix("updated_at:>'").and_then(|rest| rest.strip_suffix('\'')).and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let (Some(since), true) = (since, query.contains("first: 100") && query.contains("sortKey: UPDATED_AT")) else {
        return refuse(state, &format!("a listing Shopify would not answer as asked: {search:?} in {query}"));
    };
    let offset = match variables["after"].as_str() {
        None => 0,
        Some(cursor) => match cursor.strip_prefix("offset:").and_then(|n| n.parse::<usize>().ok()) {
            Some(offset) => offset,
            None => return refuse(state, &format!("a cursor the stand-in never gave: {cursor}")),
        },
    };
    let stamp = |o: &Value| o["updated_at"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let mut changed: Vec<&Value> = state.listed.iter().filter(|o| stamp(o).is_some_and(|t| t > since)).collect();
    changed.sort_by_key(|o| stamp(o));
    let nodes: Vec<Value> = changed
        .iter()
        .skip(offset)
        .take(LISTING_PAGE)
        .map(|o| json!({"legacyResourceId": o["id"].to_string(), "updatedAt": stamp(o).map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))}))
        .collect();
    let end = offset + nodes.len();
    ok(json!({"orders": {"nodes": nodes, "pageInfo": {"hasNextPage": end < changed.len(), "endCursor": format!("offset:{end}")}}}))
}

/// A REST order as `order(id)` gives it: global ids, camel case, amounts as
/// `{shopMoney {amount}}`, its lines a page of 100 at a time from `after`.
fn as_graphql(rest: &Value, after: Option<&str>) -> Value {
    let money = |amount: &Value| if amount.is_null() { Value::Null } else { json!({"shopMoney": {"amount": amount, "currencyCode": rest["currency"]}}) };
    let utc = |t: &Value| {
        t.as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let address = &rest["shipping_address"];
    let lines: Vec<Value> = rest["line_items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let allocations: Vec<Value> = l["discount_allocations"].as_array().into_iter().flatten().map(|d| json!({"allocatedAmountSet": money(&d["amount"])})).collect();
            json!({"id": gid("LineItem", &l["id"].to_string()), "sku": l["sku"], "title": l["title"], "variantTitle": l["variant_title"], "quantity": l["quantity"],
                "currentQuantity": if l["current_quantity"].is_null() { l["quantity"].clone() } else { l["current_quantity"].clone() },
                "originalUnitPriceSet": money(&l["price"]), "totalDiscountSet": money(&l["total_discount"]), "discountAllocations": allocations})
        })
        .collect();
    let offset = after.and_then(|c| c.strip_prefix("offset:")).and_then(|n| n.parse::<usize>().ok()).unwrap_or(0);
    let page: Vec<Value> = lines.iter().skip(offset).take(LISTING_PAGE).cloned().collect();
    let end = offset + page.len();
    json!({
        "legacyResourceId": rest["id"].to_string(), "name": rest["name"], "email": rest["email"], "currencyCode": rest["currency"],
        "displayFinancialStatus": rest["financial_status"].as_str().map(str::to_ascii_uppercase), "cancelledAt": utc(&rest["cancelled_at"]),
        "createdAt": utc(&rest["created_at"]), "updatedAt": utc(&rest["updated_at"]), "customerLocale": rest["customer_locale"], "totalPriceSet": money(&rest["total_price"]),
        "shippingAddress": if address.is_object() { json!({"name": address["name"], "firstName": address["first_name"], "lastName": address["last_name"],
            "company": address["company"], "address1": address["address1"], "address2": address["address2"], "city": address["city"],
            "provinceCode": address["province_code"], "province": address["province"], "zip": address["zip"], "countryCodeV2": address["country_code"],
            "phone": address["phone"]}) } else { Value::Null },
        "customer": if rest["customer"].is_object() { json!({"firstName": rest["customer"]["first_name"], "lastName": rest["customer"]["last_name"]}) } else { Value::Null },
        "lineItems": {"nodes": page, "pageInfo": {"hasNextPage": end < lines.len(), "endCursor": format!("offset:{end}")}},
    })
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
