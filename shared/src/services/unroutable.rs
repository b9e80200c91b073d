//! Lines no vendor sells, after the operator's time to fix them: a line left waiting
//! `UNROUTABLE_NOTICE_HOURS` (default 48) after the routing that left it so, or voided
//! by the operator sooner (`dropflow order void`, the console), will not be sent. It is taken
//! off the order's waiting lines (routed no more, whatever is mapped later) in one
//! transaction with a `lines_voided` event: the customer is told it cannot be sent and
//! will be refunded, the operator to refund it at the store. Before that, a waiting
//! line is the operator's to fix and the customer hears nothing of it.
//!
//! The wait is a `LineNotice` in the sparse due index (`NOTICE#{shard}`), written in
//! the transaction of the routing that left lines waiting; the sweep gives the notices
//! that are due, each once (the order's version decides a race; the notice is deleted
//! in the same transaction).

use super::{App, ServiceError};
pub use crate::domain::events::Voider;
use crate::domain::events::{Envelope, EventType, LinesVoided};
use crate::domain::ids::OrderId;
use crate::domain::order::{OperatorAction, UnroutableLine, VoidLine};
use crate::ports::{StoreError, Write};
use crate::store::{DUE_SHARDS, Due, DueKey, LineNotice, OrderRecord, Tables};
use chrono::{DateTime, Utc};

/// Notices read per query of the due index.
const PAGE: usize = 50;

/// The notice of `lines` (left waiting by a routing of `record` at `now`), due
/// `UNROUTABLE_NOTICE_HOURS` later; nothing when no line waits.
pub fn notice(app: &App, record: &OrderRecord, lines: &[UnroutableLine], now: DateTime<Utc>) -> Result<Option<Write>, StoreError> {
    if lines.is_empty() {
        return Ok(None);
    }
    let due = now + chrono::Duration::hours(i64::from(app.config.unroutable_notice_hours));
    let notice = LineNotice { order_id: record.order.order_id.clone(), line_ids: lines.iter().map(|l| l.line_id.clone()).collect(), due };
    Tables::put_line_notice(&notice).map(Some)
}

/// Gives every line notice due at `now`: the lines it names that still wait are voided
/// (`by` the clock); a notice whose lines were routed, refunded or voided meanwhile is
/// simply deleted. Returns how many lines were voided.
pub async fn give_due(app: &App, now: DateTime<Utc>) -> Result<usize, ServiceError> {
    let mut voided = 0;
    for shard in 0..DUE_SHARDS {
        let mut cursor = None;
        loop {
            let (keys, next) = app.tables.due(Due::Notices, shard, now, cursor, PAGE).await?;
            for key in keys {
                let Some(notice) = app.tables.line_notice_at(&key).await? else { continue };
                let request = Void { order_id: &notice.order_id, line_ids: &notice.line_ids, by: Voider::Clock, notice: Some(&key), now, noted: None };
                voided += void(app, request).await?;
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    Ok(voided)
}

/// What to void: `line_ids` of `order_id` that still wait for a vendor, `by` whom, at
/// `now`; `notice` (its table keys) is the notice that fell due, deleted with it.
#[derive(Debug, Clone, Copy)]
pub struct Void<'a> {
    pub order_id: &'a OrderId,
    pub line_ids: &'a [String],
    pub by: Voider,
    pub notice: Option<&'a DueKey>,
    pub now: DateTime<Utc>,
    /// The operator's action it is, for the order's history (`console::void_lines`).
    pub noted: Option<&'a OperatorAction>,
}

/// Voids the lines `request` names that still wait, with the `lines_voided` event and
/// the notice's delete in one transaction. Returns how many lines were voided (0: none
/// waited; the notice is deleted alone).
pub async fn void(app: &App, request: Void<'_>) -> Result<usize, ServiceError> {
    // The order changed meanwhile (a mapping routed a line, a refund): read again.
    super::retry_on_conflict("a void", || void_once(app, request)).await
}

/// One read and commit of `void`.
async fn void_once(app: &App, Void { order_id, line_ids, by, notice, now, noted }: Void<'_>) -> Result<usize, ServiceError> {
    let Some(record) = app.tables.order(order_id).await? else {
        // Purged or never stored: nothing waits; the notice goes.
        if let Some(key) = notice {
            app.commit(vec![Tables::delete_line_notice(key)], &[]).await?;
        }
        return Ok(0);
    };
    if let Some(entry) = noted
        && entry.done_in(&record).map_err(ServiceError::Unprocessable)?
    {
        return Ok(line_ids.len());
    }
    let (ending, staying): (Vec<UnroutableLine>, Vec<UnroutableLine>) = record.unroutable.iter().cloned().partition(|u| line_ids.contains(&u.line_id));
    let mut writes: Vec<Write> = notice.map(Tables::delete_line_notice).into_iter().collect();
    if ending.is_empty() {
        if !writes.is_empty() {
            app.commit(writes, &[]).await?;
        }
        return Ok(0);
    }
    let mut next = OrderRecord { unroutable: staying, version: record.version + 1, ..record.clone() };
    next.void_lines.extend(ending.iter().map(|u| VoidLine { line_id: u.line_id.clone(), reason: u.reason.clone(), at: now }));
    next.actions.extend(noted.cloned());
    writes.insert(0, Tables::put_order(&next, Some(record.version))?);
    for sku in super::routing::waiting_skus(&record).into_iter().filter(|sku| !super::routing::waiting_skus(&next).contains(sku)) {
        writes.push(Tables::delete_waiting(&sku, order_id));
    }
    let voided = LinesVoided { lines: ending.iter().map(|u| u.line_id.clone()).collect(), by };
    let event = Envelope::new(EventType::LinesVoided, order_id, None, &format!("v{}", next.version), now).with(&voided);
    app.commit(writes, &[event]).await?;
    Ok(ending.len())
}
