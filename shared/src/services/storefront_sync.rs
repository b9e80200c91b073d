//! Storefront write-back: what a vendor did with its parcel, told to the storefront the
//! order came from (a Shopify fulfillment with its tracking), once per (event, parcel).
//! The write-back is claimed and marked like a mail (`Tables::claim_sent`), under the
//! target `storefront:{number}`: the mark keeps the storefront's ids of what it
//! created, a storefront's refusal is marked as such (retried never, logged for the
//! operator), and an outage gives the claim back so the event's retry writes it. What
//! the storefront itself did (its cancel, refund or edit) is never written back to it.

use super::{App, ServiceError};
use crate::domain::events::{Attention, CarrierNews, Envelope, EventType, ParcelShipped, TrackingCorrected};
use crate::domain::order::OrderRecord;
use crate::domain::vendor_order::VendorOrder;
use crate::ports::{CancelNote, ParcelNews, ParcelWrite, StoreError, StorefrontWriter, WriteBackError};
use crate::store::Claim;
use std::sync::Arc;

/// How long write-back marks are kept (well beyond any redelivery or replay).
const MARK_DAYS: i64 = 90;

/// The events whose news a storefront is told of (an accepted order: where its status
/// page is).
pub const WRITTEN_BACK: [EventType; 7] = [
    EventType::OrderAccepted,
    EventType::Shipped,
    EventType::TrackingCorrected,
    EventType::TrackingUpdated,
    EventType::TrackingException,
    EventType::Delivered,
    EventType::Cancelled,
];

/// The target a parcel's write-back is claimed under.
pub fn target(tracking_number: &str) -> String {
    format!("storefront:{tracking_number}")
}

/// Whether the storefront of `record` mails its customer about shipments itself (then
/// dropflow's own shipped mail is not sent): `SHOPIFY_NOTIFY_CUSTOMER=shop` or
/// `WOOCOMMERCE_NOTIFY_CUSTOMER=shop`, for a shop that is written back to.
pub fn storefront_mails_shipments(app: &App, record: &OrderRecord) -> bool {
    let shop_notifies = match record.order.source.as_str() {
        "shopify" => app.config.shopify_admin.shop_notifies,
        "woocommerce" => app.config.woocommerce_api.shop_notifies,
        _ => false,
    };
    shop_notifies && writer(app, record).is_some()
}

/// The parcel number `event` writes back to `record`'s storefront, when it writes one.
pub fn written_parcel(app: &App, record: &OrderRecord, event: &Envelope) -> Option<String> {
    // A correction's payload names its parcel's right number as `tracking_number` too.
    let shipped = matches!(event.event_type, EventType::Shipped | EventType::TrackingCorrected) && writer(app, record).is_some();
    shipped.then(|| event.payload_as::<ParcelShipped>().ok().map(|p| p.tracking_number)).flatten()
}

/// The writer of `record`'s storefront, when its shop is written back to.
fn writer<'a>(app: &'a App, record: &OrderRecord) -> Option<&'a Arc<dyn StorefrontWriter>> {
    app.storefronts.get(record.order.source.as_str()).filter(|w| w.writes_to(&record.order.shop))
}

/// storefront-sync's handling of one event: the order read, and when its shop is
/// written back to, its vendor order and what the event tells the storefront. Without
/// any storefront to write to, nothing is read.
pub async fn handle(app: &App, event: &Envelope) -> Result<(), ServiceError> {
    if app.storefronts.is_empty() || !WRITTEN_BACK.contains(&event.event_type) {
        return Ok(());
    }
    let missing = |what: &str| ServiceError::Unprocessable(format!("event {}: no {what}", event.event_id));
    let order_id = event.order_id.as_ref().ok_or_else(|| missing("order"))?;
    let record = app.tables.order(order_id).await?.ok_or_else(|| missing("order record"))?;
    let Some(writer) = writer(app, &record) else { return Ok(()) };
    // An accepted order: the storefront's order learns where its status page is.
    if event.event_type == EventType::OrderAccepted {
        let Some(url) = super::status::status_url(&app.config, order_id) else { return Ok(()) };
        let (shop, external) = (&record.order.shop, &record.order.external_id);
        return once(app, &event.event_id, "status-link", || async { writer.status_link(shop, external, &url).await.map(|()| url.clone()) }, |_| None).await;
    }
    let vendor_id = event.vendor_id.as_ref().ok_or_else(|| missing("vendor"))?;
    let vo = app.tables.vendor_order_in_round(order_id, vendor_id, event.round.unwrap_or(1)).await?.ok_or_else(|| missing("vendor order"))?;
    on_event(app, event, &vo, &record).await
}

/// Writes back what `event` tells the storefront of, when it tells it anything: a
/// parcel shipped, the carrier's news of one, a parcel delivered.
pub async fn on_event(app: &App, event: &Envelope, vo: &VendorOrder, record: &OrderRecord) -> Result<(), ServiceError> {
    let Some(writer) = writer(app, record) else { return Ok(()) };
    let unreadable = |e: serde_json::Error| ServiceError::Unprocessable(format!("event {}: {e}", event.event_id));
    match event.event_type {
        EventType::Shipped => {
            let shipped: ParcelShipped = event.payload_as().map_err(unreadable)?;
            let Some(mut parcel) = parcel_of(vo, record, &shipped.tracking_number, storefront_mails_shipments(app, record)) else { return Ok(()) };
            if writer.completes_orders() {
                parcel.completes_order = record.all_lines_shipped(&app.tables.vendor_orders_of(&vo.order_id).await?);
            }
            let number = parcel.tracking.number.clone();
            let refused = |reason: &str| refusal_note(record, &number, reason, app.clock.now());
            once(app, &event.event_id, &number, || async { writer.parcel_shipped(&parcel).await.map(|ids| ids.join(" ")) }, refused).await
        }
        // The parcel's number was wrong: the storefront's record of it takes the right
        // one (made with it, when the shipment's own write-back has not run yet).
        EventType::TrackingCorrected => {
            let corrected: TrackingCorrected = event.payload_as().map_err(unreadable)?;
            let Some(parcel) = parcel_of(vo, record, &corrected.tracking_number, storefront_mails_shipments(app, record)) else { return Ok(()) };
            let number = parcel.tracking.number.clone();
            let refused = |reason: &str| refusal_note(record, &number, reason, app.clock.now());
            let write = || async { writer.parcel_corrected(&parcel, &corrected.from).await.map(|ids| ids.join(" ")) };
            once(app, &event.event_id, &number, write, refused).await
        }
        EventType::TrackingUpdated | EventType::TrackingException if !event.payload.is_null() => {
            let news: CarrierNews = event.payload_as().map_err(unreadable)?;
            if news.again {
                return Ok(());
            }
            let c = news.checkpoint;
            let key = if c.tag == "Delivered" { delivered_key(vo, &c.tracking_number) } else { event.event_id.clone() };
            let news = ParcelNews {
                shop: record.order.shop.clone(),
                external_order_id: record.order.external_id.clone(),
                tracking_number: c.tracking_number.clone(),
                tag: c.tag,
                happened_at: c.checkpoint_at.unwrap_or(c.received_at),
                message: c.message,
            };
            once(app, &key, &c.tracking_number, || tell(writer, &news), |_| None).await
        }
        // Parcels the vendor (or the last carrier push) marked delivered: each once,
        // whichever event brings it.
        EventType::TrackingUpdated | EventType::Delivered => {
            for shipment in &vo.shipments {
                let Some(delivered_at) = shipment.delivered_at else { continue };
                let number = &shipment.tracking.number;
                let news = ParcelNews {
                    shop: record.order.shop.clone(),
                    external_order_id: record.order.external_id.clone(),
                    tracking_number: number.clone(),
                    tag: "Delivered".into(),
                    happened_at: delivered_at,
                    message: None,
                };
                once(app, &delivered_key(vo, number), number, || tell(writer, &news), |_| None).await?;
            }
            Ok(())
        }
        // Cancelled on dropflow's side (by the vendor, or by the clock): the merchant
        // is told on the order; one the storefront cancelled is never written back, nor
        // one the operator gave to another vendor (its items still come).
        EventType::Cancelled => {
            use crate::domain::events::CancelledBy;
            let by = event.payload_as::<crate::domain::events::Cancelled>().map_err(unreadable)?.by;
            if matches!(by, Some(CancelledBy::Storefront | CancelledBy::HandedOver)) {
                return Ok(());
            }
            let items: Vec<String> = vo.lines.iter().map(|l| format!("{} x {}", l.line.quantity, l.line.title)).collect();
            let why = vo.cancel_reason.as_deref().map(crate::mail::header_text).unwrap_or_default();
            let note = CancelNote {
                shop: record.order.shop.clone(),
                external_order_id: record.order.external_id.clone(),
                tag: CANCEL_TAG.into(),
                line: format!("dropflow: vendor {} cancelled {} ({why}); refund or re-source these items", vo.vendor_id, items.join(", ")),
            };
            let key = format!("{}:{}:{}:cancel-note", vo.order_id, vo.vendor_id, vo.round);
            once(app, &key, "order", || async { writer.part_cancelled(&note).await.map(|()| CANCEL_TAG.to_string()) }, |_| None).await
        }
        _ => Ok(()),
    }
}

/// The tag an order gets when a vendor order of it was cancelled on dropflow's side.
pub const CANCEL_TAG: &str = "dropflow-vendor-cancelled";

/// The carrier's news written as the storefront records it (`-` when it has no word
/// for it).
async fn tell(writer: &Arc<dyn StorefrontWriter>, news: &ParcelNews) -> Result<String, WriteBackError> {
    Ok(writer.parcel_news(news).await?.unwrap_or_else(|| "-".into()))
}

/// The claim of a parcel's delivery, the same whichever event brings it.
fn delivered_key(vo: &VendorOrder, number: &str) -> String {
    format!("{}:{}:parcel-delivered:{number}", vo.order_id, vo.vendor_id)
}

/// The operator's note of a parcel the storefront refused, once per parcel.
fn refusal_note(record: &OrderRecord, number: &str, reason: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Envelope> {
    let attention = Attention::WriteBackRefused { parcel: number.to_string(), reason: reason.to_string() };
    Some(Envelope::new(EventType::OrderNeedsAttention, &record.order.order_id, None, &format!("write-back-{number}"), now).with(&attention))
}

/// Runs `write` once per (`key`, parcel `number`): claimed with a lease, then marked
/// with what the storefront recorded (`written:{ids}`), or with its refusal
/// (`refused:{why}`, retried never; `note`'s operator mail, if any, committed first, so a
/// crash before the mark finds it there); an outage gives the claim back for the
/// event's retry.
async fn once<F, W>(app: &App, key: &str, number: &str, write: W, note: impl FnOnce(&str) -> Option<Envelope>) -> Result<(), ServiceError>
where
    W: FnOnce() -> F,
    F: std::future::Future<Output = Result<String, WriteBackError>>,
{
    let to = target(number);
    let version =
        match app.tables.claim_sent(key, &to, app.clock.now(), chrono::Duration::seconds(i64::from(app.config.writeback_lease_seconds)), MARK_DAYS).await? {
            Claim::Taken { version } => version,
            Claim::AlreadySent => return Ok(()),
            Claim::Busy { until } => return Err(ServiceError::Busy { reason: format!("the write-back of {number} is under way"), until: Some(until) }),
        };
    let outcome = write().await;
    let now = app.clock.now();
    let mark = match outcome {
        Ok(written) => {
            tracing::info!(parcel = %number, %written, "written back to the storefront");
            format!("written:{written}")
        }
        Err(WriteBackError::Refused(reason)) => {
            tracing::warn!(parcel = %number, %reason, "the storefront refused a write-back; not retried");
            match app.commit(Vec::new(), &note(&reason).into_iter().collect::<Vec<_>>()).await {
                Ok(()) | Err(StoreError::ConditionFailed) => {}
                Err(error) => return Err(error.into()),
            }
            format!("refused:{reason}")
        }
        Err(WriteBackError::Unavailable { reason, after }) => {
            app.tables.release_sent(key, &to, version, now).await?;
            let until = after.and_then(|wait| chrono::Duration::from_std(wait).ok()).map(|wait| now + wait);
            return Err(ServiceError::Busy { reason: format!("storefront write-back of parcel {number}: {reason}"), until });
        }
    };
    Ok(app.tables.mark_sent(key, &to, version, &mark, now, MARK_DAYS).await?)
}

/// The parcel `number` of `vo` as its storefront is told of it: the storefront's ids
/// of its lines with their quantities; the storefront mails the customer of it when
/// `notify_customer`.
fn parcel_of(vo: &VendorOrder, record: &OrderRecord, number: &str, notify_customer: bool) -> Option<ParcelWrite> {
    let shipment = vo.shipments.iter().find(|s| s.tracking.number == number)?;
    let lines = vo.lines.iter().filter(|l| shipment.line_ids.contains(&l.line.line_id)).map(|l| (l.line.line_id.clone(), l.line.quantity)).collect();
    Some(ParcelWrite {
        shop: record.order.shop.clone(),
        external_order_id: record.order.external_id.clone(),
        lines,
        tracking: shipment.tracking.clone(),
        notify_customer,
        completes_order: false,
    })
}
