//! An item store that counts what passes through it: items read (each GetItem that
//! found one, each item a Query returned) and items written (each Put or Delete, in a
//! transaction or not). DynamoDB bills by these, so the tests and the benchmarks that
//! claim "reads grow with what is due" or "N writes per order" count them here, on
//! either backend.

use crate::ports::{Item, ItemStore, Page, Query, StoreError, Write, Condition};
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a `Counting` store has seen so far.
#[derive(Debug, Default)]
pub struct Counts {
    reads: AtomicU64,
    writes: AtomicU64,
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

    fn wrote(&self, n: usize) {
        self.counts.writes.fetch_add(n as u64, Ordering::Relaxed);
    }
}

#[async_trait]
impl ItemStore for Counting {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let found = self.inner.get(pk, sk).await?;
        self.read(usize::from(found.is_some()));
        Ok(found)
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.inner.put(item, condition).await?;
        self.wrote(1);
        Ok(())
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.inner.delete(pk, sk).await?;
        self.wrote(1);
        Ok(())
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let n = writes.len();
        self.inner.transact(writes).await?;
        self.wrote(n);
        Ok(())
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let page = self.inner.query(query).await?;
        self.read(page.items.len());
        Ok(page)
    }
}
