//! The single-table layout of DESIGN ("Storage"): which item lives under which key, and
//! typed reads and writes of each, over any `ItemStore`. The only place that knows keys.

use crate::domain::ids::{OrderId, Sku, VendorId};
use crate::domain::order::{CanonicalOrder, ProductMapping, UnroutableLine};
use crate::domain::vendor_order::{HistoryEntry, VendorOrder, VoState};
use crate::ports::{Condition, Index, Item, ItemStore, Page, Query, StoreError, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;
use std::sync::Arc;

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
}

/// The order item: the canonical order and what intake decided about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub order: CanonicalOrder,
    pub status: OrderStatus,
    pub vendors: Vec<VendorId>,
    pub unroutable: Vec<UnroutableLine>,
    pub routed_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// A vendor as the operator onboarded it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorProfile {
    pub vendor_id: VendorId,
    pub name: String,
    pub email: crate::domain::ids::Email,
    pub commission_bps: u32,
    pub created_at: DateTime<Utc>,
}

/// An API key's stored form: only its hash is the key of the item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub vendor_id: VendorId,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
}

/// Typed access to the table.
#[derive(Clone)]
pub struct Tables {
    pub items: Arc<dyn ItemStore>,
}

fn item_of<T: Serialize>(value: &T, keys: &[(&str, String)]) -> Item {
    let mut item = match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Item::new(),
    };
    for (name, key) in keys {
        item.insert((*name).to_string(), Value::String(key.clone()));
    }
    item
}

fn value_of<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item)).map_err(|e| StoreError::Unavailable(format!("unreadable item: {e}")))
}

fn order_pk(order_id: &OrderId) -> String {
    format!("ORDER#{order_id}")
}

impl Tables {
    pub fn new(items: Arc<dyn ItemStore>) -> Self {
        Tables { items }
    }

    async fn get_as<T: DeserializeOwned>(&self, pk: &str, sk: &str) -> Result<Option<T>, StoreError> {
        self.items.get(pk, sk).await?.map(value_of).transpose()
    }

    pub async fn order(&self, order_id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        self.get_as(&order_pk(order_id), "ORDER").await
    }

    /// The write of an order record, conditional on the version it replaces.
    pub fn put_order(record: &OrderRecord, previous_version: Option<u64>) -> Write {
        let item = item_of(record, &[("pk", order_pk(&record.order.order_id)), ("sk", "ORDER".into())]);
        Write::Put { item, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) }
    }

    pub async fn vendor_order(&self, order_id: &OrderId, vendor_id: &VendorId) -> Result<Option<VendorOrder>, StoreError> {
        self.get_as(&order_pk(order_id), &format!("VO#{vendor_id}")).await
    }

    /// The write of a vendor order with its listing and due-clock index keys,
    /// conditional on the version it replaces (a new one must not exist yet).
    pub fn put_vendor_order(vo: &VendorOrder, previous_version: Option<u64>) -> Write {
        let mut keys = vec![
            ("pk", order_pk(&vo.order_id)),
            ("sk", format!("VO#{}", vo.vendor_id)),
            ("gsi1pk", format!("VENDOR#{}", vo.vendor_id)),
            ("gsi1sk", format!("{}#{}#{}", vo.state.as_str(), vo.created_at.to_rfc3339(), vo.order_id)),
        ];
        if let Some(clock) = vo.next_due() {
            let shard = vo.order_id.as_str().bytes().map(u32::from).sum::<u32>() % DUE_SHARDS;
            let kind = serde_json::to_value(clock.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            keys.push(("gsi2pk", format!("DUE#{shard}")));
            keys.push(("gsi2sk", format!("{}#{kind}#{}#{}", clock.due_at.to_rfc3339(), vo.order_id, vo.vendor_id)));
        }
        Write::Put { item: item_of(vo, &keys), condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) }
    }

    /// The write of a history entry (never overwritten).
    pub fn put_history(order_id: &OrderId, vendor_id: &VendorId, entry: &HistoryEntry) -> Write {
        let sk = format!("H#{vendor_id}#{}#{:06}", entry.at.to_rfc3339(), entry.seq);
        Write::Put { item: item_of(entry, &[("pk", order_pk(order_id)), ("sk", sk)]), condition: Condition::NotExists }
    }

    /// A vendor order's history, oldest first.
    pub async fn history(&self, order_id: &OrderId, vendor_id: &VendorId) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut entries = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .items
                .query(Query { index: Index::Table, pk: order_pk(order_id), sk_prefix: format!("H#{vendor_id}#"), sk_max: None, descending: false, limit: 100, cursor })
                .await?;
            for item in page.items {
                entries.push(value_of(item)?);
            }
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(entries),
            }
        }
    }

    /// One page of a vendor's orders, newest first within a state (all states when None).
    pub async fn vendor_orders(&self, vendor_id: &VendorId, state: Option<VoState>, cursor: Option<String>, limit: usize) -> Result<(Vec<VendorOrder>, Option<String>), StoreError> {
        let prefix = state.map(|s| format!("{}#", s.as_str())).unwrap_or_default();
        let Page { items, cursor } = self
            .items
            .query(Query { index: Index::Gsi1, pk: format!("VENDOR#{vendor_id}"), sk_prefix: prefix, sk_max: None, descending: true, limit, cursor })
            .await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }

    pub async fn vendor(&self, vendor_id: &VendorId) -> Result<Option<VendorProfile>, StoreError> {
        self.get_as(&format!("VENDOR#{vendor_id}"), "PROFILE").await
    }

    pub async fn put_vendor(&self, profile: &VendorProfile) -> Result<(), StoreError> {
        let item = item_of(profile, &[("pk", format!("VENDOR#{}", profile.vendor_id)), ("sk", "PROFILE".into())]);
        self.items.put(item, Condition::NotExists).await
    }

    pub async fn product(&self, sku: &Sku) -> Result<Option<ProductMapping>, StoreError> {
        self.get_as(&format!("SKU#{sku}"), "PRODUCT").await
    }

    pub async fn put_product(&self, mapping: &ProductMapping) -> Result<(), StoreError> {
        let item = item_of(mapping, &[("pk", format!("SKU#{}", mapping.sku)), ("sk", "PRODUCT".into())]);
        self.items.put(item, Condition::Always).await
    }

    pub async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get_as(&format!("APIKEY#{key_hash}"), "KEY").await
    }

    pub async fn put_api_key(&self, key_hash: &str, record: &ApiKeyRecord) -> Result<(), StoreError> {
        let item = item_of(record, &[("pk", format!("APIKEY#{key_hash}")), ("sk", "KEY".into())]);
        self.items.put(item, Condition::NotExists).await
    }

    /// Claims the right to send `event_id` to `recipient`: true for the first caller
    /// only. The marker expires (TTL) after `keep_days`.
    pub async fn claim_sent(&self, event_id: &str, recipient: &str, now: DateTime<Utc>, keep_days: i64) -> Result<bool, StoreError> {
        let mut item = Item::new();
        item.insert("pk".into(), Value::String(format!("SENT#{event_id}#{recipient}")));
        item.insert("sk".into(), Value::String("SENT".into()));
        item.insert("ttl".into(), Value::from((now + chrono::Duration::days(keep_days)).timestamp()));
        match self.items.put(item, Condition::NotExists).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives a claim back after a failed send, so that a retry can send.
    pub async fn release_sent(&self, event_id: &str, recipient: &str) -> Result<(), StoreError> {
        self.items.delete(&format!("SENT#{event_id}#{recipient}"), "SENT").await
    }

    /// Records the provider's message id on the sent marker.
    pub async fn record_sent(&self, event_id: &str, recipient: &str, message_id: &str, now: DateTime<Utc>, keep_days: i64) -> Result<(), StoreError> {
        let mut item = Item::new();
        item.insert("pk".into(), Value::String(format!("SENT#{event_id}#{recipient}")));
        item.insert("sk".into(), Value::String("SENT".into()));
        item.insert("message_id".into(), Value::String(message_id.into()));
        item.insert("ttl".into(), Value::from((now + chrono::Duration::days(keep_days)).timestamp()));
        self.items.put(item, Condition::Always).await
    }
}
