//! Storefront wire formats, turned into the canonical order. Each storefront is one
//! module behind the `Source` trait (its headers, signature, ping, topics and parse), and
//! one line in `SOURCES`: nothing outside this module names a storefront. A carrier
//! feed (AfterShip) is a source too, posting to `/webhooks/tracking/{name}`.

pub mod aftership;
pub mod generic;
pub mod shopify;
pub mod woocommerce;

use crate::domain::address::{Address, AddressParts};
use crate::domain::ids::Sku;

/// A storefront's order as its webhook posts it: the fields dropflow reads of each
/// (Shopify's and WooCommerce's are their own order objects, with many more fields; the
/// generic one is dropflow's canonical order). Only the OpenAPI document uses it.
#[cfg(feature = "openapi")]
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(crate) enum StorefrontOrder {
    /// `POST /webhooks/shopify` (Shopify's order object, REST Admin API).
    Shopify(shopify::ShopifyOrder),
    /// `POST /webhooks/woocommerce` (WooCommerce's order object, REST API v3).
    WooCommerce(woocommerce::WooOrder),
    /// `POST /webhooks/generic`.
    Generic(generic::GenericOrder),
}

/// One storefront's webhook conventions. The signature is always a base64 HMAC-SHA256 of
/// the raw body, verified before anything else is read.
pub trait Source: Sync {
    /// The path segment (`/webhooks/{name}`) and the `source` of its orders.
    fn name(&self) -> &'static str;
    /// The environment variable with its signing secrets (a comma-separated list during
    /// a rotation).
    fn secret_variable(&self) -> &'static str;
    /// The secret the local binary verifies with when `secret_variable` is unset: public,
    /// for development only (`serve` warns of each in use).
    fn local_secret(&self) -> &'static str;
    /// The environment variable with an optional allow-list of its shops.
    fn shops_variable(&self) -> Option<&'static str> {
        None
    }
    /// The header with the signature.
    fn signature_header(&self) -> &'static str;
    /// The header naming the topic (None: the body says it).
    fn topic_header(&self) -> Option<&'static str>;
    /// Whether it is a carrier's tracking feed (`/webhooks/tracking/{name}`) rather than
    /// a storefront (`/webhooks/{name}`).
    fn is_carrier_feed(&self) -> bool {
        false
    }
    /// The header naming the shop. Unsigned: for display and the allow-list only, never
    /// part of an order's identity.
    fn shop_header(&self) -> Option<&'static str> {
        None
    }
    /// The shop a value of `shop_header` names, as orders are filed under it (WooCommerce
    /// sends its site URL, and files orders under the site's host).
    fn shop_of_header(&self, value: &str) -> String {
        value.to_string()
    }
    /// The headers with the storefront's delivery or event id, the first present wins.
    fn delivery_headers(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether an unsigned request is the storefront's harmless ping (answered 200,
    /// nothing done).
    fn is_ping(&self, _header: &dyn Fn(&str) -> Option<String>, _body: &[u8]) -> bool {
        false
    }
    /// Whether its secrets may be `shop=secret` pairs, one per shop: then the shop is the
    /// one whose secret verified the body, and the shop header only picks which to try.
    fn per_shop_secrets(&self) -> bool {
        false
    }
    /// What a verified body of `topic` from `shop` means.
    fn parse(&self, topic: &str, shop: &str, body: &[u8]) -> Result<Parsed, PayloadError>;
}

/// Every storefront dropflow takes webhooks from.
pub static SOURCES: &[&dyn Source] = &[&shopify::Shopify, &woocommerce::WooCommerce, &generic::Generic, &aftership::AfterShip];

/// "First Last", or None when both are blank.
fn full_name(first: &Option<String>, last: &Option<String>) -> Option<String> {
    let name = [first.as_deref(), last.as_deref()].into_iter().flatten().map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    (!name.is_empty()).then_some(name)
}

/// The shipping address, or why it is not usable: an order is kept either way, its lines
/// unroutable with the reason when there is no address to ship to.
fn shipping_address(parts: AddressParts) -> (Option<Address>, Option<String>) {
    match Address::parse(parts) {
        Ok(address) => (Some(address), None),
        Err(problem) => (None, Some(format!("the shipping address is not usable: {problem}"))),
    }
}

/// The order's total as the storefront states it; an unreadable one is only its display
/// figure, so the lines' sum stands in.
fn order_total(
    stated: Option<crate::domain::money::DecimalText>,
    lines: &[crate::domain::order::OrderLine],
    currency: crate::domain::money::Currency,
) -> crate::domain::money::Money {
    use crate::domain::money::Money;
    stated
        .and_then(|t| t.to_money(currency).ok())
        .or_else(|| lines.iter().try_fold(Money::zero(currency), |sum, l| sum.checked_add(l.paid).ok()))
        .unwrap_or(Money::zero(currency))
}

/// A line's SKU: none when blank, or the reason it is not one.
fn line_sku(text: Option<&str>, problems: &mut Vec<String>) -> Option<Sku> {
    match text.map(str::trim) {
        None | Some("") => None,
        Some(text) => Sku::parse(text).map_err(|e| problems.push(e.to_string())).ok(),
    }
}

/// A language tag as storefronts send one (`de`, `en-US`, `pt_BR`), when it reads as
/// one: 2-3 letters, then subtags of letters and digits; anything else is no language.
fn language_tag(text: Option<&str>) -> Option<String> {
    let tag = text?.trim().replace('_', "-");
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let fits = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && tag.len() <= 35;
    fits.then_some(tag)
}

/// An id the storefront sends as a string or a number, as text.
fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The refunds an order lists (an array, one object, or nothing), each read as `T` and
/// turned into a notice by `notice`; one that cannot be read is kept with the reason (the
/// operator is told), never dropped and never a reason to refuse the order.
fn listed_refunds<T: serde::de::DeserializeOwned>(
    order_id: &crate::domain::ids::OrderId,
    listed: serde_json::Value,
    notice: impl Fn(T) -> RefundNotice,
) -> Vec<RefundNotice> {
    let entries = match listed {
        serde_json::Value::Null => return Vec::new(),
        serde_json::Value::Array(entries) => entries,
        other => vec![other],
    };
    entries
        .into_iter()
        .enumerate()
        .map(|(n, entry)| {
            let id = entry.get("id").filter(|id| !id.is_null()).map_or_else(|| format!("refunds[{n}]"), text_of);
            match serde_json::from_value::<T>(entry) {
                Ok(refund) => notice(refund),
                Err(e) => RefundNotice {
                    order_id: order_id.clone(),
                    refund_id: id,
                    lines: Vec::new(),
                    unassigned: None,
                    problem: Some(format!("an unreadable refund: {e}")),
                },
            }
        })
        .collect()
}

/// The storefront of `/webhooks/{name}`.
pub fn source(name: &str) -> Option<&'static dyn Source> {
    SOURCES.iter().copied().find(|s| s.name() == name)
}

use crate::domain::order::CanonicalOrder;

/// A verified webhook as the intake queue carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntakeMessage {
    pub source: String,
    pub topic: String,
    /// The shop that signed content names (for a source with per-shop secrets, the
    /// one whose secret verified the body).
    pub shop: String,
    /// The shop the unsigned header names: only ever used to pick among orders already
    /// filed (an id-only delete), never to file one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_shop: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claimed_shop: Option<String>,
    delivery_id: Option<String>,
}

impl IntakeMessage {
    /// The queue message: one line of JSON header, then the storefront's body byte for
    /// byte. Nothing in the body is escaped, so a body fits a queue message whenever it
    /// fits with a few hundred bytes to spare (as JSON, every quote of it would double).
    pub fn encode(&self) -> String {
        let header = Header {
            source: self.source.clone(),
            topic: self.topic.clone(),
            shop: self.shop.clone(),
            claimed_shop: self.claimed_shop.clone(),
            delivery_id: self.delivery_id.clone(),
        };
        let header = serde_json::to_string(&header).unwrap_or_else(|_| "{}".into());
        format!("{FRAME}{header}\n{}", self.body)
    }

    /// Reads a queue message in the framed form, as a Shopify webhook that came through
    /// Amazon EventBridge (`shopify::from_eventbridge`), or as one JSON object (the form
    /// of earlier releases, still in queues and dead letters).
    pub fn decode(text: &str) -> Result<IntakeMessage, String> {
        let Some(framed) = text.strip_prefix(FRAME) else {
            if let Some(message) = shopify::from_eventbridge(text) {
                return message;
            }
            return serde_json::from_str(text).map_err(|e| e.to_string());
        };
        let (header, body) = framed.split_once('\n').ok_or("a framed message without a body line")?;
        let header: Header = serde_json::from_str(header).map_err(|e| format!("header: {e}"))?;
        Ok(IntakeMessage {
            source: header.source,
            topic: header.topic,
            shop: header.shop,
            claimed_shop: header.claimed_shop,
            delivery_id: header.delivery_id,
            body: body.to_string(),
        })
    }
}

/// What a payload means for dropflow.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// An order (created, paid, updated or cancelled): the canonical form, with the
    /// refunds the storefront lists on it (the generic JSON's `refunds`, WooCommerce's).
    Order(Box<CanonicalOrder>, Vec<RefundNotice>),
    /// Money given back on some of an order's lines.
    Refund(Box<RefundNotice>),
    /// A privacy request about a customer's orders or a whole shop.
    Privacy(PrivacyRequest),
    /// A carrier's news of a parcel.
    Tracking(Box<TrackingUpdate>),
    /// A storefront deleted an order and said only its id (WooCommerce's `{"id": N}`):
    /// it cancels the order of that id already filed under `shop`, and never files one.
    /// `shop` is what signed content says (the verifying secret's site); when it says
    /// nothing, the delivery's shop header picks among the orders already filed.
    Deleted { source: String, shop: Option<String>, external_id: String },
    /// A topic dropflow does not act on; the reason says which.
    Ignored(String),
}

/// A refund as a storefront reports it: which lines, how many, how much (a decimal in
/// the order's currency, read exactly once the order's currency is known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundNotice {
    pub order_id: crate::domain::ids::OrderId,
    pub refund_id: String,
    pub lines: Vec<RefundedLine>,
    /// An amount given back without saying on which lines (WooCommerce lists an
    /// order's refunds as totals only): recorded on the line of a one-line order, else
    /// the operator splits it.
    pub unassigned: Option<crate::domain::money::DecimalText>,
    /// Why the storefront's refund could not be read: kept, and the operator told.
    pub problem: Option<String>,
}

impl RefundNotice {
    /// A refund of `order_id` with its lines.
    pub fn of_lines(order_id: crate::domain::ids::OrderId, refund_id: String, lines: Vec<RefundedLine>) -> RefundNotice {
        RefundNotice { order_id, refund_id, lines, unassigned: None, problem: None }
    }
}

/// What a storefront asks about personal data (Shopify's mandatory privacy topics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivacyRequest {
    /// Erase the customer's personal data from these orders.
    RedactOrders { orders: Vec<crate::domain::ids::OrderId> },
    /// Erase the personal data of every order of a shop (it left the marketplace).
    RedactShop { source: String, shop: String },
    /// The customer asked what is held about them: the operator is sent what dropflow
    /// holds of these orders, to answer within the law's deadline.
    /// `storefront_ids` are the orders' ids at the storefront, in the same order: what
    /// the operator is told of a requested order dropflow does not hold.
    DataRequest { request_id: String, orders: Vec<crate::domain::ids::OrderId>, storefront_ids: Vec<String> },
}

/// A carrier feed's news of one parcel, as the vendor order takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingUpdate {
    /// The feed it came from (`aftership`), whose event ids it is deduplicated on.
    pub feed: String,
    pub event_id: String,
    pub tracking_number: String,
    /// The feed's carrier name (`ups`), as it says it.
    pub slug: Option<String>,
    pub status: crate::domain::vendor_order::CarrierStatus,
    /// The feed's own status word (`InTransit`).
    pub tag: String,
    pub message: Option<String>,
    pub location: Option<String>,
    pub checkpoint_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One refunded line of a `RefundNotice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundedLine {
    pub line_id: String,
    pub quantity: u32,
    pub amount: crate::domain::money::DecimalText,
}

/// Why a payload is not what its topic promises: the storefront's request is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(pub String);

/// Parses a verified payload of its source.
pub fn parse(message: &IntakeMessage) -> Result<Parsed, PayloadError> {
    let parsed = match source(&message.source) {
        Some(source) => source.parse(&message.topic, &message.shop, message.body.as_bytes())?,
        None => return Err(PayloadError(format!("unknown source {:?}", message.source))),
    };
    Ok(match parsed {
        // Whatever the storefront, a line id names one line.
        Parsed::Order(mut order, refunds) => {
            order.lines = crate::domain::order::set_apart_repeated_ids(std::mem::take(&mut order.lines));
            Parsed::Order(order, refunds)
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_message_carries_the_body_byte_for_byte_and_the_old_form_still_reads() {
        let message = IntakeMessage {
            source: "shopify".into(),
            topic: "orders/paid".into(),
            shop: "s\nx".into(),
            claimed_shop: Some("claimed".into()),
            delivery_id: None,
            body: "{\"a\":\"\\\"\"}\n\nline".into(),
        };
        let encoded = message.encode();
        assert_eq!(encoded.len(), message.body.len() + encoded.find('\n').unwrap() + 1, "the body is not escaped");
        assert_eq!(IntakeMessage::decode(&encoded).unwrap(), message);
        let old = serde_json::to_string(&message).unwrap();
        assert_eq!(IntakeMessage::decode(&old).unwrap(), message);
        assert!(IntakeMessage::decode("not a message").is_err());
    }
}
