//! Writing a vendor's parcel back to Shopify through the Admin GraphQL API (version
//! 2026-10): the parcel's lines become a fulfillment with its tracking, so the shop's
//! order reads partially fulfilled, then fulfilled, one fulfillment per vendor parcel.
//!
//! How, as Shopify documents it:
//! - the order's fulfillment orders and their open quantities are read first
//!   (<https://shopify.dev/docs/api/admin-graphql/latest/objects/FulfillmentOrder>,
//!   `FulfillmentOrderLineItem.lineItem` links each back to the order's line);
//! - `fulfillmentCreate(fulfillment: FulfillmentInput!)`, one call per fulfillment
//!   order of the parcel, with `lineItemsByFulfillmentOrder`, `trackingInfo {company,
//!   number, url}` and `notifyCustomer`
//!   (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate>);
//!   inputs always travel as GraphQL variables, never spliced into the query text;
//! - `company` is one of Shopify's tracking company names where the carrier has one
//!   (<https://shopify.dev/docs/api/admin-graphql/2025-10/objects/FulfillmentTrackingInfo>),
//!   and `url` is always dropflow's link, so Shopify never guesses one from the number;
//! - a throttle is `errors[].extensions.code = THROTTLED` (with HTTP 200 or 429), and
//!   `extensions.cost.throttleStatus` says when the bucket has room again
//!   (<https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits>).
//!
//! `fulfillmentCreate` is not idempotent, so every try first reads what the order holds:
//! a fulfillment already carrying the parcel's number counts for its lines, and only
//! what is still missing is created. A crash between Shopify's answer and dropflow's
//! record, a timeout after Shopify applied the call, and a duplicate event all end with
//! one fulfillment.

#[cfg(feature = "storefront-writeback")]
use super::poll;
use crate::domain::tracking::TrackingNumber;
use crate::ports::ParcelWrite;
#[cfg(feature = "storefront-writeback")]
use crate::ports::WriteBackError;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The Admin API version every request names.
pub const API_VERSION: &str = "2026-10";

/// Where a shop's Admin GraphQL API is, `{shop}` standing for its domain.
pub const DEFAULT_ENDPOINT: &str = "https://{shop}/admin/api/2026-10/graphql.json";

/// The order's custom attributes ("additional details" in the shop's admin).
pub const ORDER_ATTRIBUTES: &str = "query OrderAttributes($id: ID!) {
  order(id: $id) { id customAttributes { key value } }
}";

/// The order's custom attributes set (`orderUpdate` replaces the whole list).
pub const ORDER_ATTRIBUTED: &str = "mutation OrderAttributed($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { field message } }
}";

/// The attribute that holds the customer's status page.
pub const STATUS_ATTRIBUTE: &str = "Order status";

/// What the order holds now: its fulfillments (with their numbers and lines) and its
/// fulfillment orders (with what is left to fulfil of each line).
pub const ORDER_STATE: &str = "query ParcelState($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 100) {
      id
      trackingInfo(first: 10) { number }
      events(first: 100) { nodes { status happenedAt } }
      fulfillmentLineItems(first: 100) { nodes { quantity lineItem { id } } }
    }
    fulfillmentOrders(first: 50) {
      nodes {
        id
        status
        supportedActions { action }
        lineItems(first: 100) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}";

/// Creates one fulfillment of one fulfillment order.
pub const FULFILLMENT_CREATE: &str = "mutation ParcelShipped($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id }
    userErrors { field message }
  }
}";

/// Gives a fulfillment its parcel's right tracking
/// (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentTrackingInfoUpdate>).
pub const FULFILLMENT_TRACKING_UPDATE: &str =
    "mutation ParcelCorrected($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!, $notifyCustomer: Boolean) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: $notifyCustomer) {
    fulfillment { id }
    userErrors { field message }
  }
}";

/// Records what the carrier said of a fulfillment.
pub const FULFILLMENT_EVENT_CREATE: &str = "mutation ParcelNews($event: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $event) {
    fulfillmentEvent { id }
    userErrors { field message }
  }
}";

/// The order's tags and note, read before they are added to.
pub const ORDER_NOTE: &str = "query OrderNote($id: ID!) {
  order(id: $id) { id tags note }
}";

/// Adds tags to an order
/// (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/tagsAdd>).
pub const TAGS_ADD: &str = "mutation OrderTagged($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { userErrors { field message } }
}";

/// Sets an order's note
/// (<https://shopify.dev/docs/api/admin-graphql/latest/mutations/orderUpdate>).
pub const ORDER_UPDATE_NOTE: &str = "mutation OrderNoted($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { field message } }
}";

/// The order's note with `line` added on a line of its own, unless it holds it already
/// (a retry adds nothing).
pub fn note_with(note: Option<&str>, line: &str) -> Option<String> {
    let note = note.unwrap_or_default();
    if note.lines().any(|l| l.trim() == line.trim()) {
        return None;
    }
    Some(if note.trim().is_empty() { line.to_string() } else { format!("{}\n{line}", note.trim_end()) })
}

/// Shopify's `FulfillmentEventStatus` for a carrier feed's tag
/// (<https://shopify.dev/docs/api/admin-graphql/latest/enums/FulfillmentEventStatus>);
/// `None` for news Shopify has no word for (pending, expired).
pub fn event_status(tag: &str) -> Option<&'static str> {
    Some(match tag {
        "InfoReceived" => "CONFIRMED",
        "InTransit" => "IN_TRANSIT",
        "OutForDelivery" => "OUT_FOR_DELIVERY",
        "AvailableForPickup" => "READY_FOR_PICKUP",
        "Delivered" => "DELIVERED",
        "AttemptFail" => "ATTEMPTED_DELIVERY",
        "Exception" => "FAILURE",
        _ => return None,
    })
}

/// Shopify's global id of an order or a line from the REST id its webhooks carry.
pub fn gid(kind: &str, id: &str) -> String {
    if id.starts_with("gid://") { id.to_string() } else { format!("gid://shopify/{kind}/{id}") }
}

/// The tracking company Shopify lists for the parcel's carrier, else the carrier's
/// name as dropflow shows it (Shopify keeps any name; with ours, `url` is the link).
pub fn company(tracking: &TrackingNumber) -> String {
    tracking.company_name()
}

/// `order` as `ORDER_STATE` reads it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderState {
    #[serde(default)]
    pub fulfillments: Vec<Fulfillment>,
    #[serde(default)]
    pub fulfillment_orders: Nodes<FulfillmentOrder>,
}

/// A GraphQL connection's nodes.
#[derive(Debug, Clone, Deserialize)]
pub struct Nodes<T> {
    pub nodes: Vec<T>,
}

impl<T> Default for Nodes<T> {
    fn default() -> Self {
        Nodes { nodes: Vec::new() }
    }
}

/// A fulfillment the order holds already, by anyone.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfillment {
    pub id: String,
    #[serde(default)]
    pub tracking_info: Vec<TrackingInfo>,
    #[serde(default)]
    pub fulfillment_line_items: Nodes<FulfilledLine>,
    /// The fulfillment events it holds: a carrier's news is not written twice.
    #[serde(default)]
    pub events: Nodes<FulfillmentEvent>,
}

/// A fulfillment event as Shopify keeps it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentEvent {
    pub status: String,
    pub happened_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TrackingInfo {
    pub number: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfilledLine {
    pub quantity: u32,
    pub line_item: LineRef,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineRef {
    pub id: String,
}

/// A fulfillment order: lines Shopify expects one location to send.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentOrder {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub supported_actions: Vec<SupportedAction>,
    pub line_items: Nodes<FulfillmentOrderLine>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SupportedAction {
    pub action: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentOrderLine {
    pub id: String,
    pub remaining_quantity: u32,
    pub line_item: LineRef,
}

/// What a parcel still needs of Shopify.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The fulfillments already carrying the parcel's number.
    pub done: Vec<String>,
    /// Per fulfillment order, its line items and quantities to fulfil now.
    pub create: Vec<(String, Vec<(String, u32)>)>,
    /// Order lines of the parcel Shopify has no open quantity left for (fulfilled by
    /// someone else, removed by an edit): how many units of each.
    pub short: Vec<(String, u32)>,
}

/// What `parcel` needs of the order as it stands: its lines, less what fulfillments
/// under its number already hold, taken from the open quantities of the fulfillment
/// orders that can still be fulfilled, in Shopify's order.
pub fn plan(state: &OrderState, parcel: &ParcelWrite) -> Plan {
    let number = parcel.tracking.number.as_str();
    let ours: Vec<&Fulfillment> = state.fulfillments.iter().filter(|f| carries(f, number)).collect();
    let mut held: BTreeMap<&str, u32> = BTreeMap::new();
    for line in ours.iter().flat_map(|f| &f.fulfillment_line_items.nodes) {
        *held.entry(line.line_item.id.as_str()).or_default() += line.quantity;
    }
    let open = state
        .fulfillment_orders
        .nodes
        .iter()
        .filter(|fo| matches!(fo.status.as_str(), "OPEN" | "IN_PROGRESS") && fo.supported_actions.iter().any(|a| a.action == "CREATE_FULFILLMENT"));
    let mut left: Vec<(&str, &FulfillmentOrderLine)> = open.flat_map(|fo| fo.line_items.nodes.iter().map(move |l| (fo.id.as_str(), l))).collect();
    let mut create: Vec<(String, Vec<(String, u32)>)> = Vec::new();
    let mut short = Vec::new();
    for (line_id, quantity) in &parcel.lines {
        let line = gid("LineItem", line_id);
        let mut needed = quantity.saturating_sub(held.get(line.as_str()).copied().unwrap_or(0));
        for (fo, item) in left.iter_mut().filter(|(_, item)| item.line_item.id == line) {
            let take = needed.min(item.remaining_quantity);
            if take == 0 {
                continue;
            }
            needed -= take;
            match create.iter_mut().find(|(id, _)| id == fo) {
                Some((_, items)) => items.push((item.id.clone(), take)),
                None => create.push((fo.to_string(), vec![(item.id.clone(), take)])),
            }
        }
        if needed > 0 {
            short.push((line_id.clone(), needed));
        }
    }
    Plan { done: ours.iter().map(|f| f.id.clone()).collect(), create, short }
}

/// The variables of `FULFILLMENT_CREATE` for one fulfillment order of `parcel`.
pub fn fulfillment_input(parcel: &ParcelWrite, fulfillment_order: &str, items: &[(String, u32)]) -> Value {
    let items: Vec<Value> = items.iter().map(|(id, quantity)| json!({"id": id, "quantity": quantity})).collect();
    json!({"fulfillment": {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order, "fulfillmentOrderLineItems": items}],
        "trackingInfo": tracking_input(&parcel.tracking),
        "notifyCustomer": parcel.notify_customer,
    }})
}

/// A parcel's `FulfillmentTrackingInput`: Shopify's company name, the number, and
/// dropflow's link.
pub fn tracking_input(tracking: &TrackingNumber) -> Value {
    json!({"company": company(tracking), "number": tracking.number, "url": tracking.tracking_url()})
}

/// Whether `fulfillment` carries the parcel `number` (any case).
fn carries(fulfillment: &Fulfillment, number: &str) -> bool {
    fulfillment.tracking_info.iter().any(|t| t.number.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(number)))
}

/// How long to wait for the bucket when Shopify throttled a request: what the request
/// costs beyond what is available, at the restore rate (a second at least).
pub fn throttle_wait(answer: &Value) -> Option<std::time::Duration> {
    let cost = &answer["extensions"]["cost"];
    let requested = cost["requestedQueryCost"].as_f64()?;
    let status = &cost["throttleStatus"];
    let (available, rate) = (status["currentlyAvailable"].as_f64()?, status["restoreRate"].as_f64()?);
    let seconds = if rate > 0.0 { ((requested - available) / rate).ceil().max(1.0) } else { 1.0 };
    Some(std::time::Duration::from_secs(seconds.min(60.0) as u64))
}

/// Whether Shopify's answer says the request was throttled.
pub fn is_throttled(answer: &Value) -> bool {
    answer["errors"].as_array().is_some_and(|errors| errors.iter().any(|e| e["extensions"]["code"] == "THROTTLED"))
}

/// The `userErrors` of a mutation's answer, as one line, when there are any.
pub fn user_errors(payload: &Value) -> Option<String> {
    let errors = payload["userErrors"].as_array().filter(|e| !e.is_empty())?;
    Some(errors.iter().map(|e| e["message"].as_str().unwrap_or("(no message)").to_string()).collect::<Vec<_>>().join("; "))
}

/// The Admin API client: one token per shop, the endpoint a template with `{shop}`.
#[cfg(feature = "storefront-writeback")]
pub struct ShopifyAdmin {
    client: crate::adapters::https::Lazy,
    endpoint: String,
    tokens: BTreeMap<String, String>,
}

#[cfg(feature = "storefront-writeback")]
impl ShopifyAdmin {
    /// How long one request may take.
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);

    /// The client of the shops in `tokens` (shop domain → Admin API access token).
    pub fn new(endpoint: &str, tokens: BTreeMap<String, String>) -> ShopifyAdmin {
        let client = crate::adapters::https::Lazy::new(Self::TIMEOUT);
        ShopifyAdmin { client, endpoint: endpoint.to_string(), tokens }
    }

    /// The order `id` as `ORDER_STATE` reads it; an order Shopify does not have is
    /// refused.
    async fn order_state(&self, shop: &str, id: &str) -> Result<OrderState, WriteBackError> {
        let data = self.call(shop, ORDER_STATE, json!({"id": gid("Order", id)})).await?;
        match &data["order"] {
            Value::Null => Err(WriteBackError::Refused(format!("Shopify has no order {id}"))),
            order => serde_json::from_value(order.clone()).map_err(|e| WriteBackError::Refused(format!("Shopify's order does not read: {e}"))),
        }
    }

    /// One GraphQL call on `shop`'s API; returns `data`.
    async fn call(&self, shop: &str, query: &str, variables: Value) -> Result<Value, WriteBackError> {
        let token = self.tokens.get(&shop.to_ascii_lowercase()).ok_or_else(|| WriteBackError::Refused(format!("no Admin API token for {shop}")))?;
        let unavailable = |reason: String, after| WriteBackError::Unavailable { reason, after };
        let response = self
            .client
            .get()
            .post(self.endpoint.replace("{shop}", shop))
            .header("X-Shopify-Access-Token", token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .map_err(|e| unavailable(format!("Shopify unreachable: {e}"), None))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or_default();
        if status.as_u16() == 429 || is_throttled(&answer) {
            return Err(unavailable("Shopify throttled the request".into(), throttle_wait(&answer)));
        }
        if status.is_server_error() {
            return Err(unavailable(format!("Shopify answered {status}"), None));
        }
        if !status.is_success() {
            return Err(WriteBackError::Refused(format!("Shopify answered {status} for {shop}")));
        }
        if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
            return Err(WriteBackError::Refused(format!("Shopify refused the request: {}", errors[0]["message"].as_str().unwrap_or("?"))));
        }
        Ok(answer["data"].clone())
    }

    /// Order `id` read in full, every page of its lines, as its webhook carries it;
    /// `None` when Shopify no longer has it or it has no id.
    async fn order_as_webhook(&self, shop: &str, id: &str) -> Result<Option<Value>, WriteBackError> {
        /// Pages of lines read at most (10,000 lines): a bound, never a truncation a
        /// real order reaches.
        const MAX_LINE_PAGES: usize = 100;
        let mut lines = Vec::new();
        let mut after = Value::Null;
        for _ in 0..MAX_LINE_PAGES {
            let data = self.call(shop, poll::ORDER_AS_WEBHOOK, json!({"id": gid("Order", id), "after": after})).await?;
            let order = &data["order"];
            if order.is_null() {
                return Ok(None);
            }
            lines.extend(order["lineItems"]["nodes"].as_array().into_iter().flatten().cloned());
            let page = &order["lineItems"]["pageInfo"];
            if page["hasNextPage"] != true {
                return Ok(poll::webhook_body(order, &lines));
            }
            after = page["endCursor"].clone();
        }
        Err(WriteBackError::Refused(format!("order {id} has more lines than dropflow reads")))
    }
}

#[cfg(feature = "storefront-writeback")]
#[async_trait::async_trait]
impl crate::ports::StorefrontWriter for ShopifyAdmin {
    /// Shop domains are compared in lower case, as the tokens are configured.
    fn writes_to(&self, shop: &str) -> bool {
        self.tokens.contains_key(&shop.to_ascii_lowercase())
    }

    /// Every shop with a token is polled: `read_orders` is among the scopes already.
    fn polled_shops(&self) -> Vec<String> {
        self.tokens.keys().cloned().collect()
    }

    /// The listing names ids and change times (`poll::CHANGED_ORDERS`); each order is
    /// then read in full. An order's change time is the listing's, so the cursor never
    /// passes an order listed later that changed before a re-read one.
    async fn changed_since(&self, shop: &str, since: chrono::DateTime<chrono::Utc>, page: u32) -> Result<Vec<crate::ports::ChangedOrder>, WriteBackError> {
        let search = poll::changed_after(since);
        let mut after = Value::Null;
        let mut listed = Value::Null;
        for at in 1..=page {
            let data = self.call(shop, poll::CHANGED_ORDERS, json!({"query": search, "after": after})).await?;
            listed = data["orders"].clone();
            if at < page {
                if listed["pageInfo"]["hasNextPage"] != true {
                    return Ok(Vec::new());
                }
                after = listed["pageInfo"]["endCursor"].clone();
            }
        }
        let mut changed = Vec::new();
        for node in listed["nodes"].as_array().into_iter().flatten() {
            let (Some(id), Some(modified)) =
                (node["legacyResourceId"].as_str(), node["updatedAt"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()))
            else {
                tracing::warn!(%shop, order = %node, "a listed order without an id or a readable updatedAt is skipped");
                continue;
            };
            match self.order_as_webhook(shop, id).await? {
                Some(body) => changed.push(crate::ports::ChangedOrder {
                    id: id.to_string(),
                    modified_at: modified.with_timezone(&chrono::Utc),
                    topic: "orders/updated".into(),
                    body: body.to_string(),
                }),
                None => tracing::warn!(%shop, order = %id, "a listed order could not be read back"),
            }
        }
        Ok(changed)
    }

    async fn parcel_shipped(&self, parcel: &ParcelWrite) -> Result<Vec<String>, WriteBackError> {
        let state = self.order_state(&parcel.shop, &parcel.external_order_id).await?;
        let plan = plan(&state, parcel);
        if plan.create.is_empty() && !plan.short.is_empty() && plan.done.is_empty() {
            return Err(WriteBackError::Refused(format!("Shopify has nothing left to fulfil of lines {:?}", plan.short)));
        }
        let mut ids = plan.done;
        for (fulfillment_order, items) in &plan.create {
            let data = self.call(&parcel.shop, FULFILLMENT_CREATE, fulfillment_input(parcel, fulfillment_order, items)).await?;
            let payload = &data["fulfillmentCreate"];
            if let Some(errors) = user_errors(payload) {
                return Err(WriteBackError::Refused(errors));
            }
            ids.extend(payload["fulfillment"]["id"].as_str().map(str::to_string));
        }
        Ok(ids)
    }

    async fn parcel_corrected(&self, parcel: &ParcelWrite, from: &str) -> Result<Vec<String>, WriteBackError> {
        let state = self.order_state(&parcel.shop, &parcel.external_order_id).await?;
        let carrying = |number: &str| state.fulfillments.iter().filter(|f| carries(f, number)).map(|f| f.id.clone()).collect::<Vec<_>>();
        // Corrected before (only the mark was lost), or never written under the wrong one.
        let right = carrying(&parcel.tracking.number);
        if !right.is_empty() {
            return Ok(right);
        }
        let wrong = carrying(from);
        if wrong.is_empty() {
            return self.parcel_shipped(parcel).await;
        }
        for id in &wrong {
            let variables = json!({"fulfillmentId": id, "trackingInfoInput": tracking_input(&parcel.tracking), "notifyCustomer": parcel.notify_customer});
            let data = self.call(&parcel.shop, FULFILLMENT_TRACKING_UPDATE, variables).await?;
            if let Some(errors) = user_errors(&data["fulfillmentTrackingInfoUpdate"]) {
                return Err(WriteBackError::Refused(errors));
            }
        }
        Ok(wrong)
    }

    /// The order's "Order status" attribute, kept with the attributes it has (its list
    /// is read first: `orderUpdate` replaces it whole).
    async fn status_link(&self, shop: &str, external_order_id: &str, url: &str) -> Result<(), WriteBackError> {
        let id = gid("Order", external_order_id);
        let data = self.call(shop, ORDER_ATTRIBUTES, json!({"id": id})).await?;
        let order = &data["order"];
        if order.is_null() {
            return Err(WriteBackError::Refused(format!("Shopify has no order {external_order_id}")));
        }
        let held: Vec<Value> = order["customAttributes"].as_array().cloned().unwrap_or_default();
        if held.iter().any(|a| a["key"] == STATUS_ATTRIBUTE && a["value"] == url) {
            return Ok(());
        }
        let mut attributes: Vec<Value> =
            held.into_iter().filter(|a| a["key"] != STATUS_ATTRIBUTE).map(|a| json!({"key": a["key"], "value": a["value"]})).collect();
        attributes.push(json!({"key": STATUS_ATTRIBUTE, "value": url}));
        let data = self.call(shop, ORDER_ATTRIBUTED, json!({"input": {"id": id, "customAttributes": attributes}})).await?;
        match user_errors(&data["orderUpdate"]) {
            Some(errors) => Err(WriteBackError::Refused(errors)),
            None => Ok(()),
        }
    }

    async fn part_cancelled(&self, note: &crate::ports::CancelNote) -> Result<(), WriteBackError> {
        let id = gid("Order", &note.external_order_id);
        let data = self.call(&note.shop, ORDER_NOTE, json!({"id": id})).await?;
        let order = &data["order"];
        if order.is_null() {
            return Err(WriteBackError::Refused(format!("Shopify has no order {}", note.external_order_id)));
        }
        let tagged = order["tags"].as_array().is_some_and(|tags| tags.iter().any(|t| t == note.tag.as_str()));
        if !tagged {
            let data = self.call(&note.shop, TAGS_ADD, json!({"id": id, "tags": [note.tag]})).await?;
            if let Some(errors) = user_errors(&data["tagsAdd"]) {
                return Err(WriteBackError::Refused(errors));
            }
        }
        if let Some(text) = note_with(order["note"].as_str(), &note.line) {
            let data = self.call(&note.shop, ORDER_UPDATE_NOTE, json!({"input": {"id": id, "note": text}})).await?;
            if let Some(errors) = user_errors(&data["orderUpdate"]) {
                return Err(WriteBackError::Refused(errors));
            }
        }
        Ok(())
    }

    async fn parcel_news(&self, news: &crate::ports::ParcelNews) -> Result<Option<String>, WriteBackError> {
        use chrono::SubsecRound;
        let Some(status) = event_status(&news.tag) else { return Ok(None) };
        let data = self.call(&news.shop, ORDER_STATE, json!({"id": gid("Order", &news.external_order_id)})).await?;
        let state: OrderState = serde_json::from_value(data["order"].clone()).unwrap_or_default();
        let Some(fulfillment) = state.fulfillments.iter().find(|f| carries(f, &news.tracking_number)) else {
            return Err(WriteBackError::Refused(format!("no fulfillment carries parcel {}", news.tracking_number)));
        };
        // Written before, and only the mark was lost (a crash, a lost answer): done.
        let happened_at = news.happened_at.trunc_subsecs(0);
        if fulfillment.events.nodes.iter().any(|e| e.status == status && e.happened_at == Some(happened_at)) {
            return Ok(None);
        }
        let mut event =
            json!({"fulfillmentId": fulfillment.id, "status": status, "happenedAt": happened_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)});
        if let Some(message) = &news.message {
            event["message"] = message.as_str().into();
        }
        let data = self.call(&news.shop, FULFILLMENT_EVENT_CREATE, json!({"event": event})).await?;
        let payload = &data["fulfillmentEventCreate"];
        if let Some(errors) = user_errors(payload) {
            return Err(WriteBackError::Refused(errors));
        }
        Ok(payload["fulfillmentEvent"]["id"].as_str().map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tracking::Carrier;

    fn parcel(lines: &[(&str, u32)]) -> ParcelWrite {
        ParcelWrite {
            shop: "lumen.myshopify.com".into(),
            external_order_id: "450789469".into(),
            lines: lines.iter().map(|(id, q)| (id.to_string(), *q)).collect(),
            tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(),
            notify_customer: false,
            completes_order: false,
        }
    }

    fn state(value: Value) -> OrderState {
        serde_json::from_value(value).unwrap()
    }

    fn fulfillment_order(id: &str, status: &str, lines: &[(&str, &str, u32)]) -> Value {
        let nodes: Vec<Value> = lines
            .iter()
            .map(|(id, line, left)| json!({"id": id, "remainingQuantity": left, "lineItem": {"id": format!("gid://shopify/LineItem/{line}")}}))
            .collect();
        json!({"id": id, "status": status, "supportedActions": [{"action": "CREATE_FULFILLMENT"}], "lineItems": {"nodes": nodes}})
    }

    #[test]
    fn a_parcel_takes_only_its_own_lines_from_each_fulfillment_order() {
        let order = state(json!({"fulfillments": [], "fulfillmentOrders": {"nodes": [
            fulfillment_order("FO1", "OPEN", &[("FOL1", "1", 2), ("FOL2", "2", 1)]),
            fulfillment_order("FO2", "OPEN", &[("FOL3", "3", 1)]),
        ]}}));
        let plan = plan(&order, &parcel(&[("1", 2), ("3", 1)]));
        assert_eq!(plan.create, vec![("FO1".into(), vec![("FOL1".into(), 2)]), ("FO2".into(), vec![("FOL3".into(), 1)])], "one call per fulfillment order");
        assert!(plan.done.is_empty() && plan.short.is_empty());
    }

    #[test]
    fn a_fulfillment_under_the_parcels_number_counts_and_is_never_made_twice() {
        let order = state(json!({
            "fulfillments": [{"id": "F1", "trackingInfo": [{"number": "1Z5R89390357567127"}],
                "fulfillmentLineItems": {"nodes": [{"quantity": 2, "lineItem": {"id": "gid://shopify/LineItem/1"}}]}}],
            "fulfillmentOrders": {"nodes": [fulfillment_order("FO2", "OPEN", &[("FOL3", "3", 1)])]}
        }));
        let plan = plan(&order, &parcel(&[("1", 2), ("3", 1)]));
        assert_eq!(plan.done, vec!["F1".to_string()]);
        assert_eq!(plan.create, vec![("FO2".into(), vec![("FOL3".into(), 1)])], "only what the crash left undone");
        let all_done = state(json!({"fulfillments": [{"id": "F1", "trackingInfo": [{"number": "1z5r89390357567127"}],
            "fulfillmentLineItems": {"nodes": [{"quantity": 2, "lineItem": {"id": "gid://shopify/LineItem/1"}}]}}]}));
        assert_eq!(plan_of(&all_done, &[("1", 2)]), Plan { done: vec!["F1".into()], create: vec![], short: vec![] });
    }

    fn plan_of(order: &OrderState, lines: &[(&str, u32)]) -> Plan {
        plan(order, &parcel(lines))
    }

    #[test]
    fn closed_or_unfulfillable_orders_and_missing_quantities_are_short() {
        let mut closed = fulfillment_order("FO1", "CLOSED", &[("FOL1", "1", 2)]);
        closed["status"] = "CLOSED".into();
        let mut on_hold = fulfillment_order("FO2", "ON_HOLD", &[("FOL2", "1", 2)]);
        on_hold["supportedActions"] = json!([{"action": "RELEASE_HOLD"}]);
        let order =
            state(json!({"fulfillments": [], "fulfillmentOrders": {"nodes": [closed, on_hold, fulfillment_order("FO3", "OPEN", &[("FOL3", "1", 1)])]}}));
        let plan = plan_of(&order, &[("1", 3)]);
        assert_eq!(plan.create, vec![("FO3".into(), vec![("FOL3".into(), 1)])]);
        assert_eq!(plan.short, vec![("1".into(), 2)]);
    }

    #[test]
    fn the_company_is_shopifys_name_and_the_url_always_ours() {
        let post = |n: &str| company(&TrackingNumber::parse(n, None).unwrap());
        assert_eq!(post("RB123456785CN"), "China Post");
        assert_eq!(post("RB123456785GB"), "Royal Mail");
        assert_eq!(company(&TrackingNumber::parse("1Z5R89390357567127", None).unwrap()), "UPS");
        let odd = TrackingNumber::parse("ZX12345678", Some(&Carrier::from_name("Speedy <b>Parcel</b>"))).unwrap();
        let input = fulfillment_input(&ParcelWrite { tracking: odd, ..parcel(&[("1", 1)]) }, "FO1", &[("FOL1".into(), 1)]);
        assert_eq!(input["fulfillment"]["trackingInfo"]["company"], "Speedy <b>Parcel</b>", "a vendor's name is data in a variable");
        assert_eq!(input["fulfillment"]["trackingInfo"]["url"], "https://t.17track.net/en#nums=ZX12345678");
        assert_eq!(input["fulfillment"]["notifyCustomer"], false);
    }

    #[test]
    fn a_cancel_note_is_added_once_on_a_line_of_its_own() {
        let line = "dropflow: vendor acme cancelled 1 x Mug (out of stock)";
        assert_eq!(note_with(None, line).as_deref(), Some(line));
        assert_eq!(note_with(Some("Gift wrap, please.\n"), line), Some(format!("Gift wrap, please.\n{line}")));
        assert_eq!(note_with(Some(&format!("Gift wrap, please.\n{line}")), line), None, "a retry adds nothing");
    }

    #[test]
    fn a_throttle_waits_for_the_bucket() {
        let answer = json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 152, "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 2, "restoreRate": 50.0}}}});
        assert!(is_throttled(&answer));
        assert_eq!(throttle_wait(&answer), Some(std::time::Duration::from_secs(3)));
        assert!(!is_throttled(&json!({"data": {}})));
        assert_eq!(
            user_errors(&json!({"userErrors": [{"field": ["fulfillment"], "message": "Invalid fulfillment order line item quantity requested."}]})).as_deref(),
            Some("Invalid fulfillment order line item quantity requested.")
        );
        assert_eq!(user_errors(&json!({"userErrors": []})), None);
    }
}
