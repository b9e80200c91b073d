//! A stand-in of AliExpress's Dropshipping API for the supplier scenarios and the
//! simulation, written from the official pages (mirrored in simowment/ae_sdk
//! `aliexpress_docs/`):
//! - "Signature algorithm" (<https://open.alitrip.com/docs/doc.htm?articleId=120692&docType=1&treeId=727>):
//!   every request's `sign` is checked (HMAC-SHA256 of the sorted parameters, the API
//!   path first for `/rest` calls, uppercase hex), with `app_key`, `timestamp` and
//!   `sign_method=sha256`;
//! - `GET /oauth/authorize` ("Authorize your APP"): with `response_type=code`, the
//!   app's `client_id` and a `redirect_uri`, the merchant (who agrees at once here) is
//!   sent back to `redirect_uri` with `code` and the `state` it came with;
//! - `/auth/token/create` and `/auth/token/refresh` ("Create token", "Refresh token"):
//!   flat answers with `access_token`, `refresh_token`, `expire_time` and
//!   `refresh_token_valid_time` in epoch milliseconds;
//! - `aliexpress.ds.order.create`: the `param_place_order_request4_open_api_d_t_o` JSON
//!   with its required `logistics_address` fields (`address`, `city`, `country`,
//!   `province`) and `product_items` (`product_id` a number, `product_count`); the
//!   answer under `aliexpress_ds_order_create_response.result` with `order_list.number`;
//!   `out_order_id` is an idempotency key (a repeat answers `REPEATED_ORDER_ERROR`);
//! - `aliexpress.trade.ds.order.get` (`single_order_query`) and
//!   `aliexpress.ds.order.tracking.get` (`ae_order_id`, `language`; "TRACKING DATA NOT
//!   FOUND", code 1001, before the first scan);
//! - `aliexpress.ds.product.get` (`product_id`, `ship_to_country`, `target_currency`):
//!   `result.ae_item_base_info_dto` and `ae_item_sku_info_dtos.ae_item_sku_info_d_t_o[]`
//!   with `sku_attr`, `sku_id`, `offer_sale_price`, `sku_available_stock`; an unknown
//!   product is error 605 `ITEM_ID_NOT_FOUND`;
//! - `aliexpress.ds.freight.query` (`queryDeliveryReq` with the numeric `sku_id` as
//!   `selectedSkuId`, never the `sku_attr`): `result.delivery_options.delivery_option_d_t_o[]`
//!   with each method's `code`;
//! - `aliexpress.ds.address.get` (`countryCode`): `result.data.children`, a JSON string of
//!   the country's provinces with their cities (Germany's, in part; other countries
//!   list none);
//! - a short ban: `error_response` "this ban will last 1 seconds"; an expired token:
//!   `IllegalAccessToken`.
//!
//! It remembers every order by `out_order_id`, so a test can prove none was bought twice.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The marketplace app's key and secret the stand-in knows.
pub const APP_KEY: &str = "500123";
pub const APP_SECRET: &str = "scenario-aliexpress-app-secret";
/// The OAuth code a vendor's authorization gives (any other is `InvalidCode`).
pub const CODE: &str = "ae-oauth-code";

/// What the stand-in does to the next call of a kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The gateway's short ban on the next business call.
    Ban,
    /// Creates the order, then answers 502 (the caller cannot know it was made).
    CreateThenFail,
    /// Creates the order, then never answers (the caller is killed while it waits).
    CreateThenHang,
    /// Refuses the next create with this error code.
    Refuse(String),
}

/// One SKU of a product AliExpress sells.
#[derive(Debug, Clone)]
pub struct Sku {
    pub attr: String,
    pub id: String,
    pub price: String,
    pub stock: u64,
}

/// The product of the scenarios (a lamp), its SKUs and the methods it ships by.
pub const PRODUCT: &str = "1005001234567890";
pub const METHODS: [&str; 2] = ["CAINIAO_STANDARD", "AE_STANDARD"];

/// One order the stand-in holds.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub out_order_id: String,
    pub request: Value,
    /// `order_status` as order.get answers it.
    pub status: String,
    pub logistics_status: String,
    /// Its parcels (mail number, carrier name).
    pub parcels: Vec<(String, String)>,
}

/// The stand-in's state.
#[derive(Debug, Default)]
pub struct Api {
    /// By AliExpress's order id.
    pub orders: BTreeMap<String, Order>,
    /// Every create that reached it under each `out_order_id` (a repeat included).
    pub creates: BTreeMap<String, usize>,
    /// Access tokens it takes, and refresh tokens.
    pub tokens: Vec<String>,
    pub refresh_tokens: Vec<String>,
    pub refreshes: usize,
    /// When the authorization's refresh tokens stop working (epoch ms): fixed at the
    /// first authorization, never reset by a refresh (the "Refresh token" page).
    refresh_valid_until: Option<i64>,
    pub calls: usize,
    pub faults: Vec<Fault>,
    /// What it refused as malformed or unsigned (a test expects none).
    pub refused: Vec<String>,
    /// Products it sells (priced in USD), by product id.
    pub products: BTreeMap<String, Vec<Sku>>,
    /// Product and freight calls.
    pub catalog_calls: usize,
    /// Reads of a country's address list.
    pub address_reads: usize,
    /// Set by a create that is to hang: its answer never comes.
    hang: bool,
    next_id: u64,
}

impl Api {
    /// How many orders it made under `out_order_id` (never more than one).
    pub fn bought(&self, out_order_id: &str) -> usize {
        self.orders.values().filter(|o| o.out_order_id == out_order_id).count()
    }

    /// The order made under `out_order_id`.
    pub fn order_of(&mut self, out_order_id: &str) -> Option<&mut Order> {
        self.orders.values_mut().find(|o| o.out_order_id == out_order_id)
    }

    /// AliExpress's price of `attr` on `product` changes to `price`, its stock to `stock`.
    pub fn set_offer(&mut self, product: &str, attr: &str, price: &str, stock: u64) {
        for sku in self.products.entry(product.into()).or_default().iter_mut().filter(|s| s.attr == attr) {
            (sku.price, sku.stock) = (price.into(), stock);
        }
    }

    /// Every access token given so far stops working (a refresh gives a new one).
    pub fn expire_tokens(&mut self) {
        self.tokens.clear();
    }

    /// The vendor paid: AliExpress waits for the seller to ship.
    pub fn pay_all(&mut self) {
        for order in self.orders.values_mut().filter(|o| o.status == "PLACE_ORDER_SUCCESS") {
            order.status = "WAIT_SELLER_SEND_GOODS".into();
        }
    }

    /// The seller shipped every paid order, each under `number`.
    pub fn ship(&mut self, out_order_id: &str, number: &str) {
        if let Some(order) = self.order_of(out_order_id) {
            order.status = "WAIT_BUYER_ACCEPT_GOODS".into();
            order.logistics_status = "SELLER_SEND_GOODS".into();
            order.parcels = vec![(number.into(), "AliExpress standard shipping".into())];
        }
    }

    /// The buyer's parcel arrived.
    pub fn deliver(&mut self, out_order_id: &str) {
        if let Some(order) = self.order_of(out_order_id) {
            order.status = "FINISH".into();
            order.logistics_status = "BUYER_ACCEPT_GOODS".into();
        }
    }

    /// New tokens at `now_ms` (the request's own `timestamp`: the stand-in has no
    /// clock). Test-status lifetimes: a day's access token; the refresh token's two days
    /// count from the first authorization.
    fn issue_tokens(&mut self, now_ms: i64) -> Value {
        self.next_id += 1;
        let (access, refresh) = (format!("ae-access-{}", self.next_id), format!("ae-refresh-{}", self.next_id));
        self.tokens.push(access.clone());
        self.refresh_tokens.push(refresh.clone());
        let refresh_until = *self.refresh_valid_until.get_or_insert(now_ms + 172_800_000);
        json!({"code": "0", "access_token": access, "refresh_token": refresh, "expire_time": now_ms + 86_400_000, "expires_in": 86_400,
            "refresh_token_valid_time": refresh_until, "refresh_expires_in": (refresh_until - now_ms) / 1000,
            "account": "vendor@aliexpress.example", "account_platform": "buyerApp", "sp": "ae", "request_id": "r1"})
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

/// Starts the stand-in; its base URL (what `ALIEXPRESS_API_URL` is set to) and state.
pub async fn start() -> (String, Stand) {
    let sku = |attr: &str, id: &str| Sku { attr: attr.into(), id: id.into(), price: "9.00".into(), stock: 100 };
    let lamp = vec![sku("14:175#Black", "12000027158136202"), sku("14:173#White", "12000027158136203")];
    let state: Stand = Arc::new(Mutex::new(Api { products: BTreeMap::from([(PRODUCT.to_string(), lamp)]), ..Api::default() }));
    let (sync, rest) = (state.clone(), state.clone());
    let app = axum::Router::new()
        .route("/oauth/authorize", axum::routing::get(authorize_page))
        .route(
            "/sync",
            axum::routing::post(move |axum::extract::Form(params): axum::extract::Form<BTreeMap<String, String>>| {
                let state = sync.clone();
                async move { unless_hanging(&state, |api| business(api, &params)).await }
            }),
        )
        .route(
            "/rest/auth/token/{action}",
            axum::routing::post(
                move |axum::extract::Path(action): axum::extract::Path<String>, axum::extract::Form(params): axum::extract::Form<BTreeMap<String, String>>| {
                    let state = rest.clone();
                    async move { system(&mut state.lock().unwrap(), &format!("/auth/token/{action}"), &params) }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, state)
}

type Answer = (axum::http::StatusCode, axum::Json<Value>);

/// The merchant agrees on AliExpress's page: back to `redirect_uri` with the code.
async fn authorize_page(axum::extract::Query(query): axum::extract::Query<BTreeMap<String, String>>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let asked = |key: &str| query.get(key).map(String::as_str).unwrap_or_default();
    if asked("response_type") != "code" || asked("client_id") != APP_KEY || !asked("redirect_uri").starts_with("http") {
        return (axum::http::StatusCode::BAD_REQUEST, "invalid authorize request").into_response();
    }
    let mut back = url::Url::parse(asked("redirect_uri")).expect("a URL");
    back.query_pairs_mut().append_pair("code", CODE).append_pair("state", asked("state"));
    axum::response::Redirect::to(back.as_str()).into_response()
}

fn ok(body: Value) -> Answer {
    (axum::http::StatusCode::OK, axum::Json(body))
}

fn gateway_error(code: &str, msg: &str) -> Answer {
    ok(json!({"error_response": {"code": code, "type": "ISV", "msg": msg, "request_id": "r0"}}))
}

/// Whether `params` are signed as the page says (with `path` first for `/rest`).
fn signed(params: &BTreeMap<String, String>, path: Option<&str>) -> Result<(), String> {
    use hmac::{Hmac, Mac};
    for required in ["app_key", "timestamp", "sign_method", "sign"] {
        if !params.contains_key(required) {
            return Err(format!("no {required}"));
        }
    }
    if params["app_key"] != APP_KEY || params["sign_method"] != "sha256" || !params["timestamp"].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("app_key, sign_method or timestamp wrong: {params:?}"));
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(APP_SECRET.as_bytes()).unwrap();
    mac.update(path.unwrap_or_default().as_bytes());
    for (key, value) in params.iter().filter(|(k, _)| k.as_str() != "sign") {
        mac.update(key.as_bytes());
        mac.update(value.as_bytes());
    }
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02X}")).collect();
    if expected != params["sign"] { Err("IncompleteSignature".into()) } else { Ok(()) }
}

fn system(api: &mut Api, path: &str, params: &BTreeMap<String, String>) -> Answer {
    api.calls += 1;
    if let Err(reason) = signed(params, Some(path)) {
        api.refused.push(format!("{path}: {reason}"));
        return ok(json!({"code": "IncompleteSignature", "message": reason}));
    }
    let now_ms: i64 = params["timestamp"].parse().unwrap_or_default();
    match path {
        "/auth/token/create" if params.get("code").map(String::as_str) == Some(CODE) => ok(api.issue_tokens(now_ms)),
        "/auth/token/create" => ok(json!({"code": "InvalidCode", "message": "Invalid Code"})),
        "/auth/token/refresh" => {
            let Some(token) = params.get("refresh_token").filter(|t| api.refresh_tokens.contains(t)) else {
                return ok(json!({"code": "IllegalRefreshToken", "message": "The specified refresh token is invalid or expired"}));
            };
            let used = token.clone();
            api.refresh_tokens.retain(|t| *t != used);
            api.refreshes += 1;
            ok(api.issue_tokens(now_ms))
        }
        _ => ok(json!({"code": "InvalidApi", "message": "no such API"})),
    }
}

fn business(api: &mut Api, params: &BTreeMap<String, String>) -> Answer {
    api.calls += 1;
    if let Err(reason) = signed(params, None) {
        api.refused.push(format!("/sync: {reason}"));
        return gateway_error("IncompleteSignature", "The request signature does not conform to platform standards");
    }
    if !params.get("session").is_some_and(|t| api.tokens.contains(t)) {
        return gateway_error("IllegalAccessToken", "The specified access token is invalid or expired");
    }
    if api.faults.first() == Some(&Fault::Ban) {
        api.faults.remove(0);
        return gateway_error("ApiCallLimit", "Api access frequency exceeds the limit. this ban will last 1 seconds");
    }
    let method = params.get("method").cloned().unwrap_or_default();
    match method.as_str() {
        "aliexpress.ds.order.create" => create(api, params),
        "aliexpress.trade.ds.order.get" => {
            let query: Value = params.get("single_order_query").and_then(|q| serde_json::from_str(q).ok()).unwrap_or(Value::Null);
            let id = query["order_id"].as_str().unwrap_or_default();
            let Some(order) = api.orders.get(id) else { return gateway_error("15", "Remote service error: order not found") };
            ok(json!({"aliexpress_trade_ds_order_get_response": {"result": {"order_status": order.status, "logistics_status": order.logistics_status,
                "child_order_list": {"aeop_child_order_info": [{"product_id": 1}]}}, "request_id": "r2"}}))
        }
        "aliexpress.ds.order.tracking.get" => {
            let id = params.get("ae_order_id").cloned().unwrap_or_default();
            if params.get("language").is_none() {
                api.refused.push("tracking.get without language".into());
            }
            let parcels = api.orders.get(&id).map(|o| o.parcels.clone()).unwrap_or_default();
            if parcels.is_empty() {
                return ok(json!({"aliexpress_ds_order_tracking_get_response": {"result": {"ret": false, "msg": "TRACKING DATA NOT FOUND", "code": "1001"}}}));
            }
            let lines: Vec<Value> = parcels.iter().map(|(n, c)| json!({"mail_no": n, "carrier_name": c, "detail_node_list": {"detail_node": []}})).collect();
            ok(
                json!({"aliexpress_ds_order_tracking_get_response": {"result": {"ret": true, "data": {"tracking_detail_line_list": {"tracking_detail": lines}}}}}),
            )
        }
        "aliexpress.ds.product.get" => product(api, params),
        "aliexpress.ds.address.get" => {
            api.address_reads += 1;
            let provinces = match params.get("countryCode").map(String::as_str) {
                Some("DE") => json!([{"name": "Berlin", "children": [{"name": "Berlin"}]},
                    {"name": "Bayern", "children": [{"name": "Munich"}, {"name": "Nuremberg"}]},
                    {"name": "Baden-Wurttemberg", "children": [{"name": "Stuttgart"}]}]),
                Some(_) => json!([]),
                None => return gateway_error("MissingParameter", "countryCode is required"),
            };
            ok(json!({"aliexpress_ds_address_get_response": {"result": {"success": true, "data": {"country": params["countryCode"], "type": "PROVINCE",
                "children": provinces.to_string()}}, "request_id": "r5"}}))
        }
        "aliexpress.ds.freight.query" => freight(api, params),
        other => gateway_error("InvalidApi", &format!("no method {other}")),
    }
}

fn product(api: &mut Api, params: &BTreeMap<String, String>) -> Answer {
    api.catalog_calls += 1;
    if ["product_id", "ship_to_country", "target_currency"].iter().any(|p| params.get(*p).is_none_or(String::is_empty)) {
        api.refused.push(format!("product.get without its parameters: {params:?}"));
        return gateway_error("MissingParameter", "product_id, ship_to_country and target_currency are required");
    }
    let Some(skus) = api.products.get(&params["product_id"]) else { return gateway_error("605", "ITEM_ID_NOT_FOUND") };
    let skus: Vec<Value> = skus
        .iter()
        .map(|s| json!({"sku_attr": s.attr, "sku_id": s.id, "offer_sale_price": s.price, "sku_price": s.price, "sku_available_stock": s.stock, "currency_code": "USD"}))
        .collect();
    let base = json!({"product_id": params["product_id"].parse::<u64>().unwrap_or_default(), "subject": "Desk lamp", "product_status_type": "onSelling", "currency_code": "USD"});
    ok(json!({"aliexpress_ds_product_get_response": {"result": {"ae_item_base_info_dto": base, "ae_item_sku_info_dtos": {"ae_item_sku_info_d_t_o": skus}},
        "rsp_code": 200, "rsp_msg": "Call succeeds", "request_id": "r4"}}))
}

fn freight(api: &mut Api, params: &BTreeMap<String, String>) -> Answer {
    api.catalog_calls += 1;
    let request: Value = params.get("queryDeliveryReq").and_then(|q| serde_json::from_str(q).ok()).unwrap_or(Value::Null);
    let product = request["productId"].as_str().map_or_else(|| request["productId"].to_string(), str::to_string);
    let sku = request["selectedSkuId"].as_str().unwrap_or_default();
    let known = api.products.get(&product).is_some_and(|skus| skus.iter().any(|s| s.id == sku));
    if !known || request["shipToCountry"].as_str().is_none_or(|c| c.len() != 2) || !request["quantity"].is_u64() {
        api.refused.push(format!("freight.query of an unknown product or sku_id (an sku_attr?): {request}"));
        return ok(json!({"aliexpress_ds_freight_query_response": {"result": {"success": false, "code": 501, "msg": "PARAM_ERROR"}}}));
    }
    let options: Vec<Value> = METHODS
        .iter()
        .map(|code| json!({"code": code, "company": code, "shipping_fee_cent": "0", "free_shipping": true, "min_delivery_days": 7, "max_delivery_days": 15}))
        .collect();
    ok(json!({"aliexpress_ds_freight_query_response": {"result": {"success": true, "code": 200, "delivery_options": {"delivery_option_d_t_o": options}}}}))
}

fn create(api: &mut Api, params: &BTreeMap<String, String>) -> Answer {
    let request: Value = params.get("param_place_order_request4_open_api_d_t_o").and_then(|r| serde_json::from_str(r).ok()).unwrap_or(Value::Null);
    let address = &request["logistics_address"];
    let missing: Vec<&str> = ["address", "city", "country", "province"].into_iter().filter(|f| address[*f].as_str().is_none_or(str::is_empty)).collect();
    let items = request["product_items"].as_array().cloned().unwrap_or_default();
    let items_ok = !items.is_empty() && items.iter().all(|i| i["product_id"].is_u64() && i["product_count"].as_u64().is_some_and(|c| c > 0));
    if !missing.is_empty() || !items_ok {
        api.refused.push(format!("create: missing {missing:?} or bad items {items:?}"));
        let result =
            json!({"is_success": false, "error_code": "B_DROPSHIPPER_DELIVERY_ADDRESS_VALIDATE_FAIL", "error_msg": format!("Please enter {missing:?}")});
        return ok(json!({"aliexpress_ds_order_create_response": {"result": result}}));
    }
    let out = request["out_order_id"].as_str().unwrap_or_default().to_string();
    *api.creates.entry(out.clone()).or_default() += 1;
    if let Some(Fault::Refuse(code)) = api.faults.first().cloned() {
        api.faults.remove(0);
        return ok(json!({"aliexpress_ds_order_create_response": {"result": {"is_success": false, "error_code": code, "error_msg": ""}}}));
    }
    if !out.is_empty() && api.bought(&out) > 0 {
        let result = json!({"is_success": false, "error_code": "REPEATED_ORDER_ERROR", "error_msg": "Repeated placed order"});
        return ok(json!({"aliexpress_ds_order_create_response": {"result": result}}));
    }
    api.next_id += 1;
    let id = format!("81983520{:08}", api.next_id);
    api.orders.insert(
        id.clone(),
        Order { id: id.clone(), out_order_id: out, request, status: "PLACE_ORDER_SUCCESS".into(), logistics_status: "DEFAULT".into(), parcels: Vec::new() },
    );
    if api.faults.first() == Some(&Fault::CreateThenHang) {
        api.faults.remove(0);
        api.hang = true;
    }
    if api.faults.first() == Some(&Fault::CreateThenFail) {
        api.faults.remove(0);
        return (axum::http::StatusCode::BAD_GATEWAY, axum::Json(json!({})));
    }
    let number: u64 = id.parse().unwrap_or_default();
    ok(json!({"aliexpress_ds_order_create_response": {"result": {"is_success": true, "order_list": {"number": [number]}}, "request_id": "r3"}}))
}
