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

/// The daily evaluation (the last step of the daily `payout-release` run): each measure
/// that turned at risk is mailed to the vendor and each that turned failing to the
/// operator, once per turn (against the vendor's `STANDING`, written with the events
/// only when a state changed: a day without news costs a read per vendor and no write);
/// with `SCORECARD_HOLD_FAILING`, a vendor that turned failing is held for review in the
/// same commit. Returns how many measures turned.
pub async fn evaluate(app: &App, now: chrono::DateTime<chrono::Utc>) -> Result<usize, ServiceError> {
    let today = now.date_naive();
    let mut turned = 0;
    for vendor in super::operator::list_vendors(app).await? {
        let standing = app.tables.standing(&vendor.vendor_id).await?;
        let days = app.tables.scores(&vendor.vendor_id, today, app.config.scorecard.longest_days()).await?;
        let card = Scorecard::of(&days, today, &app.config.scorecard);
        let before = standing.clone().unwrap_or_default();
        let mut next = crate::store::Standing { day: Some(today), states: Default::default(), version: before.version + 1 };
        let mut events = Vec::new();
        let mut failing = false;
        for (measure, reading) in &card.measures {
            let state = reading.standing.as_str();
            next.states.insert(measure.as_str().into(), state.into());
            let was = before.states.get(measure.as_str()).map_or("good", String::as_str);
            if state == was || state == "good" {
                continue;
            }
            failing |= state == "failing";
            let hold = state == "failing" && app.config.hold_failing && !vendor.held;
            let changed = crate::domain::events::ScorecardChanged {
                measure: measure.as_str().into(),
                state: state.into(),
                value: reading.value,
                numerator: reading.numerator,
                denominator: reading.denominator,
                window_days: reading.window_days,
                target: reading.target,
                held: hold,
            };
            let id = format!("score-{}-{state}-{today}", measure.as_str());
            events.push(
                crate::domain::events::Envelope::about_vendor(crate::domain::events::EventType::ScorecardChanged, &vendor.vendor_id, &id, now).with(&changed),
            );
        }
        let was = |measure: &String| before.states.get(measure).map_or("good", String::as_str);
        if next.states.iter().all(|(measure, state)| state == was(measure)) {
            continue;
        }
        let mut writes = vec![Tables::put_standing(&vendor.vendor_id, &next, standing.map(|s| s.version))?];
        if failing && app.config.hold_failing && !vendor.held {
            let held = crate::store::VendorProfile { held: true, version: vendor.version + 1, ..vendor.clone() };
            writes.push(Tables::vendor_write(&held, Some(vendor.version))?);
        }
        match app.commit(writes, &events).await {
            Ok(()) => turned += events.len(),
            // Another sweep evaluated it first, or the vendor changed: the next run looks again.
            Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(turned)
}
