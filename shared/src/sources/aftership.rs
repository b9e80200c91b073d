//! AfterShip's tracking webhook (`POST /webhooks/tracking/aftership`): a base64
//! HMAC-SHA256 of the raw body in `aftership-hmac-sha256`, with
//! `AFTERSHIP_WEBHOOK_SECRET`; the body is `{"event", "event_id", "ts", "msg":
//! {"tracking_number", "slug", "tag", "subtag", "checkpoints": [...]}}`. Only
//! `tracking_update` events are acted on; the tag says what the news means.

use super::{Parsed, PayloadError, Source, TrackingUpdate};
use crate::domain::vendor_order::CarrierStatus;
use serde::Deserialize;

/// AfterShip's tracking feed.
pub struct AfterShip;

/// The longest tracking number, event id and checkpoint text taken (longer is no real
/// carrier's, or is cut).
const MAX_NUMBER: usize = 64;
const MAX_ID: usize = 128;
const MAX_TEXT: usize = 500;

#[derive(Deserialize)]
struct Body {
    event: Option<String>,
    event_id: Option<String>,
    msg: Option<Msg>,
}

#[derive(Deserialize)]
struct Msg {
    tracking_number: Option<String>,
    slug: Option<String>,
    tag: Option<String>,
    #[serde(default)]
    checkpoints: Vec<CheckpointBody>,
}

#[derive(Deserialize)]
struct CheckpointBody {
    message: Option<String>,
    location: Option<String>,
    city: Option<String>,
    country_name: Option<String>,
    checkpoint_time: Option<String>,
}

/// What an AfterShip tag means for the order (None: nothing to act on, e.g. `Pending`).
pub fn status_of(tag: &str) -> Option<CarrierStatus> {
    match tag {
        "InfoReceived" | "InTransit" | "OutForDelivery" | "AvailableForPickup" => Some(CarrierStatus::InTransit),
        "Delivered" => Some(CarrierStatus::Delivered),
        "AttemptFail" | "Exception" | "Expired" => Some(CarrierStatus::Exception),
        _ => None,
    }
}

/// Free text from the carrier, without control characters, cut to `MAX_TEXT`.
fn text(value: Option<String>) -> Option<String> {
    let clean: String = value?.chars().filter(|c| !c.is_control()).take(MAX_TEXT).collect();
    let clean = clean.trim().to_string();
    (!clean.is_empty()).then_some(clean)
}

impl Source for AfterShip {
    fn name(&self) -> &'static str {
        "aftership"
    }
    fn secret_variable(&self) -> &'static str {
        "AFTERSHIP_WEBHOOK_SECRET"
    }
    fn local_secret(&self) -> &'static str {
        "dropflow-local-aftership-secret"
    }
    fn signature_header(&self) -> &'static str {
        "aftership-hmac-sha256"
    }
    fn topic_header(&self) -> Option<&'static str> {
        None
    }
    fn is_carrier_feed(&self) -> bool {
        true
    }

    fn parse(&self, _topic: &str, _shop: &str, body: &[u8]) -> Result<Parsed, PayloadError> {
        let body: Body = serde_json::from_slice(body).map_err(|e| PayloadError(format!("not an AfterShip webhook: {e}")))?;
        match body.event.as_deref() {
            Some("tracking_update") => {}
            other => return Ok(Parsed::Ignored(format!("AfterShip event {:?} is not a tracking update", other.unwrap_or("")))),
        }
        let event_id = body
            .event_id
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty() && id.len() <= MAX_ID)
            .ok_or_else(|| PayloadError(format!("event_id: required, at most {MAX_ID} characters")))?;
        let msg = body.msg.ok_or_else(|| PayloadError("msg: required".into()))?;
        let tracking_number = msg
            .tracking_number
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty() && n.len() <= MAX_NUMBER && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .ok_or_else(|| PayloadError(format!("msg.tracking_number: required, at most {MAX_NUMBER} letters, digits or '-'")))?;
        let tag = msg.tag.unwrap_or_default();
        let Some(status) = status_of(&tag) else {
            return Ok(Parsed::Ignored(format!("AfterShip tag {tag:?} needs nothing done")));
        };
        let last = msg.checkpoints.into_iter().last();
        let (message, location, checkpoint_at) = match last {
            Some(c) => {
                let place = c.location.or_else(|| Some([c.city, c.country_name].into_iter().flatten().collect::<Vec<_>>().join(", ")));
                let at = c.checkpoint_time.and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&chrono::Utc));
                (text(c.message), text(place), at)
            }
            None => (None, None, None),
        };
        Ok(Parsed::Tracking(Box::new(TrackingUpdate {
            feed: self.name().into(),
            event_id,
            tracking_number,
            slug: text(msg.slug),
            status,
            tag: tag.chars().filter(|c| c.is_ascii_alphanumeric()).take(40).collect(),
            message,
            location,
            checkpoint_at,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(tag: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "event": "tracking_update", "event_id": "7f4bb0c7-0c2f-4d8f-9d3e-2b0b7a6f1e11", "ts": 1795000000, "is_tracking_first_tag": true,
            "msg": {"tracking_number": "1Z5R89390357567127", "slug": "ups", "tag": tag, "subtag": format!("{tag}_001"),
                "checkpoints": [{"checkpoint_time": "2026-11-21T08:00:00+01:00", "city": "Louisville", "country_name": "USA", "message": "Arrived at facility\u{7}", "tag": tag}]}
        }))
        .unwrap()
    }

    #[test]
    fn every_tag_group_means_what_the_issue_says() {
        for (tag, status) in [
            ("InfoReceived", CarrierStatus::InTransit),
            ("InTransit", CarrierStatus::InTransit),
            ("OutForDelivery", CarrierStatus::InTransit),
            ("AvailableForPickup", CarrierStatus::InTransit),
            ("Delivered", CarrierStatus::Delivered),
            ("AttemptFail", CarrierStatus::Exception),
            ("Exception", CarrierStatus::Exception),
            ("Expired", CarrierStatus::Exception),
        ] {
            let Parsed::Tracking(update) = AfterShip.parse("", "", &body(tag)).unwrap() else { panic!("{tag}") };
            assert_eq!((update.status, update.tag.as_str()), (status, tag));
            assert_eq!(update.location.as_deref(), Some("Louisville, USA"));
            assert_eq!(update.message.as_deref(), Some("Arrived at facility"), "control characters are dropped");
            assert_eq!(update.checkpoint_at.map(|t| t.to_rfc3339()).as_deref(), Some("2026-11-21T07:00:00+00:00"));
        }
        assert!(matches!(AfterShip.parse("", "", &body("Pending")).unwrap(), Parsed::Ignored(_)));
    }

    #[test]
    fn other_events_are_ignored_and_a_hostile_number_is_refused() {
        let edd = serde_json::to_vec(&serde_json::json!({"event": "edd_revise", "event_id": "x", "msg": {}})).unwrap();
        assert!(matches!(AfterShip.parse("", "", &edd).unwrap(), Parsed::Ignored(_)));
        let hostile =
            serde_json::to_vec(&serde_json::json!({"event": "tracking_update", "event_id": "x", "msg": {"tracking_number": "1Z<script>", "tag": "InTransit"}}))
                .unwrap();
        assert!(AfterShip.parse("", "", &hostile).is_err());
        assert!(AfterShip.parse("", "", b"[]").is_err());
    }
}
