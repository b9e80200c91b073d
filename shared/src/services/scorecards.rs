//! Vendor scorecards (`domain::scorecard`): counted in every commit that changes a
//! vendor order, read over their windows, recounted from history.

use super::{App, ServiceError};
use crate::config::Config;
use crate::domain::ids::VendorId;
use crate::domain::scorecard::{self, Days, Scorecard};
use crate::domain::vendor_order::VendorOrder;
use crate::ports::{StoreError, Write};
use crate::store::Tables;

/// `writes` with the scorecard counters their vendor orders move: each vendor order put
/// carries what it counted (`scored`, updated in its item) and adds the difference to its
/// vendor's day items, in the same transaction. What `App::commit` runs on every commit.
pub fn counted(config: &Config, mut writes: Vec<Write>) -> Result<Vec<Write>, StoreError> {
    let mut adds = Vec::new();
    for write in &mut writes {
        let Write::Put { item, .. } = write else { continue };
        if !item.get("sk").and_then(serde_json::Value::as_str).is_some_and(|sk| sk.starts_with("VO#")) {
            continue;
        }
        let unreadable =
            |reason: String| StoreError::Unreadable { key: item.get("pk").and_then(serde_json::Value::as_str).unwrap_or_default().to_string(), reason };
        let vo: VendorOrder = serde_json::from_value(serde_json::Value::Object(item.clone())).map_err(|e| unreadable(e.to_string()))?;
        let facts = scorecard::facts(&vo, &config.sla, config.scorecard.tracking_days);
        let difference = scorecard::difference(&vo.scored, &facts);
        if difference.is_empty() {
            continue;
        }
        for (day, counters) in &difference {
            adds.push(Tables::add_scores(&vo.vendor_id, *day, &vo.order_id, counters));
        }
        let scored = serde_json::to_value(&facts).map_err(|e| unreadable(e.to_string()))?;
        item.insert("scored".into(), scored);
    }
    writes.extend(adds);
    Ok(writes)
}

/// `vendor_id`'s scorecard as of today: one Query of its day items.
pub async fn read(app: &App, vendor_id: &VendorId) -> Result<Scorecard, ServiceError> {
    let today = app.clock.now().date_naive();
    let days = app.tables.scores(vendor_id, today, app.config.scorecard.longest_days()).await?;
    Ok(Scorecard::of(&days, today, &app.config.scorecard))
}

/// What `vendor_id`'s counters should hold: the facts of every vendor order it has, by
/// Query of its listing (never a Scan).
pub async fn recount(app: &App, vendor_id: &VendorId) -> Result<Days, ServiceError> {
    let mut days = Days::new();
    for vo in every_vendor_order(app, vendor_id).await? {
        for (key, n) in scorecard::facts(&vo, &app.config.sla, app.config.scorecard.tracking_days) {
            let Some((day, counter)) = key.split_once('|') else { continue };
            let Ok(day) = day.parse() else { continue };
            *days.entry(day).or_default().entry(counter.to_string()).or_default() += n;
        }
    }
    Ok(without_zeros(days))
}

/// What `vendor_id`'s day items hold, every day (zero counters left out).
pub async fn stored(app: &App, vendor_id: &VendorId) -> Result<Days, ServiceError> {
    Ok(without_zeros(app.tables.all_scores(vendor_id).await?.1))
}

fn without_zeros(days: Days) -> Days {
    days.into_iter()
        .map(|(day, counters)| (day, counters.into_iter().filter(|(_, n)| *n != 0).collect::<std::collections::BTreeMap<_, _>>()))
        .filter(|(_, counters)| !counters.is_empty())
        .collect()
}

/// Rebuilds `vendor_id`'s counters from its vendor orders: its day items are deleted,
/// then each vendor order is committed again as having counted nothing, so that the
/// commit adds all it counts. Run it while the vendor is quiet (a change committed
/// between the delete and its order's recount would be counted again); returns how many
/// vendor orders it counted.
pub async fn backfill(app: &App, vendor_id: &VendorId) -> Result<usize, ServiceError> {
    let (keys, _) = app.tables.all_scores(vendor_id).await?;
    for chunk in keys.chunks(25) {
        let deletes = chunk.iter().map(|(pk, sk)| Write::Delete { pk: pk.clone(), sk: sk.clone(), condition: crate::ports::Condition::Always }).collect();
        app.commit(deletes, &[]).await?;
    }
    let mut counted = 0;
    for vo in every_vendor_order(app, vendor_id).await? {
        let fresh = VendorOrder { scored: Default::default(), version: vo.version + 1, ..vo.clone() };
        match app.commit(vec![Tables::put_vendor_order(&fresh, Some(vo.version))?], &[]).await {
            Ok(()) => counted += 1,
            // Changed meanwhile: its own commit counted it.
            Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(counted)
}

async fn every_vendor_order(app: &App, vendor_id: &VendorId) -> Result<Vec<VendorOrder>, ServiceError> {
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = app.tables.vendor_orders(vendor_id, None, cursor, 100).await?;
        all.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(all),
        }
    }
}
