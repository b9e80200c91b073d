//! Accepting a storefront webhook: verify its signature on the raw bytes, check that it
//! is what its topic says, and enqueue it for intake. Nothing is routed or mailed here,
//! so the storefront gets its answer at once.

use super::{App, ServiceError};
use crate::ports::{MAX_MESSAGE_BYTES, QueueName};
use crate::sources::{self, IntakeMessage, Parsed, Source};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The base64 HMAC-SHA256 of `body` under `secret`: what a storefront sends and
/// `signature_matches` checks. For the storefront's side where dropflow plays it (the
/// demo, the load generator, the tests).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

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

/// Which shop's secret verified `body`, for a source whose secrets are per shop
/// (`shop=secret` entries; a bare secret is the shop ""). `claimed` (an unsigned header)
/// only narrows which secrets are tried; it never names the shop by itself.
pub fn verified_shop(secrets: &[String], claimed: Option<&str>, body: &[u8], signature: Option<&str>) -> Option<String> {
    secrets
        .iter()
        .map(|entry| match entry.split_once('=') {
            Some((shop, secret)) if !shop.trim().is_empty() => (shop.trim().to_lowercase(), secret.trim().to_string()),
            _ => (String::new(), entry.clone()),
        })
        .filter(|(shop, _)| claimed.is_none_or(|c| c.trim().eq_ignore_ascii_case(shop) || shop.is_empty()))
        .find(|(_, secret)| signature_matches(std::slice::from_ref(secret), body, signature))
        .map(|(shop, _)| shop)
}

/// What happened to an accepted webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Queued,
    Ignored(String),
}

/// The shop of a delivery whose storefront names none.
pub const UNKNOWN_SHOP: &str = "unknown-shop";

/// A webhook as it arrived: its source, what its headers said, its raw bytes.
pub struct Delivery {
    pub source: &'static dyn Source,
    pub signature: Option<String>,
    pub topic: String,
    pub shop: String,
    pub delivery_id: Option<String>,
    pub body: Vec<u8>,
}

/// Verifies `delivery` on its raw bytes before reading anything else (an unsigned body
/// is a 401 whatever it holds), checks that it is what its topic says, and enqueues it.
pub async fn accept(app: &App, delivery: Delivery) -> Result<Accepted, ServiceError> {
    let source = delivery.source;
    // The shop the signature proves, under the secrets held now; a failure reads the
    // secret again (a rotation a warm process has not seen) and tries once more.
    let verify = |secrets: &[String]| {
        if source.per_shop_secrets() {
            let claimed = Some(delivery.shop.as_str()).filter(|s| !s.is_empty() && *s != UNKNOWN_SHOP);
            verified_shop(secrets, claimed, &delivery.body, delivery.signature.as_deref())
        } else {
            signature_matches(secrets, &delivery.body, delivery.signature.as_deref()).then(|| delivery.shop.clone())
        }
    };
    let now = app.clock.now();
    app.secrets.ready().await?;
    let shop = match verify(&app.secrets.accepted(source.name(), now)) {
        Some(shop) => shop,
        None if app.secrets.reread(source.name()).await => verify(&app.secrets.accepted(source.name(), now)).ok_or(ServiceError::Unauthorized)?,
        None => return Err(ServiceError::Unauthorized),
    };
    if let Some(shops) = app.config.shop_allow_lists.get(source.name())
        && !shops.contains(&shop.trim().to_lowercase())
    {
        return Err(ServiceError::Unauthorized);
    }
    let body = String::from_utf8(delivery.body).map_err(|_| ServiceError::BadRequest("the body is not UTF-8 JSON".into()))?;
    let claimed_shop = Some(delivery.shop).filter(|s| !s.is_empty() && s != UNKNOWN_SHOP);
    let message = IntakeMessage { source: source.name().to_string(), topic: delivery.topic, shop, claimed_shop, delivery_id: delivery.delivery_id, body };
    match sources::parse(&message).map_err(|e| ServiceError::BadRequest(e.0))? {
        Parsed::Ignored(reason) => Ok(Accepted::Ignored(reason)),
        Parsed::Order(..) | Parsed::Refund(_) | Parsed::Privacy(_) | Parsed::Tracking(_) | Parsed::Deleted { .. } => {
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
        signature(secret, body)
    }

    #[test]
    fn a_signature_from_any_current_secret_matches() {
        let secrets = vec!["old".to_string(), "new".to_string()];
        assert!(signature_matches(&secrets, b"{}", Some(&sign("new", b"{}"))));
        assert!(signature_matches(&secrets, b"{}", Some(&sign("old", b"{}"))));
    }

    #[test]
    fn the_shop_is_the_one_whose_secret_verified_the_body() {
        let secrets = vec!["alpha.example=sa".to_string(), "beta.example=sb".to_string()];
        assert_eq!(verified_shop(&secrets, None, b"{}", Some(&sign("sb", b"{}"))).as_deref(), Some("beta.example"));
        assert_eq!(verified_shop(&secrets, Some("beta.example"), b"{}", Some(&sign("sb", b"{}"))).as_deref(), Some("beta.example"));
        assert_eq!(verified_shop(&secrets, Some("alpha.example"), b"{}", Some(&sign("sb", b"{}"))), None, "the header picks the secret, never the shop");
        assert_eq!(verified_shop(&["one".to_string()], Some("any.example"), b"{}", Some(&sign("one", b"{}"))).as_deref(), Some(""));
        assert_eq!(verified_shop(&secrets, None, b"{}", Some(&sign("nope", b"{}"))), None);
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
