//! A stand-in of CJdropshipping's API 2.0 for the supplier scenarios and the
//! simulation, written from CJ's pages:
//! - "Interface Definition" (<https://developers.cjdropshipping.cn/en/api/api2/standard/definition.html>):
//!   JSON bodies, the `CJ-Access-Token` header, answers `{code, result, message, data,
//!   requestId}`, `code` 200 on success;
//! - "Authentication" (<https://developers.cjdropshipping.cn/en/api/api2/api/auth.html>):
//!   `getAccessToken {apiKey}` (CJ allows one per 5 minutes: the stand-in counts them)
//!   and `refreshAccessToken {refreshToken}`, answering `openId`, `accessToken`,
//!   `accessTokenExpiryDate`, `refreshToken`, `refreshTokenExpiryDate`;
//! - "Shopping" (<https://developers.cjdropshipping.com/en/api/api2/api/shopping.html>):
//!   `createOrderV2` with `orderNumber` (unique, at most 50), `shippingCountryCode`,
//!   `logisticName`, `fromCountryCode` and `products[{vid, quantity}]`; page payment
//!   answers a `cjPayUrl`; `getOrderDetail?orderId=` takes CJ's id or our `orderNumber`
//!   and answers `orderStatus`, `trackNumber`, `logisticName` [field names as public
//!   clients read them];
//! - "Product" (<https://developers.cjdropshipping.com/en/api/api2/api/product.html>):
//!   `GET /product/variant/queryByVid?vid=` answers the variant's `vid`, `pid` and
//!   `variantSellPrice` (USD), `data` null for an unknown one;
//! - "Logistic" (<https://developers.cjdropshipping.cn/en/api/api2/api/logistic.html>):
//!   `POST /logistic/freightCalculate {startCountryCode, endCountryCode, products[{quantity,
//!   vid}]}` answers `[{logisticName, logisticPrice, logisticAging}]`;
//! - "Interface Call Restrictions": 1600200 "Too Many Requests";
//! - "Webhook" (<https://developers.cjdropshipping.com/en/api/api2/api/webhook.html>):
//!   a push is signed `sign` = Base64(HMAC-SHA256(openId, raw body)).
//!
//! It remembers every order by `orderNumber`, so a test can prove none was bought twice.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The vendor's API key the stand-in knows, and the account's `openId`.
pub const API_KEY: &str = "CJ5551234@api@0a1b2c3d4e5f";
pub const OPEN_ID: &str = "1234567890123456789";

/// What the stand-in does to the next call of a kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 1600200 on the next call.
    Limit,
    /// Creates the order, then answers 502.
    CreateThenFail,
    /// Creates the order, then never answers (the caller is killed while it waits).
    CreateThenHang,
    /// Refuses the next create with this message (code 1600100).
    Refuse(String),
    /// Names the next order it creates with an id no reference takes (over 200
    /// characters).
    OddId,
}

/// A variant CJ sells: its product and its price (USD, as CJ writes it).
#[derive(Debug, Clone)]
pub struct Variant {
    pub pid: String,
    pub price: String,
}

/// The shipping methods the stand-in offers from China to every country.
pub const METHODS: [&str; 3] = ["CJPacket Ordinary", "CJPacket", "YunExpress"];

/// One order the stand-in holds.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub order_number: String,
    pub body: Value,
    pub status: String,
    pub track_number: Option<String>,
}

/// The stand-in's state.
#[derive(Debug, Default)]
pub struct Api {
    /// By CJ's order id.
    pub orders: BTreeMap<String, Order>,
    pub creates: BTreeMap<String, usize>,
    pub tokens: Vec<String>,
    pub refresh_tokens: Vec<String>,
    /// Every `getAccessToken` (CJ allows one per 5 minutes).
    pub token_fetches: usize,
    pub refreshes: usize,
    pub lookups: usize,
    pub calls: usize,
    pub faults: Vec<Fault>,
    pub refused: Vec<String>,
    /// Variants by `vid`, beyond the stand-in's own rule: a `vid-{x}` it was not told
    /// of is product `p-{x}`'s, at 2.10 (what `TestApp::map_sku_on_cj` maps).
    pub variants: BTreeMap<String, Variant>,
    /// Product and freight calls (a mapping's check, an order's price check).
    pub catalog_calls: usize,
    /// Set by a create that is to hang: its answer never comes.
    hang: bool,
    next_id: u64,
}

impl Api {
    /// How many orders it made under `order_number` (never more than one).
    pub fn bought(&self, order_number: &str) -> usize {
        self.orders.values().filter(|o| o.order_number == order_number).count()
    }

    pub fn order_of(&mut self, order_number: &str) -> Option<&mut Order> {
        self.orders.values_mut().find(|o| o.order_number == order_number)
    }

    pub fn expire_tokens(&mut self) {
        self.tokens.clear();
    }

    /// The variant `vid` as the stand-in sells it (its own rule for `vid-{x}`).
    pub fn variant(&self, vid: &str) -> Option<Variant> {
        self.variants.get(vid).cloned().or_else(|| vid.strip_prefix("vid-").map(|x| Variant { pid: format!("p-{x}"), price: "2.10".into() }))
    }

    /// CJ's price of `vid` changes to `price`.
    pub fn set_price(&mut self, vid: &str, price: &str) {
        if let Some(variant) = self.variant(vid) {
            self.variants.insert(vid.into(), Variant { price: price.into(), ..variant });
        }
    }

    /// The vendor paid every order: CJ will ship them.
    pub fn pay_all(&mut self) {
        for order in self.orders.values_mut().filter(|o| o.status == "UNPAID") {
            order.status = "UNSHIPPED".into();
        }
    }

    pub fn ship(&mut self, order_number: &str, number: &str) {
        if let Some(order) = self.order_of(order_number) {
            order.status = "SHIPPED".into();
            order.track_number = Some(number.into());
        }
    }

    pub fn deliver(&mut self, order_number: &str) {
        if let Some(order) = self.order_of(order_number) {
            order.status = "DELIVERED".into();
        }
    }

    /// The body of CJ's ORDER push for `order_number`, and its `sign` header.
    pub fn push_of(&mut self, order_number: &str, message_id: &str) -> Option<(String, String)> {
        let order = self.order_of(order_number)?.clone();
        let body = json!({"messageId": message_id, "type": "ORDER", "messageType": "UPDATE", "openId": OPEN_ID,
            "params": {"orderId": order.id, "orderNumber": order.order_number, "orderStatus": order.status, "trackNumber": order.track_number}})
        .to_string();
        let sign = dropflow_shared::suppliers::cj::push_signature(OPEN_ID, body.as_bytes());
        Some((body, sign))
    }

    fn issue_tokens(&mut self) -> Value {
        self.next_id += 1;
        let (access, refresh) = (format!("cj-access-{}", self.next_id), format!("cj-refresh-{}", self.next_id));
        self.tokens.push(access.clone());
        self.refresh_tokens.push(refresh.clone());
        ok_data(json!({"openId": OPEN_ID.parse::<u64>().unwrap_or_default(), "accessToken": access, "accessTokenExpiryDate": "2099-01-01T00:00:00+08:00",
            "refreshToken": refresh, "refreshTokenExpiryDate": "2099-06-01T00:00:00+08:00", "createDate": "2026-11-25T17:00:00+08:00"}))
    }
}

/// The stand-in, shared with its server.
pub type Stand = Arc<Mutex<Api>>;

/// `answer` as the server sends it: a create that is to hang holds its answer back
/// (long past any caller's patience), the state unlocked meanwhile.
async fn unless_hanging(state: &Stand, answer: impl FnOnce(&mut Api) -> Answer) -> Answer {
    let (answered, hang) = {
        let mut api = state.lock().unwrap();
        let answered = answer(&mut api);
        (answered, std::mem::take(&mut api.hang))
    };
    if hang {
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
    answered
}

fn ok_data(data: Value) -> Value {
    json!({"code": 200, "result": true, "message": "Success", "data": data, "requestId": "r"})
}

fn error(code: u64, message: &str) -> Value {
    json!({"code": code, "result": false, "message": message, "data": null, "requestId": "r"})
}

/// Starts the stand-in; its base URL (what `CJ_API_URL` is set to, the version prefix
/// included) and state.
pub async fn start() -> (String, Stand) {
    // The product CJ's own pages show (a mug in the scenarios).
    let mug = Variant { pid: "1424608189734850560".into(), price: "2.10".into() };
    let variants = BTreeMap::from([("92511400-C758-4474-93CA-66D442F5F787".to_string(), mug)]);
    let state: Stand = Arc::new(Mutex::new(Api { variants, ..Api::default() }));
    let (post, get) = (state.clone(), state.clone());
    let app = axum::Router::new().route(
        "/api2.0/v1/{*path}",
        axum::routing::post(move |axum::extract::Path(path): axum::extract::Path<String>, headers: axum::http::HeaderMap, body: String| {
            let state = post.clone();
            async move { unless_hanging(&state, |api| posted(api, &path, &headers, &body)).await }
        })
        .get(
            move |axum::extract::Path(path): axum::extract::Path<String>,
                  headers: axum::http::HeaderMap,
                  axum::extract::Query(query): axum::extract::Query<BTreeMap<String, String>>| {
                let state = get.clone();
                async move { got(&mut state.lock().unwrap(), &path, &headers, &query) }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}/api2.0/v1", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, state)
}

type Answer = (axum::http::StatusCode, axum::Json<Value>);

fn answer(body: Value) -> Answer {
    (axum::http::StatusCode::OK, axum::Json(body))
}

fn authorised(api: &Api, headers: &axum::http::HeaderMap) -> bool {
    headers.get("CJ-Access-Token").and_then(|t| t.to_str().ok()).is_some_and(|t| api.tokens.iter().any(|known| known == t))
}

fn posted(api: &mut Api, path: &str, headers: &axum::http::HeaderMap, body: &str) -> Answer {
    api.calls += 1;
    let request: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match path {
        "authentication/getAccessToken" => {
            api.token_fetches += 1;
            if request["apiKey"].as_str() != Some(API_KEY) {
                return answer(error(1600001, "Invalid API key"));
            }
            answer(api.issue_tokens())
        }
        "authentication/refreshAccessToken" => {
            let Some(token) = request["refreshToken"].as_str().filter(|t| api.refresh_tokens.iter().any(|k| k == t)).map(str::to_string) else {
                return answer(error(1600003, "Invalid refresh token"));
            };
            api.refresh_tokens.retain(|t| *t != token);
            api.refreshes += 1;
            answer(api.issue_tokens())
        }
        "shopping/order/createOrderV2" => {
            if !authorised(api, headers) {
                return answer(error(1600001, "Invalid token"));
            }
            if api.faults.first() == Some(&Fault::Limit) {
                api.faults.remove(0);
                return answer(error(1600200, "Too Many Requests"));
            }
            create(api, request)
        }
        "logistic/freightCalculate" => {
            api.catalog_calls += 1;
            if !authorised(api, headers) {
                return answer(error(1600001, "Invalid token"));
            }
            let products = request["products"].as_array().cloned().unwrap_or_default();
            let known = !products.is_empty() && products.iter().all(|p| p["vid"].as_str().is_some_and(|v| api.variant(v).is_some()) && p["quantity"].is_u64());
            let countries = ["startCountryCode", "endCountryCode"].iter().all(|f| request[*f].as_str().is_some_and(|c| c.len() == 2));
            if !known || !countries {
                api.refused.push(format!("freightCalculate: {request}"));
                return answer(error(1600100, "Param error"));
            }
            let options: Vec<Value> =
                METHODS.iter().map(|m| json!({"logisticName": m, "logisticPrice": 4.2, "logisticAging": "7-12", "totalPostageFee": 4.2})).collect();
            answer(ok_data(Value::Array(options)))
        }
        other => answer(error(1600100, &format!("no such interface {other}"))),
    }
}

fn create(api: &mut Api, request: Value) -> Answer {
    let number = request["orderNumber"].as_str().unwrap_or_default().to_string();
    let products = request["products"].as_array().cloned().unwrap_or_default();
    let products_ok =
        !products.is_empty() && products.iter().all(|p| p["vid"].as_str().is_some_and(|v| !v.is_empty()) && p["quantity"].as_u64().is_some_and(|q| q > 0));
    let fields_ok = ["shippingCountryCode", "shippingCustomerName", "shippingAddress", "shippingCity", "logisticName", "fromCountryCode"]
        .iter()
        .all(|f| request[*f].as_str().is_some_and(|v| !v.is_empty()));
    if number.is_empty() || number.len() > 50 || !products_ok || !fields_ok {
        api.refused.push(format!("createOrderV2: {request}"));
        return answer(error(1600100, "Param error"));
    }
    *api.creates.entry(number.clone()).or_default() += 1;
    if let Some(Fault::Refuse(message)) = api.faults.first().cloned() {
        api.faults.remove(0);
        return answer(error(1600100, &message));
    }
    if api.bought(&number) > 0 {
        return answer(error(1600100, "orderNumber already exists"));
    }
    api.next_id += 1;
    let mut id = format!("CJ{:010}", api.next_id);
    if api.faults.first() == Some(&Fault::OddId) {
        api.faults.remove(0);
        id = format!("CJ{}", "9".repeat(220));
    }
    api.orders.insert(id.clone(), Order { id: id.clone(), order_number: number.clone(), body: request, status: "UNPAID".into(), track_number: None });
    if api.faults.first() == Some(&Fault::CreateThenHang) {
        api.faults.remove(0);
        api.hang = true;
    }
    if api.faults.first() == Some(&Fault::CreateThenFail) {
        api.faults.remove(0);
        return (axum::http::StatusCode::BAD_GATEWAY, axum::Json(json!({})));
    }
    answer(ok_data(json!({"orderId": id, "orderNumber": number, "cjPayUrl": format!("https://cjdropshipping.com/pay/{id}"), "orderStatus": "UNPAID"})))
}

fn got(api: &mut Api, path: &str, headers: &axum::http::HeaderMap, query: &BTreeMap<String, String>) -> Answer {
    api.calls += 1;
    if !authorised(api, headers) {
        return answer(error(1600001, "Invalid token"));
    }
    match path {
        "shopping/order/getOrderDetail" => {
            api.lookups += 1;
            let id = query.get("orderId").cloned().unwrap_or_default();
            let Some(order) = api.orders.values().find(|o| o.id == id || o.order_number == id) else {
                return answer(error(1600100, "Order does not exist"));
            };
            answer(ok_data(json!({"orderId": order.id, "orderNum": order.order_number, "orderStatus": order.status,
                "trackNumber": order.track_number, "logisticName": order.body["logisticName"]})))
        }
        "product/variant/queryByVid" => {
            api.catalog_calls += 1;
            let vid = query.get("vid").cloned().unwrap_or_default();
            match api.variant(&vid) {
                Some(v) => answer(ok_data(
                    json!({"vid": vid, "pid": v.pid, "variantSellPrice": serde_json::from_str::<Value>(&v.price).unwrap_or(Value::Null), "variantName": "Mug"}),
                )),
                None => answer(ok_data(Value::Null)),
            }
        }
        other => answer(error(1600100, &format!("no such interface {other}"))),
    }
}
