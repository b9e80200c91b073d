//! SES's feedback: a permanent bounce or a complaint suppresses the address, so that no
//! mail goes to it again (mailing dead or unwilling addresses is what gets an SES
//! account reviewed, then paused, every vendor's supplier brief with it). The feedback
//! arrives on the notify queue, the event bus (SES's configuration set publishes to an
//! SNS topic the queue subscribes to); the notifier skips a suppressed address and
//! records the skip in the mail's sent marker.

use super::{App, ServiceError};
use crate::store::Suppression;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// The longest address kept (RFC 5321 allows 254; anything longer is not an address).
const MAX_ADDRESS: usize = 320;

/// The suppressions a queue message calls for, when it is SES feedback (an SES event or
/// notification, raw or in SNS's envelope): empty for feedback that suppresses nothing
/// (a transient bounce, a delivery). None when it is not SES feedback at all.
pub fn feedback(body: &str, now: DateTime<Utc>) -> Option<Vec<Suppression>> {
    let mut message: Value = serde_json::from_str(body).ok()?;
    if message["Type"] == "Notification"
        && let Some(inner) = message["Message"].as_str()
    {
        message = serde_json::from_str(inner).ok()?;
    }
    let kind = message.get("eventType").or_else(|| message.get("notificationType"))?.as_str()?.to_string();
    message.get("mail")?.as_object()?;
    let addresses = |list: &Value| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["emailAddress"].as_str())
            .map(|a| a.trim().to_lowercase())
            .filter(|a| !a.is_empty() && a.len() <= MAX_ADDRESS && a.contains('@'))
            .collect()
    };
    let entries = match kind.as_str() {
        // A transient bounce (mailbox full, greylisting) may deliver next time.
        "Bounce" if message["bounce"]["bounceType"] == "Permanent" => addresses(&message["bounce"]["bouncedRecipients"])
            .into_iter()
            .map(|email| {
                let detail = message["bounce"]["bouncedRecipients"]
                    .as_array()
                    .and_then(|rs| rs.iter().find(|r| r["emailAddress"].as_str().is_some_and(|a| a.trim().eq_ignore_ascii_case(&email))))
                    .and_then(|r| r["diagnosticCode"].as_str())
                    .or(message["bounce"]["bounceSubType"].as_str())
                    .map(|d| d.chars().take(500).collect());
                Suppression { email, reason: "bounce".into(), detail, at: now }
            })
            .collect(),
        "Complaint" => {
            let detail = message["complaint"]["complaintFeedbackType"].as_str().map(str::to_string);
            addresses(&message["complaint"]["complainedRecipients"])
                .into_iter()
                .map(|email| Suppression { email, reason: "complaint".into(), detail: detail.clone(), at: now })
                .collect()
        }
        _ => Vec::new(),
    };
    Some(entries)
}

/// Keeps each suppression; how many addresses it suppressed.
pub async fn record(app: &App, suppressions: &[Suppression]) -> Result<usize, ServiceError> {
    for suppression in suppressions {
        app.tables.suppress(suppression).await?;
        tracing::info!(reason = %suppression.reason, "address suppressed");
    }
    crate::metrics::count(crate::metrics::Metric::MailsSuppressed, suppressions.len());
    Ok(suppressions.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    const BOUNCE: &str = r#"{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"Bob@Mail.Example","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2026-11-22T09:59:00.000Z","feedbackId":"f-1"},"mail":{"timestamp":"2026-11-22T09:58:00.000Z","source":"orders@shop.example","messageId":"m-1","destination":["Bob@Mail.Example"]}}"#;

    #[test]
    fn a_permanent_bounce_suppresses_the_address_lower_cased_with_the_servers_words() {
        let found = feedback(BOUNCE, now()).unwrap();
        assert_eq!(
            found,
            [Suppression { email: "bob@mail.example".into(), reason: "bounce".into(), detail: Some("smtp; 550 5.1.1 user unknown".into()), at: now() }]
        );
    }

    #[test]
    fn feedback_in_snss_envelope_is_read_the_same() {
        let wrapped = serde_json::json!({ "Type": "Notification", "MessageId": "sns-1", "Message": BOUNCE }).to_string();
        assert_eq!(feedback(&wrapped, now()), feedback(BOUNCE, now()));
    }

    #[test]
    fn a_complaint_suppresses_and_a_transient_bounce_or_a_delivery_does_not() {
        let complaint = r#"{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"eve@x.example"}],"complaintFeedbackType":"abuse"},"mail":{"messageId":"m-2"}}"#;
        assert_eq!(feedback(complaint, now()).unwrap()[0].reason, "complaint");
        let transient = BOUNCE.replace("\"Permanent\"", "\"Transient\"");
        assert_eq!(feedback(&transient, now()), Some(Vec::new()));
        assert_eq!(feedback(r#"{"eventType":"Delivery","mail":{"messageId":"m-3"}}"#, now()), Some(Vec::new()));
    }

    #[test]
    fn a_domain_event_or_junk_is_not_feedback() {
        assert_eq!(feedback(r#"{"event_id":"e-1","type":"order_accepted","occurred_at":"2026-11-22T10:00:00Z"}"#, now()), None);
        assert_eq!(feedback("not json", now()), None);
        assert_eq!(feedback(r#"{"eventType":"Bounce"}"#, now()), None, "no mail object: not SES's");
        let hostile = BOUNCE.replace("Bob@Mail.Example", "<script>@x");
        assert_eq!(feedback(&hostile, now()).unwrap()[0].email, "<script>@x", "kept as data; mail templates escape it");
    }
}
