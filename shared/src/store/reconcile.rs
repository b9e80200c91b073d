//! The reconciliation poll's cursor per shop: how far its storefront's changes have
//! been read and queued, so that each run reads only what changed since.

use super::*;

/// A shop's cursor: the newest change time whose orders are all queued for intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileCursor {
    pub modified_at: DateTime<Utc>,
    pub version: u64,
}

impl Tables {
    /// `shop`'s cursor at `source`, when a poll has read it before.
    pub async fn reconcile_cursor(&self, source: &str, shop: &str) -> Result<Option<ReconcileCursor>, StoreError> {
        let (pk, sk) = keys::reconcile_cursor(source, shop);
        self.get_as(&pk, &sk).await
    }

    /// Moves `shop`'s cursor to `modified_at`, on the condition that the cursor read
    /// (`replaces`; `None`: none yet) is still there, so that two polls cannot both
    /// move it (the loser's next run starts from the winner's). Its new version.
    pub async fn put_reconcile_cursor(&self, source: &str, shop: &str, modified_at: DateTime<Utc>, replaces: Option<u64>) -> Result<u64, StoreError> {
        let (pk, sk) = keys::reconcile_cursor(source, shop);
        let version = replaces.map_or(1, |v| v + 1);
        let item = item_of(&ReconcileCursor { modified_at, version }, &[("pk", pk), ("sk", sk)])?;
        self.items.put(item, replaces.map_or(Condition::NotExists, Condition::VersionIs)).await?;
        Ok(version)
    }
}
