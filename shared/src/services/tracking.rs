//! A carrier's news of a parcel (a tracking feed's push, through the intake queue): the
//! tracking number finds its vendor orders through its `TRACK#` collection, the domain decides
//! what the news means (`Command::CarrierUpdate`: in transit, delivered as if the vendor
//! had said so, or an exception), and the change commits with the feed's event id
//! (NotExists), so a redelivered push changes nothing; the id is read only when that
//! commit fails. An unknown number is logged and ignored.

use super::Outcome;
use super::{App, ServiceError};
use crate::domain::vendor_order::{Actor, Checkpoint, Command};
use crate::ports::StoreError;
use crate::sources::TrackingUpdate;
use crate::store::Tables;

/// Applies `update` to every vendor order shipping under its tracking number (one
/// vendor may put several of its orders in one parcel), in one transaction; a vendor
/// that moved one of the orders on meanwhile makes it read again.
pub async fn apply(app: &App, update: &TrackingUpdate) -> Result<Outcome, ServiceError> {
    super::retry_on_conflict("a carrier push", || apply_once(app, update)).await
}

/// One read and commit of `apply`.
async fn apply_once(app: &App, update: &TrackingUpdate) -> Result<Outcome, ServiceError> {
    let parcels = app.tables.tracked_vendor_orders(&update.tracking_number).await?;
    if parcels.is_empty() {
        tracing::info!(feed = %update.feed, tracking_number = %update.tracking_number, "a push for a tracking number no order has");
        return Ok(Outcome::Ignored(format!("no order ships tracking number {}", update.tracking_number)));
    }
    let now = app.clock.now();
    let checkpoint = Checkpoint {
        tracking_number: update.tracking_number.clone(),
        tag: update.tag.clone(),
        message: update.message.clone(),
        location: update.location.clone(),
        checkpoint_at: update.checkpoint_at,
        received_at: now,
    };
    let command = Command::CarrierUpdate { tracking_number: update.tracking_number.clone(), status: update.status, checkpoint };
    let (mut writes, mut events, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    for vo in &parcels {
        match vo.apply(command.clone(), Actor::System, now, &app.config.sla) {
            Ok(transition) => {
                writes.push(Tables::put_vendor_order(&transition.vendor_order, Some(vo.version))?);
                writes.push(Tables::put_history(&transition.vendor_order, &transition.history)?);
                // Delivered: the parcel's earnings are held, in the same transaction.
                writes.extend(super::money::effects(app, vo, &transition.vendor_order, now).await?.writes);
                events.extend(transition.events);
            }
            // A parcel of a delivered or cancelled order, or one already delivered.
            Err(reason) => refused.push(format!("{} for order {}: {reason}", update.tag, vo.id())),
        }
    }
    if writes.is_empty() {
        return Ok(Outcome::Ignored(refused.join("; ")));
    }
    let updated = parcels.len() - refused.len();
    writes.push(Tables::put_carrier_event(&update.feed, &update.event_id, now)?);
    match app.commit(writes, &events).await {
        Ok(()) => Ok(Outcome::Updated(updated)),
        // The push was applied before (its event id is taken: only then is it read);
        // else a vendor moved one of the orders on, and the conflict reads again.
        Err(StoreError::ConditionFailed) if app.tables.carrier_event_seen(&update.feed, &update.event_id).await? => {
            Ok(Outcome::Ignored(format!("{} event {} was applied before", update.feed, update.event_id)))
        }
        Err(error) => Err(error.into()),
    }
}
