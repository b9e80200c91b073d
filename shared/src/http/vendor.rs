//! `/vendor/*`: the vendor REST endpoint. The `Caller` extractor turns the bearer key
//! into the calling vendor once; each handler converts its typed request to a service
//! call and the result to its wire type (`wire`). The version goes out as an `ETag`;
//! mutations take `If-Match` and `Idempotency-Key`.

#[cfg(feature = "openapi")]
use super::openapi::parts::{ChangeParams, ChangeRefusals, VendorRefusals};
use super::problem::{Problem, RawRequest, body_rejection, json_body};
use super::wire::{BalancesJson, OrderPageJson, PayoutJson, PayoutPageJson, ProductBody, ProductJson, ProductPageJson, VendorOrderJson};
use crate::domain::ids::SupplierOrderRef;
use crate::domain::order::ProductSpec;
use crate::domain::tracking::{Carrier, TrackingNumber};
use crate::domain::vendor_order::Command;
use crate::domain::vendor_order::VendorOrder;
use crate::services::App;
use crate::services::products;
use crate::services::vendor::{self, IdempotencyKey, Preconditions};
use crate::store::VendorProfile;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The page size when a listing names none, and the largest it may name.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

/// The longest `Idempotency-Key` taken.
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The vendor whose bearer key came with the request (the scheme in any case, as RFC
/// 9110 has it); a missing, unknown or revoked key is a 401 before anything else.
pub struct Caller(pub VendorProfile);

impl FromRequestParts<App> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let key = value.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, key)| key.trim());
        Ok(Caller(vendor::authenticate(app, key).await?))
    }
}

/// A vendor order answered with its version as the `ETag`.
fn order_response(app: &App, order: &VendorOrder, caller: &VendorProfile) -> Response {
    with_etag(Json(VendorOrderJson::new(order, caller.commission_bps, None, app.clock.now())), order.version)
}

/// `body` with `version` as its `ETag`.
fn with_etag(body: Json<VendorOrderJson>, version: u64) -> Response {
    let mut response = body.into_response();
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

#[derive(Deserialize)]
pub struct ListParams {
    state: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// The vendor's orders, newest first.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/orders", tag = "orders", security(("bearer" = [])), params(("state" = Option<super::wire::OrderState>, Query, description = "Only orders in this state"), ("cursor" = Option<String>, Query, description = "From the previous page"), ("limit" = Option<u32>, Query, description = "1-100, default 50", minimum = 1, maximum = 100)), responses((status = 200, description = "The vendor's orders, newest first", body = OrderPageJson), VendorRefusals)))]
pub async fn list_orders(State(app): State<App>, Caller(caller): Caller, Query(params): Query<ListParams>) -> Result<Json<OrderPageJson>, Problem> {
    let limit = limit(params.limit.as_deref())?;
    let (orders, cursor) = vendor::list(&app, &caller.vendor_id, params.state.as_deref(), params.cursor, limit).await?;
    let now = app.clock.now();
    Ok(Json(OrderPageJson { orders: orders.iter().map(|o| VendorOrderJson::new(o, caller.commission_bps, None, now)).collect(), cursor }))
}

/// A listing's `limit`: 1 to 100, 50 when not given.
fn limit(text: Option<&str>) -> Result<usize, Problem> {
    match text {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| Problem::new(StatusCode::BAD_REQUEST, format!("limit must be a whole number from 1 to {MAX_LIMIT}"))),
    }
}

/// One of the vendor's orders, with its history.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = String, Path, description = "The vendor order's id")), responses((status = 200, description = "The order with its history; its version in ETag", body = VendorOrderJson, headers(("ETag" = String, description = "The order\'s version, quoted (\"3\"): send it back as If-Match"))), VendorRefusals, (status = 404, description = "No such order for this vendor", body = Problem, content_type = "application/problem+json"))))]
pub async fn get_order(State(app): State<App>, Caller(caller): Caller, Path(id): Path<String>) -> Result<Response, Problem> {
    let view = vendor::get(&app, &caller.vendor_id, &id).await?;
    let json = VendorOrderJson::new(&view.order, caller.commission_bps, Some(&view.history), app.clock.now())
        .with_earnings(&view.earnings)
        .with_purchases(&view.purchases);
    Ok(with_etag(Json(json), view.order.version))
}

/// Applies the vendor's ask to the order's automated supplier orders and answers the
/// order as `get_order` does.
async fn supplier_ask(app: App, caller: &crate::store::VendorProfile, id: &str, ask: crate::services::supplier::VendorAsk) -> Result<Response, Problem> {
    crate::services::supplier::vendor_ask(&app, &caller.vendor_id, id, ask).await?;
    get_order(State(app), Caller(caller.clone()), Path(id.to_string())).await
}

/// Places the supplier order dropflow prepared (`review`): supplier-sync sends it next.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/orders/{id}/supplier-order/confirm", tag = "orders", security(("bearer" = [])), params(("id" = String, Path, description = "The vendor order's id")), responses((status = 200, description = "Confirmed: the order with its supplier_automation", body = VendorOrderJson), VendorRefusals, (status = 404, description = "No such order for this vendor", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Nothing prepared to confirm", body = Problem, content_type = "application/problem+json"))))]
pub async fn supplier_confirm(State(app): State<App>, Caller(caller): Caller, Path(id): Path<String>) -> Result<Response, Problem> {
    supplier_ask(app, &caller, &id, crate::services::supplier::VendorAsk::Confirm).await
}

/// Tries a supplier order again: one the supplier refused under a new id (nothing was
/// bought under the old), one waiting out an outage now.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/orders/{id}/supplier-order/retry", tag = "orders", security(("bearer" = [])), params(("id" = String, Path, description = "The vendor order's id")), responses((status = 200, description = "To be placed again: the order with its supplier_automation", body = VendorOrderJson), VendorRefusals, (status = 404, description = "No such order for this vendor", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Nothing to retry (one the supplier may hold already is confirmed with POST …/supplier-order instead)", body = Problem, content_type = "application/problem+json"))))]
pub async fn supplier_retry(State(app): State<App>, Caller(caller): Caller, Path(id): Path<String>) -> Result<Response, Problem> {
    supplier_ask(app, &caller, &id, crate::services::supplier::VendorAsk::Retry).await
}

/// The vendor orders by hand: dropflow stops placing what is not placed yet.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/orders/{id}/supplier-order/manual", tag = "orders", security(("bearer" = [])), params(("id" = String, Path, description = "The vendor order's id")), responses((status = 200, description = "Manual: the order with its supplier_automation", body = VendorOrderJson), VendorRefusals, (status = 404, description = "No such order for this vendor", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Already placed by dropflow", body = Problem, content_type = "application/problem+json"))))]
pub async fn supplier_manual(State(app): State<App>, Caller(caller): Caller, Path(id): Path<String>) -> Result<Response, Problem> {
    supplier_ask(app, &caller, &id, crate::services::supplier::VendorAsk::Manual).await
}

/// `If-Match` as a version: `"7"` (or weak, `W/"7"`); `*` or none asks nothing.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    tag.parse().map(Some).map_err(|_| Problem::new(StatusCode::PRECONDITION_FAILED, format!("If-Match {text:?} is not an ETag this API gave out")))
}

/// `Idempotency-Key` with the hash of the request it came with (method, path, body).
pub(super) fn idempotency(headers: &HeaderMap, method: &str, path: &str, body: &[u8]) -> Result<Option<IdempotencyKey>, Problem> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().map(str::trim).filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY && k.bytes().all(|b| b.is_ascii_graphic()));
    let key =
        key.ok_or_else(|| Problem::new(StatusCode::BAD_REQUEST, format!("Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters")))?;
    Ok(Some(IdempotencyKey::of_request(key, method, path, body)))
}

/// A mutation of one vendor order as it came: the caller (401 before anything else),
/// the order's id, the headers that carry its preconditions, and the body, still raw
/// (`Mutation::act` reads it into its typed body).
pub struct Mutation {
    caller: VendorProfile,
    request: RawRequest,
}

impl FromRequest<App> for Mutation {
    type Rejection = Problem;

    async fn from_request(request: axum::extract::Request, app: &App) -> Result<Self, Problem> {
        let (mut parts, body) = request.into_parts();
        let Caller(caller) = Caller::from_request_parts(&mut parts, app).await?;
        let request = RawRequest::from_request(axum::extract::Request::from_parts(parts, body), app).await?;
        Ok(Mutation { caller, request })
    }
}

impl Mutation {
    /// Reads the body (400, 413 or 422) into `B` and asks it for the domain's command:
    /// parsed at the edge, so that the service is handed only a command that can be
    /// carried out (a tracking number already checked, a carrier name already bounded).
    /// With the preconditions, hands it to the service; answers the order with its
    /// version as the ETag.
    async fn act<B: DeserializeOwned>(self, action: &str, asks: impl FnOnce(B) -> Result<Command, Problem>) -> Result<Response, Problem> {
        let Mutation { caller, request: RawRequest { app, parameter: id, headers, body, .. } } = self;
        let bytes = body.map_err(body_rejection)?;
        let raw: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        let command = asks(json_body::<B>(raw)?)?;
        let pre =
            Preconditions { if_match: if_match(&headers)?, idempotency: idempotency(&headers, "POST", &format!("/vendor/orders/{id}/{action}"), &bytes)? };
        let order = vendor::act(&app, &caller.vendor_id, &id, command, &pre).await?;
        Ok(order_response(&app, &order, &caller))
    }
}

/// `POST …/supplier-order`: the vendor ordered the lines from its supplier.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::supplier_order_body))]
#[serde(deny_unknown_fields)]
pub struct SupplierOrderBody {
    /// The supplier's order number: 1-200 characters on one line.
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 1, max_length = 200))]
    supplier_order_ref: SupplierOrderRef,
    /// The line ids ordered under this reference (default: every line not yet ordered).
    #[serde(default)]
    lines: Option<Vec<String>>,
}

/// The vendor ordered the lines from its supplier.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/orders/{id}/supplier-order", tag = "orders", security(("bearer" = [])), params(ChangeParams), request_body = SupplierOrderBody, responses((status = 200, description = "Placed with the supplier: the order; its version in ETag", body = VendorOrderJson, headers(("ETag" = String, description = "The order\'s version, quoted (\"3\"): send it back as If-Match"))), VendorRefusals, (status = 409, description = "Not allowed in the order's state", body = Problem, content_type = "application/problem+json"), ChangeRefusals)))]
pub async fn supplier_order(mutation: Mutation) -> Result<Response, Problem> {
    mutation.act("supplier-order", |b: SupplierOrderBody| Ok(Command::PlaceWithSupplier { supplier_order_ref: b.supplier_order_ref, lines: b.lines })).await
}

/// `POST …/shipment`: the supplier shipped; the carrier is inferred when not given.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::shipment_body))]
#[serde(deny_unknown_fields)]
pub struct ShipmentBody {
    carrier: Option<String>,
    tracking_number: String,
    /// The line ids in this parcel (default: every ordered line not yet shipped).
    #[serde(default)]
    lines: Option<Vec<String>>,
}

/// The longest carrier name a vendor may type (the longest real one is far shorter).
const MAX_CARRIER_CHARS: usize = 100;

impl ShipmentBody {
    fn command(self) -> Result<Command, Problem> {
        Ok(Command::Ship { tracking: tracking_of(self.carrier, &self.tracking_number)?, lines: self.lines })
    }
}

/// The tracking number checked (its carrier's check digit), and the carrier named or
/// inferred from it; a carrier name is one line of at most 100 characters.
fn tracking_of(carrier: Option<String>, number: &str) -> Result<TrackingNumber, Problem> {
    let unprocessable = |detail: String| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail);
    if carrier.as_ref().is_some_and(|c| c.chars().count() > MAX_CARRIER_CHARS || c.chars().any(char::is_control)) {
        return Err(unprocessable(format!("carrier: at most {MAX_CARRIER_CHARS} characters, on one line")));
    }
    let carrier = carrier.filter(|c| !c.trim().is_empty()).map(|c| Carrier::from_name(&c));
    TrackingNumber::parse(number, carrier.as_ref()).map_err(|e| unprocessable(e.to_string()))
}

/// The supplier shipped: the tracking number (validated; the carrier inferred when not given).
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/orders/{id}/shipment", tag = "orders", security(("bearer" = [])), params(ChangeParams), request_body = ShipmentBody, responses((status = 200, description = "Shipped: the order; its version in ETag", body = VendorOrderJson, headers(("ETag" = String, description = "The order\'s version, quoted (\"3\"): send it back as If-Match"))), VendorRefusals, (status = 409, description = "Not allowed in the order's state, or the tracking number is another vendor's parcel", body = Problem, content_type = "application/problem+json"), ChangeRefusals)))]
pub async fn shipment(mutation: Mutation) -> Result<Response, Problem> {
    mutation.act("shipment", ShipmentBody::command).await
}

/// `PUT …/shipments/{number}`: the parcel's right number (and carrier), checked as a
/// shipment's is.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::correction_body))]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    carrier: Option<String>,
    tracking_number: String,
}

/// The parcel shipped under `{number}` has another, right, number: until it is
/// delivered it takes it, and the customer, the carrier feed and the storefront follow.
#[cfg_attr(feature = "openapi", utoipa::path(put, path = "/vendor/orders/{id}/shipments/{number}", tag = "orders", security(("bearer" = [])), params(ChangeParams, ("number" = String, Path, description = "The parcel's number as it was shipped")), request_body = CorrectionBody, responses((status = 200, description = "Corrected: the order; its version in ETag", body = VendorOrderJson, headers(("ETag" = String, description = "The order\'s version, quoted (\"3\"): send it back as If-Match"))), VendorRefusals, (status = 409, description = "Not allowed in the order's state (delivered), or the number is another vendor's parcel", body = Problem, content_type = "application/problem+json"), ChangeRefusals)))]
pub async fn correct_shipment(mutation: Mutation) -> Result<Response, Problem> {
    let from = mutation.request.more.first().cloned().unwrap_or_default();
    let action = format!("shipments/{from}");
    mutation.act(&action, |b: CorrectionBody| Ok(Command::CorrectTracking { from, to: tracking_of(b.carrier, &b.tracking_number)? })).await
}

/// `POST …/delivered`: no body needed.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::delivered_body))]
#[serde(deny_unknown_fields)]
pub struct DeliveredBody {
    /// The parcel that arrived (default: every parcel).
    #[serde(default)]
    tracking_number: Option<String>,
}

/// The parcel arrived.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/orders/{id}/delivered", tag = "orders", security(("bearer" = [])), params(ChangeParams), request_body = DeliveredBody, responses((status = 200, description = "Delivered: the order; its version in ETag", body = VendorOrderJson, headers(("ETag" = String, description = "The order\'s version, quoted (\"3\"): send it back as If-Match"))), VendorRefusals, (status = 409, description = "Not allowed in the order's state", body = Problem, content_type = "application/problem+json"), ChangeRefusals)))]
pub async fn delivered(mutation: Mutation) -> Result<Response, Problem> {
    mutation.act("delivered", |b: DeliveredBody| Ok(Command::MarkDelivered { tracking_number: b.tracking_number })).await
}

/// `POST …/cancel`: before shipment only, with the reason.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = crate::http::examples::cancel_body))]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    reason: String,
}

/// The vendor cannot fulfil the order: cancelled, before shipment only.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/orders/{id}/cancel", tag = "orders", security(("bearer" = [])), params(ChangeParams), request_body = CancelBody, responses((status = 200, description = "Cancelled (before shipment only): the order; its version in ETag", body = VendorOrderJson, headers(("ETag" = String, description = "The order\'s version, quoted (\"3\"): send it back as If-Match"))), VendorRefusals, (status = 409, description = "Not allowed in the order's state", body = Problem, content_type = "application/problem+json"), ChangeRefusals)))]
pub async fn cancel(mutation: Mutation) -> Result<Response, Problem> {
    mutation.act("cancel", |b: CancelBody| Ok(Command::Cancel { reason: b.reason })).await
}

#[derive(Deserialize)]
pub struct PageParams {
    cursor: Option<String>,
    limit: Option<String>,
}

/// The vendor's SKU mappings, by SKU.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/products", tag = "products", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "From the previous page"), ("limit" = Option<u32>, Query, description = "1-100, default 50", minimum = 1, maximum = 100)), responses((status = 200, description = "The vendor's SKU mappings", body = ProductPageJson), VendorRefusals)))]
pub async fn list_products(State(app): State<App>, Caller(caller): Caller, Query(params): Query<PageParams>) -> Result<Json<ProductPageJson>, Problem> {
    let limit = limit(params.limit.as_deref())?;
    let (products, cursor) = products::list(&app, &caller.vendor_id, params.cursor, limit).await?;
    Ok(Json(ProductPageJson { products: products.iter().map(ProductJson::from).collect(), cursor }))
}

/// Maps a SKU to the vendor and its supplier; lines waiting for the SKU are routed.
#[cfg_attr(feature = "openapi", utoipa::path(put, path = "/vendor/products/{sku}", tag = "products", security(("bearer" = [])), params(("sku" = String, Path, description = "The SKU, percent-encoded"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same request within 24 h; another request with it gets 422")), request_body = ProductBody, responses((status = 200, description = "Mapped; lines waiting for it are routed, or, when it is a claim on a SKU that orders wait for, once the operator approves it (awaiting_approval)", body = ProductJson), VendorRefusals, (status = 409, description = "Another vendor maps this SKU", body = Problem, content_type = "application/problem+json"), (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"), (status = 422, description = "A field is missing or wrong", body = Problem, content_type = "application/problem+json"))))]
pub async fn put_product(
    State(app): State<App>,
    Caller(caller): Caller,
    headers: HeaderMap,
    Path(sku): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ProductJson>, Problem> {
    let bytes = body.map_err(body_rejection)?;
    let body: ProductBody = json_body(&bytes)?;
    let key = idempotency(&headers, "PUT", &format!("/vendor/products/{sku}"), &bytes)?;
    let supplier_cost = body.supplier_cost.to_money().map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, format!("supplier_cost: {e}")))?;
    let automation = body.automation();
    let spec = ProductSpec {
        sku,
        supplier_name: body.supplier_name,
        product_url: body.product_url,
        supplier_cost,
        supplier_variant: body.supplier_variant,
        automation,
    };
    let (mapping, _) = products::map(&app, &caller.vendor_id, spec, products::MappedBy::Vendor, key.as_ref()).await?;
    Ok(Json(ProductJson::from(&mapping)))
}

/// One of the vendor's own SKU mappings.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/products/{sku}", tag = "products", security(("bearer" = [])), params(("sku" = String, Path, description = "The SKU, percent-encoded")), responses((status = 200, description = "The mapping", body = ProductJson), VendorRefusals, (status = 404, description = "Not one of this vendor's SKUs", body = Problem, content_type = "application/problem+json"))))]
pub async fn get_product(State(app): State<App>, Caller(caller): Caller, Path(sku): Path<String>) -> Result<Json<ProductJson>, Problem> {
    Ok(Json(ProductJson::from(&products::own(&app, &caller.vendor_id, &sku).await?)))
}

/// The vendor no longer sells the SKU.
#[cfg_attr(feature = "openapi", utoipa::path(delete, path = "/vendor/products/{sku}", tag = "products", security(("bearer" = [])), params(("sku" = String, Path, description = "The SKU, percent-encoded"), ("Idempotency-Key" = Option<String>, Header, description = "A repeat of the same request within 24 h is answered 204 again; another request with it gets 422")), responses((status = 204, description = "Unmapped"), VendorRefusals, (status = 404, description = "Not one of this vendor's SKUs", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The Idempotency-Key was used at once by another request", body = Problem, content_type = "application/problem+json"), (status = 422, description = "The Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"))))]
pub async fn delete_product(State(app): State<App>, Caller(caller): Caller, headers: HeaderMap, Path(sku): Path<String>) -> Result<StatusCode, Problem> {
    let key = idempotency(&headers, "DELETE", &format!("/vendor/products/{sku}"), b"")?;
    products::unmap(&app, &caller.vendor_id, &sku, key.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The vendor's balance per currency: held, available, in payout, paid out.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/balance", tag = "money", security(("bearer" = [])), responses((status = 200, description = "Held, available, in payout and paid out, per currency", body = BalancesJson), VendorRefusals)))]
pub async fn balance(State(app): State<App>, Caller(caller): Caller) -> Result<Json<BalancesJson>, Problem> {
    let balance = crate::services::money::balance(&app, &caller.vendor_id).await?;
    Ok(Json(BalancesJson::from(&balance)))
}

/// The vendor's payout batches, newest first.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/payouts", tag = "money", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "From the previous page"), ("limit" = Option<u32>, Query, description = "1-100, default 50", minimum = 1, maximum = 100)), responses((status = 200, description = "Payout batches, newest first", body = PayoutPageJson), VendorRefusals)))]
pub async fn payouts(State(app): State<App>, Caller(caller): Caller, Query(params): Query<PageParams>) -> Result<Json<PayoutPageJson>, Problem> {
    let limit = limit(params.limit.as_deref())?;
    let (payouts, cursor) = app.tables.payouts_of(&caller.vendor_id, params.cursor, limit).await.map_err(vendor::listing_error)?;
    Ok(Json(PayoutPageJson { payouts: payouts.iter().map(PayoutJson::from).collect(), cursor }))
}

/// The vendor's own scorecard: how the marketplace measures its service.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/scorecard", tag = "money", security(("bearer" = [])), responses((status = 200, description = "Each measure over its window, with its target and state", body = super::wire::ScorecardJson), VendorRefusals)))]
pub async fn scorecard(State(app): State<App>, Caller(caller): Caller) -> Result<Json<super::wire::ScorecardJson>, Problem> {
    let card = crate::services::scorecards::read(&app, &caller.vendor_id).await?;
    Ok(Json(super::wire::ScorecardJson::from(&card)))
}
