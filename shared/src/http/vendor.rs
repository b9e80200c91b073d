//! `/vendor/*`: the vendor REST endpoint. Each handler authenticates the bearer key,
//! converts the request to a service call and the result to JSON.

use super::problem::{Problem, body_rejection, json_body};
use crate::domain::ids::VendorId;
use crate::domain::vendor_order::{HistoryEntry, VendorOrder};
use crate::services::vendor::{self, Request};
use crate::services::App;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const PAGE_SIZE: usize = 50;

async fn caller(app: &App, headers: &HeaderMap) -> Result<VendorId, Problem> {
    let key = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    Ok(vendor::authenticate(app, key).await?)
}

/// A vendor order as the API shows it.
#[derive(Serialize)]
struct OrderView<'a> {
    id: String,
    #[serde(flatten)]
    order: &'a VendorOrder,
    supplier_deadline: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<&'a [HistoryEntry]>,
}

fn view<'a>(order: &'a VendorOrder, history: Option<&'a [HistoryEntry]>) -> Value {
    serde_json::to_value(OrderView { id: order.id(), order, supplier_deadline: order.supplier_deadline(), history }).unwrap_or(Value::Null)
}

#[derive(Deserialize)]
pub struct ListParams {
    state: Option<String>,
    cursor: Option<String>,
}

pub async fn list_orders(State(app): State<App>, headers: HeaderMap, Query(params): Query<ListParams>) -> Result<Json<Value>, Problem> {
    let vendor = caller(&app, &headers).await?;
    let (orders, cursor) = vendor::list(&app, &vendor, params.state.as_deref(), params.cursor, PAGE_SIZE).await?;
    let orders: Vec<Value> = orders.iter().map(|o| view(o, None)).collect();
    Ok(Json(json!({ "orders": orders, "cursor": cursor })))
}

pub async fn get_order(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let vendor = caller(&app, &headers).await?;
    let (order, history) = vendor::get(&app, &vendor, &id).await?;
    Ok(Json(view(&order, Some(&history))))
}

/// Authenticates, then applies `request` (already read from the body, so that a bad
/// body still answers 401 first when the key is wrong).
async fn act(app: App, headers: HeaderMap, id: String, request: Result<Request, Problem>) -> Result<Json<Value>, Problem> {
    let vendor = caller(&app, &headers).await?;
    let order = vendor::act(&app, &vendor, &id, request?).await?;
    Ok(Json(view(&order, None)))
}

/// Reads a JSON body of `B` and turns it into a request.
fn request_from<B: DeserializeOwned>(body: Result<Bytes, BytesRejection>, into: impl FnOnce(B) -> Request) -> Result<Request, Problem> {
    let bytes = body.map_err(body_rejection)?;
    Ok(into(json_body(&bytes)?))
}

#[derive(Deserialize)]
struct SupplierOrderBody {
    supplier_order_ref: String,
}

pub async fn supplier_order(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>, body: Result<Bytes, BytesRejection>) -> Result<Json<Value>, Problem> {
    let request = request_from(body, |b: SupplierOrderBody| Request::PlaceWithSupplier { supplier_order_ref: b.supplier_order_ref });
    act(app, headers, id, request).await
}

#[derive(Deserialize)]
struct ShipmentBody {
    carrier: Option<String>,
    tracking_number: String,
}

pub async fn shipment(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>, body: Result<Bytes, BytesRejection>) -> Result<Json<Value>, Problem> {
    let request = request_from(body, |b: ShipmentBody| Request::Ship { carrier: b.carrier, tracking_number: b.tracking_number });
    act(app, headers, id, request).await
}

pub async fn delivered(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    act(app, headers, id, Ok(Request::MarkDelivered)).await
}

#[derive(Deserialize)]
struct CancelBody {
    reason: String,
}

pub async fn cancel(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>, body: Result<Bytes, BytesRejection>) -> Result<Json<Value>, Problem> {
    let request = request_from(body, |b: CancelBody| Request::Cancel { reason: b.reason });
    act(app, headers, id, request).await
}
