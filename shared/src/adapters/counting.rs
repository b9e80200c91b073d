//! An item store that counts what passes through it: requests per DynamoDB operation,
//! items read (each GetItem that found one, each item a Query returned), items written
//! (each Put, Delete or Add, in a transaction or not) and the write units DynamoDB bills
//! for them. The tests and the benchmarks that claim "reads grow with what is due" or
//! "N write requests per order" count them here, on either backend.

use crate::ports::{Condition, Item, ItemStore, Page, Query, StoreError, Write};
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a `Counting` store has seen so far.
#[derive(Debug, Default)]
pub struct Counts {
    reads: AtomicU64,
    writes: AtomicU64,
    write_units: AtomicU64,
    keys_only_units: AtomicU64,
    requests: [AtomicU64; OPERATIONS.len()],
}

/// The DynamoDB operation each port call is, in the order `Counts::requests` lists them.
pub const OPERATIONS: [&str; 5] = ["GetItem", "PutItem", "DeleteItem", "TransactWriteItems", "Query"];

/// The write capacity units a write of `item` costs as DynamoDB bills it: one per KB of
/// the item (its JSON, within a few bytes of DynamoDB's own count), twice in a
/// transaction, and again for each index its keys put it in (every index projects
/// all of it). A delete is one unit (twice in a transaction). Removing an item from an
/// index it left costs one more, which this cannot see without the old item.
///
/// Returns the units as billed now, and as they would be with every index projecting
/// only the keys (an index entry under 1 KB, one unit): the lever DESIGN names.
fn units(write: &Write, in_transaction: bool) -> (u64, u64) {
    match write {
        Write::Put { item, .. } => item_units(item, in_transaction),
        // A condition check writes nothing, but is billed in a transaction as a
        // transactional write of its item (counted as one of under 1 KB).
        Write::Delete { .. } | Write::Add { .. } | Write::Check { .. } => {
            let units = if in_transaction { 2 } else { 1 };
            (units, units)
        }
    }
}

/// The units of a put of `item` (see `units`).
fn item_units(item: &Item, in_transaction: bool) -> (u64, u64) {
    let kb = (serde_json::to_string(item).map_or(0, |body| body.len()) as u64).div_ceil(1024).max(1);
    use crate::ports::Index;
    let filed: Vec<Index> = [Index::Gsi1, Index::Gsi2, Index::Gsi3].into_iter().filter(|index| item.contains_key(index.key_attributes().0)).collect();
    // An index entry of keys only is one unit; a whole item, its size.
    let in_indexes: u64 = filed.iter().map(|index| if index.keys_only() { 1 } else { kb }).sum();
    let table = kb * if in_transaction { 2 } else { 1 };
    (table + in_indexes, table + filed.len() as u64)
}

impl Counts {
    /// Items read so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Items written (or deleted) so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Write capacity units so far, as DynamoDB on demand bills them (see `units`).
    pub fn write_units(&self) -> u64 {
        self.write_units.load(Ordering::Relaxed)
    }

    /// What `write_units` would be if every index projected only the keys.
    pub fn keys_only_write_units(&self) -> u64 {
        self.keys_only_units.load(Ordering::Relaxed)
    }

    /// Requests so far per DynamoDB operation (`OPERATIONS`), in that order.
    pub fn requests(&self) -> Vec<(&'static str, u64)> {
        OPERATIONS.iter().zip(&self.requests).map(|(name, n)| (*name, n.load(Ordering::Relaxed))).collect()
    }

    /// Write requests so far (PutItem, DeleteItem and TransactWriteItems).
    pub fn write_requests(&self) -> u64 {
        self.requests().into_iter().filter(|(name, _)| matches!(*name, "PutItem" | "DeleteItem" | "TransactWriteItems")).map(|(_, n)| n).sum()
    }

    fn request(&self, operation: &str) {
        if let Some(n) = OPERATIONS.iter().position(|o| *o == operation) {
            self.requests[n].fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `inner`, counted.
pub struct Counting {
    inner: Arc<dyn ItemStore>,
    counts: Arc<Counts>,
}

impl Counting {
    /// Wraps `inner`; the counts are read through the returned handle.
    pub fn new(inner: Arc<dyn ItemStore>) -> (Counting, Arc<Counts>) {
        let counts = Arc::new(Counts::default());
        (Counting { inner, counts: counts.clone() }, counts)
    }

    fn read(&self, n: usize) {
        self.counts.reads.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn wrote(&self, items: usize, (units, keys_only): (u64, u64)) {
        self.counts.writes.fetch_add(items as u64, Ordering::Relaxed);
        self.counts.write_units.fetch_add(units, Ordering::Relaxed);
        self.counts.keys_only_units.fetch_add(keys_only, Ordering::Relaxed);
    }
}

#[async_trait]
impl ItemStore for Counting {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.counts.request("GetItem");
        let found = self.inner.get(pk, sk).await?;
        self.read(usize::from(found.is_some()));
        Ok(found)
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.counts.request("PutItem");
        let units = item_units(&item, false);
        self.inner.put(item, condition).await?;
        self.wrote(1, units);
        Ok(())
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.counts.request("DeleteItem");
        self.inner.delete(pk, sk).await?;
        self.wrote(1, (1, 1));
        Ok(())
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.counts.request("TransactWriteItems");
        let units = writes.iter().map(|w| units(w, true)).fold((0, 0), |(a, b), (u, k)| (a + u, b + k));
        let items = writes.iter().filter(|w| !matches!(w, Write::Check { .. })).count();
        self.inner.transact(writes).await?;
        self.wrote(items, units);
        Ok(())
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.counts.request("Query");
        let page = self.inner.query(query).await?;
        self.read(page.items.len());
        Ok(page)
    }
}
