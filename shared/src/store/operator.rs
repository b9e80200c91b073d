//! The operator's items: operator keys (`OPKEY#{hash}`, listed under `OPKEYS`), and the
//! customer-email lookup (`EMAIL#{keyed hash}` / `{order_id}`) that lets the console
//! find an order by its customer's address with one Query.

use super::*;
use crate::domain::vendor::OperatorKey;

impl Tables {
    /// The operator key whose hash is `key_hash`.
    pub async fn operator_key(&self, key_hash: &str) -> Result<Option<OperatorKey>, StoreError> {
        let (pk, sk) = keys::operator_key(key_hash);
        self.get_as(&pk, &sk).await
    }

    /// Writes an operator key's record, filed in the operator-key listing (`OPKEYS` in
    /// gsi1, oldest first), on the condition that the version read is still there.
    pub async fn put_operator_key(&self, key_hash: &str, record: &OperatorKey, replaces: Option<u64>) -> Result<(), StoreError> {
        let (pk, sk) = keys::operator_key(key_hash);
        let keys =
            [("pk", pk), ("sk", sk), ("gsi1pk", keys::OPERATOR_KEYS_PK.into()), ("gsi1sk", format!("{}#{}", key_time(record.created_at), record.prefix))];
        self.items.put(item_of(record, &keys)?, replaces.map_or(Condition::NotExists, Condition::VersionIs)).await
    }

    /// Every operator key, oldest first, each with the hash that is its item's key.
    pub async fn operator_keys(&self) -> Result<Vec<(String, OperatorKey)>, StoreError> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let query =
                Query { index: Index::Gsi1, pk: keys::OPERATOR_KEYS_PK.into(), sk_prefix: String::new(), sk_max: None, descending: false, limit: 100, cursor };
            let page = self.query_items(query).await?;
            for item in page.items {
                let hash = item.get("pk").and_then(Value::as_str).and_then(|pk| pk.strip_prefix("OPKEY#")).unwrap_or_default().to_string();
                keys.push((hash, value_of(item)?));
            }
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }

    /// The write that files `order_id` under its customer's email (by `hash`, the
    /// address's keyed hash), with the order's first filing.
    pub fn put_email_lookup(hash: &str, order_id: &OrderId) -> Result<Write, StoreError> {
        let (pk, sk) = keys::email_lookup(hash, order_id);
        let item = item_of(&serde_json::json!({ "order_id": order_id }), &[("pk", pk), ("sk", sk)])?;
        Ok(Write::Put { item, condition: Condition::Always })
    }

    /// The write that forgets it (a redaction, a purge).
    pub fn delete_email_lookup(hash: &str, order_id: &OrderId) -> Write {
        let (pk, sk) = keys::email_lookup(hash, order_id);
        Write::Delete { pk, sk, condition: Condition::Always }
    }

    /// The orders of the customer whose email's keyed hash is `hash`: one Query.
    pub async fn orders_by_email(&self, hash: &str) -> Result<Vec<OrderId>, StoreError> {
        #[derive(Deserialize)]
        struct Filed {
            order_id: OrderId,
        }
        let found: Vec<Filed> = self.query_all(keys::email_pk(hash), String::new()).await?;
        Ok(found.into_iter().map(|f| f.order_id).collect())
    }
}
