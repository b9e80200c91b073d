//! `/operator/*`: the operator API, behind operator keys only (`dropflow operator key
//! create`). The `Operator` extractor turns the bearer key into the signed-in operator
//! once (401 without a key, 403 with a vendor's); each handler calls one service of
//! `services::console` or `services::operator`, and every act carries a reason into the
//! order's history.

#[cfg(feature = "openapi")]
use super::openapi::parts::OperatorRefusals;
use super::operator_wire::{
    AddressFixBody, DeadLetterJson, DeadLettersJson, DecisionJson, DecisionsJson, ExtendBody, GiveBody, OperatorJson, OperatorOrderDetailJson,
    OperatorOrderJson, OperatorOrderPageJson, OperatorVendorJson, OperatorVendorsJson, ReasonBody, ResendBody, VoidBody,
};
use super::operator_wire::{MarkPaidBody, PayoutRunJson, PendingPayoutJson, PendingPayoutsJson};
use super::operator_wire::{OperatorScorecardsJson, OperatorVendorDetailJson, VendorKeyJson, VendorScorecardJson};
use super::problem::{Problem, body_rejection, json_body};
use super::wire::ScorecardJson;
use crate::domain::ids::OrderId;
use crate::domain::sla::ClockKind;
use crate::services::App;
use crate::services::console::{self, Act, Find, GivenSupplier};
use crate::store::OperatorKey;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Deserialize;

/// The page size when a listing names none, and the largest it may name.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 100;

/// The operator whose bearer key came with the request.
pub struct Operator(pub OperatorKey);

impl FromRequestParts<App> for Operator {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let key = value.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, key)| key.trim());
        Ok(Operator(crate::services::operator::authenticate_operator(app, key).await?))
    }
}

/// An act that needs only its reason: the operator (401 or 403 before the body is read),
/// then the body `{"reason"}`.
pub struct Reasoned {
    operator: OperatorKey,
    reason: String,
}

impl FromRequest<App> for Reasoned {
    type Rejection = Problem;

    async fn from_request(request: axum::extract::Request, app: &App) -> Result<Self, Problem> {
        let (mut parts, raw) = request.into_parts();
        let Operator(operator) = Operator::from_request_parts(&mut parts, app).await?;
        let raw = Bytes::from_request(axum::extract::Request::from_parts(parts, raw), app).await;
        let ReasonBody { reason } = body(raw)?;
        Ok(Reasoned { operator, reason })
    }
}

impl Reasoned {
    fn act(&self) -> Act<'_> {
        Act { by: &self.operator.name, reason: &self.reason, key: None }
    }
}

/// An act on one order as it came: the operator (401 or 403 before anything else), the
/// order's id, the body read as `B`, and the request's `Idempotency-Key` with its
/// fingerprint (method, path, body), so that a retry of an act whose answer was lost
/// does nothing again.
pub struct OrderAct<B> {
    operator: OperatorKey,
    id: OrderId,
    body: B,
    key: Option<crate::services::vendor::IdempotencyKey>,
}

impl<B: serde::de::DeserializeOwned> FromRequest<App> for OrderAct<B> {
    type Rejection = Problem;

    async fn from_request(request: axum::extract::Request, app: &App) -> Result<Self, Problem> {
        let (mut parts, raw) = request.into_parts();
        let Operator(operator) = Operator::from_request_parts(&mut parts, app).await?;
        let Path(id) = Path::<String>::from_request_parts(&mut parts, app).await.map_err(|e| Problem::new(StatusCode::NOT_FOUND, e.body_text()))?;
        let path = parts.uri.path().to_string();
        let headers = parts.headers.clone();
        let bytes = Bytes::from_request(axum::extract::Request::from_parts(parts, raw), app).await.map_err(body_rejection)?;
        let key = super::vendor::idempotency(&headers, "POST", &path, &bytes)?;
        Ok(OrderAct { operator, id: order_id(&id)?, body: json_body(&bytes)?, key })
    }
}

impl<B> OrderAct<B> {
    /// The act by this operator, for `reason`.
    fn act<'a>(&'a self, reason: &'a str) -> Act<'a> {
        Act { by: &self.operator.name, reason, key: self.key.as_ref() }
    }

    /// The answer to an act: the order as it stands now, without its mail
    /// (`show_order_acted_on`: few reads after the commit).
    async fn answer(self, app: App) -> Result<Json<OperatorOrderDetailJson>, Problem> {
        let report = crate::services::operator::show_order_acted_on(&app, &self.id).await?;
        Ok(Json(OperatorOrderDetailJson::new(&report)))
    }
}

/// A body read as `T` (413 too large, 400 not JSON, 422 wrong fields).
fn body<T: serde::de::DeserializeOwned>(raw: Result<Bytes, BytesRejection>) -> Result<T, Problem> {
    json_body(&raw.map_err(body_rejection)?)
}

fn order_id(id: &str) -> Result<OrderId, Problem> {
    OrderId::parse(id).map_err(|e| Problem::new(StatusCode::NOT_FOUND, format!("no order {id:?}: {e}")))
}

/// Who is signed in: the console's sign-in check.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/me", tag = "operator", security(("operator" = [])), responses((status = 200, description = "The operator key's holder", body = OperatorJson), OperatorRefusals)))]
pub async fn me(Operator(operator): Operator) -> Json<OperatorJson> {
    Json(OperatorJson { name: operator.name })
}

#[derive(Deserialize)]
pub struct FindParams {
    q: Option<String>,
    state: Option<String>,
    vendor: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

/// Every order, newest first; or those `q` names (a storefront number, a dropflow id,
/// a customer's email, a tracking number); or one vendor's.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/orders", tag = "operator", security(("operator" = [])), params(("q" = Option<String>, Query, description = "A storefront order number (#1001), a dropflow order id, a customer's email or a tracking number"), ("state" = Option<String>, Query, description = "held, routed, cancelled, void or parked; with vendor, a vendor-order state"), ("vendor" = Option<String>, Query, description = "Only this vendor's orders"), ("cursor" = Option<String>, Query, description = "From the previous page"), ("limit" = Option<u32>, Query, description = "1-100, default 50", minimum = 1, maximum = 100)), responses((status = 200, description = "The orders, newest first", body = OperatorOrderPageJson), OperatorRefusals)))]
pub async fn orders(State(app): State<App>, Operator(_): Operator, Query(params): Query<FindParams>) -> Result<Json<OperatorOrderPageJson>, Problem> {
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| Problem::new(StatusCode::BAD_REQUEST, format!("limit must be a whole number from 1 to {MAX_LIMIT}")))?,
    };
    let find = Find { q: params.q.as_deref(), state: params.state.as_deref(), vendor: params.vendor.as_deref(), cursor: params.cursor, limit };
    let (records, cursor) = console::find(&app, find).await?;
    Ok(Json(OperatorOrderPageJson { orders: records.iter().map(OperatorOrderJson::from).collect(), cursor }))
}

/// One order whole: its lines and where each stands, its vendor orders with their
/// history, what the operator did to it, and the mail it sent.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/orders/{id}", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dropflow order id")), responses((status = 200, description = "The order", body = OperatorOrderDetailJson), OperatorRefusals, (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"))))]
pub async fn order(State(app): State<App>, Operator(_): Operator, Path(id): Path<String>) -> Result<Json<OperatorOrderDetailJson>, Problem> {
    let report = crate::services::operator::show_order(&app, &order_id(&id)?).await?;
    Ok(Json(OperatorOrderDetailJson::new(&report)))
}

/// Gives lines that wait for a vendor to a vendor, who is briefed; or a vendor's part
/// nothing of which was ordered from the supplier, whole (its vendor is told).
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/orders/{id}/give", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dropflow order id"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the act is not done again (its answer is the order as it stands); with another request, 422")), request_body = GiveBody, responses((status = 200, description = "Given: the order as it stands now (its mail and write-backs are listed by GET /operator/orders/{id})", body = OperatorOrderDetailJson), OperatorRefusals, (status = 404, description = "No such order or vendor", body = Problem, content_type = "application/problem+json"), (status = 409, description = "A line neither waits for a vendor nor is in a part not yet ordered from the supplier (named whole), or cannot be sent", body = Problem, content_type = "application/problem+json"), (status = 422, description = "No reason, or the vendor does not map the SKU and no supplier was given", body = Problem, content_type = "application/problem+json"))))]
pub async fn give(State(app): State<App>, request: OrderAct<GiveBody>) -> Result<Json<OperatorOrderDetailJson>, Problem> {
    let body = &request.body;
    let supplier = match &body.supplier {
        None => None,
        Some(s) => Some(GivenSupplier {
            supplier_name: s.supplier_name.clone(),
            product_url: s.product_url.clone(),
            supplier_cost: s.cost.to_money().map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, format!("supplier.cost: {e}")))?,
        }),
    };
    console::give_lines(&app, &request.id, &body.lines, &body.vendor, supplier.as_ref(), request.act(&body.reason)).await?;
    request.answer(app).await
}

/// Voids lines that wait for a vendor: the customer is told they will be refunded.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/orders/{id}/void", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dropflow order id"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the act is not done again (its answer is the order as it stands); with another request, 422")), request_body = VoidBody, responses((status = 200, description = "Voided: the order as it stands now (its mail and write-backs are listed by GET /operator/orders/{id})", body = OperatorOrderDetailJson), OperatorRefusals, (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"), (status = 409, description = "No line named waits for a vendor", body = Problem, content_type = "application/problem+json"), (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"))))]
pub async fn void(State(app): State<App>, request: OrderAct<VoidBody>) -> Result<Json<OperatorOrderDetailJson>, Problem> {
    console::void_lines(&app, &request.id, &request.body.lines, request.act(&request.body.reason)).await?;
    request.answer(app).await
}

/// Ships the order to a new address: its unshipped vendor orders take it (their vendors
/// are mailed), and it stands against the storefront's updates that still carry the old one.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/orders/{id}/address", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dropflow order id"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the act is not done again (its answer is the order as it stands); with another request, 422")), request_body = AddressFixBody, responses((status = 200, description = "Fixed: the order as it stands now (its mail and write-backs are listed by GET /operator/orders/{id})", body = OperatorOrderDetailJson), OperatorRefusals, (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The order ships nowhere, or to that address already", body = Problem, content_type = "application/problem+json"), (status = 422, description = "No reason, or an address a carrier does not take", body = Problem, content_type = "application/problem+json"))))]
pub async fn address(State(app): State<App>, request: OrderAct<AddressFixBody>) -> Result<Json<OperatorOrderDetailJson>, Problem> {
    let address = request.body.address.clone().parse().map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, format!("address.{e}")))?;
    console::fix_address(&app, &request.id, &address, request.act(&request.body.reason)).await?;
    request.answer(app).await
}

/// Sends one mail the order sent again, to one who got it, composed from the order as
/// it stands now.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/orders/{id}/resend", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dropflow order id"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the act is not done again (its answer is the order as it stands); with another request, 422")), request_body = ResendBody, responses((status = 200, description = "Sent again: the order as it stands now (its mail and write-backs are listed by GET /operator/orders/{id})", body = OperatorOrderDetailJson), OperatorRefusals, (status = 404, description = "No such order, or its event is no longer kept", body = Problem, content_type = "application/problem+json"), (status = 409, description = "That event sent no mail to that address", body = Problem, content_type = "application/problem+json"), (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"))))]
pub async fn resend(State(app): State<App>, request: OrderAct<ResendBody>) -> Result<Json<OperatorOrderDetailJson>, Problem> {
    let body = &request.body;
    console::resend_mail(&app, &request.id, &body.event_id, &body.to, request.act(&body.reason)).await?;
    request.answer(app).await
}

/// Gives a vendor more time for one step of its vendor order in the order; the vendor
/// is mailed the new deadline.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/orders/{id}/extend", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dropflow order id"), ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same request, the act is not done again (its answer is the order as it stands); with another request, 422")), request_body = ExtendBody, responses((status = 200, description = "Extended: the order as it stands now (its mail and write-backs are listed by GET /operator/orders/{id})", body = OperatorOrderDetailJson), OperatorRefusals, (status = 404, description = "No such order, or the vendor has no open vendor order in it", body = Problem, content_type = "application/problem+json"), (status = 409, description = "The vendor order is done", body = Problem, content_type = "application/problem+json"), (status = 422, description = "No reason, an unknown clock or one that does not run, or hours out of range", body = Problem, content_type = "application/problem+json"))))]
pub async fn extend(State(app): State<App>, request: OrderAct<ExtendBody>) -> Result<Json<OperatorOrderDetailJson>, Problem> {
    let body = &request.body;
    let kind = ClockKind::parse(&body.clock).ok_or_else(|| {
        let known: Vec<&str> = ClockKind::ALL.iter().map(|k| k.as_str()).collect();
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, format!("clock: one of {}", known.join(", ")))
    })?;
    console::extend_clock(&app, &request.id, &body.vendor, kind, body.hours, request.act(&body.reason)).await?;
    request.answer(app).await
}

/// Every vendor, by id, with its state.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/vendors", tag = "operator", security(("operator" = [])), responses((status = 200, description = "The vendors", body = OperatorVendorsJson), OperatorRefusals)))]
pub async fn vendors(State(app): State<App>, Operator(_): Operator) -> Result<Json<OperatorVendorsJson>, Problem> {
    let vendors = crate::services::operator::list_vendors(&app).await?;
    Ok(Json(OperatorVendorsJson { vendors: vendors.iter().map(OperatorVendorJson::from).collect() }))
}

/// Holds a vendor for review: its new orders wait, not routed, until released.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/vendors/{id}/hold", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The vendor's id")), request_body = ReasonBody, responses((status = 200, description = "Held", body = OperatorVendorJson), OperatorRefusals, (status = 404, description = "No such vendor", body = Problem, content_type = "application/problem+json"))))]
pub async fn hold(State(app): State<App>, Path(id): Path<String>, said: Reasoned) -> Result<Json<OperatorVendorJson>, Problem> {
    let (profile, _) = console::set_vendor_state(&app, &id, console::VendorState::Hold(true), said.act()).await?;
    Ok(Json(OperatorVendorJson::from(&profile)))
}

/// Releases a held vendor: the orders that waited for it are routed to it.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/vendors/{id}/release", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The vendor's id")), request_body = ReasonBody, responses((status = 200, description = "Released", body = OperatorVendorJson), OperatorRefusals, (status = 404, description = "No such vendor", body = Problem, content_type = "application/problem+json"))))]
pub async fn release(State(app): State<App>, Path(id): Path<String>, said: Reasoned) -> Result<Json<OperatorVendorJson>, Problem> {
    let (profile, _) = console::set_vendor_state(&app, &id, console::VendorState::Hold(false), said.act()).await?;
    Ok(Json(OperatorVendorJson::from(&profile)))
}

/// Every dead letter, oldest first, without its body.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/dead-letters", tag = "operator", security(("operator" = [])), responses((status = 200, description = "The dead letters", body = DeadLettersJson), OperatorRefusals)))]
pub async fn dead_letters(State(app): State<App>, Operator(_): Operator) -> Result<Json<DeadLettersJson>, Problem> {
    let letters = console::dead_letters(&app).await?;
    Ok(Json(DeadLettersJson { dead_letters: letters.iter().map(|l| DeadLetterJson::new(l, false)).collect() }))
}

/// One dead letter with its body, as it will be replayed.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/dead-letters/{id}", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dead letter's id")), responses((status = 200, description = "The letter and its body", body = DeadLetterJson), OperatorRefusals, (status = 404, description = "No such dead letter", body = Problem, content_type = "application/problem+json"))))]
pub async fn dead_letter(State(app): State<App>, Operator(_): Operator, Path(id): Path<String>) -> Result<Json<DeadLetterJson>, Problem> {
    let (_, letter) = console::dead_letter(&app, &id).await?;
    Ok(Json(DeadLetterJson::new(&letter, true)))
}

/// Sends one dead letter back to its queue.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/dead-letters/{id}/replay", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dead letter's id")), request_body = ReasonBody, responses((status = 204, description = "Sent back to its queue"), OperatorRefusals, (status = 404, description = "No such dead letter", body = Problem, content_type = "application/problem+json"))))]
pub async fn replay(State(app): State<App>, Path(id): Path<String>, said: Reasoned) -> Result<StatusCode, Problem> {
    console::replay_dead_letter(&app, &id, said.act()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes one dead letter that is not to be processed.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/dead-letters/{id}/discard", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The dead letter's id")), request_body = ReasonBody, responses((status = 204, description = "Deleted"), OperatorRefusals, (status = 404, description = "No such dead letter", body = Problem, content_type = "application/problem+json"))))]
pub async fn discard(State(app): State<App>, Path(id): Path<String>, said: Reasoned) -> Result<StatusCode, Problem> {
    console::discard_dead_letter(&app, &id, said.act()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The pending payouts with where each goes: the payment run.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/payouts", tag = "operator", security(("operator" = [])), responses((status = 200, description = "Pending payouts, oldest first", body = PendingPayoutsJson), OperatorRefusals)))]
pub async fn payouts(State(app): State<App>, Operator(_): Operator) -> Result<Json<PendingPayoutsJson>, Problem> {
    let run = crate::services::money::payment_run(&app).await?;
    let payouts = run
        .iter()
        .map(|(payout, vendor)| PendingPayoutJson {
            vendor_id: payout.vendor_id.to_string(),
            name: vendor.as_ref().map(|v| v.name.clone()).unwrap_or_default(),
            email: vendor.as_ref().map(|v| v.email.to_string()).unwrap_or_default(),
            payee: vendor.as_ref().and_then(|v| v.payee.clone()),
            payout: payout.into(),
        })
        .collect();
    Ok(Json(PendingPayoutsJson { payouts }))
}

/// The payment run as a CSV for the bank or PayPal (`dropflow payouts export --csv`):
/// payouts whose vendor has no payee are left out (the JSON listing shows them).
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/payouts/export", tag = "operator", security(("operator" = [])), responses((status = 200, description = "vendor_id, name, email, payee, currency, amount, payout_id; a row per payable pending payout", body = String, content_type = "text/csv"), OperatorRefusals)))]
pub async fn export_payouts(State(app): State<App>, Operator(_): Operator) -> Result<impl axum::response::IntoResponse, Problem> {
    let (csv, _) = crate::services::money::payment_run_csv(&app).await?;
    let headers = [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"payouts.csv\"")];
    Ok((headers, csv))
}

/// Runs the payouts now, as the daily payout-release does.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/payouts/run", tag = "operator", security(("operator" = [])), request_body = ReasonBody, responses((status = 200, description = "What the run did", body = PayoutRunJson), OperatorRefusals, (status = 422, description = "No reason", body = Problem, content_type = "application/problem+json"))))]
pub async fn run_payouts(State(app): State<App>, said: Reasoned) -> Result<Json<PayoutRunJson>, Problem> {
    let report = console::run_payouts(&app, said.act()).await?;
    Ok(Json(PayoutRunJson { released: report.released, payouts: report.payouts, below_minimum: report.below_minimum, refused: report.refused }))
}

/// Records that a payout was transferred: its amount moves to paid out, the vendor is
/// mailed. Again with the same reference changes nothing.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/payouts/{id}/paid", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The payout's id")), request_body = MarkPaidBody, responses((status = 200, description = "Paid", body = super::wire::PayoutJson), OperatorRefusals, (status = 404, description = "No such payout", body = Problem, content_type = "application/problem+json"), (status = 409, description = "Paid already with another reference", body = Problem, content_type = "application/problem+json"), (status = 422, description = "No reason or no reference", body = Problem, content_type = "application/problem+json"))))]
pub async fn mark_paid(
    State(app): State<App>,
    Operator(operator): Operator,
    Path(id): Path<String>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Json<super::wire::PayoutJson>, Problem> {
    let request: MarkPaidBody = body(raw)?;
    let act = Act { by: &operator.name, reason: &request.reason, key: None };
    let paid = console::mark_payout_paid(&app, &id, &request.reference, act).await?;
    Ok(Json((&paid).into()))
}

/// What waits for a decision, oldest first.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/queue", tag = "operator", security(("operator" = [])), responses((status = 200, description = "Waiting lines, dead letters and SKU claims, oldest first", body = DecisionsJson), OperatorRefusals)))]
pub async fn queue(State(app): State<App>, Operator(_): Operator) -> Result<Json<DecisionsJson>, Problem> {
    let now = app.clock.now();
    let decisions = console::decisions(&app).await?;
    let decisions = decisions
        .into_iter()
        .map(|d| DecisionJson {
            kind: d.kind.into(),
            subject: d.subject,
            detail: d.detail,
            since: d.since.map(super::wire::instant),
            age_hours: d.since.map(|since| (now - since).num_hours()),
        })
        .collect();
    Ok(Json(DecisionsJson { decisions }))
}

/// Approves a vendor's claim on a SKU: the orders that waited for it are routed.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/products/{sku}/approve", tag = "operator", security(("operator" = [])), params(("sku" = String, Path, description = "The SKU, percent-encoded")), request_body = ReasonBody, responses((status = 204, description = "Approved; waiting lines routed"), OperatorRefusals, (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"))))]
pub async fn approve(State(app): State<App>, Path(sku): Path<String>, said: Reasoned) -> Result<StatusCode, Problem> {
    console::decide_claim(&app, &sku, true, said.act()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses a vendor's claim on a SKU: the mapping is removed, its orders keep waiting.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/products/{sku}/refuse", tag = "operator", security(("operator" = [])), params(("sku" = String, Path, description = "The SKU, percent-encoded")), request_body = ReasonBody, responses((status = 204, description = "Refused"), OperatorRefusals, (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"))))]
pub async fn refuse(State(app): State<App>, Path(sku): Path<String>, said: Reasoned) -> Result<StatusCode, Problem> {
    console::decide_claim(&app, &sku, false, said.act()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every vendor's scorecard, by vendor id.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/scorecards", tag = "operator", security(("operator" = [])), responses((status = 200, description = "Each vendor with its scorecard", body = OperatorScorecardsJson), OperatorRefusals)))]
pub async fn scorecards(State(app): State<App>, Operator(_): Operator) -> Result<Json<OperatorScorecardsJson>, Problem> {
    let mut vendors = Vec::new();
    for vendor in crate::services::operator::list_vendors(&app).await? {
        let card = crate::services::scorecards::read(&app, &vendor.vendor_id).await?;
        vendors.push(VendorScorecardJson { vendor: OperatorVendorJson::from(&vendor), scorecard: ScorecardJson::from(&card) });
    }
    Ok(Json(OperatorScorecardsJson { vendors }))
}

/// One vendor whole: profile, balance, keys (never the keys themselves), products and
/// scorecard.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/operator/vendors/{id}", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The vendor's id")), responses((status = 200, description = "The vendor", body = OperatorVendorDetailJson), OperatorRefusals, (status = 404, description = "No such vendor", body = Problem, content_type = "application/problem+json"))))]
pub async fn vendor(State(app): State<App>, Operator(_): Operator, Path(id): Path<String>) -> Result<Json<OperatorVendorDetailJson>, Problem> {
    let vendor_id = crate::domain::ids::VendorId::parse(&id).map_err(|e| Problem::new(StatusCode::NOT_FOUND, format!("no vendor {id:?}: {e}")))?;
    let profile = app.tables.vendor(&vendor_id).await.map_err(crate::services::ServiceError::from)?;
    let profile = profile.ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, format!("no vendor {id}")))?;
    let balance = crate::services::money::balance(&app, &vendor_id).await?;
    let keys = crate::services::operator::list_keys(&app, &id).await?;
    let products = crate::services::operator::all_products(&app, Some(&vendor_id)).await?;
    let card = crate::services::scorecards::read(&app, &vendor_id).await?;
    Ok(Json(OperatorVendorDetailJson {
        vendor: OperatorVendorJson::from(&profile),
        balance: (&balance).into(),
        keys: keys
            .iter()
            .map(|k| VendorKeyJson {
                prefix: k.prefix.clone(),
                created_at: super::wire::instant(k.created_at),
                last_used: k.last_used.map(|d| d.to_string()),
                revoked: k.revoked,
            })
            .collect(),
        products: products.iter().map(super::wire::ProductJson::from).collect(),
        scorecard: ScorecardJson::from(&card),
    }))
}

/// Suspends a vendor: its keys get 403 and its SKUs route to no one until resumed.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/vendors/{id}/suspend", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The vendor's id")), request_body = ReasonBody, responses((status = 200, description = "Suspended", body = OperatorVendorJson), OperatorRefusals, (status = 404, description = "No such vendor", body = Problem, content_type = "application/problem+json"))))]
pub async fn suspend(State(app): State<App>, Path(id): Path<String>, said: Reasoned) -> Result<Json<OperatorVendorJson>, Problem> {
    let (profile, _) = console::set_vendor_state(&app, &id, console::VendorState::Suspend(true), said.act()).await?;
    Ok(Json(OperatorVendorJson::from(&profile)))
}

/// Resumes a suspended vendor: the lines that waited for its SKUs are routed.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/operator/vendors/{id}/resume", tag = "operator", security(("operator" = [])), params(("id" = String, Path, description = "The vendor's id")), request_body = ReasonBody, responses((status = 200, description = "Resumed", body = OperatorVendorJson), OperatorRefusals, (status = 404, description = "No such vendor", body = Problem, content_type = "application/problem+json"))))]
pub async fn resume(State(app): State<App>, Path(id): Path<String>, said: Reasoned) -> Result<Json<OperatorVendorJson>, Problem> {
    let (profile, _) = console::set_vendor_state(&app, &id, console::VendorState::Suspend(false), said.act()).await?;
    Ok(Json(OperatorVendorJson::from(&profile)))
}
