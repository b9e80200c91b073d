//! `POST /webhooks/{source}` and `POST /webhooks/tracking/{provider}`: the storefront's
//! (or carrier feed's) headers, as its `Source` names them, read
//! off the wire; the rest is the webhook service.

#[cfg(feature = "openapi")]
use super::openapi::parts::WebhookRefusals;
use super::problem::{Problem, RawRequest, body_rejection};
use crate::services::App;
use crate::services::webhook::{self, Accepted, Delivery};
use crate::sources;
use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// The answer to a webhook: queued for intake, a ping, or ignored with the reason.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(example = crate::http::examples::webhook_answer)]
#[allow(dead_code)]
pub struct WebhookAnswer {
    /// `queued`, `ping` or `ignored`.
    status: String,
    reason: Option<String>,
}

/// A storefront's webhook: verified on its raw bytes, then queued for intake.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/webhooks/{source}", tag = "webhooks",
    params(("source" = String, Path, description = "shopify, woocommerce or generic"),
        ("X-Shopify-Hmac-Sha256" = Option<String>, Header, description = "Shopify: base64 HMAC-SHA256 of the raw body with the app's client secret"),
        ("X-Shopify-Topic" = Option<String>, Header, description = "Shopify: orders/create, orders/paid, orders/updated, orders/edited, orders/cancelled, refunds/create, customers/data_request, customers/redact, shop/redact"),
        ("X-Shopify-Shop-Domain" = Option<String>, Header, description = "Shopify: the shop (*.myshopify.com); checked against SHOPIFY_SHOP_DOMAINS when set"),
        ("X-Shopify-Event-Id" = Option<String>, Header, description = "Shopify: the event, the same on each retry"),
        ("X-WC-Webhook-Signature" = Option<String>, Header, description = "WooCommerce: base64 HMAC-SHA256 of the raw body with the webhook's secret"),
        ("X-WC-Webhook-Topic" = Option<String>, Header, description = "WooCommerce: order.created, order.updated, order.deleted"),
        ("X-WC-Webhook-Source" = Option<String>, Header, description = "WooCommerce: the site's URL"),
        ("X-WC-Webhook-Delivery-ID" = Option<String>, Header, description = "WooCommerce: the delivery"),
        ("X-Dropflow-Signature" = Option<String>, Header, description = "Generic: base64 HMAC-SHA256 of the raw body with the shop's secret"),
        ("X-Dropflow-Topic" = Option<crate::sources::generic::GenericTopic>, Header, description = "Generic: what happened to the order (another topic is answered and ignored)"),
        ("X-Dropflow-Shop" = Option<String>, Header, description = "Generic: which shop's secret to try, when GENERIC_WEBHOOK_SECRET holds several")),
    request_body(content = crate::sources::StorefrontOrder, description = "The storefront's order JSON, verified on its raw bytes: Shopify's and WooCommerce's own order objects (the fields dropflow reads are listed), or for `generic` the canonical order (id, currency, financial_status, updated_at and lines required)", content_type = "application/json"),
    responses((status = 200, description = "Verified and queued (or a ping, or a topic dropflow does not act on)", body = WebhookAnswer),
        (status = 400, description = "Not what its topic says", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
        WebhookRefusals)))]
pub async fn receive(webhook: RawRequest) -> Result<Json<Value>, Problem> {
    take(webhook, Feed::Storefront).await
}

/// A carrier feed's tracking push (AfterShip): verified on its raw bytes, then queued
/// for intake, which moves the parcel's vendor order on.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/webhooks/tracking/{provider}", tag = "webhooks",
    params(("provider" = String, Path, description = "aftership"), ("aftership-hmac-sha256" = Option<String>, Header, description = "AfterShip: base64 HMAC-SHA256 of the raw body with AFTERSHIP_WEBHOOK_SECRET")),
    request_body(content = Object, description = "AfterShip's tracking_update: event, event_id, msg.tracking_number, msg.tag, msg.checkpoints", content_type = "application/json"),
    responses((status = 200, description = "Verified and queued (or an event or tag that needs nothing done)", body = WebhookAnswer), WebhookRefusals,
        (status = 400, description = "Not a tracking update", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such tracking feed", body = Problem, content_type = "application/problem+json"))))]
pub async fn receive_tracking(webhook: RawRequest) -> Result<Json<Value>, Problem> {
    take(webhook, Feed::Carrier).await
}

/// A supplier's push (CJ's order and logistics messages, AliExpress's order status):
/// checked (CJ's `sign`), then queued for intake, which has supplier-sync read the
/// order back. Answered as CJ asks (`{"code":200,"result":"success"}`) within its 3 s.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/webhooks/supplier/{supplier}", tag = "webhooks",
    params(("supplier" = String, Path, description = "cj or aliexpress"), ("sign" = Option<String>, Header, description = "CJ: base64 HMAC-SHA256 of the raw body keyed by the account's openId")),
    request_body(content = Object, description = "CJ: {messageId, type, messageType, openId, params{orderId, …}}; AliExpress: {data{orderId, orderStatus}, message_type, seller_id, site, timestamp}", content_type = "application/json"),
    responses((status = 200, description = "Taken and queued", body = Object), (status = 400, description = "Not a push of that supplier", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A CJ push without a valid sign", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such supplier", body = Problem, content_type = "application/problem+json"))))]
pub async fn receive_supplier(webhook: RawRequest) -> Result<Json<Value>, Problem> {
    use crate::services::supplier::{PushRefusal, push_source, read_push, verify_push};
    let RawRequest { app, parameter: name, headers, body, .. } = webhook;
    let body = body.map_err(body_rejection)?;
    let api = crate::domain::supplier::SupplierApi::parse(&name).map_err(|_| Problem::new(StatusCode::NOT_FOUND, format!("no supplier {name:?}")))?;
    let refused = |refusal| match refusal {
        PushRefusal::Unsigned => Problem::new(StatusCode::UNAUTHORIZED, "the push is not signed for the account it names"),
        PushRefusal::Unreadable(why) => Problem::new(StatusCode::BAD_REQUEST, why),
    };
    let push = read_push(api, &body).map_err(refused)?;
    verify_push(api, &body, header(&headers, "sign").as_deref(), &push).map_err(refused)?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| Problem::new(StatusCode::BAD_REQUEST, "the push is not UTF-8"))?;
    let message =
        sources::IntakeMessage { source: push_source(api), topic: "push".into(), shop: "-".into(), claimed_shop: None, delivery_id: None, body: text };
    app.publisher.publish(crate::ports::QueueName::Intake, message.encode()).await.map_err(crate::services::ServiceError::from)?;
    Ok(Json(json!({"code": 200, "result": "success", "message": "queued"})))
}

/// Which kind of sender a webhook path takes: each has its own path, so a storefront's
/// name under the tracking path (or the other way round) is not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Storefront,
    Carrier,
}

/// Verifies and queues a webhook of the source its path names, which must be of `feed`.
async fn take(webhook: RawRequest, feed: Feed) -> Result<Json<Value>, Problem> {
    let RawRequest { app, parameter: name, headers, body, .. } = webhook;
    let body = body.map_err(body_rejection)?;
    let Some(source) = sources::source(&name).filter(|s| s.is_carrier_feed() == (feed == Feed::Carrier)) else {
        return Err(Problem::new(StatusCode::NOT_FOUND, format!("no webhook source {name:?}")));
    };
    deliver(&app, source, &headers, &body).await
}

/// Answers a ping, else hands the delivery to `webhook::accept`.
async fn deliver(app: &App, source: &'static dyn sources::Source, headers: &HeaderMap, body: &Bytes) -> Result<Json<Value>, Problem> {
    let read = |name: &str| header(headers, name);
    if read(source.signature_header()).is_none() && source.is_ping(&read, body) {
        return Ok(Json(json!({"status": "ping"})));
    }
    let delivery = Delivery {
        source,
        signature: read(source.signature_header()),
        topic: source.topic_header().and_then(read).unwrap_or_default(),
        shop: source.shop_header().and_then(read).map(|value| source.shop_of_header(&value)).unwrap_or_else(|| webhook::UNKNOWN_SHOP.into()),
        delivery_id: source.delivery_headers().iter().find_map(|name| read(name)),
        body: body.to_vec(),
    };
    match webhook::accept(app, delivery).await? {
        Accepted::Queued => Ok(Json(json!({"status": "queued"}))),
        Accepted::Ignored(reason) => Ok(Json(json!({"status": "ignored", "reason": reason}))),
    }
}
