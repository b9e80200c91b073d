//! A vendor's scorecard counters: one item per UTC day and shard
//! (`VENDOR#{vendor}` / `SCORE#{day}#{shard}`), each counter a number that DynamoDB
//! `ADD` moves; a window of them is one Query.

use super::*;
use crate::domain::scorecard::Days;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Shards of a vendor's day: concurrent transactions on one item conflict on DynamoDB,
/// so a day is spread over a few items, chosen by the order.
pub const SCORE_SHARDS: u32 = 4;

/// The attributes of a day item that are not counters.
const NOT_COUNTERS: [&str; 3] = ["pk", "sk", "version"];

/// Where a vendor's measures stood when one last changed (`VENDOR#` /
/// `STANDING`): a turn is told once, against this.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// The UTC day a state last changed.
    pub day: Option<NaiveDate>,
    /// Measure → `good`, `at_risk` or `failing`.
    pub states: BTreeMap<String, String>,
    #[serde(default)]
    pub version: u64,
}

impl Tables {
    pub async fn standing(&self, vendor_id: &VendorId) -> Result<Option<Standing>, StoreError> {
        let (pk, sk) = keys::standing(vendor_id);
        self.get_as(&pk, &sk).await
    }

    /// The write of a vendor's standing, on the version read (`None`: none yet).
    pub fn put_standing(vendor_id: &VendorId, standing: &Standing, replaces: Option<u64>) -> Result<Write, StoreError> {
        let (pk, sk) = keys::standing(vendor_id);
        Ok(Write::Put { item: item_of(standing, &[("pk", pk), ("sk", sk)])?, condition: replaces.map_or(Condition::NotExists, Condition::VersionIs) })
    }

    /// The write that adds `counters` to `vendor_id`'s day `day`, in the shard of `order_id`.
    pub fn add_scores(vendor_id: &VendorId, day: NaiveDate, order_id: &OrderId, counters: &BTreeMap<String, i64>) -> Write {
        let shard = order_id.as_str().bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % SCORE_SHARDS;
        let (pk, sk) = keys::score_day(vendor_id, day, shard);
        Write::Add { pk, sk, add: counters.iter().map(|(name, n)| (name.clone(), *n)).collect(), condition: Condition::Always }
    }

    /// `vendor_id`'s day counters of the `days` days up to `today`, newest first, summed
    /// over shards: one Query (at most `days` × shards items; a day with none costs none).
    pub async fn scores(&self, vendor_id: &VendorId, today: NaiveDate, days: u32) -> Result<Days, StoreError> {
        let from = today - chrono::Duration::days(i64::from(days) - 1);
        let limit = (days * SCORE_SHARDS) as usize;
        let query = Query {
            index: Index::Table,
            pk: vendor_pk(vendor_id),
            sk_prefix: keys::SCORE_PREFIX.into(),
            sk_max: Some(format!("{}{today}#~", keys::SCORE_PREFIX)),
            descending: true,
            limit,
            cursor: None,
        };
        let page = self.items.query(query).await?;
        let mut found = Days::new();
        for item in page.items {
            let sk = item.get("sk").and_then(Value::as_str).unwrap_or_default();
            let Some(day) = sk.strip_prefix(keys::SCORE_PREFIX).and_then(|rest| rest.split('#').next()).and_then(|d| d.parse::<NaiveDate>().ok()) else {
                continue;
            };
            if day < from {
                continue;
            }
            let counters = found.entry(day).or_default();
            for (name, value) in item.iter().filter(|(name, _)| !NOT_COUNTERS.contains(&name.as_str())) {
                *counters.entry(name.clone()).or_default() += value.as_i64().unwrap_or(0);
            }
        }
        Ok(found)
    }

    /// Every scorecard day item of `vendor_id`: its key (to delete it) and its counters,
    /// summed per day into `all` (what a backfill rebuilds and a recount is held to).
    pub async fn all_scores(&self, vendor_id: &VendorId) -> Result<(Vec<(String, String)>, Days), StoreError> {
        let items: Vec<Item> = self.query_all(vendor_pk(vendor_id), keys::SCORE_PREFIX.into()).await?;
        let mut keys = Vec::new();
        let mut all = Days::new();
        for item in &items {
            let sk = item.get("sk").and_then(Value::as_str).unwrap_or_default().to_string();
            let Some(day) = sk.strip_prefix(keys::SCORE_PREFIX).and_then(|rest| rest.split('#').next()).and_then(|d| d.parse::<NaiveDate>().ok()) else {
                continue;
            };
            let counters = all.entry(day).or_default();
            for (name, value) in item.iter().filter(|(name, _)| !NOT_COUNTERS.contains(&name.as_str())) {
                *counters.entry(name.clone()).or_default() += value.as_i64().unwrap_or(0);
            }
            keys.push((vendor_pk(vendor_id), sk));
        }
        Ok((keys, all))
    }
}
