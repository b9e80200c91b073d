//! Errors as RFC 9457 `application/problem+json`: one mapping from every service error
//! to a status and a sentence that says what is wrong.

use crate::services::ServiceError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An HTTP error answer: `type` is `about:blank` (RFC 9457: the status says what kind
/// of problem it is, and `title` is the status's phrase); `detail` says what is wrong
/// with this request, naming the field.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"type": "about:blank", "title": "Unprocessable Entity", "status": 422, "detail": "1Z5R89390357567128 looks like a UPS 1Z number but its check digit is wrong (a typo?)"})))]
pub struct Problem {
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub status: StatusCode,
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(rename = "type", value_type = String, example = "about:blank"))]
    kind: &'static str,
    pub title: String,
    pub detail: String,
    #[serde(rename = "status")]
    code: u16,
}

impl Problem {
    /// The problem of `status`, with what is wrong.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        let title = status.canonical_reason().unwrap_or("Error").to_string();
        Problem { status, kind: "about:blank", title, detail: detail.into(), code: status.as_u16() }
    }
}

impl From<ServiceError> for Problem {
    fn from(error: ServiceError) -> Problem {
        let status = match &error {
            ServiceError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ServiceError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            // A change that would make a record too large can never fit: no retry helps.
            ServiceError::Store(crate::ports::StoreError::TooLarge(reason)) => {
                return Problem::new(StatusCode::PAYLOAD_TOO_LARGE, format!("the change would make a record too large to keep: {reason}"));
            }
            ServiceError::Store(crate::ports::StoreError::BadCursor) => StatusCode::BAD_REQUEST,
            // What a retry can mend (an outage, throttling, a lost race, a claim held):
            // 503, retry shortly.
            _ if error.is_retryable() => {
                tracing::error!(%error, "request failed; a retry may succeed");
                return Problem::new(StatusCode::SERVICE_UNAVAILABLE, "a backing service failed; retry shortly");
            }
            // What no retry mends (a stored item that does not read, a request the store
            // refuses, a template, a mail refused for good): 500, naming it (no body,
            // no personal data is in these texts: keys and causes).
            ServiceError::Store(_)
            | ServiceError::Queue(_)
            | ServiceError::Mail(_)
            | ServiceError::Template(_)
            | ServiceError::Feed(_)
            | ServiceError::Internal(_)
            | ServiceError::Busy { .. }
            | ServiceError::Vault(_) => {
                tracing::error!(%error, "request failed; a retry cannot help");
                return Problem::new(StatusCode::INTERNAL_SERVER_ERROR, format!("an internal error: {error}"));
            }
        };
        Problem::new(status, error.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&self).unwrap_or_else(|_| "{}".into());
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Reads a request body as JSON of `T`, or says what is wrong with it: 400 for what is
/// not JSON, 422 naming the field that is missing or of the wrong type.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let (path, inner) = (e.path().to_string(), e.inner());
        if !inner.is_data() {
            return Problem::new(StatusCode::BAD_REQUEST, format!("the body is not JSON: {inner}"));
        }
        let at = if path == "." { String::new() } else { format!("{path}: ") };
        Problem::new(StatusCode::UNPROCESSABLE_ENTITY, format!("invalid body: {at}{inner}"))
    })
}

/// Maps axum's body rejection (too large, unreadable) to a problem.
/// A request as it came, for the handlers that must verify or check before reading:
/// its path parameters (a 400 when malformed), its headers, and its raw body read
/// within the body limit (a failure kept for the handler to answer after what it checks
/// first). The webhooks and the vendor order mutations start from it.
pub struct RawRequest {
    pub app: crate::services::App,
    /// The first path parameter (the source, the order's id).
    pub parameter: String,
    /// The path parameters after the first (a parcel's number).
    pub more: Vec<String>,
    pub headers: axum::http::HeaderMap,
    pub body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
}

impl axum::extract::FromRequest<crate::services::App> for RawRequest {
    type Rejection = Problem;

    async fn from_request(request: axum::extract::Request, app: &crate::services::App) -> Result<Self, Problem> {
        use axum::extract::{FromRequestParts, Path};
        let (mut parts, body) = request.into_parts();
        let Path(mut parameters) = Path::<Vec<String>>::from_request_parts(&mut parts, app).await.map_err(|e| Problem::new(e.status(), e.body_text()))?;
        let parameter = if parameters.is_empty() { String::new() } else { parameters.remove(0) };
        let headers = parts.headers.clone();
        let body = axum::body::Bytes::from_request(axum::extract::Request::from_parts(parts, body), app).await;
        Ok(RawRequest { app: app.clone(), parameter, more: parameters, headers, body })
    }
}

pub fn body_rejection(rejection: axum::extract::rejection::BytesRejection) -> Problem {
    Problem::new(rejection.status(), rejection.body_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_too_large_to_keep_is_413_with_the_reason_never_503() {
        let problem = Problem::from(ServiceError::Store(crate::ports::StoreError::TooLarge("its field shipments alone is about 500000 bytes".into())));
        assert_eq!(problem.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(problem.detail.contains("shipments"), "{}", problem.detail);
        let outage = Problem::from(ServiceError::Store(crate::ports::StoreError::Unavailable("down".into())));
        assert_eq!(outage.status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn a_stored_item_that_does_not_read_is_500_naming_its_key_and_only_what_a_retry_mends_is_503() {
        let unreadable = ServiceError::Store(crate::ports::StoreError::Unreadable { key: "ORDER#o_1/VO#a".into(), reason: "missing field state".into() });
        let problem = Problem::from(unreadable);
        assert_eq!(problem.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(problem.detail.contains("ORDER#o_1/VO#a"), "{}", problem.detail);
        for retryable in [
            ServiceError::Store(crate::ports::StoreError::ConditionFailed),
            ServiceError::Mail(crate::ports::MailError::transient("Throttling")),
            ServiceError::Feed(crate::ports::FeedError("AfterShip answered 503".into())),
            // A webhook secret not read yet: the storefront redelivers, never a 401.
            ServiceError::Vault(crate::ports::SecretError::Unavailable("Secrets Manager timed out".into())),
        ] {
            assert!(retryable.is_retryable(), "{retryable}");
            assert_eq!(Problem::from(retryable).status, StatusCode::SERVICE_UNAVAILABLE);
        }
        for lasting in [
            ServiceError::Mail(crate::ports::MailError::permanent("MessageRejected: Email address is not verified")),
            ServiceError::Template(askama::Error::Fmt),
            ServiceError::Store(crate::ports::StoreError::Refused("two operations on item x/y".into())),
        ] {
            assert!(!lasting.is_retryable(), "{lasting}: parked at once, not retried ten times");
            assert_eq!(Problem::from(lasting).status, StatusCode::INTERNAL_SERVER_ERROR);
        }
        assert_eq!(Problem::from(ServiceError::Store(crate::ports::StoreError::BadCursor)).status, StatusCode::BAD_REQUEST);
    }
}
