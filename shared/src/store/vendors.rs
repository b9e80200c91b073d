//! Vendors, their SKU mappings and API keys, and the vendor API's idempotency keys.

use super::*;

/// A SKU's mapping item, with the condition that the version read is still there.
fn product_item(mapping: &ProductMapping, replaces: Option<u64>) -> Result<(Item, Condition), StoreError> {
    let stored = StoredProduct { mapping: mapping.clone(), version: replaces.map_or(1, |v| v + 1) };
    let (pk, sk) = keys::product(&mapping.sku);
    let mut keys = vec![("pk", pk), ("sk", sk), ("gsi1pk", keys::products_pk(&mapping.vendor_id)), ("gsi1sk", mapping.sku.to_string())];
    // A claim waiting for the operator is filed in their queue (sparse: only while it waits).
    if mapping.awaiting_approval {
        keys.extend([("gsi3pk", keys::CLAIMS_PK.to_string()), ("gsi3sk", mapping.sku.to_string())]);
    }
    Ok((item_of(&stored, &keys)?, replaces.map_or(Condition::NotExists, Condition::VersionIs)))
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

impl Tables {
    /// A vendor's idempotency record of `key`, as stored: an expired one may still be
    /// there (DynamoDB removes expired items only eventually, the embedded store never).
    pub async fn idempotency(&self, vendor_id: &VendorId, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let (pk, sk) = keys::idempotency(vendor_id, key);
        self.get_as(&pk, &sk).await
    }

    /// The write of an idempotency record: it must not exist yet (an expired one read
    /// before is replaced by its version), so two requests with one key cannot both win.
    pub fn put_idempotency(vendor_id: &VendorId, key: &str, record: &IdempotencyRecord, replaces: Option<u64>) -> Result<Write, StoreError> {
        let (pk, sk) = keys::idempotency(vendor_id, key);
        let item = item_of(record, &[("pk", pk), ("sk", sk)])?;
        Ok(Write::Put { item, condition: replaces.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    pub async fn vendor(&self, vendor_id: &VendorId) -> Result<Option<VendorProfile>, StoreError> {
        let (pk, sk) = keys::vendor(vendor_id);
        self.get_as(&pk, &sk).await
    }

    /// Writes a vendor's profile, filed in the vendor list (`VENDORS` in gsi1), on the
    /// condition that the version it replaces is still there (`None`: a new vendor).
    pub async fn put_vendor(&self, profile: &VendorProfile, replaces: Option<u64>) -> Result<(), StoreError> {
        match Tables::vendor_write(profile, replaces)? {
            Write::Put { item, condition } => self.items.put(item, condition).await,
            other => self.items.transact(vec![other]).await,
        }
    }

    /// `put_vendor` as a write, to commit with what goes with it (a hold and its mail).
    pub fn vendor_write(profile: &VendorProfile, replaces: Option<u64>) -> Result<Write, StoreError> {
        let keys = [
            ("pk", keys::vendor(&profile.vendor_id).0),
            ("sk", keys::vendor(&profile.vendor_id).1),
            ("gsi1pk", keys::VENDORS_PK.into()),
            ("gsi1sk", profile.vendor_id.to_string()),
        ];
        Ok(Write::Put { item: item_of(profile, &keys)?, condition: replaces.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// One page of the onboarded vendors, by id.
    pub async fn vendors(&self, cursor: Option<String>, limit: usize) -> Result<(Vec<VendorProfile>, Option<String>), StoreError> {
        self.listing(keys::VENDORS_PK.into(), false, cursor, limit).await
    }

    pub async fn product(&self, sku: &Sku) -> Result<Option<ProductMapping>, StoreError> {
        Ok(self.product_versioned(sku).await?.map(|(mapping, _)| mapping))
    }

    /// A SKU's mapping with the version a change of it is conditional on.
    pub async fn product_versioned(&self, sku: &Sku) -> Result<Option<(ProductMapping, u64)>, StoreError> {
        let (pk, sk) = keys::product(sku);
        let stored: Option<StoredProduct> = self.get_as(&pk, &sk).await?;
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
        let (pk, sk) = keys::product(sku);
        Write::Delete { pk, sk, condition: Condition::Always }
    }

    /// The write that removes a SKU's mapping only if it is still at `version`: a claim
    /// refused while an approval races it stays approved.
    pub fn product_delete_at(sku: &Sku, version: u64) -> Write {
        let (pk, sk) = keys::product(sku);
        Write::Delete { pk, sk, condition: Condition::VersionIs(version) }
    }

    /// One page of a vendor's SKU mappings, by SKU.
    pub async fn vendor_products(
        &self,
        vendor_id: &VendorId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<(Vec<ProductMapping>, Option<String>), StoreError> {
        let (stored, cursor): (Vec<StoredProduct>, _) = self.listing(keys::products_pk(vendor_id), false, cursor, limit).await?;
        Ok((stored.into_iter().map(|s| s.mapping).collect(), cursor))
    }

    /// The vendors' claims on SKUs that wait for the operator's approval, by SKU.
    pub async fn sku_claims(&self) -> Result<Vec<ProductMapping>, StoreError> {
        let stored: Vec<StoredProduct> = self.query_all_in(Index::Gsi3, keys::CLAIMS_PK.into(), String::new()).await?;
        Ok(stored.into_iter().map(|s| s.mapping).collect())
    }

    pub async fn api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let (pk, sk) = keys::api_key(key_hash);
        self.get_as(&pk, &sk).await
    }

    /// Writes an API key's record, filed under its vendor (`KEYS#{vendor}` in gsi1) and its
    /// printable prefix (`KEYPREFIX#{prefix}` in gsi3), conditional on the version read.
    pub async fn put_api_key(&self, key_hash: &str, record: &ApiKeyRecord, replaces: Option<u64>) -> Result<(), StoreError> {
        let keys = [
            ("pk", keys::api_key(key_hash).0),
            ("sk", keys::api_key(key_hash).1),
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
}
