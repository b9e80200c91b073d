//! Where a vendor's money is kept (DESIGN, "Storage"): in the vendor's partition, its
//! `BALANCE` (one counter per currency and bucket, moved by `ADD`), its `LEDGER#` entries
//! (written once), its `EARN#` earnings (one per delivered parcel; filed under the
//! sparse `HOLD#{shard}` due index while held) and its `PAYOUT#`s (filed under
//! `PAYOUTS#pending` until paid). Entries that moved `available` and are in no payout
//! yet are noted under `UNPAID#{shard}`, so that payouts read what is owed, never the
//! vendors.

use super::{DUE_SHARDS, Tables, item_of, key_time, keys, value_of, vendor_pk};
use crate::domain::ids::VendorId;
use crate::domain::ledger::{Balance, Earning, LedgerEntry, Payout, PayoutStatus, Unpaid};
use crate::domain::money::Currency;
use crate::ports::{Condition, Index, Page, Query, StoreError, Write};

/// The shard of a vendor in the `HOLD#` and `UNPAID#` partitions.
fn shard_of(vendor_id: &VendorId) -> u32 {
    vendor_id.as_str().bytes().map(u32::from).sum::<u32>() % DUE_SHARDS
}

fn unpaid_group(vendor_id: &VendorId, currency: Currency) -> String {
    format!("{vendor_id}#{currency}#")
}

fn unpaid_sk(note: &Unpaid) -> String {
    format!("{}{}#{}", unpaid_group(&note.vendor_id, note.delta.currency), key_time(note.at), note.entry_id)
}

impl Tables {
    /// The write of an earning (`EARN#{id}`), conditional on the version it replaces (a
    /// new one must not exist: a parcel earns once). While held it is filed under
    /// `HOLD#{shard}` by its release time; once released it leaves that index.
    pub fn put_earning(earning: &Earning, previous_version: Option<u64>) -> Result<Write, StoreError> {
        let (pk, sk) = keys::earning(&earning.vendor_id, &earning.earning_id);
        let mut keys = vec![("pk", pk), ("sk", sk)];
        if earning.released_at.is_none() {
            keys.push(("gsi2pk", super::Due::Holds.partition(shard_of(&earning.vendor_id))));
            keys.push(("gsi2sk", format!("{}#{}#{}", key_time(earning.release_at), earning.vendor_id, earning.earning_id)));
        }
        Ok(Write::Put { item: item_of(earning, &keys)?, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// An earning by its vendor and id.
    pub async fn earning(&self, vendor_id: &VendorId, earning_id: &str) -> Result<Option<Earning>, StoreError> {
        let (pk, sk) = keys::earning(vendor_id, earning_id);
        self.get_as(&pk, &sk).await
    }

    /// What one vendor order earned, a parcel each (none before its first delivery).
    pub async fn earnings_of(&self, vendor_id: &VendorId, vendor_order: &str) -> Result<Vec<Earning>, StoreError> {
        let (pk, prefix) = keys::earnings_of(vendor_id, vendor_order);
        let earnings: Vec<Earning> = self.query_all(pk, prefix).await?;
        Ok(earnings.into_iter().filter(|e| e.vendor_order == vendor_order).collect())
    }

    /// An earning by its table keys (as the hold index gives them).
    pub async fn earning_at(&self, key: &super::DueKey) -> Result<Option<Earning>, StoreError> {
        if key.index != super::Due::Holds || !key.pk.starts_with("VENDOR#") || !key.sk.starts_with("EARN#") {
            return Ok(None);
        }
        self.get_as(&key.pk, &key.sk).await
    }

    /// The write of a ledger entry: once (its id is its cause's).
    pub fn put_entry(entry: &LedgerEntry) -> Result<Write, StoreError> {
        let (pk, sk) = keys::ledger_entry(&entry.vendor_id, entry.at, &entry.entry_id);
        Ok(Write::Put { item: item_of(entry, &[("pk", pk), ("sk", sk)])?, condition: Condition::NotExists })
    }

    /// The vendor's ledger, oldest first.
    pub async fn ledger(&self, vendor_id: &VendorId) -> Result<Vec<LedgerEntry>, StoreError> {
        self.query_all(vendor_pk(vendor_id), "LEDGER#".into()).await
    }

    /// The `ADD` of `entries` to their vendor's balance (all of one vendor), as they move
    /// it; conditional on the balance version read when given (a payout).
    pub fn add_to_balance(vendor_id: &VendorId, entries: &[LedgerEntry], read_version: Option<u64>) -> Write {
        let (pk, sk) = keys::balance(vendor_id);
        Write::Add { pk, sk, add: Balance::adds(entries), condition: read_version.map_or(Condition::Always, Condition::VersionIs) }
    }

    /// The vendor's balance (empty, version 0, before its first movement).
    pub async fn balance(&self, vendor_id: &VendorId) -> Result<Balance, StoreError> {
        let (pk, sk) = keys::balance(vendor_id);
        let Some(item) = self.items.get(&pk, &sk).await? else { return Ok(Balance::default()) };
        let version = item.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        Ok(Balance::from_counters(item.iter().filter_map(|(name, value)| Some((name.as_str(), value.as_i64()?))), version))
    }

    /// The write of an unpaid note, in the transaction of the entry it notes.
    pub fn put_unpaid(note: &Unpaid) -> Result<Write, StoreError> {
        let keys = [("pk", format!("UNPAID#{}", shard_of(&note.vendor_id))), ("sk", unpaid_sk(note))];
        Ok(Write::Put { item: item_of(note, &keys)?, condition: Condition::NotExists })
    }

    /// The delete of an unpaid note, in the transaction of the payout that covers it.
    pub fn delete_unpaid(note: &Unpaid) -> Write {
        Write::Delete { pk: format!("UNPAID#{}", shard_of(&note.vendor_id)), sk: unpaid_sk(note), condition: Condition::Always }
    }

    /// Which vendors and currencies have unpaid notes in one shard (each once).
    pub async fn unpaid_groups(&self, shard: u32) -> Result<Vec<(VendorId, Currency)>, StoreError> {
        let notes: Vec<Unpaid> = self.query_all(format!("UNPAID#{shard}"), String::new()).await?;
        let mut groups: Vec<(VendorId, Currency)> = Vec::new();
        for note in notes {
            let group = (note.vendor_id, note.delta.currency);
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        Ok(groups)
    }

    /// A vendor's unpaid notes in one currency, oldest first (a consistent read).
    pub async fn unpaid(&self, vendor_id: &VendorId, currency: Currency) -> Result<Vec<Unpaid>, StoreError> {
        self.query_all(format!("UNPAID#{}", shard_of(vendor_id)), unpaid_group(vendor_id, currency)).await
    }

    /// The write of a payout, conditional on the version it replaces (a new one must not
    /// exist). A pending payout is filed under `PAYOUTS#pending` for the payment run.
    pub fn put_payout(payout: &Payout, previous_version: Option<u64>) -> Result<Write, StoreError> {
        let (pk, sk) = keys::payout(&payout.vendor_id, &payout.payout_id);
        let mut keys = vec![("pk", pk), ("sk", sk)];
        if payout.status == PayoutStatus::Pending {
            keys.push(("gsi3pk", "PAYOUTS#pending".into()));
            keys.push(("gsi3sk", format!("{}#{}", key_time(payout.created_at), payout.payout_id)));
        }
        Ok(Write::Put { item: item_of(payout, &keys)?, condition: previous_version.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// A payout by its id (which names its vendor).
    pub async fn payout(&self, payout_id: &str) -> Result<Option<Payout>, StoreError> {
        let Some(vendor_id) = Payout::vendor_of(payout_id) else { return Ok(None) };
        let (pk, sk) = keys::payout(&vendor_id, payout_id);
        self.get_as(&pk, &sk).await
    }

    /// One page of a vendor's payouts, newest first.
    pub async fn payouts_of(&self, vendor_id: &VendorId, cursor: Option<String>, limit: usize) -> Result<(Vec<Payout>, Option<String>), StoreError> {
        let Page { items, cursor } = self
            .items
            .query(Query { index: Index::Table, pk: vendor_pk(vendor_id), sk_prefix: "PAYOUT#".into(), sk_max: None, descending: true, limit, cursor })
            .await?;
        Ok((items.into_iter().map(value_of).collect::<Result<_, _>>()?, cursor))
    }

    /// Every pending payout, oldest first (the operator's payment run).
    pub async fn pending_payouts(&self) -> Result<Vec<Payout>, StoreError> {
        self.query_all_in(Index::Gsi3, "PAYOUTS#pending".into(), String::new()).await
    }
}
