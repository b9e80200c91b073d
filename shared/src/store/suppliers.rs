//! Supplier automation: each vendor order's purchases (`BUY#…` under the order, on the
//! due index as `BUY#{shard}` by when supplier-sync looks next), a supplier's order
//! number back to its purchase (`SUPPLYREF#…`, for pushes), and each vendor's connected
//! supplier accounts (`SUPPLIER#{api}` under the vendor; CJ's by the keyed hash of its
//! `openId` too, `SUPPLYHOOK#…`); an AliExpress authorization under way (`OAUTH#…`,
//! by the state its callback brings back).

use super::*;
use crate::domain::supplier::{Purchase, SupplierApi, SupplierConnection};

/// Where a supplier's order number leads: the purchase it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseRef {
    pub order_id: OrderId,
    pub vendor_id: VendorId,
    pub round: u32,
    pub api: SupplierApi,
}

/// Where a push's account leads: the vendor whose connection it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookOwner {
    pub vendor_id: VendorId,
    pub api: SupplierApi,
}

/// A vendor's authorization at a supplier under way: the callback that brings its
/// state back connects this vendor's account, once, before `ttl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OauthState {
    pub vendor_id: VendorId,
    pub api: SupplierApi,
    /// When it runs out (epoch seconds; DynamoDB's TTL removes it later).
    pub ttl: i64,
    pub version: u64,
}

impl Tables {
    /// The write that starts an authorization under `state` (a new nonce).
    pub fn put_oauth_state(state: &str, started: &OauthState) -> Result<Write, StoreError> {
        let (pk, sk) = keys::oauth_state(state);
        Ok(Write::Put { item: item_of(started, &[("pk", pk), ("sk", sk)])?, condition: Condition::NotExists })
    }

    /// The authorization under way under `state`, if any (run out or not).
    pub async fn oauth_state(&self, state: &str) -> Result<Option<OauthState>, StoreError> {
        let (pk, sk) = keys::oauth_state(state);
        self.get_as(&pk, &sk).await
    }

    /// The write that uses up an authorization's state: of two callbacks with it, one wins.
    pub fn take_oauth_state(state: &str, started: &OauthState) -> Write {
        let (pk, sk) = keys::oauth_state(state);
        Write::Delete { pk, sk, condition: Condition::VersionIs(started.version) }
    }

    /// The write of a purchase, on the due index while it has something to do,
    /// conditional on the version it replaces (a new one must not exist yet).
    pub fn put_purchase(purchase: &Purchase, previous_version: Option<u64>) -> Result<Write, StoreError> {
        let (pk, sk) = keys::purchase(&purchase.order_id, &purchase.vendor_id, purchase.round, purchase.api);
        let mut keys = vec![("pk", pk), ("sk", sk)];
        if let Some(next_at) = purchase.next_at {
            let shard = order_shard(&purchase.order_id);
            keys.push(("gsi2pk", Due::Purchases.partition(shard)));
            keys.push(("gsi2sk", format!("{}#{}#{}#{}#{}", key_time(next_at), purchase.order_id, purchase.vendor_id, purchase.round, purchase.api.as_str())));
        }
        Ok(Write::Put { item: item_of(purchase, &keys)?, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// One purchase of a vendor order.
    pub async fn purchase(&self, order_id: &OrderId, vendor_id: &VendorId, round: u32, api: SupplierApi) -> Result<Option<Purchase>, StoreError> {
        let (pk, sk) = keys::purchase(order_id, vendor_id, round, api);
        self.get_as(&pk, &sk).await
    }

    /// Every purchase of a vendor order: one Query.
    pub async fn purchases_of(&self, order_id: &OrderId, vendor_id: &VendorId, round: u32) -> Result<Vec<Purchase>, StoreError> {
        self.query_all(order_pk(order_id), keys::purchase_prefix(vendor_id, round)).await
    }

    /// A purchase the due index lists.
    pub async fn purchase_at(&self, key: &DueKey) -> Result<Option<Purchase>, StoreError> {
        if key.index != Due::Purchases || !key.pk.starts_with("ORDER#") || !key.sk.starts_with("BUY#") {
            return Ok(None);
        }
        self.get_as(&key.pk, &key.sk).await
    }

    /// The write that leads a supplier's order number to its purchase (kept as long
    /// as pushes of it may come; never overwritten by another purchase).
    pub fn put_purchase_ref(api: SupplierApi, reference: &str, to: &PurchaseRef) -> Result<Write, StoreError> {
        let (pk, sk) = keys::purchase_ref(api, reference);
        Ok(Write::Put { item: item_of(to, &[("pk", pk), ("sk", sk)])?, condition: Condition::Always })
    }

    /// The purchase a supplier's order number belongs to.
    pub async fn purchase_ref(&self, api: SupplierApi, reference: &str) -> Result<Option<PurchaseRef>, StoreError> {
        let (pk, sk) = keys::purchase_ref(api, reference);
        self.get_as(&pk, &sk).await
    }

    /// A vendor's connected account at one supplier.
    pub async fn supplier_connection(&self, vendor_id: &VendorId, api: SupplierApi) -> Result<Option<SupplierConnection>, StoreError> {
        let (pk, sk) = keys::supplier_connection(vendor_id, api);
        self.get_as(&pk, &sk).await
    }

    /// Every supplier account a vendor connected: one Query.
    pub async fn supplier_connections(&self, vendor_id: &VendorId) -> Result<Vec<SupplierConnection>, StoreError> {
        self.query_all(vendor_pk(vendor_id), "SUPPLIER#".into()).await
    }

    /// The write of a connection, conditional on the version it replaces.
    pub fn put_supplier_connection(connection: &SupplierConnection, previous_version: Option<u64>) -> Result<Write, StoreError> {
        let (pk, sk) = keys::supplier_connection(&connection.vendor_id, connection.api);
        Ok(Write::Put { item: item_of(connection, &[("pk", pk), ("sk", sk)])?, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// The write that leads a push signed for an account (its keyed hash) to its vendor.
    pub fn put_hook_owner(hash: &str, owner: &HookOwner) -> Result<Write, StoreError> {
        let (pk, sk) = keys::supplier_hook(hash);
        Ok(Write::Put { item: item_of(owner, &[("pk", pk), ("sk", sk)])?, condition: Condition::Always })
    }

    /// The vendor a push's account belongs to.
    pub async fn hook_owner(&self, hash: &str) -> Result<Option<HookOwner>, StoreError> {
        let (pk, sk) = keys::supplier_hook(hash);
        self.get_as(&pk, &sk).await
    }
}
