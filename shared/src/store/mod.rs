//! The single-table layout of DESIGN ("Storage"): which item lives under which key, and
//! typed reads and writes of each, over any `ItemStore`. The only place that knows keys.

use crate::domain::events::Envelope;
use crate::domain::ids::{OrderId, Sku, VendorId};
use crate::domain::order::{CanonicalOrder, ProductMapping};
use crate::domain::vendor_order::{HistoryEntry, VendorOrder, VoState};
use crate::ports::{Condition, Index, Item, ItemStore, Page, Query, StoreError, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use std::sync::Arc;

mod keys;
mod mail;
mod money;
mod operator;
mod orders;
mod reconcile;
mod scores;
mod suppliers;
mod tracking;
mod vendor_orders;
mod vendors;

pub use keys::EVENT_SK_PREFIX;
use keys::{key_time, order_pk, vendor_pk};
pub use mail::{Claim, Suppression};
pub use reconcile::ReconcileCursor;
pub use scores::{SCORE_SHARDS, Standing};
pub use suppliers::{HookOwner, OauthState, PurchaseRef};
pub use tracking::{NumberClaim, TrackedNumber, TrackedParcel};
pub use vendors::{IDEMPOTENCY_HOURS, IdempotencyRecord};

// The records the store keeps are the domain's: named here too, as they always were.
pub use crate::domain::order::{ORDER_LISTINGS, OrderRecord, OrderStatus, Redaction, UnassignedRefund};
pub use crate::domain::vendor::{ApiKeyRecord, OperatorKey, VendorProfile};

/// Shards of the due-clock index: enough to spread writes, few enough to sweep.
pub const DUE_SHARDS: u32 = 4;

/// The families of the sparse due index (gsi2, `{FAMILY}#{shard}` by due time): what
/// the sweep and the payout run read, each only what is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Vendor orders by their earliest armed clock (`DUE#`).
    Clocks,
    /// Vendor orders with a step overdue past its escalation to the operator (`LATE#`):
    /// by their earliest armed clock too (the sweep reads both), or at the end of time
    /// when none is armed. The operator's decisions list them all, with no scan and no
    /// write of their own: the vendor order's index key moves here and back.
    Late,
    /// Closed vendor orders by when their customer data is purged (`PURGE#`).
    Purges,
    /// Earnings by when their hold ends (`HOLD#`).
    Holds,
    /// Lines no vendor sells by when their customer is told (`NOTICE#`).
    Notices,
    /// Supplier orders by when supplier-sync places or reads them next (`BUY#`).
    Purchases,
}

impl Due {
    /// The index partition of `shard`.
    fn partition(self, shard: u32) -> String {
        let family = match self {
            Due::Clocks => "DUE",
            Due::Late => "LATE",
            Due::Purges => "PURGE",
            Due::Holds => "HOLD",
            Due::Notices => "NOTICE",
            Due::Purchases => "BUY",
        };
        format!("{family}#{shard}")
    }
}

/// An item the due index lists: the table keys it is read by, and which family it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueKey {
    pub index: Due,
    pub pk: String,
    pub sk: String,
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

/// When the customer is to be told that lines no vendor sells cannot be sent, unless
/// they are routed (or refunded) by then: an item of the sparse due index (`NOTICE#`),
/// written with the routing that left them waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineNotice {
    pub order_id: OrderId,
    pub line_ids: Vec<String>,
    pub due: DateTime<Utc>,
}

/// Typed access to the table.
#[derive(Clone)]
pub struct Tables {
    pub items: Arc<dyn ItemStore>,
}

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

    /// One page of the listing index's partition `pk` (lowest sort key first, or
    /// highest when `descending`), each item read as `T`: every operator and vendor
    /// listing is one of these.
    async fn listing<T: DeserializeOwned>(
        &self,
        pk: String,
        descending: bool,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<T>, Option<String>), StoreError> {
        let Page { items, cursor } =
            self.query_items(Query { index: Index::Gsi1, pk, sk_prefix: String::new(), sk_max: None, descending, limit, cursor }).await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
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
