//! The SLA sweep (the `sla-sweep` function, `dropflow sweep`, and `serve`'s timer):
//! fires every clock that is due. It reads the sparse due index per shard
//! (`gsi2sk <= now`), so its reads grow with what is due, never with the table; each
//! due vendor order is re-read and its clocks fired by the domain
//! (`VendorOrder::fire`) in a write conditional on the version read, so a transition
//! that races the sweep wins and the sweep sends nothing for it. A few vendor orders
//! commit together, with one digest event listing their escalations for the operator:
//! the digest never names an escalation that did not commit. Last, the customer data of
//! orders closed `RETENTION_DAYS` ago is purged (`privacy::purge_due`), after the lines
//! no vendor sells whose wait ended are voided (`unroutable::give_due`).

use super::{App, ServiceError};
use crate::domain::events::{Digest, Envelope, EventType};
use crate::domain::vendor_order::{Escalation, Fired};
use crate::ports::StoreError;
use crate::store::{DUE_SHARDS, Due, DueKey, Tables};
use chrono::{DateTime, Utc};

/// Due vendor orders read per query.
const PAGE: usize = 50;

/// Vendor orders fired in one transaction. Each writes at most six items (the order,
/// its history entry, up to four events), plus the digest: within DynamoDB's 100.
const CHUNK: usize = 15;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Vendor orders the due index listed.
    pub due: usize,
    /// Vendor orders whose clocks fired.
    pub fired: usize,
    /// Escalations listed in the operator's digests.
    pub escalations: usize,
    /// Orders whose customer data was purged, `RETENTION_DAYS` after they closed.
    pub purged: usize,
    /// Lines no vendor sells whose wait (`UNROUTABLE_NOTICE_HOURS`) ended: voided, their
    /// customers told.
    pub voided: usize,
    /// False when the time ran out: what is left is due at the next run.
    pub complete: bool,
}

/// Fires every clock due at `now`, stopping between chunks once `deadline` has passed
/// (what is left stays due for the next run; no clock is ever half-applied).
pub async fn sweep(app: &App, now: DateTime<Utc>, deadline: Option<std::time::Instant>) -> Result<SweepReport, ServiceError> {
    let mut report = SweepReport { complete: true, ..SweepReport::default() };
    let out_of_time = || deadline.is_some_and(|d| std::time::Instant::now() >= d);
    // Due orders of every shard fill the same chunks, so that a run with few
    // escalations sends the operator one digest.
    let mut pending: Vec<DueKey> = Vec::new();
    // Overdue past their escalation, vendor orders are listed apart (`Due::Late`) and
    // repeat from there.
    for (index, shard) in [Due::Clocks, Due::Late].into_iter().flat_map(|index| (0..DUE_SHARDS).map(move |shard| (index, shard))) {
        let mut cursor = None;
        loop {
            let (keys, next) = app.tables.due(index, shard, now, cursor, PAGE).await?;
            report.due += keys.len();
            pending.extend(keys);
            while pending.len() >= CHUNK {
                if out_of_time() {
                    report.complete = false;
                    return Ok(report);
                }
                let chunk: Vec<_> = pending.drain(..CHUNK).collect();
                fire_chunk(app, &chunk, now, &mut report).await?;
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    if !pending.is_empty() {
        if out_of_time() {
            report.complete = false;
            return Ok(report);
        }
        fire_chunk(app, &pending, now, &mut report).await?;
    }
    if out_of_time() {
        report.complete = false;
        return Ok(report);
    }
    report.voided = super::unroutable::give_due(app, now).await?;
    report.purged = super::privacy::purge_due(app, now).await?;
    Ok(report)
}

async fn fire_chunk(app: &App, keys: &[DueKey], now: DateTime<Utc>, report: &mut SweepReport) -> Result<(), ServiceError> {
    // A vendor (or another sweep) changed one of them since it was read: read them all
    // again and fire what is still due.
    match super::retry_on_conflict("due vendor orders", || fire_once(app, keys, now)).await {
        Ok((fired, escalations)) => {
            report.fired += fired;
            report.escalations += escalations;
            crate::metrics::count(crate::metrics::Metric::ClocksFired, fired);
            crate::metrics::count(crate::metrics::Metric::Escalations, escalations);
            Ok(())
        }
        Err(ServiceError::Store(StoreError::ConditionFailed)) => {
            tracing::warn!("due vendor orders kept changing; left for the next sweep");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

/// Reads the vendor orders of `keys`, fires what is due of each and commits it all with
/// the operator's digest, conditional on the versions read; how many fired and escalated.
async fn fire_once(app: &App, keys: &[DueKey], now: DateTime<Utc>) -> Result<(usize, usize), ServiceError> {
    let (mut writes, mut events, mut escalations, mut fired) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for key in keys {
        let Some(vo) = app.tables.vendor_order_at(key).await? else { continue };
        let Some(Fired { transition, escalations: escalated }) = vo.fire(now, &app.config.sla) else { continue };
        writes.push(Tables::put_vendor_order(&transition.vendor_order, Some(vo.version))?);
        writes.push(Tables::put_history(&transition.vendor_order, &transition.history)?);
        events.extend(transition.events);
        escalations.extend(escalated);
        fired += 1;
    }
    if fired == 0 {
        return Ok((0, 0));
    }
    if !escalations.is_empty() {
        events.push(digest(&escalations, now)?);
    }
    app.commit(writes, &events).await?;
    Ok((fired, escalations.len()))
}

/// The operator's digest of one commit's escalations. Its id is new for every run, and
/// it commits with the escalations it lists or not at all.
fn digest(escalations: &[Escalation], now: DateTime<Utc>) -> Result<Envelope, ServiceError> {
    let mut nonce = [0u8; 6];
    getrandom::fill(&mut nonce).map_err(|e| ServiceError::Store(StoreError::Unavailable(format!("no randomness for a digest id: {e}"))))?;
    let run = format!("{}-{}", now.format("%Y%m%dT%H%M%SZ"), hex::encode(nonce));
    Ok(Envelope::new(EventType::SlaDigest, &escalations[0].order_id, None, &run, now).with(&Digest { swept_at: Some(now), escalations: escalations.to_vec() }))
}
