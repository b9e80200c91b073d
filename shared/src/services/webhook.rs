//! Accepting a storefront webhook: verify its signature on the raw bytes, check that it
//! is what its topic says, and enqueue it for intake. Nothing is routed or mailed here,
//! so the storefront gets its answer at once.

use super::{App, ServiceError};
use crate::ports::{MAX_MESSAGE_BYTES, QueueName};
use crate::sources::{self, IntakeMessage, Parsed};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// True when `signature` is the base64 HMAC-SHA256 of `body` under one of `secrets`,
/// compared in constant time.
pub fn signature_matches(secrets: &[String], body: &[u8], signature: Option<&str>) -> bool {
    let Some(expected) = signature.and_then(|s| STANDARD.decode(s.trim()).ok()) else {
        return false;
    };
    secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

/// What happened to an accepted webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Queued,
    Ignored(String),
}

/// Verifies and enqueues `message`, signed with `signature`.
pub async fn accept(app: &App, message: IntakeMessage, signature: Option<&str>) -> Result<Accepted, ServiceError> {
    let secrets = match message.source.as_str() {
        "shopify" => &app.config.shopify_secrets,
        other => return Err(ServiceError::NotFound(format!("no webhook source {other:?}"))),
    };
    if !signature_matches(secrets, message.body.as_bytes(), signature) {
        return Err(ServiceError::Unauthorized);
    }
    let shops = &app.config.shopify_shop_domains;
    if message.source == "shopify" && !shops.is_empty() && !shops.contains(&message.shop.trim().to_lowercase()) {
        return Err(ServiceError::Unauthorized);
    }
    match sources::parse(&message).map_err(|e| ServiceError::BadRequest(e.0))? {
        Parsed::Ignored(reason) => Ok(Accepted::Ignored(reason)),
        Parsed::Order(_) => {
            let body = message.encode();
            if body.len() > MAX_MESSAGE_BYTES {
                return Err(ServiceError::TooLarge(format!(
                    "the webhook is {} bytes once wrapped for the intake queue, over its limit of {MAX_MESSAGE_BYTES}",
                    body.len()
                )));
            }
            app.publisher.publish(QueueName::Intake, body).await?;
            Ok(Accepted::Queued)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn a_signature_from_any_current_secret_matches() {
        let secrets = vec!["old".to_string(), "new".to_string()];
        assert!(signature_matches(&secrets, b"{}", Some(&sign("new", b"{}"))));
        assert!(signature_matches(&secrets, b"{}", Some(&sign("old", b"{}"))));
    }

    #[test]
    fn a_wrong_missing_or_garbled_signature_does_not() {
        let secrets = vec!["s".to_string()];
        assert!(!signature_matches(&secrets, b"{}", Some(&sign("other", b"{}"))));
        assert!(!signature_matches(&secrets, b"{ }", Some(&sign("s", b"{}"))));
        assert!(!signature_matches(&secrets, b"{}", None));
        assert!(!signature_matches(&secrets, b"{}", Some("not base64!")));
        assert!(!signature_matches(&[], b"{}", Some(&sign("", b"{}"))));
    }
}
