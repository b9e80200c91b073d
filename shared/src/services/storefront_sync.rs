//! Storefront write-back: what a vendor did with its parcel, told to the storefront the
//! order came from (a Shopify fulfillment with its tracking), once per (event, parcel).
//! The write-back is claimed and marked like a mail (`Tables::claim_sent`), under the
//! target `storefront:{number}`: the mark keeps the storefront's ids of what it
//! created, a storefront's refusal is marked as such (retried never, logged for the
//! operator), and an outage gives the claim back so the event's retry writes it. What
//! the storefront itself did (its cancel, refund or edit) is never written back to it.

use super::{App, ServiceError};
use crate::domain::events::{Attention, Envelope, EventType, ParcelShipped};
use crate::domain::order::OrderRecord;
use crate::domain::vendor_order::VendorOrder;
use crate::ports::{ParcelWrite, StoreError, StorefrontWriter, WriteBackError};
use crate::store::Claim;
use std::sync::Arc;

/// How long a write-back's claim holds: beyond its calls at their worst (a read and a
/// write per fulfillment order, each at most 8 s), so that a process killed in the
/// middle leaves the parcel to a redelivery soon after.
const LEASE_SECONDS: i64 = 30;

/// How long write-back marks are kept (well beyond any redelivery or replay).
const MARK_DAYS: i64 = 90;

/// The target a parcel's write-back is claimed under.
pub fn target(tracking_number: &str) -> String {
    format!("storefront:{tracking_number}")
}

/// Whether the storefront of `record` mails its customer about shipments itself (then
/// dropflow's own shipped mail is not sent): `SHOPIFY_NOTIFY_CUSTOMER=shop`, for a shop
/// that is written back to.
pub fn storefront_mails_shipments(app: &App, record: &OrderRecord) -> bool {
    record.order.source == "shopify" && app.config.shopify_admin.shop_notifies && writer(app, record).is_some()
}

/// The parcel number `event` writes back to `record`'s storefront, when it writes one.
pub fn written_parcel(app: &App, record: &OrderRecord, event: &Envelope) -> Option<String> {
    let shipped = event.event_type == EventType::Shipped && writer(app, record).is_some();
    shipped.then(|| event.payload_as::<ParcelShipped>().ok().map(|p| p.tracking_number)).flatten()
}

/// The writer of `record`'s storefront, when its shop is written back to.
fn writer<'a>(app: &'a App, record: &OrderRecord) -> Option<&'a Arc<dyn StorefrontWriter>> {
    app.storefronts.get(record.order.source.as_str()).filter(|w| w.writes_to(&record.order.shop))
}

/// Writes back what `event` tells the storefront of, when it tells it anything.
pub async fn on_event(app: &App, event: &Envelope, vo: &VendorOrder, record: &OrderRecord) -> Result<(), ServiceError> {
    if event.event_type != EventType::Shipped {
        return Ok(());
    }
    let Some(writer) = writer(app, record) else { return Ok(()) };
    let shipped: ParcelShipped = event.payload_as().map_err(|e| ServiceError::Unprocessable(format!("event {}: {e}", event.event_id)))?;
    let Some(parcel) = parcel_of(vo, record, &shipped.tracking_number, storefront_mails_shipments(app, record)) else {
        return Ok(());
    };
    let to = target(&parcel.tracking.number);
    let now = app.clock.now();
    let version = match app.tables.claim_sent(&event.event_id, &to, now, chrono::Duration::seconds(LEASE_SECONDS), MARK_DAYS).await? {
        Claim::Taken { version } => version,
        Claim::AlreadySent => return Ok(()),
        Claim::Busy { until } => {
            return Err(ServiceError::Busy { reason: format!("parcel {} is being written back", parcel.tracking.number), until: Some(until) });
        }
    };
    let outcome = writer.parcel_shipped(&parcel).await;
    let now = app.clock.now();
    match outcome {
        Ok(ids) => {
            tracing::info!(order = %record.order.order_number, parcel = %parcel.tracking.number, ?ids, "parcel written back to the storefront");
            Ok(app.tables.mark_sent(&event.event_id, &to, version, &format!("written:{}", ids.join(" ")), now, MARK_DAYS).await?)
        }
        Err(WriteBackError::Refused(reason)) => {
            tracing::warn!(order = %record.order.order_number, parcel = %parcel.tracking.number, %reason, "the storefront refused a write-back; not retried");
            // The operator's note first, once (its id is the parcel's): a crash before
            // the mark tries again and finds it committed.
            let attention = Attention::WriteBackRefused { parcel: parcel.tracking.number.clone(), reason: reason.clone() };
            let discriminator = format!("write-back-{}", parcel.tracking.number);
            let note = Envelope::new(EventType::OrderNeedsAttention, &record.order.order_id, None, &discriminator, now).with(&attention);
            match app.commit(Vec::new(), &[note]).await {
                Ok(()) | Err(StoreError::ConditionFailed) => {}
                Err(error) => return Err(error.into()),
            }
            Ok(app.tables.mark_sent(&event.event_id, &to, version, &format!("refused:{reason}"), now, MARK_DAYS).await?)
        }
        Err(WriteBackError::Unavailable { reason, after }) => {
            app.tables.release_sent(&event.event_id, &to, version, now).await?;
            let until = after.and_then(|wait| chrono::Duration::from_std(wait).ok()).map(|wait| now + wait);
            Err(ServiceError::Busy { reason: format!("storefront write-back of parcel {}: {reason}", parcel.tracking.number), until })
        }
    }
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
    })
}
