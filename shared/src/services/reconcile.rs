//! The reconciliation poll: what the storefronts' webhooks missed, read back through
//! their APIs. WooCommerce never retries a failed delivery and disables a webhook after
//! five failures, and Shopify tells apps not to rely on webhooks alone. Each run lists
//! each shop's orders changed since its cursor and puts each on the intake queue as
//! its webhook would have, so the same intake (deduplicated by id and change time)
//! files it: a webhook and the poll never double anything.
//!
//! The cursor is the newest change time whose orders are all queued, never the poll's
//! own start time (a storefront's clock is not ours), and is re-read with one second of
//! overlap. Pages are read by that cursor, not by an offset, so an order changed during
//! a run moves behind the cursor and is read on the next page instead of shifting
//! another out of sight. A shop never read starts `RECONCILE_LOOKBACK_HOURS` back, and
//! keeps that start as its cursor even when nothing had changed. A change stamped in
//! the future moves the cursor no further than now.

use super::{App, ServiceError};
use crate::ports::{MAX_MESSAGE_BYTES, POLL_PAGE, QueueName, StoreError};
use crate::sources::IntakeMessage;
use chrono::{DateTime, Utc};

/// The most pages one shop's run reads; the rest waits for the next run (its cursor
/// says where).
const MAX_PAGES: u32 = 50;

/// What a page may take at worst (a Shopify page reads each of its orders in a call
/// of its own): no page is started with less than this left before the deadline, or a
/// quarter of the run's time when that is less (a short run still reads).
const PAGE_RESERVE: std::time::Duration = std::time::Duration::from_secs(60);

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// The shops read.
    pub shops: usize,
    /// The orders the storefronts listed as changed.
    pub read: usize,
    /// Those put on the intake queue (the intake drops what it has filed already).
    pub queued: usize,
    /// Orders too large for the intake queue: logged, left to the operator.
    pub too_large: Vec<String>,
    /// Shops that could not be read (unreachable, a refused key), with why: the next
    /// run tries them again from their cursors.
    pub failed: Vec<String>,
    /// Shops left (wholly or from a page on) when the deadline came: the next run goes
    /// on from their cursors.
    pub unfinished: Vec<String>,
}

/// Reads every polled shop's changes since its cursor (as of `now` for a shop never
/// read) and queues them for intake, starting no page past `deadline` (less a page's
/// worst time).
pub async fn reconcile(app: &App, now: DateTime<Utc>, deadline: Option<std::time::Instant>) -> Result<ReconcileReport, ServiceError> {
    let mut report = ReconcileReport::default();
    let reserve = deadline.map_or(PAGE_RESERVE, |d| PAGE_RESERVE.min(d.saturating_duration_since(std::time::Instant::now()) / 4));
    let out_of_time = move || deadline.is_some_and(|d| std::time::Instant::now() + reserve >= d);
    for (source, writer) in &app.storefronts {
        for shop in writer.polled_shops() {
            report.shops += 1;
            if let Err(error) = reconcile_shop(app, source, &shop, now, &out_of_time, &mut report).await {
                tracing::warn!(%shop, %error, "a shop could not be reconciled");
                report.failed.push(format!("{shop}: {error}"));
            }
        }
    }
    Ok(report)
}

/// One shop's run: page by page from its cursor, the cursor moved after each page is
/// queued.
async fn reconcile_shop(
    app: &App,
    source: &str,
    shop: &str,
    now: DateTime<Utc>,
    out_of_time: &(dyn Fn() -> bool + Sync),
    report: &mut ReconcileReport,
) -> Result<(), ServiceError> {
    let writer = &app.storefronts[source];
    let stored = app.tables.reconcile_cursor(source, shop).await?;
    let mut version = stored.as_ref().map(|c| c.version);
    let mut cursor = stored.map_or(now - chrono::Duration::hours(app.config.reconcile_lookback_hours), |c| c.modified_at);
    // Past the cursor's page 1 only while a page brought no newer change (more orders
    // changed in one second than a page holds).
    let mut page = 1;
    for _ in 0..MAX_PAGES {
        if out_of_time() {
            report.unfinished.push(shop.to_string());
            break;
        }
        let since = cursor - chrono::Duration::seconds(1);
        let orders = writer.changed_since(shop, since, page).await.map_err(|e| ServiceError::Busy { reason: format!("reading {shop}: {e}"), until: None })?;
        for order in &orders {
            report.read += 1;
            let message = IntakeMessage {
                source: source.to_string(),
                topic: order.topic.clone(),
                shop: shop.to_string(),
                claimed_shop: None,
                delivery_id: Some(format!("reconcile:{}:{}", order.id, order.modified_at.timestamp())),
                body: order.body.clone(),
            };
            let body = message.encode();
            if body.len() > MAX_MESSAGE_BYTES {
                tracing::error!(%shop, order = %order.id, bytes = body.len(), "a reconciled order is too large for the intake queue");
                report.too_large.push(format!("{shop} order {}", order.id));
                continue;
            }
            app.publisher.publish(QueueName::Intake, body).await?;
            report.queued += 1;
        }
        // A change stamped past now (a storefront's clock ahead of ours) never moves the
        // cursor past now: it would hide every change made before that stamp.
        match orders.iter().map(|o| o.modified_at.min(now)).max() {
            Some(newest) if newest > cursor => {
                version = match app.tables.put_reconcile_cursor(source, shop, newest, version).await {
                    Ok(version) => Some(version),
                    // Another run moved it: its next run goes on from there.
                    Err(StoreError::ConditionFailed) => return Ok(()),
                    Err(error) => return Err(error.into()),
                };
                cursor = newest;
                page = 1;
            }
            _ => page += 1,
        }
        if orders.len() < POLL_PAGE {
            break;
        }
    }
    // A site read for the first time keeps where its look-back began even when nothing
    // changed since: a later run after a long stop reads from there, not from a
    // look-back that has moved past what changed meanwhile.
    if version.is_none() {
        match app.tables.put_reconcile_cursor(source, shop, cursor, None).await {
            Ok(_) | Err(StoreError::ConditionFailed) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}
