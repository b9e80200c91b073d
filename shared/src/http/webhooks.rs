//! `POST /webhooks/{source}`: the storefront's headers read off the wire, the rest is
//! the webhook service.

use super::problem::{Problem, body_rejection};
use crate::services::webhook::{self, Accepted};
use crate::services::App;
use crate::sources::IntakeMessage;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

pub async fn receive(State(app): State<App>, Path(source): Path<String>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Json<Value>, Problem> {
    let body = body.map_err(body_rejection)?;
    let (signature, topic, shop, delivery_id) = match source.as_str() {
        "shopify" => (
            header(&headers, "x-shopify-hmac-sha256"),
            header(&headers, "x-shopify-topic").unwrap_or_default(),
            header(&headers, "x-shopify-shop-domain").unwrap_or_else(|| "unknown-shop".into()),
            header(&headers, "x-shopify-event-id").or_else(|| header(&headers, "x-shopify-webhook-id")),
        ),
        other => return Err(Problem::new(StatusCode::NOT_FOUND, format!("no webhook source {other:?}"))),
    };
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "the body is not UTF-8 JSON"));
    };
    let message = IntakeMessage { source, topic, shop, delivery_id, body: text };
    match webhook::accept(&app, message, signature.as_deref()).await? {
        Accepted::Queued => Ok(Json(json!({"status": "queued"}))),
        Accepted::Ignored(reason) => Ok(Json(json!({"status": "ignored", "reason": reason}))),
    }
}
