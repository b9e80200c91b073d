//! CJdropshipping's API 2.0, as dropflow places and follows a vendor's supplier orders
//! through it. Every request follows CJ's pages:
//!
//! - base `https://developers.cjdropshipping.com/api2.0/v1`, JSON bodies, the
//!   `CJ-Access-Token` header, answers `{code, result, message, data, requestId}` with
//!   `code` 200 on success ("Interface Definition",
//!   <https://developers.cjdropshipping.cn/en/api/api2/standard/definition.html>);
//! - `POST /authentication/getAccessToken {apiKey}` (at most once per 5 minutes) and
//!   `POST /authentication/refreshAccessToken {refreshToken}`: `data{openId,
//!   accessToken, accessTokenExpiryDate, refreshToken, refreshTokenExpiryDate}`
//!   (<https://developers.cjdropshipping.cn/en/api/api2/api/auth.html>);
//! - `POST /shopping/order/createOrderV2` with `orderNumber` (ours, unique), the
//!   `shipping*` address fields, `logisticName`, `fromCountryCode` and
//!   `products[{vid, quantity, storeLineItemId}]`; `payType` left empty: page payment,
//!   answered with `cjPayUrl` (<https://developers.cjdropshipping.com/en/api/api2/api/shopping.html>,
//!   section 1.1);
//! - `GET /shopping/order/getOrderDetail?orderId=` (CJ's id or our `orderNumber`):
//!   `orderStatus`, `trackNumber`, `logisticName` [field names from public clients;
//!   UNVERIFIED against the live table];
//! - `GET /product/variant/queryByVid?vid=`: the variant's `pid` and
//!   `variantSellPrice` (USD) ("Product", section "Variant",
//!   <https://developers.cjdropshipping.com/en/api/api2/api/product.html>);
//! - `POST /logistic/freightCalculate {startCountryCode, endCountryCode,
//!   products[{quantity, vid}]}`: `data[]` with each method's `logisticName`, the name
//!   orders take (<https://developers.cjdropshipping.cn/en/api/api2/api/logistic.html>);
//! - rate limits: 1600200/1600201 (and HTTP 429) are CJ's per-second and daily limits,
//!   1600000 a short outage ("Interface Call Restrictions",
//!   <https://developers.cjdropshipping.com/en/api/api2/standard/limit.html>; the waits
//!   follow FG-IT/python-cjdropshipping-api `CJ/api_v2.py`);
//! - webhooks: `sign` is standard Base64 of HMAC-SHA256 over the raw body keyed by the
//!   account's `openId` (<https://developers.cjdropshipping.com/en/api/api2/api/webhook.html>).

use crate::domain::supplier::SupplierLink;
use crate::domain::supplier::{SupplierParcel, SupplierStatus};
use crate::ports::{FollowedOrder, PlacedOrder, SupplierCredentials, SupplierError, SupplierOffer, SupplierOrderRequest};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// Where the API is unless `CJ_API_URL` says otherwise (the version prefix included).
pub const DEFAULT_API_URL: &str = "https://developers.cjdropshipping.com/api2.0/v1";

/// How often CJ lets an account fetch an access token with its API key.
pub const TOKEN_FETCH_EVERY: Duration = Duration::minutes(5);

/// Whether `sign` (the push's header) is CJ's signature of `body` for the account of
/// `open_id`; compared in constant time.
pub fn push_signed(open_id: &str, body: &[u8], sign: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(sign.trim()) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(open_id.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The signature CJ puts on a push of `body` (what the stand-in sends).
pub fn push_signature(open_id: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(open_id.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `createOrderV2`'s body for `order`.
pub fn create_body(order: &SupplierOrderRequest) -> Value {
    let a = &order.address;
    let method = order.lines.first().map(|l| l.shipping_method.clone()).unwrap_or_default();
    let products: Vec<Value> = order.lines.iter().map(|l| json!({"vid": l.sku, "quantity": l.quantity, "storeLineItemId": l.line_id})).collect();
    json!({
        "orderNumber": order.out_order_id,
        "shippingCountryCode": a.country_code,
        "shippingProvince": a.region.clone().unwrap_or_default(),
        "shippingCity": a.city,
        "shippingZip": a.postal_code.clone().unwrap_or_default(),
        "shippingAddress": a.line1,
        "shippingAddress2": a.line2.clone().unwrap_or_default(),
        "shippingCustomerName": a.name,
        "shippingPhone": a.phone.clone().unwrap_or_default(),
        "email": order.email.clone().unwrap_or_default(),
        "logisticName": method,
        "fromCountryCode": FROM_COUNTRY,
        "shopLogisticsType": 2,
        "products": products,
    })
}

/// Where CJ ships from: its Chinese warehouses (what `createOrderV2` says too).
pub const FROM_COUNTRY: &str = "CN";

/// The offer of `link`'s variant in a `queryByVid` answer's `data`: refused when CJ
/// knows no such variant or it belongs to another product than the link's.
pub fn offer_of(data: &Value, link: &SupplierLink) -> Result<SupplierOffer, SupplierError> {
    let text = |key: &str| data.get(key).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).filter(|t| !t.is_empty() && t != "null");
    let Some(vid) = text("vid") else {
        return Err(SupplierError::Refused { code: "VARIANT_NOT_FOUND".into(), reason: format!("CJ has no variant {}", link.sku) });
    };
    if let Some(pid) = text("pid").filter(|pid| *pid != link.product_id) {
        return Err(SupplierError::Refused {
            code: "VARIANT_OF_ANOTHER_PRODUCT".into(),
            reason: format!("CJ's variant {vid} is of product {pid}, not {}", link.product_id),
        });
    }
    let usd = crate::domain::money::Currency::parse("USD").expect("USD is a currency");
    let unit_price = text("variantSellPrice").and_then(|amount| super::price(&amount, usd));
    Ok(SupplierOffer { sku: vid.clone(), variant_id: vid, unit_price, stock: None })
}

/// `freightCalculate`'s body: one unit of the variant from CJ's warehouse to `ship_to`.
pub fn freight_body(offer: &SupplierOffer, ship_to: &str) -> Value {
    json!({"startCountryCode": FROM_COUNTRY, "endCountryCode": ship_to, "products": [{"quantity": 1, "vid": offer.variant_id}]})
}

/// The `logisticName`s a `freightCalculate` answer's `data` offers.
pub fn methods_of(data: &Value) -> Vec<String> {
    data.as_array()
        .map(|options| options.iter().filter_map(|o| o.get("logisticName").and_then(Value::as_str).map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The `data` of an answer, or the error its `code` says.
pub fn data_of(body: &Value) -> Result<&Value, SupplierError> {
    let code = body.get("code").and_then(Value::as_i64).ok_or_else(|| SupplierError::Unreadable("code".into()))?;
    let message = body.get("message").and_then(Value::as_str).unwrap_or_default().to_string();
    match code {
        200 => body.get("data").ok_or_else(|| SupplierError::Unreadable("data".into())),
        1600200 | 1600201 | 429 => Err(SupplierError::Unavailable { reason: format!("CJ {code}: {message}"), after: Some(std::time::Duration::from_secs(1)) }),
        1600000 => Err(SupplierError::Unavailable { reason: format!("CJ {code}: {message}"), after: Some(std::time::Duration::from_secs(7)) }),
        1600001 | 1600003 | 401 => Err(SupplierError::Unauthorized(format!("CJ {code}: {message}"))),
        _ => Err(SupplierError::Refused { code: code.to_string(), reason: message }),
    }
}

/// Whether an answer says the order does not exist [UNVERIFIED: CJ's code for it is not
/// in the stored pages; a failed lookup whose message says so, with no data].
pub fn not_found(body: &Value) -> bool {
    let message = body.get("message").and_then(Value::as_str).unwrap_or_default().to_lowercase();
    body.get("code").and_then(Value::as_i64) != Some(200)
        && body.get("data").is_none_or(Value::is_null)
        && (message.contains("not exist") || message.contains("not found"))
}

/// Credentials from a token answer's `data`; the API key is kept to fetch the next.
pub fn credentials(data: &Value, api_key: Option<&str>, now: DateTime<Utc>) -> Result<SupplierCredentials, SupplierError> {
    let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_string);
    let at = |key: &str| text(key).and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc));
    Ok(SupplierCredentials {
        access_token: text("accessToken").ok_or_else(|| SupplierError::Unreadable("data.accessToken".into()))?,
        access_expires_at: at("accessTokenExpiryDate").unwrap_or(now + Duration::days(15)),
        refresh_token: text("refreshToken"),
        refresh_expires_at: at("refreshTokenExpiryDate").or(Some(now + Duration::days(180))),
        api_key: api_key.map(str::to_string),
        open_id: data.get("openId").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)),
        account: text("openName").or_else(|| data.get("openId").map(|v| v.to_string().trim_matches('"').to_string())),
        fetched_at: Some(now),
    })
}

/// The order a create or a lookup answered.
pub fn placed(data: &Value) -> Result<PlacedOrder, SupplierError> {
    let id = data.get("orderId").or_else(|| data.get("cjOrderId")).and_then(Value::as_str).ok_or_else(|| SupplierError::Unreadable("data.orderId".into()))?;
    let pay_url = data.get("cjPayUrl").and_then(Value::as_str).filter(|u| u.starts_with("https://")).map(str::to_string);
    let paid = matches!(data.get("orderStatus").and_then(Value::as_str), Some("UNSHIPPED" | "SHIPPED" | "DELIVERED"));
    Ok(PlacedOrder { references: vec![id.to_string()], awaiting_payment: !paid, pay_url })
}

/// `getOrderDetail`'s `orderStatus` as dropflow follows it, and its parcel.
pub fn followed(data: &Value) -> FollowedOrder {
    let status = match data.get("orderStatus").and_then(Value::as_str).unwrap_or_default() {
        "CREATED" | "IN_CART" | "UNPAID" | "PENDING" => Some(SupplierStatus::AwaitingPayment),
        "UNSHIPPED" | "IN_PRODUCTION" => Some(SupplierStatus::Paid),
        "SHIPPED" => Some(SupplierStatus::Shipped),
        "DELIVERED" => Some(SupplierStatus::Delivered),
        "CANCELLED" => Some(SupplierStatus::Cancelled),
        _ => None,
    };
    let number = data.get("trackNumber").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty());
    let parcels = number.map(|n| SupplierParcel { number: n.into(), carrier: data.get("logisticName").and_then(Value::as_str).map(str::to_string) });
    FollowedOrder { status, parcels: parcels.into_iter().collect() }
}

#[cfg(feature = "supplier-api")]
pub use client::Cj;

#[cfg(feature = "supplier-api")]
mod client {
    use super::*;
    use crate::domain::supplier::SupplierApi;
    use crate::ports::SupplierClient;

    /// The CJ client: each vendor's account speaks with its own token.
    pub struct Cj {
        base: String,
        client: crate::adapters::https::Lazy,
    }

    impl Cj {
        /// The client of the API at `base` (`CJ_API_URL`), each call given up after `timeout`.
        pub fn new(base: &str, timeout: std::time::Duration) -> Cj {
            let client = crate::adapters::https::Lazy::new(timeout);
            Cj { base: base.trim_end_matches('/').into(), client }
        }

        /// Sends a request and reads the JSON answer (an outage or a 5xx: unavailable).
        async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, SupplierError> {
            let unavailable = |reason: String| SupplierError::Unavailable { reason, after: None };
            let response = request.send().await.map_err(|e| unavailable(format!("CJ: {e}")))?;
            let status = response.status();
            if status.is_server_error() || status.as_u16() == 429 {
                return Err(SupplierError::Unavailable { reason: format!("CJ answered {status}"), after: Some(std::time::Duration::from_secs(1)) });
            }
            let bytes = response.bytes().await.map_err(|e| unavailable(format!("CJ: {e}")))?;
            serde_json::from_slice(&bytes).map_err(|_| SupplierError::Unreadable(format!("JSON answer (HTTP {status})")))
        }

        async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Result<Value, SupplierError> {
            let mut request = self.client.get().post(format!("{}{path}", self.base)).json(body);
            if let Some(token) = token {
                request = request.header("CJ-Access-Token", token);
            }
            self.send(request).await
        }

        async fn detail(&self, credentials: &SupplierCredentials, id: &str) -> Result<Value, SupplierError> {
            let request = self
                .client
                .get()
                .get(format!("{}/shopping/order/getOrderDetail", self.base))
                .query(&[("orderId", id)])
                .header("CJ-Access-Token", &credentials.access_token);
            self.send(request).await
        }

        async fn fetch_token(&self, api_key: &str, now: DateTime<Utc>) -> Result<SupplierCredentials, SupplierError> {
            let body = self.post("/authentication/getAccessToken", None, &json!({"apiKey": api_key.trim()})).await?;
            credentials(data_of(&body)?, Some(api_key.trim()), now)
        }
    }

    #[async_trait::async_trait]
    impl SupplierClient for Cj {
        fn api(&self) -> SupplierApi {
            SupplierApi::Cj
        }

        async fn connect(&self, grant: &str, now: DateTime<Utc>) -> Result<SupplierCredentials, SupplierError> {
            self.fetch_token(grant, now).await
        }

        async fn refresh(&self, current: &SupplierCredentials, now: DateTime<Utc>) -> Result<SupplierCredentials, SupplierError> {
            let keep = |mut fresh: SupplierCredentials| {
                fresh.api_key = current.api_key.clone();
                fresh.open_id = fresh.open_id.or_else(|| current.open_id.clone());
                fresh
            };
            if let Some(token) = current.refresh_token.as_deref().filter(|_| current.refresh_expires_at.is_none_or(|until| until > now)) {
                let body = self.post("/authentication/refreshAccessToken", None, &json!({"refreshToken": token})).await?;
                match data_of(&body) {
                    Ok(data) => return Ok(keep(credentials(data, None, now)?)),
                    Err(SupplierError::Refused { .. } | SupplierError::Unauthorized(_)) => {}
                    Err(other) => return Err(other),
                }
            }
            let api_key = current.api_key.as_deref().ok_or_else(|| SupplierError::Unauthorized("no API key to fetch a token with: connect again".into()))?;
            // CJ allows one token fetch per 5 minutes per account.
            if let Some(next) = current.fetched_at.map(|at| at + TOKEN_FETCH_EVERY).filter(|next| *next > now) {
                let wait = (next - now).to_std().unwrap_or_default();
                return Err(SupplierError::Unavailable { reason: "CJ allows one token fetch per 5 minutes".into(), after: Some(wait) });
            }
            self.fetch_token(api_key, now).await
        }

        async fn place(&self, credentials: &SupplierCredentials, order: &SupplierOrderRequest) -> Result<PlacedOrder, SupplierError> {
            let body = self.post("/shopping/order/createOrderV2", Some(&credentials.access_token), &create_body(order)).await?;
            placed(data_of(&body)?)
        }

        async fn find(&self, credentials: &SupplierCredentials, out_order_id: &str) -> Result<Option<PlacedOrder>, SupplierError> {
            let body = self.detail(credentials, out_order_id).await?;
            if not_found(&body) {
                return Ok(None);
            }
            let data = data_of(&body)?;
            if data.is_null() {
                return Ok(None);
            }
            placed(data).map(Some)
        }

        async fn follow(&self, credentials: &SupplierCredentials, reference: &str) -> Result<FollowedOrder, SupplierError> {
            let body = self.detail(credentials, reference).await?;
            Ok(followed(data_of(&body)?))
        }

        async fn offer(
            &self,
            credentials: &SupplierCredentials,
            link: &SupplierLink,
            _: &str,
            _: crate::domain::money::Currency,
        ) -> Result<SupplierOffer, SupplierError> {
            // CJ prices in USD wherever it ships.
            let request = self
                .client
                .get()
                .get(format!("{}/product/variant/queryByVid", self.base))
                .query(&[("vid", link.sku.as_str())])
                .header("CJ-Access-Token", &credentials.access_token);
            let body = self.send(request).await?;
            offer_of(data_of(&body)?, link)
        }

        async fn methods(
            &self,
            credentials: &SupplierCredentials,
            _: &SupplierLink,
            offer: &SupplierOffer,
            ship_to: &str,
        ) -> Result<Vec<String>, SupplierError> {
            let body = self.post("/logistic/freightCalculate", Some(&credentials.access_token), &freight_body(offer, ship_to)).await?;
            Ok(methods_of(data_of(&body)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_is_taken_only_with_the_accounts_signature_of_its_raw_bytes() {
        let body = br#"{"messageId":"m1","type":"ORDER","params":{"orderId":"CJ1"}}"#;
        let sign = push_signature("open-1", body);
        assert!(push_signed("open-1", body, &sign));
        assert!(!push_signed("open-2", body, &sign));
        assert!(!push_signed("open-1", br#"{"messageId":"m1","type":"ORDER","params":{"orderId":"CJ2"}}"#, &sign));
        assert!(!push_signed("open-1", body, "not base64!"));
    }

    #[test]
    fn answers_tell_limits_from_bad_tokens_from_refusals() {
        assert!(matches!(data_of(&json!({"code": 1600200, "result": false, "message": "Too Many Requests"})), Err(SupplierError::Unavailable { .. })));
        assert!(matches!(data_of(&json!({"code": 1600001, "result": false, "message": "Invalid token"})), Err(SupplierError::Unauthorized(_))));
        assert!(matches!(data_of(&json!({"code": 1600100, "result": false, "message": "Param error"})), Err(SupplierError::Refused { .. })));
        assert_eq!(data_of(&json!({"result": true})).unwrap_err(), SupplierError::Unreadable("code".into()));
    }

    #[test]
    fn a_variant_is_checked_against_the_links_product_and_priced_in_usd() {
        let link = SupplierLink::parse("cj", "pid-1", Some("vid-1"), Some("CJPacket")).unwrap();
        let offer = offer_of(&json!({"vid": "vid-1", "pid": "pid-1", "variantSellPrice": 2.1}), &link).unwrap();
        assert_eq!((offer.variant_id.as_str(), offer.unit_price.map(|m| m.to_string())), ("vid-1", Some("2.10 USD".to_string())));
        assert!(matches!(offer_of(&json!({"vid": "vid-1", "pid": "pid-2"}), &link), Err(SupplierError::Refused { .. })));
        assert!(matches!(offer_of(&Value::Null, &link), Err(SupplierError::Refused { .. })));
        assert_eq!(methods_of(&json!([{"logisticName": "CJPacket", "logisticPrice": 4.2}, {"logisticName": "USPS+"}])), ["CJPacket", "USPS+"]);
        assert_eq!(freight_body(&offer, "DE")["products"][0]["vid"], "vid-1");
    }

    #[test]
    fn an_order_detail_gives_its_status_and_parcel() {
        let data = json!({"orderId": "CJ123", "orderStatus": "SHIPPED", "trackNumber": "YT2412345678", "logisticName": "CJPacket Ordinary"});
        let followed = followed(&data);
        assert_eq!(followed.status, Some(SupplierStatus::Shipped));
        assert_eq!(followed.parcels, vec![SupplierParcel { number: "YT2412345678".into(), carrier: Some("CJPacket Ordinary".into()) }]);
        let created = placed(&json!({"orderId": "CJ123", "cjPayUrl": "https://cjdropshipping.com/pay/1"})).unwrap();
        assert!(created.awaiting_payment);
        assert_eq!(created.pay_url.as_deref(), Some("https://cjdropshipping.com/pay/1"));
    }
}
