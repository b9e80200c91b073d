//! Errors as RFC 9457 `application/problem+json`: one mapping from every service error
//! to a status and a sentence that says what is wrong.

use crate::services::ServiceError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An HTTP error answer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub status: StatusCode,
    pub title: String,
    pub detail: String,
    #[serde(rename = "status")]
    code: u16,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem { status, title: status.canonical_reason().unwrap_or("Error").to_string(), detail: detail.into(), code: status.as_u16() }
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
            ServiceError::Store(_) | ServiceError::Queue(_) | ServiceError::Mail(_) | ServiceError::Busy { .. } => {
                tracing::error!(%error, "request failed");
                return Problem::new(StatusCode::SERVICE_UNAVAILABLE, "a backing service failed; retry shortly");
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
}
