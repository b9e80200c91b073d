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
