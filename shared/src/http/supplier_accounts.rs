//! `/vendor/suppliers*`: a vendor connects its own supplier accounts (CJ with its API
//! key; AliExpress through its OAuth flow, whose callback is the one vendor route
//! without a bearer key: the single-use state it brings back stands for the vendor)
//! and sees how long each authorization lasts. Tokens and keys never leave dropflow.

#[cfg(feature = "openapi")]
use super::openapi::parts::VendorRefusals;
use super::problem::{Problem, body_rejection, json_body};
use super::vendor::Caller;
use super::wire::{AuthorizeJson, CjConnectBody, SupplierAccountJson, SupplierAccountsJson, instant};
use crate::domain::supplier::SupplierApi;
use crate::services::App;
use crate::services::supplier;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::response::Redirect;
use serde::Deserialize;

/// The vendor's supplier accounts.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/suppliers", tag = "suppliers", security(("bearer" = [])), responses((status = 200, description = "The vendor's supplier accounts (never their tokens)", body = SupplierAccountsJson), VendorRefusals)))]
pub async fn list(State(app): State<App>, Caller(caller): Caller) -> Result<Json<SupplierAccountsJson>, Problem> {
    let now = app.clock.now();
    let accounts = app.tables.supplier_connections(&caller.vendor_id).await.map_err(crate::services::ServiceError::from)?;
    let mut available = vec![SupplierApi::Cj.as_str().to_string()];
    if app.config.suppliers.aliexpress_app.is_some() {
        available.insert(0, SupplierApi::Aliexpress.as_str().into());
    }
    Ok(Json(SupplierAccountsJson { accounts: accounts.iter().map(|c| SupplierAccountJson::new(c, now)).collect(), available }))
}

/// Connects the vendor's CJdropshipping account with its API key (replacing an earlier
/// connection): a token is fetched at once, so a wrong key is refused here.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/suppliers/cj", tag = "suppliers", security(("bearer" = [])), request_body = CjConnectBody, responses((status = 200, description = "Connected", body = SupplierAccountJson), VendorRefusals, (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"), (status = 422, description = "CJ refused the key, or a field is missing", body = Problem, content_type = "application/problem+json"), (status = 503, description = "CJ is unavailable (or allows no new token yet): try again later", body = Problem, content_type = "application/problem+json"))))]
pub async fn connect_cj(State(app): State<App>, Caller(caller): Caller, body: Result<Bytes, BytesRejection>) -> Result<Json<SupplierAccountJson>, Problem> {
    let bytes = body.map_err(body_rejection)?;
    let body: CjConnectBody = json_body(&bytes)?;
    let connection = supplier::connect(&app, &caller.vendor_id, SupplierApi::Cj, &body.api_key).await?;
    Ok(Json(SupplierAccountJson::new(&connection, app.clock.now())))
}

/// Starts the vendor's AliExpress authorization: the vendor's browser goes to
/// `authorize_url`, and AliExpress sends it back to the callback.
#[cfg_attr(feature = "openapi", utoipa::path(post, path = "/vendor/suppliers/aliexpress/authorize", tag = "suppliers", security(("bearer" = [])), responses((status = 200, description = "Where to send the vendor", body = AuthorizeJson), VendorRefusals, (status = 422, description = "The marketplace has no AliExpress app or no PUBLIC_BASE_URL", body = Problem, content_type = "application/problem+json"))))]
pub async fn authorize_aliexpress(State(app): State<App>, Caller(caller): Caller) -> Result<Json<AuthorizeJson>, Problem> {
    let (authorize_url, until) = supplier::authorize(&app, &caller.vendor_id).await?;
    Ok(Json(AuthorizeJson { authorize_url, expires_at: instant(until) }))
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
}

/// Where AliExpress sends the vendor back: the code is exchanged for the vendor's
/// credentials, and the browser goes on to the dashboard, which says how it went.
#[cfg_attr(feature = "openapi", utoipa::path(get, path = "/vendor/suppliers/aliexpress/callback", tag = "suppliers", params(("code" = Option<String>, Query, description = "AliExpress's authorization code"), ("state" = Option<String>, Query, description = "The state the authorization started with")), responses((status = 303, description = "To the dashboard: `?supplier_connected=aliexpress`, or `?supplier_error=` with the reason"))))]
pub async fn aliexpress_callback(State(app): State<App>, Query(params): Query<CallbackParams>) -> Redirect {
    let outcome = match (params.state.as_deref(), params.code.as_deref().filter(|c| !c.trim().is_empty())) {
        (Some(state), Some(code)) => supplier::authorized(&app, state, code).await.map_err(|e| Problem::from(e).detail),
        _ => Err("AliExpress sent no authorization code back (was it declined?)".to_string()),
    };
    let query = match outcome {
        Ok(_) => "supplier_connected=aliexpress".to_string(),
        Err(reason) => url::form_urlencoded::Serializer::new(String::new()).append_pair("supplier_error", &reason).finish(),
    };
    // Relative to the callback (…/vendor/suppliers/aliexpress/callback), under any
    // stage prefix.
    Redirect::to(&format!("../../app?{query}#suppliers"))
}
