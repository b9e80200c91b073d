//! `POST /webhooks/{source}`: the storefront's headers, as its `Source` names them, read
//! off the wire; the rest is the webhook service.

use super::problem::{Problem, body_rejection};
use crate::services::App;
use crate::services::webhook::{self, Accepted, Delivery};
use crate::sources;
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
    let Some(source) = sources::source(&source) else {
        return Err(Problem::new(StatusCode::NOT_FOUND, format!("no webhook source {source:?}")));
    };
    let read = |name: &str| header(&headers, name);
    if read(source.signature_header()).is_none() && source.is_ping(&read, &body) {
        return Ok(Json(json!({"status": "ping"})));
    }
    let delivery = Delivery {
        source,
        signature: read(source.signature_header()),
        topic: read(source.topic_header()).unwrap_or_default(),
        shop: source.shop_header().and_then(read).unwrap_or_else(|| webhook::UNKNOWN_SHOP.into()),
        delivery_id: source.delivery_headers().iter().find_map(|name| read(name)),
        body: body.to_vec(),
    };
    match webhook::accept(&app, delivery).await? {
        Accepted::Queued => Ok(Json(json!({"status": "queued"}))),
        Accepted::Ignored(reason) => Ok(Json(json!({"status": "ignored", "reason": reason}))),
    }
}
