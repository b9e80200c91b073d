//! Writing a vendor's parcel back to a WooCommerce site through its REST API (v3): one
//! tracking item per parcel when the site runs the Shipment Tracking extension, else
//! one order note; the order `completed` when its last line has shipped.
//!
//! How, as WooCommerce documents it:
//! - the extension's providers are listed at
//!   `GET /wp-json/wc-shipment-tracking/v3/shipment-trackings/providers` (a site
//!   without the extension answers 404); a tracking item is
//!   `POST /wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings` with
//!   `tracking_number` and either `tracking_provider` (a listed name) or
//!   `custom_tracking_provider` and `custom_tracking_link` (`%1$s` where the number
//!   goes)
//!   (<https://woocommerce.com/document/shipment-tracking/shipment-tracking-rest-api-create-tracking-item/>);
//! - a note is `POST /wp-json/wc/v3/orders/{id}/notes` with `note` and `customer_note`
//!   (a customer note is shown and mailed to the customer); a second POST makes a
//!   second note, so what the order holds is listed first
//!   (<https://github.com/woocommerce/woocommerce-rest-api-docs/blob/trunk/source/includes/wp-api-v3/_order-notes.md>);
//! - completing is `PUT /wp-json/wc/v3/orders/{id}` with `{"status": "completed"}`
//!   (<https://woocommerce.github.io/woocommerce-rest-api-docs/#update-an-order>);
//! - over https the consumer key and secret go as HTTP Basic; over plain http as a
//!   one-legged OAuth 1.0a signature (HMAC-SHA1), which WooCommerce reads from the
//!   `Authorization` header as well as the query
//!   (<https://github.com/woocommerce/woocommerce-rest-api-docs/blob/trunk/source/includes/wp-api-v3/_authentication.md>).
//!
//! WooCommerce keeps no per-line fulfillment: a parcel is one tracking item or note, and
//! the order's status says the rest. Carrier news is nothing WooCommerce has a word for.

use crate::config::WooSite;
use crate::domain::tracking::TrackingNumber;
use crate::ports::{CancelNote, ChangedOrder, POLL_PAGE, ParcelNews, ParcelWrite, WriteBackError};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// The extension's providers: the names a site lists (they differ per site).
const PROVIDERS: &str = "/wp-json/wc-shipment-tracking/v3/shipment-trackings/providers";

/// The order meta that holds the customer's status page (no leading underscore: the
/// merchant sees it among the order's custom fields, and a theme can show it).
pub const STATUS_META: &str = "dropflow_status_url";

/// The statuses an order is completed from; one completed, cancelled, refunded or
/// failed is left as it is.
const OPEN_STATUSES: [&str; 3] = ["pending", "processing", "on-hold"];

/// The text of the note that records a parcel (when the site has no tracking items).
pub fn parcel_note(tracking: &TrackingNumber) -> String {
    format!("Shipped with {}, tracking number {}: {}", tracking.company_name(), tracking.number, tracking.tracking_url())
}

/// The body of the tracking item of `tracking`: the site's own provider name when it
/// lists the carrier (compared without case), else a custom provider with dropflow's
/// link, `%1$s` standing for the number and any other `%` doubled (the extension fills
/// the link in with `sprintf`).
pub fn tracking_item(tracking: &TrackingNumber, providers: &BTreeSet<String>) -> Value {
    let company = tracking.company_name();
    match providers.iter().find(|p| p.eq_ignore_ascii_case(&company)) {
        Some(listed) => json!({"tracking_number": tracking.number, "tracking_provider": listed}),
        None => {
            let link = tracking.tracking_url().replace('%', "%%").replace(&tracking.number, "%1$s");
            json!({"tracking_number": tracking.number, "custom_tracking_provider": company, "custom_tracking_link": link})
        }
    }
}

/// The provider names of the extension's list (`{country: {name: link}}`).
pub fn provider_names(list: &Value) -> BTreeSet<String> {
    let countries = list.as_object().into_iter().flat_map(|c| c.values());
    countries.filter_map(Value::as_object).flat_map(|p| p.keys().cloned()).collect()
}

/// Where the Shipment Tracking extension keeps an order's tracking items.
fn tracking_path(order: &str) -> String {
    format!("/wp-json/wc-shipment-tracking/v3/orders/{order}/shipment-trackings")
}

/// A listed order as its webhook would carry it; one without an id or a readable
/// `date_modified_gmt` is left out (the intake could not file it either).
pub fn changed_order(order: &Value) -> Option<ChangedOrder> {
    let id = order["id"].as_u64()?.to_string();
    let modified = chrono::NaiveDateTime::parse_from_str(order["date_modified_gmt"].as_str()?, "%Y-%m-%dT%H:%M:%S").ok()?;
    Some(ChangedOrder { id, modified_at: modified.and_utc(), topic: "order.updated".into(), body: order.to_string() })
}

/// The REST client of the configured sites, by host.
pub struct WooCommerceRest {
    client: crate::adapters::https::Lazy,
    sites: BTreeMap<String, WooSite>,
    /// Per site, its extension's providers, or `None` when it has no extension: asked
    /// once per process.
    providers: Mutex<BTreeMap<String, Option<BTreeSet<String>>>>,
}

/// One answer: its body, or `None` when the resource is not there (404).
type Answer = Result<Option<Value>, WriteBackError>;

impl WooCommerceRest {
    /// How long one request may take.
    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);

    /// The client of `sites` (host → base URL and keys).
    pub fn new(sites: BTreeMap<String, WooSite>) -> WooCommerceRest {
        let client = crate::adapters::https::Lazy::new(Self::TIMEOUT);
        WooCommerceRest { client, sites, providers: Mutex::new(BTreeMap::new()) }
    }

    fn site(&self, shop: &str) -> Result<&WooSite, WriteBackError> {
        self.sites.get(&shop.to_ascii_lowercase()).ok_or_else(|| WriteBackError::Refused(format!("no REST API key for {shop}")))
    }

    /// The request `method` `path` (with `query`) on `site`, with its keys: HTTP Basic
    /// over https, a one-legged OAuth 1.0a signature over plain http (where Basic would
    /// show them), which signs the query too.
    pub fn request(&self, site: &WooSite, method: reqwest::Method, path: &str, query: &[(&str, String)]) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", site.base);
        let request = self.client.get().request(method.clone(), &url).query(query);
        if site.base.starts_with("https://") {
            return request.basic_auth(&site.consumer_key, Some(&site.consumer_secret));
        }
        let credentials = oauth1_request::Credentials::new(site.consumer_key.as_str(), site.consumer_secret.as_str());
        let signed_query = oauth1_request::ParameterList::new(query.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>());
        let signed = oauth1_request::Builder::<_, _>::new(credentials, oauth1_request::HMAC_SHA1).authorize(method.as_str(), &url, &signed_query);
        request.header(reqwest::header::AUTHORIZATION, signed)
    }

    /// Sends `request`: its JSON body; an outage, a throttle or a timeout is
    /// `Unavailable` (after the site's `Retry-After`), a refused key or request is
    /// `Refused` with WooCommerce's message.
    async fn send(&self, shop: &str, request: reqwest::RequestBuilder) -> Answer {
        let unavailable = |reason: String, after| WriteBackError::Unavailable { reason, after };
        let response = request.send().await.map_err(|e| unavailable(format!("WooCommerce unreachable: {e}"), None))?;
        let status = response.status();
        let after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
            .map(|s| std::time::Duration::from_secs(s.min(900)));
        let answer: Value = response.json().await.unwrap_or_default();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(unavailable(format!("WooCommerce answered {status}"), after));
        }
        if status.as_u16() == 404 {
            return Ok(None);
        }
        if !status.is_success() {
            let message = answer["message"].as_str().unwrap_or("no message");
            return Err(WriteBackError::Refused(format!("{shop} answered {status}: {message}")));
        }
        Ok(Some(answer))
    }

    /// The site's extension providers, `None` when it has no extension.
    async fn providers(&self, shop: &str, site: &WooSite) -> Result<Option<BTreeSet<String>>, WriteBackError> {
        if let Some(known) = self.providers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&site.base) {
            return Ok(known.clone());
        }
        let list = self.send(shop, self.request(site, reqwest::Method::GET, PROVIDERS, &[])).await?;
        let providers = list.map(|l| provider_names(&l));
        self.providers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(site.base.clone(), providers.clone());
        Ok(providers)
    }

    /// The order's notes; a missing order is refused.
    async fn notes(&self, shop: &str, site: &WooSite, order: &str) -> Result<Vec<Value>, WriteBackError> {
        let path = format!("/wp-json/wc/v3/orders/{order}/notes");
        let notes = self.send(shop, self.request(site, reqwest::Method::GET, &path, &[])).await?;
        let notes = notes.ok_or_else(|| WriteBackError::Refused(format!("{shop} has no order {order}")))?;
        Ok(notes.as_array().cloned().unwrap_or_default())
    }

    /// Adds `text` as a note of the order unless one holds it already; its id.
    async fn note_once(&self, shop: &str, site: &WooSite, order: &str, text: &str, holds: &str, customer_note: bool) -> Result<String, WriteBackError> {
        let notes = self.notes(shop, site, order).await?;
        if let Some(found) = notes.iter().find(|n| n["note"].as_str().is_some_and(|t| t.to_ascii_lowercase().contains(&holds.to_ascii_lowercase()))) {
            return Ok(format!("note:{}", found["id"]));
        }
        let path = format!("/wp-json/wc/v3/orders/{order}/notes");
        let body = json!({"note": text, "customer_note": customer_note});
        let made = self.send(shop, self.request(site, reqwest::Method::POST, &path, &[]).json(&body)).await?;
        let made = made.ok_or_else(|| WriteBackError::Refused(format!("{shop} has no order {order}")))?;
        Ok(format!("note:{}", made["id"]))
    }

    /// The parcel's tracking item, added unless the order holds one of its number.
    /// Returns its id, and the items the order held before (what a correction deletes
    /// from).
    async fn tracking_once(
        &self,
        shop: &str,
        site: &WooSite,
        parcel: &ParcelWrite,
        providers: &BTreeSet<String>,
    ) -> Result<(String, Vec<Value>), WriteBackError> {
        let path = tracking_path(&parcel.external_order_id);
        let items = self.send(shop, self.request(site, reqwest::Method::GET, &path, &[])).await?;
        let items = items.ok_or_else(|| WriteBackError::Refused(format!("{shop} has no order {}", parcel.external_order_id)))?;
        let items = items.as_array().cloned().unwrap_or_default();
        let number = &parcel.tracking.number;
        if let Some(item) = items.iter().find(|i| i["tracking_number"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(number))) {
            return Ok((format!("tracking:{}", item["tracking_id"].as_str().unwrap_or("?")), items));
        }
        let body = tracking_item(&parcel.tracking, providers);
        let made = self.send(shop, self.request(site, reqwest::Method::POST, &path, &[]).json(&body)).await?;
        let made = made.ok_or_else(|| WriteBackError::Refused(format!("{shop} has no order {}", parcel.external_order_id)))?;
        Ok((format!("tracking:{}", made["tracking_id"].as_str().unwrap_or("?")), items))
    }

    /// Completes the order unless it is completed already, or closed another way.
    async fn complete(&self, shop: &str, site: &WooSite, order: &str) -> Result<Option<String>, WriteBackError> {
        let path = format!("/wp-json/wc/v3/orders/{order}");
        let current = self.send(shop, self.request(site, reqwest::Method::GET, &path, &[])).await?;
        let current = current.ok_or_else(|| WriteBackError::Refused(format!("{shop} has no order {order}")))?;
        if !current["status"].as_str().is_some_and(|s| OPEN_STATUSES.contains(&s)) {
            return Ok(None);
        }
        self.send(shop, self.request(site, reqwest::Method::PUT, &path, &[]).json(&json!({"status": "completed"}))).await?;
        Ok(Some("completed".into()))
    }
}

#[async_trait::async_trait]
impl crate::ports::StorefrontWriter for WooCommerceRest {
    /// Sites are compared by host in lower case, as orders are filed and keys configured.
    fn writes_to(&self, shop: &str) -> bool {
        self.sites.contains_key(&shop.to_ascii_lowercase())
    }

    async fn parcel_shipped(&self, parcel: &ParcelWrite) -> Result<Vec<String>, WriteBackError> {
        let shop = &parcel.shop;
        let site = self.site(shop)?;
        let written = match self.providers(shop, site).await? {
            Some(providers) => self.tracking_once(shop, site, parcel, &providers).await?.0,
            None => {
                let text = parcel_note(&parcel.tracking);
                self.note_once(shop, site, &parcel.external_order_id, &text, &parcel.tracking.number, parcel.notify_customer).await?
            }
        };
        let mut ids = vec![written];
        if parcel.completes_order {
            ids.extend(self.complete(shop, site, &parcel.external_order_id).await?);
        }
        Ok(ids)
    }

    /// The right number's tracking item is added (unless held) before the wrong one's
    /// is deleted, so the order is never left without one; without the extension, one
    /// note saying which number was wrong.
    async fn parcel_corrected(&self, parcel: &ParcelWrite, from: &str) -> Result<Vec<String>, WriteBackError> {
        let (shop, order) = (&parcel.shop, &parcel.external_order_id);
        let site = self.site(shop)?;
        let Some(providers) = self.providers(shop, site).await? else {
            let text = format!("Tracking number {from} was wrong. {}", parcel_note(&parcel.tracking));
            return Ok(vec![self.note_once(shop, site, order, &text, &parcel.tracking.number, parcel.notify_customer).await?]);
        };
        let (written, held) = self.tracking_once(shop, site, parcel, &providers).await?;
        let wrong = held.iter().filter(|i| i["tracking_number"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(from)));
        for item in wrong {
            let id = item["tracking_id"].as_str().unwrap_or_default();
            self.send(shop, self.request(site, reqwest::Method::DELETE, &format!("{}/{id}", tracking_path(order)), &[])).await?;
        }
        Ok(vec![written])
    }

    /// WooCommerce keeps nothing of a carrier's news.
    async fn parcel_news(&self, _news: &ParcelNews) -> Result<Option<String>, WriteBackError> {
        Ok(None)
    }

    fn polled_shops(&self) -> Vec<String> {
        self.sites.keys().cloned().collect()
    }

    fn completes_orders(&self) -> bool {
        true
    }

    /// `GET /wp-json/wc/v3/orders?modified_after=…&dates_are_gmt=true&orderby=modified&order=asc`
    /// (<https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders>):
    /// each order as its `order.updated` webhook carries it.
    async fn changed_since(&self, shop: &str, since: chrono::DateTime<chrono::Utc>, page: u32) -> Result<Vec<ChangedOrder>, WriteBackError> {
        let site = self.site(shop)?;
        let query = [
            ("modified_after", since.format("%Y-%m-%dT%H:%M:%S").to_string()),
            ("dates_are_gmt", "true".to_string()),
            ("orderby", "modified".to_string()),
            ("order", "asc".to_string()),
            ("per_page", POLL_PAGE.to_string()),
            ("page", page.to_string()),
        ];
        let listed = self.send(shop, self.request(site, reqwest::Method::GET, "/wp-json/wc/v3/orders", &query)).await?;
        let listed = listed.ok_or_else(|| WriteBackError::Refused(format!("{shop} has no REST API for orders")))?;
        let orders = listed.as_array().ok_or_else(|| WriteBackError::Refused(format!("{shop} listed no array of orders")))?;
        let readable = |order: &Value| {
            let changed = changed_order(order);
            if changed.is_none() {
                tracing::warn!(%shop, order = %order["id"], "a listed order without an id or a readable date_modified_gmt is skipped");
            }
            changed
        };
        Ok(orders.iter().filter_map(readable).collect())
    }

    /// The order's `dropflow_status_url` meta (an update by key: sending it again
    /// changes nothing).
    async fn status_link(&self, shop: &str, external_order_id: &str, url: &str) -> Result<(), WriteBackError> {
        let site = self.site(shop)?;
        let path = format!("/wp-json/wc/v3/orders/{external_order_id}");
        let body = json!({"meta_data": [{"key": STATUS_META, "value": url}]});
        let updated = self.send(shop, self.request(site, reqwest::Method::PUT, &path, &[]).json(&body)).await?;
        updated.map(drop).ok_or_else(|| WriteBackError::Refused(format!("{shop} has no order {external_order_id}")))
    }

    /// A private note for the merchant, once: WooCommerce orders have no tags.
    async fn part_cancelled(&self, note: &CancelNote) -> Result<(), WriteBackError> {
        let site = self.site(&note.shop)?;
        self.note_once(&note.shop, site, &note.external_order_id, &note.line, &note.line, false).await.map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tracking::Carrier;

    fn site(base: &str) -> WooSite {
        WooSite { base: base.into(), consumer_key: "ck_key".into(), consumer_secret: "cs_secret".into() }
    }

    #[test]
    fn a_listed_provider_is_named_as_the_site_spells_it_and_any_other_gets_our_link() {
        let listed = provider_names(&json!({"United Kingdom": {"Royal Mail": "https://rm/%1$s"}, "United States": {"UPS": "u", "USPS": "v"}}));
        assert_eq!(listed.len(), 3);
        let royal = TrackingNumber::parse("RB123456785GB", None).unwrap();
        assert_eq!(tracking_item(&royal, &listed), json!({"tracking_number": "RB123456785GB", "tracking_provider": "Royal Mail"}));
        let odd = TrackingNumber::parse("ZX12345678", Some(&Carrier::from_name("Speedy <b>Parcel</b>"))).unwrap();
        assert_eq!(
            tracking_item(&odd, &listed),
            json!({"tracking_number": "ZX12345678", "custom_tracking_provider": "Speedy <b>Parcel</b>",
                "custom_tracking_link": "https://t.17track.net/en#nums=%1$s"}),
            "a vendor's carrier name is data in a JSON field"
        );
    }

    #[test]
    fn https_sends_the_keys_as_basic_and_plain_http_signs_with_oauth() {
        let rest = WooCommerceRest::new(BTreeMap::new());
        let basic = rest.request(&site("https://shop.example"), reqwest::Method::GET, "/wp-json/wc/v3/orders/1", &[]).build().unwrap();
        let header = basic.headers()[reqwest::header::AUTHORIZATION].to_str().unwrap().to_string();
        assert_eq!(header, format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "ck_key:cs_secret")));
        let signed = rest.request(&site("http://shop.example:8080"), reqwest::Method::POST, "/wp-json/wc/v3/orders/1/notes", &[]).build().unwrap();
        let header = signed.headers()[reqwest::header::AUTHORIZATION].to_str().unwrap().to_string();
        assert!(header.starts_with("OAuth ") && header.contains("oauth_consumer_key=\"ck_key\"") && header.contains("oauth_signature="), "{header}");
        assert!(!header.contains("cs_secret"), "the secret only signs");
    }

    #[test]
    fn a_parcel_note_names_the_carrier_number_and_link() {
        let ups = TrackingNumber::parse("1Z5R89390357567127", None).unwrap();
        assert_eq!(parcel_note(&ups), "Shipped with UPS, tracking number 1Z5R89390357567127: https://www.ups.com/track?tracknum=1Z5R89390357567127");
    }
}
