//! The storefront's privacy requests. A redaction erases an order's personal data
//! everywhere dropflow holds it: the order and its vendor orders, their history, the
//! event items, and the local outbox's copies of the mail. An order with a vendor order
//! still on its way is marked instead: closing the last one (delivered, cancelled)
//! commits a `redaction_due` event, and the notify queue's consumer redacts then. A
//! data request mails the operator what is held, to answer the customer with.

use super::Outcome;
use super::routing::waits_for_mapping;
use super::{App, ServiceError};
use crate::domain::events::{DataRequested, Envelope, EventType};
use crate::domain::ids::OrderId;
use crate::domain::privacy::{PersonalData, REDACTED, redacted_address, redacted_order};
use crate::domain::vendor_order::{Actor, HistoryEntry, VendorOrder};
use crate::ports::{StoreError, Write};
use crate::sources::PrivacyRequest;
use crate::store::{DUE_SHARDS, EVENT_SK_PREFIX, OrderRecord, Redaction, Tables};
use chrono::{DateTime, Utc};

/// Writes per transaction when rewriting history and event items (DynamoDB takes 100).
const REWRITE_CHUNK: usize = 50;

/// What a redaction request did to one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redacted {
    /// Erased now.
    Now,
    /// Marked: erased when its last vendor order closes.
    WhenClosed,
    /// Erased before.
    Already,
    /// dropflow holds no such order.
    Unknown,
}

/// Carries out a storefront's privacy request.
pub async fn handle(app: &App, request: &PrivacyRequest) -> Result<Outcome, ServiceError> {
    match request {
        PrivacyRequest::RedactOrders { orders } => redact_all(app, orders.iter().cloned()).await,
        PrivacyRequest::RedactShop { source, shop } => {
            let mut orders = Vec::new();
            let mut cursor = None;
            loop {
                let (page, next) = app.tables.shop_orders(source, shop, cursor, 100).await?;
                orders.extend(page.into_iter().map(|record| record.order.order_id));
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            redact_all(app, orders.into_iter()).await
        }
        PrivacyRequest::DataRequest { request_id, orders, storefront_ids } => report(app, request_id, orders, storefront_ids).await,
    }
}

async fn redact_all(app: &App, orders: impl Iterator<Item = OrderId>) -> Result<Outcome, ServiceError> {
    let mut changed = 0;
    let mut unknown = 0;
    for order_id in orders {
        match redact(app, &order_id).await? {
            Redacted::Now | Redacted::WhenClosed => changed += 1,
            Redacted::Already => {}
            Redacted::Unknown => unknown += 1,
        }
    }
    if changed == 0 {
        return Ok(Outcome::Ignored(format!("nothing left to redact ({unknown} of the orders are not held here)")));
    }
    Ok(Outcome::Updated(changed))
}

/// Erases the personal data of one order now, or marks it to be erased when its last
/// vendor order closes. Idempotent: a redelivery finds it done or marked.
pub async fn redact(app: &App, order_id: &OrderId) -> Result<Redacted, ServiceError> {
    super::retry_on_conflict("a redaction", || redact_once(app, order_id)).await
}

/// A vendor order of a marked order closed (`redaction_due`): the order is erased if
/// nothing of it is on its way any more. Nothing happens for an order never marked.
pub async fn on_redaction_due(app: &App, order_id: &OrderId) -> Result<(), ServiceError> {
    match app.tables.order(order_id).await? {
        Some(record) if record.redaction.is_some() && !record.is_redacted() => redact(app, order_id).await.map(|_| ()),
        _ => Ok(()),
    }
}

/// Purges the customer data of every order whose vendor orders all closed
/// `RETENTION_DAYS` ago (the sweep's last step), as a redaction does. It reads the due
/// index (`PURGE#{shard}`), never scans. Returns how many orders were purged.
pub async fn purge_due(app: &App, now: DateTime<Utc>) -> Result<usize, ServiceError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut purged = 0;
    for (_, vo) in purges_due(app, now).await? {
        if seen.insert(vo.order_id.clone()) && purge(app, &vo.order_id, now).await? {
            purged += 1;
        }
    }
    Ok(purged)
}

/// What the operator sees of retention (`dropflow retention`): every closed vendor
/// order whose customer data is due to be purged by `until`, with when, oldest first.
pub async fn purges_due(app: &App, until: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, VendorOrder)>, ServiceError> {
    let mut due = Vec::new();
    for shard in 0..DUE_SHARDS {
        let mut cursor = None;
        loop {
            let (keys, next) = app.tables.due(crate::store::Due::Purges, shard, until, cursor, PURGE_PAGE).await?;
            for key in keys {
                if let Some(vo) = app.tables.vendor_order_at(&key).await?
                    && let Some(at) = vo.purge_at
                {
                    due.push((at, vo));
                }
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    due.sort_by_key(|(at, _)| *at);
    Ok(due)
}

/// Vendor orders due to be purged read per query.
const PURGE_PAGE: usize = 50;

/// Purges one order when every vendor order of it is closed and none is due later
/// (a vendor order that closed before retention existed does not hold it back). The
/// vendor orders that were due and are done (purged now, or the order could not be yet:
/// a later round still on its way sets its own time when it closes) leave the index.
async fn purge(app: &App, order_id: &OrderId, now: DateTime<Utc>) -> Result<bool, ServiceError> {
    let vendor_orders = app.tables.vendor_orders_of(order_id).await?;
    let ready = vendor_orders.iter().all(|vo| vo.is_closed() && vo.purge_at.is_none_or(|at| at <= now));
    if ready && redact(app, order_id).await? == Redacted::Now {
        // The erasure took each vendor order off the index in its own commit.
        return Ok(true);
    }
    for vo in app.tables.vendor_orders_of(order_id).await?.into_iter().filter(|vo| vo.purge_at.is_some_and(|at| at <= now)) {
        let done = VendorOrder { purge_at: None, version: vo.version + 1, ..vo.clone() };
        match app.commit(vec![Tables::put_vendor_order(&done, Some(vo.version))?], &[]).await {
            // Another writer moved it on: the next sweep sees it as it is then.
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(false)
}

async fn redact_once(app: &App, order_id: &OrderId) -> Result<Redacted, ServiceError> {
    let Some(record) = app.tables.order(order_id).await? else {
        // Not here yet: a tombstone, so that the order is erased when it arrives. Intake
        // may have stored it between the read above and this write without seeing the
        // tombstone: read again, and if it is here now, redact it as any other.
        app.commit(vec![Tables::put_order_mark(order_id, crate::store::OrderMark::Erased, app.clock.now())?], &[]).await?;
        if app.tables.order(order_id).await?.is_some() {
            return Err(ServiceError::Store(StoreError::ConditionFailed));
        }
        return Ok(Redacted::Unknown);
    };
    if record.is_redacted() {
        return Ok(Redacted::Already);
    }
    let vendor_orders = app.tables.vendor_orders_of(order_id).await?;
    let now = app.clock.now();
    if vendor_orders.iter().all(VendorOrder::is_closed) {
        erase(app, &record, &vendor_orders).await?;
        return Ok(Redacted::Now);
    }
    // Still on its way: the customer's address is needed until the parcel arrives.
    let mut writes = Vec::new();
    for open in vendor_orders.iter().filter(|vo| !vo.is_closed() && !vo.redact_when_closed) {
        let marked = VendorOrder { redact_when_closed: true, version: open.version + 1, ..open.clone() };
        writes.push(Tables::put_vendor_order(&marked, Some(open.version))?);
    }
    if record.redaction.is_none() {
        let marked = OrderRecord { redaction: Some(Redaction { requested_at: now, done_at: None }), version: record.version + 1, ..record.clone() };
        writes.push(Tables::put_order(&marked, Some(record.version))?);
    }
    if !writes.is_empty() {
        app.commit(writes, &[]).await?;
    }
    Ok(Redacted::WhenClosed)
}

/// The erasure itself. History and event items are scrubbed first, then the local
/// mail copies, and last the order and its vendor orders, in one transaction: until
/// that commits the order still holds what to search for, so a crash anywhere before it
/// is finished by the retry.
async fn erase(app: &App, record: &OrderRecord, vendor_orders: &[VendorOrder]) -> Result<(), ServiceError> {
    let order_id = &record.order.order_id;
    let mut personal = PersonalData::of(&record.order, &record.former_addresses);
    for vo in vendor_orders {
        personal.add(&vo.customer_name);
        personal.add_address(&vo.shipping_address);
    }
    for prefix in ["H#", EVENT_SK_PREFIX] {
        let mut rewrites = Vec::new();
        for mut item in app.tables.order_items(order_id, prefix).await? {
            let mut fields = serde_json::Value::Object(std::mem::take(&mut item));
            let changed = personal.scrub_json(&mut fields);
            if let serde_json::Value::Object(scrubbed) = fields {
                item = scrubbed;
            }
            if changed {
                rewrites.push(Tables::put_rewritten(item));
            }
        }
        while !rewrites.is_empty() {
            let chunk: Vec<Write> = rewrites.drain(..rewrites.len().min(REWRITE_CHUNK)).collect();
            app.commit(chunk, &[]).await?;
        }
    }
    let mail_copies = |personal| async move { app.mailer.redact(order_id, personal).await.map_err(ServiceError::Mail) };
    mail_copies(&personal).await?;

    let now = app.clock.now();
    let mut writes = Vec::new();
    // Lines waiting for a mapping would be routed to nobody's address: they stop waiting.
    let mut stop_waiting = Vec::new();
    for (line, _) in record.unroutable_lines() {
        if let Some(sku) = waits_for_mapping(&record.order, line).filter(|sku| !stop_waiting.contains(sku)) {
            stop_waiting.push(sku);
            writes.push(Tables::delete_waiting(sku, order_id));
        }
    }
    for vo in vendor_orders {
        let erased = VendorOrder {
            shipping_address: redacted_address(&vo.shipping_address),
            customer_name: REDACTED.into(),
            redact_when_closed: false,
            purge_at: None,
            version: vo.version + 1,
            ..vo.clone()
        };
        let entry =
            HistoryEntry { at: now, seq: erased.version, actor: Actor::Storefront, action: "personal_data_redacted".into(), state: vo.state, detail: None };
        writes.push(Tables::put_vendor_order(&erased, Some(vo.version))?);
        writes.push(Tables::put_history(&erased, &entry)?);
    }
    // Nor is the order found by its customer's address any more.
    if let Some(email) = &record.order.customer_email {
        writes.push(Tables::delete_email_lookup(&super::console::email_hash(app, email.as_str()), order_id));
    }
    let requested_at = record.redaction.as_ref().map_or(now, |r| r.requested_at);
    let erased = OrderRecord {
        order: redacted_order(&record.order),
        former_addresses: Vec::new(),
        address_fix: None,
        redaction: Some(Redaction { requested_at, done_at: Some(now) }),
        version: record.version + 1,
        ..record.clone()
    };
    writes.insert(0, Tables::put_order(&erased, Some(record.version))?);
    app.commit(writes, &[]).await?;
    // A mail composed before the commit may have been written since the first pass; the
    // notifier covers one written after this pass (`erase_late_copies`).
    mail_copies(&personal).await?;
    Ok(())
}

/// After mail about an order went out, for a mailer that keeps copies: if the order was
/// erased while the mail was being composed and sent (`before` is what it was composed
/// from), the copy just written is erased too. With the second pass in `erase`, no
/// interleaving of a send and a redaction leaves personal data in a copy.
pub async fn erase_late_copies(app: &App, before: &OrderRecord) -> Result<(), ServiceError> {
    let order_id = &before.order.order_id;
    if before.is_redacted() || !app.tables.order(order_id).await?.is_some_and(|now| now.is_redacted()) {
        return Ok(());
    }
    let personal = PersonalData::of(&before.order, &before.former_addresses);
    app.mailer.redact(order_id, &personal).await.map_err(ServiceError::Mail)?;
    Ok(())
}

/// A data request: one `data_request` event per requested order dropflow holds, each
/// mailing the operator what is held of it, and one more naming the requested orders it
/// does not hold (or that the request named none), so that the operator can answer the
/// customer within the law's deadline all the same. A redelivery reports nothing twice.
async fn report(app: &App, request_id: &str, orders: &[OrderId], storefront_ids: &[String]) -> Result<Outcome, ServiceError> {
    let now = app.clock.now();
    let discriminator = format!("request-{}", crate::domain::ids::key_part(request_id));
    let mut events = Vec::new();
    let mut not_held = Vec::new();
    for (n, order_id) in orders.iter().enumerate() {
        if app.tables.order(order_id).await?.is_none() {
            not_held.push(storefront_ids.get(n).cloned().unwrap_or_else(|| order_id.to_string()));
            continue;
        }
        let request = DataRequested { request_id: request_id.to_string(), not_held: vec![] };
        events.push(Envelope::new(EventType::DataRequest, order_id, None, &discriminator, now).with(&request));
    }
    if !not_held.is_empty() || orders.is_empty() {
        let request = DataRequested { request_id: request_id.to_string(), not_held };
        events.push(Envelope::about_marketplace(EventType::DataRequest, &discriminator, now).with(&request));
    }
    let mut reported = 0;
    for event in events {
        match app.commit(Vec::new(), &[event]).await {
            Ok(()) => reported += 1,
            // Reported by an earlier delivery of the same request.
            Err(StoreError::ConditionFailed) => {}
            Err(error) => return Err(error.into()),
        }
    }
    if reported == 0 {
        return Ok(Outcome::Ignored(format!("data request {request_id}: reported before")));
    }
    Ok(Outcome::Updated(reported))
}
