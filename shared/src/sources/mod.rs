//! Storefront wire formats, turned into the canonical order. Only this module knows
//! what a Shopify payload looks like.

pub mod shopify;

use crate::domain::order::CanonicalOrder;

/// A verified webhook as the intake queue carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntakeMessage {
    pub source: String,
    pub topic: String,
    pub shop: String,
    /// The storefront's delivery or event id, when it sends one.
    pub delivery_id: Option<String>,
    pub body: String,
}

/// The first word of an intake message in the framed form.
const FRAME: &str = "dropflow-intake/1 ";

/// The routing facts of an intake message, without its body.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    source: String,
    topic: String,
    shop: String,
    delivery_id: Option<String>,
}

impl IntakeMessage {
    /// The queue message: one line of JSON header, then the storefront's body byte for
    /// byte. Nothing in the body is escaped, so a body fits a queue message whenever it
    /// fits with a few hundred bytes to spare (as JSON, every quote of it would double).
    pub fn encode(&self) -> String {
        let header = Header { source: self.source.clone(), topic: self.topic.clone(), shop: self.shop.clone(), delivery_id: self.delivery_id.clone() };
        let header = serde_json::to_string(&header).unwrap_or_else(|_| "{}".into());
        format!("{FRAME}{header}\n{}", self.body)
    }

    /// Reads a queue message in the framed form, or as one JSON object (the form of
    /// earlier releases, still in queues and dead letters).
    pub fn decode(text: &str) -> Result<IntakeMessage, String> {
        let Some(framed) = text.strip_prefix(FRAME) else {
            return serde_json::from_str(text).map_err(|e| e.to_string());
        };
        let (header, body) = framed.split_once('\n').ok_or("a framed message without a body line")?;
        let header: Header = serde_json::from_str(header).map_err(|e| format!("header: {e}"))?;
        Ok(IntakeMessage { source: header.source, topic: header.topic, shop: header.shop, delivery_id: header.delivery_id, body: body.to_string() })
    }
}

/// What a payload means for dropflow.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// An order (created, paid, updated or cancelled): the canonical form.
    Order(Box<CanonicalOrder>),
    /// A topic dropflow does not act on; the reason says which.
    Ignored(String),
}

/// Why a payload is not what its topic promises: the storefront's request is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(pub String);

/// Parses a verified payload of `source`.
pub fn parse(message: &IntakeMessage) -> Result<Parsed, PayloadError> {
    match message.source.as_str() {
        "shopify" => shopify::parse(&message.topic, &message.shop, message.body.as_bytes()),
        other => Err(PayloadError(format!("unknown source {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_message_carries_the_body_byte_for_byte_and_the_old_form_still_reads() {
        let message = IntakeMessage { source: "shopify".into(), topic: "orders/paid".into(), shop: "s\nx".into(), delivery_id: None, body: "{\"a\":\"\\\"\"}\n\nline".into() };
        let encoded = message.encode();
        assert_eq!(encoded.len(), message.body.len() + encoded.find('\n').unwrap() + 1, "the body is not escaped");
        assert_eq!(IntakeMessage::decode(&encoded).unwrap(), message);
        let old = serde_json::to_string(&message).unwrap();
        assert_eq!(IntakeMessage::decode(&old).unwrap(), message);
        assert!(IntakeMessage::decode("not a message").is_err());
    }
}
