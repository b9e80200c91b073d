//! A stand-in of a WooCommerce site's REST API, written from WooCommerce's
//! documentation, for the write-back tests:
//! - <https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order> and
//!   `#update-an-order` (`GET`/`PUT /wp-json/wc/v3/orders/{id}`, `status`);
//! - <https://github.com/woocommerce/woocommerce-rest-api-docs/blob/trunk/source/includes/wp-api-v3/_order-notes.md>
//!   (`GET`/`POST /wp-json/wc/v3/orders/{id}/notes`, `note`, `customer_note`; every
//!   POST makes a note);
//! - <https://woocommerce.com/document/shipment-tracking/shipment-tracking-rest-api-create-tracking-item/>
//!   and `…-list-providers/` (the Shipment Tracking extension's items and providers;
//!   a site without the extension answers 404 `rest_no_route`);
//! - <https://github.com/woocommerce/woocommerce-rest-api-docs/blob/trunk/source/includes/wp-api-v3/_authentication.md>
//!   (over plain http, a one-legged OAuth 1.0a signature: the stand-in checks it with
//!   its own HMAC-SHA1 of RFC 5849's base string).
//!
//! It refuses a wrong key or signature with 401, counts every write, and applies the
//! faults a test sets.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The site's consumer key and secret the stand-in takes.
pub const CONSUMER_KEY: &str = "ck_scenario";
pub const CONSUMER_SECRET: &str = "cs_scenario";

/// What the stand-in does to the next write, before answering as WooCommerce does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 503, nothing applied.
    Unavailable,
    /// Applies the write, then answers 502 (the caller cannot know it was applied).
    ApplyThenFail,
}

/// One order as the stand-in holds it.
#[derive(Debug, Clone)]
pub struct Order {
    pub status: String,
    pub notes: Vec<Value>,
    pub trackings: Vec<Value>,
    /// Every change of its status, in order.
    pub status_changes: Vec<String>,
    /// Its meta data by key, and every write of it.
    pub meta: BTreeMap<String, Value>,
    pub meta_writes: usize,
}

impl Order {
    fn new() -> Order {
        Order { status: "processing".into(), notes: vec![], trackings: vec![], status_changes: vec![], meta: BTreeMap::new(), meta_writes: 0 }
    }
}

/// The stand-in's site.
#[derive(Debug, Default)]
pub struct Site {
    pub orders: BTreeMap<String, Order>,
    /// Whether the Shipment Tracking extension is installed.
    pub tracking_extension: bool,
    pub faults: Vec<Fault>,
    /// Every POST and PUT that reached an order.
    pub writes: usize,
    /// What the stand-in refused as malformed or unauthorised (a test expects none).
    pub refused: Vec<String>,
    /// The orders `GET /wp-json/wc/v3/orders` lists, as their REST bodies (each with
    /// `id` and `date_modified_gmt`).
    pub listed: Vec<Value>,
    /// Every listing request's query.
    pub listings: Vec<BTreeMap<String, String>>,
    /// Every request, of any kind.
    pub requests: usize,
}

impl Site {
    /// Adds the order `id` in `processing`.
    pub fn add_order(&mut self, id: &str) {
        self.orders.insert(id.to_string(), Order::new());
    }

    /// Lists `body` (a REST order) among the site's orders, replacing the one of its id.
    pub fn list(&mut self, body: Value) {
        self.orders.entry(body["id"].to_string()).or_insert_with(Order::new);
        self.listed.retain(|o| o["id"] != body["id"]);
        self.listed.push(body);
    }
}

/// The stand-in, shared with its server.
pub type Stand = Arc<Mutex<Site>>;

/// Starts the stand-in on plain http; its base URL (`http://127.0.0.1:PORT`) and state.
pub async fn start() -> (String, Stand) {
    let state: Stand = Arc::new(Mutex::new(Site::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (shared, signed_base) = (state.clone(), base.clone());
    let app = axum::Router::new().fallback(move |method: axum::http::Method, uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
        let (state, base) = (shared.clone(), signed_base.clone());
        async move {
            let authorization = headers.get("authorization").and_then(|h| h.to_str().ok()).unwrap_or_default();
            let mut site = state.lock().unwrap();
            site.requests += 1;
            let query = query_of(uri.query().unwrap_or_default());
            if let Err(why) = check_signature(authorization, method.as_str(), &format!("{base}{}", uri.path()), &query) {
                site.refused.push(why);
                let error = json!({"code": "woocommerce_rest_authentication_error", "message": "Invalid signature - provided signature does not match.", "data": {"status": 401}});
                return (axum::http::StatusCode::UNAUTHORIZED, axum::Json(error));
            }
            if method == axum::http::Method::GET && uri.path() == "/wp-json/wc/v3/orders" {
                return list(&mut site, query);
            }
            answer(&mut site, method.as_str(), uri.path(), &body)
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, state)
}

type Answer = (axum::http::StatusCode, axum::Json<Value>);

fn status(code: u16, body: Value) -> Answer {
    (axum::http::StatusCode::from_u16(code).expect("a status"), axum::Json(body))
}

fn no_route() -> Answer {
    status(404, json!({"code": "rest_no_route", "message": "No route was found matching the URL and request method.", "data": {"status": 404}}))
}

fn answer(site: &mut Site, method: &str, path: &str, body: &str) -> Answer {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let extension = site.tracking_extension;
    match (method, parts.as_slice()) {
        ("GET", ["wp-json", "wc-shipment-tracking", "v3", "shipment-trackings", "providers"]) if extension => status(
            200,
            json!({"United Kingdom": {"Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/%1$s"},
                "United States": {"UPS": "https://www.ups.com/track?tracknum=%1$s", "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels=%1$s"}}),
        ),
        (_, ["wp-json", "wc-shipment-tracking", "v3", "orders", id, "shipment-trackings"]) if extension => write(site, method, id, body, "tracking"),
        ("DELETE", ["wp-json", "wc-shipment-tracking", "v3", "orders", id, "shipment-trackings", tracking_id]) if extension => {
            let Some(order) = site.orders.get_mut(*id) else { return no_route() };
            let Some(at) = order.trackings.iter().position(|t| t["tracking_id"] == *tracking_id) else { return no_route() };
            site.writes += 1;
            status(200, order.trackings.remove(at))
        }
        (_, ["wp-json", "wc", "v3", "orders", id, "notes"]) => write(site, method, id, body, "note"),
        (_, ["wp-json", "wc", "v3", "orders", id]) => write(site, method, id, body, "order"),
        _ => no_route(),
    }
}

/// A read or a write of order `id`'s notes, tracking items or status.
fn write(site: &mut Site, method: &str, id: &str, body: &str, what: &str) -> Answer {
    if !site.orders.contains_key(id) {
        return status(404, json!({"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {"status": 404}}));
    }
    let input: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let fault = if method == "GET" || site.faults.is_empty() { None } else { Some(site.faults.remove(0)) };
    if fault == Some(Fault::Unavailable) {
        return status(503, json!({"message": "Service Unavailable"}));
    }
    let order = site.orders.get_mut(id).expect("checked");
    let made = match (method, what) {
        ("GET", "note") => return status(200, Value::Array(order.notes.clone())),
        ("GET", "tracking") => return status(200, Value::Array(order.trackings.clone())),
        ("GET", "order") => return status(200, json!({"id": id.parse::<u64>().unwrap_or(0), "status": order.status})),
        ("POST", "note") if input["note"].as_str().is_some_and(|n| !n.trim().is_empty()) && input["customer_note"].is_boolean() => {
            let note = json!({"id": 100 + order.notes.len(), "note": input["note"], "customer_note": input["customer_note"]});
            order.notes.push(note.clone());
            note
        }
        ("POST", "tracking") if well_formed_tracking(&input) => {
            let mut item = input.clone();
            item["tracking_id"] = format!("{:x}", 0xa0 + order.trackings.len()).into();
            order.trackings.push(item.clone());
            item
        }
        ("PUT", "order") if input.as_object().is_some_and(|o| o.len() == 1) && input["status"] == "completed" => {
            order.status = "completed".into();
            order.status_changes.push("completed".into());
            json!({"id": id.parse::<u64>().unwrap_or(0), "status": "completed"})
        }
        // Meta updated by key, as `WC_Data::update_meta_data` does.
        ("PUT", "order")
            if input.as_object().is_some_and(|o| o.len() == 1) && input["meta_data"].as_array().is_some_and(|m| m.iter().all(|e| e["key"].is_string())) =>
        {
            for entry in input["meta_data"].as_array().into_iter().flatten() {
                order.meta.insert(entry["key"].as_str().unwrap_or_default().to_string(), entry["value"].clone());
            }
            order.meta_writes += 1;
            json!({"id": id.parse::<u64>().unwrap_or(0), "status": order.status, "meta_data": input["meta_data"]})
        }
        _ => {
            site.refused.push(format!("malformed {method} of {what}: {body}"));
            return status(400, json!({"code": "rest_invalid_param", "message": "Invalid parameter(s).", "data": {"status": 400}}));
        }
    };
    site.writes += 1;
    if fault == Some(Fault::ApplyThenFail) {
        return status(502, json!({"message": "Bad Gateway"}));
    }
    status(201, made)
}

/// A tracking item names its number and either a listed provider or a custom one with
/// a link that has `%1$s` where the number goes.
fn well_formed_tracking(input: &Value) -> bool {
    let number = input["tracking_number"].as_str().is_some_and(|n| !n.is_empty());
    let listed = input["tracking_provider"].is_string() && input.get("custom_tracking_provider").is_none();
    let custom = input["custom_tracking_provider"].is_string() && input["custom_tracking_link"].as_str().is_some_and(|l| l.contains("%1$s"));
    number && (listed || custom)
}

/// A query's parameters, decoded (`+` is a space, as in a form).
fn query_of(query: &str) -> BTreeMap<String, String> {
    let pairs = query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, "")));
    pairs.map(|(k, v)| (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))).collect()
}

/// `GET /wp-json/wc/v3/orders` as WooCommerce documents it for this query: orders
/// changed after `modified_after` (GMT with `dates_are_gmt=true`), by change time
/// ascending, `per_page` of them on page `page`.
fn list(site: &mut Site, query: BTreeMap<String, String>) -> Answer {
    site.listings.push(query.clone());
    let expected = query.get("dates_are_gmt").map(String::as_str) == Some("true")
        && query.get("orderby").map(String::as_str) == Some("modified")
        && query.get("order").map(String::as_str) == Some("asc");
    let after = query.get("modified_after").and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok());
    let per_page = query.get("per_page").and_then(|n| n.parse::<usize>().ok()).filter(|n| (1..=100).contains(n));
    let page = query.get("page").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 1);
    let (Some(after), Some(per_page), Some(page), true) = (after, per_page, page, expected) else {
        site.refused.push(format!("a listing WooCommerce would not answer as asked: {query:?}"));
        return status(400, json!({"code": "rest_invalid_param", "message": "Invalid parameter(s).", "data": {"status": 400}}));
    };
    let modified = |o: &Value| o["date_modified_gmt"].as_str().and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok());
    let mut changed: Vec<&Value> = site.listed.iter().filter(|o| modified(o).is_some_and(|m| m > after)).collect();
    changed.sort_by_key(|o| modified(o));
    let on_page: Vec<Value> = changed.into_iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    status(200, Value::Array(on_page))
}

/// Checks a one-legged OAuth 1.0a `Authorization` header of a request to `url` with
/// `query` as RFC 5849 section 3.4 defines the signature, with the stand-in's key.
fn check_signature(header: &str, method: &str, url: &str, query: &BTreeMap<String, String>) -> Result<(), String> {
    let params = header.strip_prefix("OAuth ").ok_or_else(|| format!("no OAuth signature: {header:?}"))?;
    let mut oauth = BTreeMap::new();
    for pair in params.split(',') {
        let (key, value) = pair.trim().split_once('=').ok_or("a malformed OAuth parameter")?;
        oauth.insert(key.to_string(), decode(value.trim_matches('"')));
    }
    let signature = oauth.remove("oauth_signature").ok_or("no oauth_signature")?;
    if oauth.get("oauth_consumer_key").map(String::as_str) != Some(CONSUMER_KEY) || oauth.get("oauth_signature_method").map(String::as_str) != Some("HMAC-SHA1")
    {
        return Err(format!("wrong key or method: {oauth:?}"));
    }
    let mut normalized: Vec<String> = oauth.iter().chain(query).map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    normalized.sort();
    let base = format!("{method}&{}&{}", encode(url), encode(&normalized.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{}&", encode(CONSUMER_SECRET)).as_bytes()).expect("any key");
    mac.update(base.as_bytes());
    let expected = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, mac.finalize().into_bytes());
    if expected == signature { Ok(()) } else { Err(format!("the signature of {method} {url} does not match")) }
}

/// RFC 3986 percent-encoding of all but the unreserved characters.
fn encode(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())).flatten();
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
