//! A carrier's news of a parcel (a tracking feed's push, through the intake queue): the
//! tracking number finds its vendor order through its `TRACK#` item, the domain decides
//! what the news means (`Command::CarrierUpdate`: in transit, delivered as if the vendor
//! had said so, or an exception), and the change commits with the feed's event id
//! (NotExists), so a redelivered push changes nothing; the id is read only when that
//! commit fails. An unknown number is logged and ignored.

use super::intake::Outcome;
use super::{App, ServiceError};
use crate::domain::vendor_order::{Actor, Checkpoint, Command};
use crate::ports::StoreError;
use crate::sources::TrackingUpdate;
use crate::store::Tables;

/// How often a push that lost a race to another writer is applied again.
const RACE_ROUNDS: usize = 3;

/// Applies `update` to the vendor order its tracking number belongs to.
pub async fn apply(app: &App, update: &TrackingUpdate) -> Result<Outcome, ServiceError> {
    for _ in 0..RACE_ROUNDS {
        let Some(vo) = app.tables.tracked(&update.tracking_number).await? else {
            tracing::info!(feed = %update.feed, tracking_number = %update.tracking_number, "a push for a tracking number no order has");
            return Ok(Outcome::Ignored(format!("no order ships tracking number {}", update.tracking_number)));
        };
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
        let transition = match vo.apply(command, Actor::System, now, &app.config.sla) {
            Ok(transition) => transition,
            // A parcel of a delivered or cancelled order, or one already delivered.
            Err(reason) => return Ok(Outcome::Ignored(format!("{} for order {}: {reason}", update.tag, vo.id()))),
        };
        let mut writes = vec![
            Tables::put_vendor_order(&transition.vendor_order, Some(vo.version))?,
            Tables::put_history(&transition.vendor_order, &transition.history)?,
            Tables::put_carrier_event(&update.feed, &update.event_id, now)?,
        ];
        // Delivered: the parcel's earnings are held, in the same transaction.
        writes.extend(super::money::effects(app, &vo, &transition.vendor_order, now).await?);
        match app.commit(writes, &transition.events).await {
            Ok(()) => return Ok(Outcome::Updated(1)),
            // The push was applied before (its event id is taken: only then is it read),
            // or the vendor moved the order on: read again.
            Err(StoreError::ConditionFailed) => {
                if app.tables.carrier_event_seen(&update.feed, &update.event_id).await? {
                    return Ok(Outcome::Ignored(format!("{} event {} was applied before", update.feed, update.event_id)));
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(ServiceError::Store(StoreError::ConditionFailed))
}
