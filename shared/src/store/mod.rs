//! The single-table layout of DESIGN ("Storage"): which item lives under which key, and
//! typed reads and writes of each, over any `ItemStore`. The only place that knows keys.

use crate::domain::events::Envelope;
use crate::domain::ids::{OrderId, Sku, VendorId};
use crate::domain::order::{CanonicalOrder, ProductMapping, UnroutableLine};
use crate::domain::vendor_order::{HistoryEntry, VendorOrder, VoState};
use crate::ports::{Condition, Index, Item, ItemStore, Page, Query, StoreError, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use sha2::Digest;
use std::sync::Arc;

mod money;

/// Shards of the due-clock index: enough to spread writes, few enough to sweep.
pub const DUE_SHARDS: u32 = 4;

/// Where an order stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Not paid yet: kept, not routed.
    Held,
    /// Lines handed to vendors (some may be unroutable).
    Routed,
    /// Voided or cancelled before routing.
    Void,
    /// Too large to store: kept whole in the intake dead-letter queue, the operator told;
    /// this item holds the order without its lines.
    Parked,
}

impl OrderStatus {
    /// The wire name ("routed").
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Held => "held",
            OrderStatus::Routed => "routed",
            OrderStatus::Void => "void",
            OrderStatus::Parked => "parked",
        }
    }

    /// Reads a wire name.
    pub fn parse(text: &str) -> Option<OrderStatus> {
        [OrderStatus::Held, OrderStatus::Routed, OrderStatus::Void, OrderStatus::Parked].into_iter().find(|s| s.as_str() == text)
    }
}

/// What a storefront can say of an order before the order itself arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderMark {
    /// Erase its customer's data (`customers/redact`): it is kept without it.
    Erased,
    /// Deleted (WooCommerce's `{"id": N}`): it is filed cancelled.
    Deleted,
}

impl OrderMark {
    fn sort_key(self) -> &'static str {
        match self {
            OrderMark::Erased => "TOMBSTONE",
            OrderMark::Deleted => "DELETED",
        }
    }

    /// The field holding the instant (the tombstone's is kept as it was first stored).
    fn field(self) -> &'static str {
        match self {
            OrderMark::Erased => "requested_at",
            OrderMark::Deleted => "deleted_at",
        }
    }
}

/// The order item: the canonical order and what intake decided about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub order: CanonicalOrder,
    pub status: OrderStatus,
    pub vendors: Vec<VendorId>,
    pub unroutable: Vec<UnroutableLine>,
    pub routed_at: Option<DateTime<Utc>>,
    /// Addresses the order shipped to before the storefront changed it: personal data
    /// too, which a redaction must find in mail and history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_addresses: Vec<crate::domain::address::Address>,
    /// The storefront asked for the customer's personal data to be erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<Redaction>,
    /// Refunds the storefront did not put on lines (or that could not be read): the
    /// operator splits them over the vendor orders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unassigned_refunds: Vec<UnassignedRefund>,
    /// Refunds of lines that no vendor order held when they came (the order was still
    /// pending, or the line waited for its SKU): each goes with its line when the line
    /// is routed, and a line they refund in full is not routed (`domain::refund`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<crate::domain::vendor_order::LineRefund>,
    /// Lines no vendor will send (voided by the operator, or their wait ended): routed no
    /// more, their customer told they will be refunded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub void_lines: Vec<crate::domain::order::VoidLine>,
    pub version: u64,
}

/// When the customer is to be told that lines no vendor sells cannot be sent, unless
/// they are routed (or refunded) by then: an item of the sparse due index (`NOTICE#`),
/// written with the routing that left them waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineNotice {
    pub order_id: OrderId,
    pub line_ids: Vec<String>,
    pub due: DateTime<Utc>,
}

/// A refund kept on the order for the operator, with why dropflow could not record it
/// on lines itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnassignedRefund {
    pub refund_id: String,
    pub amount: Option<crate::domain::money::Money>,
    pub reason: String,
}

/// A storefront's request to erase an order's personal data, and when it was done (an
/// order with vendor orders still on their way is redacted when the last one closes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    pub requested_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

/// The operator's order listings (`dropflow orders --state`): every status, and
/// `cancelled` for a routed order the storefront cancelled afterwards.
pub const ORDER_LISTINGS: [&str; 5] = ["held", "routed", "cancelled", "void", "parked"];

impl OrderRecord {
    /// The listing the order is filed under: its status, except that a routed order the
    /// storefront then cancelled lists as `cancelled` (its vendor orders were cancelled;
    /// it is no longer work in progress).
    pub fn listed_as(&self) -> &'static str {
        if self.status == OrderStatus::Routed && self.order.payment == crate::domain::order::Payment::Void { "cancelled" } else { self.status.as_str() }
    }

    /// A first record of `order` in `status`, nothing routed yet.
    pub fn new(order: CanonicalOrder, status: OrderStatus, version: u64) -> OrderRecord {
        OrderRecord {
            order,
            status,
            vendors: vec![],
            unroutable: vec![],
            routed_at: None,
            former_addresses: vec![],
            redaction: None,
            unassigned_refunds: vec![],
            refunds: vec![],
            void_lines: vec![],
            version,
        }
    }

    /// Whether its personal data is gone: no delivery may bring it back.
    pub fn is_redacted(&self) -> bool {
        self.redaction.as_ref().is_some_and(|r| r.done_at.is_some())
    }

    /// The order's unroutable lines with why, each line read from the order itself.
    pub fn unroutable_lines(&self) -> impl Iterator<Item = (&crate::domain::order::OrderLine, &str)> {
        let lines: std::collections::HashMap<&str, &crate::domain::order::OrderLine> = self.order.lines.iter().map(|l| (l.line_id.as_str(), l)).collect();
        self.unroutable.iter().filter_map(move |u| lines.get(u.line_id.as_str()).map(|line| (*line, u.reason.as_str())))
    }
}

/// A SKU's mapping item, with the condition that the version read is still there.
fn product_item(mapping: &ProductMapping, replaces: Option<u64>) -> Result<(Item, Condition), StoreError> {
    let stored = StoredProduct { mapping: mapping.clone(), version: replaces.map_or(1, |v| v + 1) };
    let keys = [
        ("pk", format!("SKU#{}", mapping.sku)),
        ("sk", "PRODUCT".into()),
        ("gsi1pk", format!("PRODUCTS#{}", mapping.vendor_id)),
        ("gsi1sk", mapping.sku.to_string()),
    ];
    Ok((item_of(&stored, &keys)?, replaces.map_or(Condition::NotExists, Condition::VersionIs)))
}

/// A vendor as the operator onboarded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorProfile {
    pub vendor_id: VendorId,
    pub name: String,
    pub email: crate::domain::ids::Email,
    pub commission_bps: u32,
    pub created_at: DateTime<Utc>,
    /// Where the operator's payment run sends the vendor's money (an IBAN, a PayPal
    /// address): the operator's note, never parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payee: Option<String>,
    /// Suspended: its keys are refused (403) and its SKUs route to no one until resumed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    #[serde(default)]
    pub version: u64,
}

/// An API key's stored form: only its hash is the key of the item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub vendor_id: VendorId,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
    /// The last day the key was used: written only when the day changes, so a vendor
    /// polling its orders costs no writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub version: u64,
}

/// Typed access to the table.
#[derive(Clone)]
pub struct Tables {
    pub items: Arc<dyn ItemStore>,
}

/// The sort-key prefix of event items (the outbox): the table's stream carries inserts
/// of these, and only these, to the relay (the event source mapping's filter, and the
/// embedded change log, use this same prefix).
pub const EVENT_SK_PREFIX: &str = "EVT#";

/// How long event items are kept (TTL): the stream has long carried them on by then.
pub const EVENT_KEEP_DAYS: i64 = 7;

/// Whether a stream record of `event_name` ("INSERT") for the item with sort key `sk` is
/// one the relay sends on: a newly inserted event item, nothing else.
pub fn is_event_insert(event_name: &str, sk: Option<&str>) -> bool {
    event_name == "INSERT" && sk.is_some_and(|sk| sk.starts_with(EVENT_SK_PREFIX))
}

fn key_text(keys: &[(&str, String)]) -> String {
    keys.iter().take(2).map(|(_, k)| k.as_str()).collect::<Vec<_>>().join("/")
}

/// `value` as an item under `keys`. A value that does not serialise to an object is an
/// error naming the key, never an empty item.
fn item_of<T: Serialize>(value: &T, keys: &[(&str, String)]) -> Result<Item, StoreError> {
    let mut item = match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        Ok(other) => return Err(StoreError::Unreadable { key: key_text(keys), reason: format!("not an object: {other}") }),
        Err(e) => return Err(StoreError::Unreadable { key: key_text(keys), reason: e.to_string() }),
    };
    for (name, key) in keys {
        item.insert((*name).to_string(), Value::String(key.clone()));
    }
    // What DynamoDB would refuse is refused here, naming the field that made it so, so
    // that the caller can say what to shorten (a vendor gets 413 naming it).
    let size: usize = item.iter().map(|(name, value)| name.len() + weight(value)).sum();
    if size > crate::ports::MAX_ITEM_BYTES
        && let Some((field, value)) = item.iter().max_by_key(|(_, value)| weight(value))
    {
        return Err(StoreError::TooLarge(format!(
            "{} would be about {size} bytes, over the {} a record may have; its field {field} alone is about {} bytes",
            key_text(keys),
            crate::ports::MAX_ITEM_BYTES,
            weight(value)
        )));
    }
    Ok(item)
}

/// About how many bytes a value takes in an item (its text and numbers; never more
/// than its JSON): a walk, cheaper than serializing it again.
fn weight(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len(),
        Value::Array(items) => items.iter().map(weight).sum(),
        Value::Object(map) => map.iter().map(|(name, v)| name.len() + weight(v)).sum(),
        Value::Number(_) => 8,
        Value::Bool(_) | Value::Null => 1,
    }
}

/// A stored item as `T`; one that is not is its own error naming the key.
fn value_of<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    let key = format!("{}/{}", item.get("pk").and_then(Value::as_str).unwrap_or("?"), item.get("sk").and_then(Value::as_str).unwrap_or("?"));
    serde_json::from_value(Value::Object(item)).map_err(|e| StoreError::Unreadable { key, reason: e.to_string() })
}

/// A sent-mail marker (`SENT#{event}#{sha256 of recipient}`): claimed with a lease,
/// then marked sent with the provider's message id.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SentMarker {
    claimed_until: DateTime<Utc>,
    /// Who holds the claim: a random token per claim, so that a claim whose write landed
    /// but whose answer was lost is recognised as ours on the re-read.
    #[serde(default)]
    claim: String,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    sent_at: Option<DateTime<Utc>>,
    version: u64,
    ttl: i64,
}

/// A vendor's `Idempotency-Key` as stored (`IDEM#{vendor}#{key}`), written in the same
/// transaction as the change it made: the request's hash and the answer's status and
/// vendor order. It holds no copy of the order (so no personal data to redact): a replay
/// answers the order as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub status: u16,
    /// What the request changed: the vendor-facing id of a vendor order, or a SKU.
    pub order: String,
    pub ttl: i64,
    pub version: u64,
}

impl IdempotencyRecord {
    /// The record of a request (its `hash`) that changed `subject` at `now`, replacing
    /// an expired record of the same key at version `replaces`.
    pub fn new(hash: &str, subject: String, now: DateTime<Utc>, replaces: Option<u64>) -> IdempotencyRecord {
        let ttl = (now + chrono::Duration::hours(IDEMPOTENCY_HOURS)).timestamp();
        IdempotencyRecord { request_hash: hash.to_string(), status: 200, order: subject, ttl, version: replaces.map_or(1, |v| v + 1) }
    }

    /// Whether its 24 hours are over at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.ttl <= now.timestamp()
    }
}

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_HOURS: i64 = 24;

/// A SKU mapping as stored: the mapping and the version its next change is conditional on.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredProduct {
    #[serde(flatten)]
    mapping: ProductMapping,
    #[serde(default)]
    version: u64,
}

/// What claiming a mail found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours to send until the lease ends; `version` marks it sent or gives it back.
    Taken { version: u64 },
    /// Sent before: nothing to do.
    AlreadySent,
    /// Another delivery holds a live lease on it until then.
    Busy { until: DateTime<Utc> },
}

fn sent_key(event_id: &str, recipient: &str) -> (String, String) {
    let digest = hex::encode(sha2::Sha256::digest(recipient.trim().to_lowercase().as_bytes()));
    (format!("SENT#{event_id}#{digest}"), "SENT".to_string())
}

/// The listing-index partition of a shop's orders; a shop name too long for a key is
/// hashed (a shop header is the storefront's, not ours to trust with a key's limits).
fn shop_pk(source: &str, shop: &str) -> String {
    if shop.len() <= 200 { format!("SHOP#{source}#{shop}") } else { format!("SHOP#{source}#sha256:{}", hex::encode(sha2::Sha256::digest(shop.as_bytes()))) }
}

/// The sort key of the vendor's vendor order of `round` (DESIGN: `VO#{vendor_id}`, then
/// `VO#{vendor_id}#{n}`).
fn vo_sk(vendor_id: &VendorId, round: u32) -> String {
    if round > 1 { format!("VO#{vendor_id}#{round}") } else { format!("VO#{vendor_id}") }
}

/// The sort-key prefix of a vendor order's history: `H#{vendor_id}#` for the first
/// round, `H#{vendor_id}.{n}#` for later ones ('.' is never in a vendor id, so no
/// round's prefix reads another's).
fn history_prefix(vendor_id: &VendorId, round: u32) -> String {
    if round > 1 { format!("H#{vendor_id}.{round}#") } else { format!("H#{vendor_id}#") }
}

/// A storefront's text as part of a key: itself when short, else its hash (a key has
/// limits a storefront does not know).
fn capped(text: &str) -> String {
    if text.len() <= 200 { text.to_string() } else { format!("sha256:{}", hex::encode(sha2::Sha256::digest(text.as_bytes()))) }
}

/// A time as the due index sorts it: fixed width, to the second, UTC.
fn due_key_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Tracking numbers are upper-cased (carriers' numbers are case-insensitive) and capped,
/// as a key must be.
fn tracking_pk(number: &str) -> String {
    let number = number.trim().to_ascii_uppercase();
    format!("TRACK#{}", capped(&number))
}

fn carrier_event_pk(source: &str, event_id: &str) -> String {
    format!("CARRIER#{source}#{}", capped(event_id))
}

/// An item of the `TRACK#{number}` collection (sort key `{order_id}#{vendor_id}`): one
/// vendor order shipping under the number. Items written before the collection (sort key
/// `TRACK`, no `shipped_at`) read the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedParcel {
    pub order_id: OrderId,
    pub vendor_id: VendorId,
    pub round: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<DateTime<Utc>>,
}

/// The `TRACK#{number}`/`CLAIM` item: the vendor that last shipped under the number.
/// Every shipment under the number rewrites it on the version it read, so two vendors
/// racing to ship one number cannot both win.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NumberClaim {
    pub vendor_id: VendorId,
    pub shipped_at: DateTime<Utc>,
    pub version: u64,
}

/// The sort key of the number's claim item (no order id starts with it).
const CLAIM_SK: &str = "CLAIM";

/// Everything a tracking number is in use for: its claim and its parcels.
#[derive(Debug, Clone, Default)]
pub struct TrackedNumber {
    pub claim: Option<NumberClaim>,
    pub parcels: Vec<TrackedParcel>,
}

fn vendor_pk(vendor_id: &VendorId) -> String {
    format!("VENDOR#{vendor_id}")
}

fn order_pk(order_id: &OrderId) -> String {
    format!("ORDER#{order_id}")
}

/// Which shard of the due index an order's items are filed under.
fn order_shard(order_id: &OrderId) -> u32 {
    order_id.as_str().bytes().map(u32::from).sum::<u32>() % DUE_SHARDS
}

impl Tables {
    pub fn new(items: Arc<dyn ItemStore>) -> Self {
        Tables { items }
    }

    async fn get_as<T: DeserializeOwned>(&self, pk: &str, sk: &str) -> Result<Option<T>, StoreError> {
        self.items.get(pk, sk).await?.map(value_of).transpose()
    }

    /// A page of `query` with whole items. Every secondary index holds keys only
    /// (`Index::keys_only`), so that a change of an item rewrites one small entry per
    /// index instead of the item: a listing reads its page's keys there, then the items
    /// by key, all at once. An item gone between the two reads is left out.
    async fn query_items(&self, query: Query) -> Result<Page, StoreError> {
        let keys_only = query.index.keys_only();
        let page = self.items.query(query).await?;
        if !keys_only {
            return Ok(page);
        }
        let reads = page.items.iter().map(|entry| {
            let key = |name: &str| entry.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
            let (pk, sk) = (key("pk"), key("sk"));
            async move { self.items.get(&pk, &sk).await }
        });
        let items = futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect();
        Ok(Page { items, cursor: page.cursor })
    }

    pub async fn order(&self, order_id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        self.get_as(&order_pk(order_id), "ORDER").await
    }

    /// The write of an order record, conditional on the version it replaces. The order
    /// is filed under its shop in the listing index (`SHOP#{source}#{shop}`), so that a
    /// shop's erasure finds its orders without a Scan.
    pub fn put_order(record: &OrderRecord, previous_version: Option<u64>) -> Result<Write, StoreError> {
        let order = &record.order;
        let newest = format!("{}#{}", order.created_at.to_rfc3339(), order.order_id);
        let keys = [
            ("pk", order_pk(&order.order_id)),
            ("sk", "ORDER".into()),
            ("gsi1pk", shop_pk(&order.source, &order.shop)),
            ("gsi1sk", newest.clone()),
            // The operator's listings (`dropflow orders`): every order, and per status.
            ("gsi2pk", "ORDERS".into()),
            ("gsi2sk", newest.clone()),
            ("gsi3pk", format!("ORDERS#{}", record.listed_as())),
            ("gsi3sk", newest),
        ];
        Ok(Write::Put { item: item_of(record, &keys)?, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// The write that files an order under its storefront number (`NUM#{number}`, one
    /// item per source and shop), so that `dropflow order show #1001` is one Query.
    pub fn put_order_number(order: &CanonicalOrder) -> Result<Write, StoreError> {
        let number = capped(&order.order_number);
        let item = item_of(
            &serde_json::json!({ "order_id": order.order_id }),
            &[("pk", format!("NUM#{number}")), ("sk", capped(&format!("{}#{}", order.source, order.shop)))],
        )?;
        Ok(Write::Put { item, condition: Condition::Always })
    }

    /// The orders a storefront number names (one per shop that used it).
    pub async fn orders_numbered(&self, number: &str) -> Result<Vec<OrderId>, StoreError> {
        #[derive(Deserialize)]
        struct Numbered {
            order_id: OrderId,
        }
        let found: Vec<Numbered> = self.query_all(format!("NUM#{}", capped(number)), String::new()).await?;
        Ok(found.into_iter().map(|n| n.order_id).collect())
    }

    /// One page of every order (or of those in one of `ORDER_LISTINGS`), newest first.
    pub async fn orders(&self, listing: Option<&str>, cursor: Option<String>, limit: usize) -> Result<(Vec<OrderRecord>, Option<String>), StoreError> {
        let (index, pk) = match listing {
            None => (Index::Gsi2, "ORDERS".to_string()),
            Some(listing) => (Index::Gsi3, format!("ORDERS#{listing}")),
        };
        let Page { items, cursor } = self.query_items(Query { index, pk, sk_prefix: String::new(), sk_max: None, descending: true, limit, cursor }).await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }

    /// One page of a shop's orders, oldest first.
    pub async fn shop_orders(&self, source: &str, shop: &str, cursor: Option<String>, limit: usize) -> Result<(Vec<OrderRecord>, Option<String>), StoreError> {
        let Page { items, cursor } = self
            .query_items(Query { index: Index::Gsi1, pk: shop_pk(source, shop), sk_prefix: String::new(), sk_max: None, descending: false, limit, cursor })
            .await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }

    /// Every item of an order's partition under `sk_prefix`, as stored (what a redaction
    /// rewrites: history entries, event items).
    pub async fn order_items(&self, order_id: &OrderId, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.query_all(order_pk(order_id), sk_prefix.to_string()).await
    }

    /// The write of an item as read by `order_items`, rewritten in place.
    pub fn put_rewritten(item: Item) -> Write {
        Write::Put { item, condition: Condition::Always }
    }

    /// The write of an event item (the outbox), in the same transaction as the change
    /// that caused it; the table's stream carries it to the relay. An event id is
    /// written once: the same fact twice fails the transaction instead of mailing twice.
    pub fn put_event(event: &Envelope) -> Result<Write, StoreError> {
        // About an order: in its partition; about a vendor alone (its money): in the
        // vendor's; about neither (a data request naming no order held): `MARKETPLACE`.
        let pk = match (&event.order_id, &event.vendor_id) {
            (Some(order_id), _) => order_pk(order_id),
            (None, Some(vendor_id)) => vendor_pk(vendor_id),
            (None, None) => "MARKETPLACE".to_string(),
        };
        let keys = [("pk", pk), ("sk", format!("{EVENT_SK_PREFIX}{}", event.event_id))];
        let mut item = item_of(event, &keys)?;
        item.insert("ttl".into(), Value::from((event.occurred_at + chrono::Duration::days(EVENT_KEEP_DAYS)).timestamp()));
        Ok(Write::Put { item, condition: Condition::NotExists })
    }

    /// The event items of an order, oldest id first (what an operator or a test reads to
    /// see what a change committed).
    pub async fn events(&self, order_id: &OrderId) -> Result<Vec<Envelope>, StoreError> {
        self.query_all(order_pk(order_id), EVENT_SK_PREFIX.to_string()).await
    }

    /// Every item of one partition under a sort-key prefix, page by page.
    async fn query_all<T: DeserializeOwned>(&self, pk: String, sk_prefix: String) -> Result<Vec<T>, StoreError> {
        self.query_all_in(Index::Table, pk, sk_prefix).await
    }

    /// Every item of one partition of `index` under a sort-key prefix, page by page.
    async fn query_all_in<T: DeserializeOwned>(&self, index: Index, pk: String, sk_prefix: String) -> Result<Vec<T>, StoreError> {
        let mut values = Vec::new();
        let mut cursor = None;
        loop {
            let page =
                self.query_items(Query { index, pk: pk.clone(), sk_prefix: sk_prefix.clone(), sk_max: None, descending: false, limit: 100, cursor }).await?;
            for item in page.items {
                values.push(value_of(item)?);
            }
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(values),
            }
        }
    }

    /// The vendor's first vendor order in the order.
    pub async fn vendor_order(&self, order_id: &OrderId, vendor_id: &VendorId) -> Result<Option<VendorOrder>, StoreError> {
        self.vendor_order_in_round(order_id, vendor_id, 1).await
    }

    /// The vendor's vendor order of `round` in the order (`VO#{vendor}`, then
    /// `VO#{vendor}#{round}`).
    pub async fn vendor_order_in_round(&self, order_id: &OrderId, vendor_id: &VendorId, round: u32) -> Result<Option<VendorOrder>, StoreError> {
        self.get_as(&order_pk(order_id), &vo_sk(vendor_id, round)).await
    }

    /// Every vendor order of the order, every round: one Query of its partition.
    pub async fn vendor_orders_of(&self, order_id: &OrderId) -> Result<Vec<VendorOrder>, StoreError> {
        self.query_all(order_pk(order_id), "VO#".to_string()).await
    }

    /// The write of a vendor order with its listing and due-clock index keys,
    /// conditional on the version it replaces (a new one must not exist yet).
    pub fn put_vendor_order(vo: &VendorOrder, previous_version: Option<u64>) -> Result<Write, StoreError> {
        let mut keys = vec![
            ("pk", order_pk(&vo.order_id)),
            ("sk", vo_sk(&vo.vendor_id, vo.round)),
            ("gsi1pk", format!("VENDOR#{}", vo.vendor_id)),
            ("gsi1sk", format!("{}#{}", vo.created_at.to_rfc3339(), vo.id())),
            ("gsi3pk", format!("VENDOR#{}#{}", vo.vendor_id, vo.state.as_str())),
            ("gsi3sk", format!("{}#{}", vo.created_at.to_rfc3339(), vo.id())),
        ];
        if let Some(clock) = vo.next_due() {
            let shard = order_shard(&vo.order_id);
            let round = if vo.round > 1 { format!("#{}", vo.round) } else { String::new() };
            keys.push(("gsi2pk", format!("DUE#{shard}")));
            keys.push(("gsi2sk", format!("{}#{}#{}#{}{round}", due_key_time(clock.due_at), clock.kind.as_str(), vo.order_id, vo.vendor_id)));
        } else if let Some(purge_at) = vo.purge_at {
            // Closed, its clocks all gone: the index now holds when its data is purged.
            let shard = order_shard(&vo.order_id);
            keys.push(("gsi2pk", format!("PURGE#{shard}")));
            keys.push(("gsi2sk", format!("{}#{}#{}", due_key_time(purge_at), vo.order_id, vo.vendor_id)));
        }
        Ok(Write::Put { item: item_of(vo, &keys)?, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// One page of the vendor orders whose earliest clock is due at `now` in one shard of
    /// the due index (`gsi2sk <= now`): their keys, oldest due first. The read grows with
    /// what is due, never with the table.
    pub async fn due_vendor_orders(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<(String, String)>, Option<String>), StoreError> {
        self.due_keys(format!("DUE#{shard}"), now, cursor, limit).await
    }

    /// One page of the table keys filed under `index_pk` of the sparse due index with a
    /// due time at most `now`, oldest first (`PURGE#{shard}`: closed vendor orders whose
    /// customer data is due to be purged).
    pub async fn due_keys(
        &self,
        index_pk: String,
        now: DateTime<Utc>,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<(String, String)>, Option<String>), StoreError> {
        let query = Query {
            index: Index::Gsi2,
            pk: index_pk,
            sk_prefix: String::new(),
            sk_max: Some(format!("{}#~", due_key_time(now))),
            descending: false,
            limit,
            cursor,
        };
        let Page { items, cursor } = self.items.query(query).await?;
        let keys = items.into_iter().filter_map(|item| Some((item.get("pk")?.as_str()?.to_string(), item.get("sk")?.as_str()?.to_string()))).collect();
        Ok((keys, cursor))
    }

    /// The write of a line notice, in the due index under its time (`NOTICE#{shard}`).
    pub fn put_line_notice(notice: &LineNotice) -> Result<Write, StoreError> {
        let due = due_key_time(notice.due);
        let keys = [
            ("pk", order_pk(&notice.order_id)),
            ("sk", format!("NOTICE#{due}")),
            ("gsi2pk", format!("NOTICE#{}", order_shard(&notice.order_id))),
            ("gsi2sk", format!("{due}#{}", notice.order_id)),
        ];
        Ok(Write::Put { item: item_of(notice, &keys)?, condition: Condition::Always })
    }

    /// A line notice by its table keys (as the due index gives them).
    pub async fn line_notice_at(&self, pk: &str, sk: &str) -> Result<Option<LineNotice>, StoreError> {
        if !pk.starts_with("ORDER#") || !sk.starts_with("NOTICE#") {
            return Ok(None);
        }
        self.get_as(pk, sk).await
    }

    /// The delete of a line notice that was given (or is moot).
    pub fn delete_line_notice(pk: &str, sk: &str) -> Write {
        Write::Delete { pk: pk.to_string(), sk: sk.to_string(), condition: Condition::Always }
    }

    /// A vendor order by its table keys (as the due index gives them).
    pub async fn vendor_order_at(&self, pk: &str, sk: &str) -> Result<Option<VendorOrder>, StoreError> {
        if !pk.starts_with("ORDER#") || !sk.starts_with("VO#") {
            return Ok(None);
        }
        self.get_as(pk, sk).await
    }

    /// The writes of a shipment under `number`: the vendor order joins the number's
    /// collection, and the number's claim moves to its vendor on the version
    /// `claim_read` saw (absent: it must still be absent).
    pub fn put_tracking(number: &str, vo: &VendorOrder, now: DateTime<Utc>, claim_read: Option<&NumberClaim>) -> Result<Vec<Write>, StoreError> {
        let pk = tracking_pk(number);
        let parcel = TrackedParcel { order_id: vo.order_id.clone(), vendor_id: vo.vendor_id.clone(), round: vo.round, shipped_at: Some(now) };
        let sk = format!("{}#{}", vo.order_id, vo.vendor_id);
        let claim = NumberClaim { vendor_id: vo.vendor_id.clone(), shipped_at: now, version: claim_read.map_or(1, |c| c.version + 1) };
        let condition = claim_read.map_or(Condition::NotExists, |c| Condition::VersionIs(c.version));
        Ok(vec![
            Write::Put { item: item_of(&parcel, &[("pk", pk.clone()), ("sk", sk)])?, condition: Condition::Always },
            Write::Put { item: item_of(&claim, &[("pk", pk), ("sk", CLAIM_SK.into())])?, condition },
        ])
    }

    /// What `number` is in use for: one Query of its collection.
    pub async fn tracked(&self, number: &str) -> Result<TrackedNumber, StoreError> {
        let mut tracked = TrackedNumber::default();
        for item in self.query_all::<Item>(tracking_pk(number), String::new()).await? {
            if item.get("sk").and_then(Value::as_str) == Some(CLAIM_SK) {
                tracked.claim = Some(value_of(item)?);
            } else {
                let parcel: TrackedParcel = value_of(item)?;
                // An item from before the collection and its successor name one order.
                tracked.parcels.retain(|p| (&p.order_id, &p.vendor_id, p.round) != (&parcel.order_id, &parcel.vendor_id, parcel.round));
                tracked.parcels.push(parcel);
            }
        }
        Ok(tracked)
    }

    /// The vendor orders shipping under `number` (a parcel may carry several orders of
    /// one vendor), each as it stands.
    pub async fn tracked_vendor_orders(&self, number: &str) -> Result<Vec<VendorOrder>, StoreError> {
        let parcels = self.tracked(number).await?.parcels;
        let reads = parcels.iter().map(|p| self.vendor_order_in_round(&p.order_id, &p.vendor_id, p.round));
        Ok(futures_util::future::try_join_all(reads).await?.into_iter().flatten().collect())
    }

    /// The write of what a storefront said of an order dropflow does not hold yet: a
    /// dated mark (`ORDER#{id}`/`{mark}`, its instant under `field`), read when the
    /// order arrives. Shopify does not order its webhooks, and WooCommerce may deliver
    /// a delete before the order.
    pub fn put_order_mark(order_id: &OrderId, mark: OrderMark, at: DateTime<Utc>) -> Result<Write, StoreError> {
        let item = item_of(&serde_json::json!({ mark.field(): at }), &[("pk", order_pk(order_id)), ("sk", mark.sort_key().into())])?;
        Ok(Write::Put { item, condition: Condition::Always })
    }

    /// The check committed with a new order that `mark` is still absent: a redaction or
    /// a delete that writes its mark after intake read none makes the order's commit
    /// fail, and intake reads again and honours it (the mark's writer reads the order
    /// after writing, so one of the two always sees the other).
    pub fn order_mark_absent(order_id: &OrderId, mark: OrderMark) -> Write {
        Write::Check { pk: order_pk(order_id), sk: mark.sort_key().into(), condition: Condition::NotExists }
    }

    /// When the storefront left `mark` on an order before it arrived, if it did.
    pub async fn order_mark(&self, order_id: &OrderId, mark: OrderMark) -> Result<Option<DateTime<Utc>>, StoreError> {
        let item: Option<serde_json::Value> = self.get_as(&order_pk(order_id), mark.sort_key()).await?;
        Ok(item.and_then(|i| serde_json::from_value(i[mark.field()].clone()).ok()))
    }

    /// The write that records a carrier feed's event id once (`CARRIER#{source}#{id}`,
    /// kept 30 days): committed with the change the event made, so a redelivery finds it.
    pub fn put_carrier_event(source: &str, event_id: &str, now: DateTime<Utc>) -> Result<Write, StoreError> {
        let mut item = item_of(&serde_json::json!({ "received_at": now }), &[("pk", carrier_event_pk(source, event_id)), ("sk", "CARRIER".into())])?;
        item.insert("ttl".into(), Value::from((now + chrono::Duration::days(30)).timestamp()));
        Ok(Write::Put { item, condition: Condition::NotExists })
    }

    /// Whether a carrier feed's event was applied before.
    pub async fn carrier_event_seen(&self, source: &str, event_id: &str) -> Result<bool, StoreError> {
        Ok(self.items.get(&carrier_event_pk(source, event_id), "CARRIER").await?.is_some())
    }

    /// The write of a history entry of `vo` (never overwritten).
    pub fn put_history(vo: &VendorOrder, entry: &HistoryEntry) -> Result<Write, StoreError> {
        let sk = format!("{}{}#{:06}", history_prefix(&vo.vendor_id, vo.round), entry.at.to_rfc3339(), entry.seq);
        Ok(Write::Put { item: item_of(entry, &[("pk", order_pk(&vo.order_id)), ("sk", sk)])?, condition: Condition::NotExists })
    }

    /// A vendor order's history, oldest first.
    pub async fn history(&self, vo: &VendorOrder) -> Result<Vec<HistoryEntry>, StoreError> {
        self.query_all(order_pk(&vo.order_id), history_prefix(&vo.vendor_id, vo.round)).await
    }

    /// One page of a vendor's orders, newest first, in one state or all: either way the
    /// read touches only the page it returns (`gsi1` for all, `gsi3` per state).
    pub async fn vendor_orders(
        &self,
        vendor_id: &VendorId,
        state: Option<VoState>,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<VendorOrder>, Option<String>), StoreError> {
        let (index, pk) = match state {
            None => (Index::Gsi1, format!("VENDOR#{vendor_id}")),
            Some(state) => (Index::Gsi3, format!("VENDOR#{vendor_id}#{}", state.as_str())),
        };
        let Page { items, cursor } = self.query_items(Query { index, pk, sk_prefix: String::new(), sk_max: None, descending: true, limit, cursor }).await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }

    /// The write that files `order_id` under a SKU nobody sells yet (`WAIT#{sku}`), so that
    /// mapping the SKU finds the order without a Scan.
    pub fn put_waiting(sku: &Sku, order_id: &OrderId) -> Result<Write, StoreError> {
        let item = item_of(&serde_json::json!({ "order_id": order_id }), &[("pk", format!("WAIT#{sku}")), ("sk", order_id.to_string())])?;
        Ok(Write::Put { item, condition: Condition::Always })
    }

    /// The write that takes `order_id` off a SKU's waiting list.
    pub fn delete_waiting(sku: &Sku, order_id: &OrderId) -> Write {
        Write::Delete { pk: format!("WAIT#{sku}"), sk: order_id.to_string(), condition: Condition::Always }
    }

    /// The orders with lines waiting for `sku` to be mapped.
    pub async fn waiting_orders(&self, sku: &Sku) -> Result<Vec<OrderId>, StoreError> {
        #[derive(Deserialize)]
        struct Waiting {
            order_id: OrderId,
        }
        let waiting: Vec<Waiting> = self.query_all(format!("WAIT#{sku}"), String::new()).await?;
        Ok(waiting.into_iter().map(|w| w.order_id).collect())
    }

    /// A vendor's idempotency record of `key`, as stored: an expired one may still be
    /// there (DynamoDB removes expired items only eventually, the embedded store never).
    pub async fn idempotency(&self, vendor_id: &VendorId, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get_as(&format!("IDEM#{vendor_id}#{key}"), "IDEM").await
    }

    /// The write of an idempotency record: it must not exist yet (an expired one read
    /// before is replaced by its version), so two requests with one key cannot both win.
    pub fn put_idempotency(vendor_id: &VendorId, key: &str, record: &IdempotencyRecord, replaces: Option<u64>) -> Result<Write, StoreError> {
        let item = item_of(record, &[("pk", format!("IDEM#{vendor_id}#{key}")), ("sk", "IDEM".into())])?;
        Ok(Write::Put { item, condition: replaces.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    pub async fn vendor(&self, vendor_id: &VendorId) -> Result<Option<VendorProfile>, StoreError> {
        self.get_as(&format!("VENDOR#{vendor_id}"), "PROFILE").await
    }

    /// Writes a vendor's profile, filed in the vendor list (`VENDORS` in gsi1), on the
    /// condition that the version it replaces is still there (`None`: a new vendor).
    pub async fn put_vendor(&self, profile: &VendorProfile, replaces: Option<u64>) -> Result<(), StoreError> {
        let keys = [
            ("pk", format!("VENDOR#{}", profile.vendor_id)),
            ("sk", "PROFILE".into()),
            ("gsi1pk", "VENDORS".into()),
            ("gsi1sk", profile.vendor_id.to_string()),
        ];
        self.items.put(item_of(profile, &keys)?, replaces.map_or(Condition::NotExists, Condition::VersionIs)).await
    }

    /// One page of the onboarded vendors, by id.
    pub async fn vendors(&self, cursor: Option<String>, limit: usize) -> Result<(Vec<VendorProfile>, Option<String>), StoreError> {
        let Page { items, cursor } = self
            .query_items(Query { index: Index::Gsi1, pk: "VENDORS".into(), sk_prefix: String::new(), sk_max: None, descending: false, limit, cursor })
            .await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }

    pub async fn product(&self, sku: &Sku) -> Result<Option<ProductMapping>, StoreError> {
        Ok(self.product_versioned(sku).await?.map(|(mapping, _)| mapping))
    }

    /// A SKU's mapping with the version a change of it is conditional on.
    pub async fn product_versioned(&self, sku: &Sku) -> Result<Option<(ProductMapping, u64)>, StoreError> {
        let stored: Option<StoredProduct> = self.get_as(&format!("SKU#{sku}"), "PRODUCT").await?;
        Ok(stored.map(|s| (s.mapping, s.version)))
    }

    /// Writes a SKU's mapping, filed under its vendor (`PRODUCTS#{vendor}` in gsi1), on
    /// the condition that the mapping read is still the one there (`None`: still none),
    /// so that two vendors claiming one SKU cannot both win.
    pub async fn put_product(&self, mapping: &ProductMapping, replaces: Option<u64>) -> Result<(), StoreError> {
        let (item, condition) = product_item(mapping, replaces)?;
        self.items.put(item, condition).await
    }

    /// `put_product` as a write, to commit with the events it causes.
    pub fn product_write(mapping: &ProductMapping, replaces: Option<u64>) -> Result<Write, StoreError> {
        let (item, condition) = product_item(mapping, replaces)?;
        Ok(Write::Put { item, condition })
    }

    /// The write that removes a SKU's mapping, to commit with what goes with it (the
    /// `Idempotency-Key` of the vendor's request).
    pub fn product_delete(sku: &Sku) -> Write {
        Write::Delete { pk: format!("SKU#{sku}"), sk: "PRODUCT".into(), condition: Condition::Always }
    }

    /// The write that removes a SKU's mapping only if it is still at `version`: a claim
    /// refused while an approval races it stays approved.
    pub fn product_delete_at(sku: &Sku, version: u64) -> Write {
        Write::Delete { pk: format!("SKU#{sku}"), sk: "PRODUCT".into(), condition: Condition::VersionIs(version) }
    }

    /// One page of a vendor's SKU mappings, by SKU.
    pub async fn vendor_products(
        &self,
        vendor_id: &VendorId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<ProductMapping>, Option<String>), StoreError> {
        let Page { items, cursor } = self
            .query_items(Query {
                index: Index::Gsi1,
                pk: format!("PRODUCTS#{vendor_id}"),
                sk_prefix: String::new(),
                sk_max: None,
                descending: false,
                limit,
                cursor,
            })
            .await?;
        let stored: Vec<StoredProduct> = items.into_iter().map(value_of).collect::<Result<_, _>>()?;
        Ok((stored.into_iter().map(|s| s.mapping).collect(), cursor))
    }

    pub async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get_as(&format!("APIKEY#{key_hash}"), "KEY").await
    }

    /// Writes an API key's record, filed under its vendor (`KEYS#{vendor}` in gsi1) and its
    /// printable prefix (`KEYPREFIX#{prefix}` in gsi3), conditional on the version read.
    pub async fn put_api_key(&self, key_hash: &str, record: &ApiKeyRecord, replaces: Option<u64>) -> Result<(), StoreError> {
        let keys = [
            ("pk", format!("APIKEY#{key_hash}")),
            ("sk", "KEY".into()),
            ("gsi1pk", format!("KEYS#{}", record.vendor_id)),
            ("gsi1sk", format!("{}#{}", record.created_at.to_rfc3339(), record.prefix)),
            ("gsi3pk", format!("KEYPREFIX#{}", record.prefix)),
            ("gsi3sk", "KEY".into()),
        ];
        self.items.put(item_of(record, &keys)?, replaces.map_or(Condition::NotExists, Condition::VersionIs)).await
    }

    /// A vendor's keys, oldest first, each with the hash that is its item's key.
    pub async fn vendor_keys(&self, vendor_id: &VendorId) -> Result<Vec<(String, ApiKeyRecord)>, StoreError> {
        self.keys_in(Index::Gsi1, format!("KEYS#{vendor_id}")).await
    }

    /// The keys whose printable prefix is `prefix` (one, unless two collided).
    pub async fn keys_with_prefix(&self, prefix: &str) -> Result<Vec<(String, ApiKeyRecord)>, StoreError> {
        self.keys_in(Index::Gsi3, format!("KEYPREFIX#{prefix}")).await
    }

    async fn keys_in(&self, index: Index, pk: String) -> Result<Vec<(String, ApiKeyRecord)>, StoreError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.query_items(Query { index, pk: pk.clone(), sk_prefix: String::new(), sk_max: None, descending: false, limit: 100, cursor }).await?;
            for item in page.items {
                let hash = item.get("pk").and_then(Value::as_str).and_then(|pk| pk.strip_prefix("APIKEY#")).unwrap_or_default().to_string();
                keys.push((hash, value_of(item)?));
            }
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    async fn sent_marker(&self, event_id: &str, recipient: &str) -> Result<Option<SentMarker>, StoreError> {
        let (pk, sk) = sent_key(event_id, recipient);
        self.get_as(&pk, &sk).await
    }

    async fn put_sent_marker(&self, event_id: &str, recipient: &str, marker: &SentMarker, condition: Condition) -> Result<(), StoreError> {
        let (pk, sk) = sent_key(event_id, recipient);
        self.items.put(item_of(marker, &[("pk", pk), ("sk", sk)])?, condition).await
    }

    /// Claims the right to send `event_id` to `recipient` for `lease`: taken when nobody
    /// has it, or when an earlier claim's lease ended unsent (its holder died between
    /// claim and send, so the mail is not lost). The marker expires (TTL) after
    /// `keep_days`.
    pub async fn claim_sent(&self, event_id: &str, recipient: &str, now: DateTime<Utc>, lease: chrono::Duration, keep_days: i64) -> Result<Claim, StoreError> {
        let current = self.sent_marker(event_id, recipient).await?;
        let (version, condition) = match &current {
            None => (1, Condition::NotExists),
            Some(marker) if marker.message_id.is_some() => return Ok(Claim::AlreadySent),
            Some(marker) if marker.claimed_until > now => return Ok(Claim::Busy { until: marker.claimed_until }),
            Some(marker) => (marker.version + 1, Condition::VersionIs(marker.version)),
        };
        let mut token = [0u8; 12];
        getrandom::fill(&mut token).map_err(|e| StoreError::Unavailable(format!("no randomness for a claim: {e}")))?;
        let claim = hex::encode(token);
        let marker = SentMarker {
            claimed_until: now + lease,
            claim: claim.clone(),
            message_id: None,
            sent_at: None,
            version,
            ttl: (now + chrono::Duration::days(keep_days)).timestamp(),
        };
        match self.put_sent_marker(event_id, recipient, &marker, condition).await {
            Ok(()) => Ok(Claim::Taken { version }),
            // Someone claimed (or sent) it between the read and the write, or our own
            // write landed and only its answer was lost.
            Err(StoreError::ConditionFailed) => match self.sent_marker(event_id, recipient).await? {
                Some(marker) if marker.message_id.is_some() => Ok(Claim::AlreadySent),
                Some(marker) if marker.claim == claim => Ok(Claim::Taken { version: marker.version }),
                Some(marker) => Ok(Claim::Busy { until: marker.claimed_until }),
                None => Err(StoreError::ConditionFailed),
            },
            Err(e) => Err(e),
        }
    }

    /// Gives a claim back after a failed send, so that a retry can send at once. A claim
    /// taken over meanwhile is left to its new holder.
    pub async fn release_sent(&self, event_id: &str, recipient: &str, version: u64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(mut marker) = self.sent_marker(event_id, recipient).await? else { return Ok(()) };
        if marker.version != version || marker.message_id.is_some() {
            return Ok(());
        }
        marker.claimed_until = now;
        marker.version += 1;
        match self.put_sent_marker(event_id, recipient, &marker, Condition::VersionIs(version)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Marks a claimed mail sent, with the provider's message id. Unconditional: the mail
    /// went out, and that is what the marker must say from now on.
    pub async fn mark_sent(
        &self,
        event_id: &str,
        recipient: &str,
        version: u64,
        message_id: &str,
        now: DateTime<Utc>,
        keep_days: i64,
    ) -> Result<(), StoreError> {
        let marker = SentMarker {
            claimed_until: now,
            claim: String::new(),
            message_id: Some(message_id.to_string()),
            sent_at: Some(now),
            version: version + 1,
            ttl: (now + chrono::Duration::days(keep_days)).timestamp(),
        };
        self.put_sent_marker(event_id, recipient, &marker, Condition::Always).await
    }

    /// Whether `event_id` was mailed to `recipient`, and with which provider message id.
    pub async fn sent_message_id(&self, event_id: &str, recipient: &str) -> Result<Option<String>, StoreError> {
        Ok(self.sent_marker(event_id, recipient).await?.and_then(|m| m.message_id))
    }

    /// Whether mail to `email` is suppressed, and why.
    pub async fn suppression(&self, email: &str) -> Result<Option<Suppression>, StoreError> {
        self.get_as(&suppression_pk(email), "ADDRESS").await
    }

    /// Suppresses mail to an address (`SUPPRESS#{email}`), filed newest first in the
    /// operator's list (`SUPPRESSIONS` in gsi1). The same address again replaces the
    /// entry with the latest reason.
    pub async fn suppress(&self, suppression: &Suppression) -> Result<(), StoreError> {
        let keys = [
            ("pk", suppression_pk(&suppression.email)),
            ("sk", "ADDRESS".into()),
            ("gsi1pk", "SUPPRESSIONS".into()),
            ("gsi1sk", format!("{}#{}", suppression.at.to_rfc3339(), suppression.email)),
        ];
        self.items.put(item_of(suppression, &keys)?, Condition::Always).await
    }

    /// One page of the suppressed addresses, newest first.
    pub async fn suppressions(&self, cursor: Option<String>, limit: usize) -> Result<(Vec<Suppression>, Option<String>), StoreError> {
        let Page { items, cursor } = self
            .query_items(Query { index: Index::Gsi1, pk: "SUPPRESSIONS".into(), sk_prefix: String::new(), sk_max: None, descending: true, limit, cursor })
            .await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }

    /// Mails an address again (the operator knows its mailbox works now).
    pub async fn unsuppress(&self, email: &str) -> Result<(), StoreError> {
        self.items.delete(&suppression_pk(email), "ADDRESS").await
    }
}

/// An address no mail is sent to: it bounced for good, or its owner marked mail as spam
/// (SES's feedback, `services::suppression`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// The address, lower-cased (as it is looked up).
    pub email: String,
    /// `bounce` or `complaint`.
    pub reason: String,
    /// What the receiving server or the complaint said, when it said anything.
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}

/// The key of an address's suppression: lower-cased, so that `Bob@x` and `bob@x` are one.
fn suppression_pk(email: &str) -> String {
    format!("SUPPRESS#{}", email.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_too_large_to_keep_is_refused_naming_its_largest_field() {
        #[derive(Serialize)]
        struct Note {
            title: String,
            body: String,
        }
        let fits = Note { title: "t".into(), body: "x".repeat(300 * 1024) };
        assert!(item_of(&fits, &[("pk", "A".into()), ("sk", "B".into())]).is_ok());
        let over = Note { title: "t".into(), body: "x".repeat(401 * 1024) };
        match item_of(&over, &[("pk", "A".into()), ("sk", "B".into())]) {
            Err(StoreError::TooLarge(reason)) => assert!(reason.contains("field body") && reason.contains("A/B"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
