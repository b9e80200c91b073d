//! The event relay: the events a change committed (its `EVT#` items), as the table's
//! stream carries them, go on to the notify queue (and those a storefront is told of to
//! the storefront queue too). A record that cannot be sent after a
//! few tries is parked with its reason in the relay's dead-letter queue, which the
//! operator lists and replays like the others; only when even that fails is the record
//! left to be read again. The same code serves the `event-relay` Lambda (a DynamoDB
//! stream batch) and the local process (the embedded change log, or the stream read
//! directly).

use super::{App, ServiceError};
use crate::ports::{ChangeRecord, DeadLetterQueue, EventFeed, QueueError, QueueName};
use std::time::Duration;

/// Sends of one event before it is parked.
const TRIES: u32 = 3;
/// The wait before the first retry; it doubles with each.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// What a record carries to the queue: the envelope as JSON, or, for an item that is not
/// an envelope, why (it goes straight to the dead letters).
fn body(record: &ChangeRecord) -> Result<String, (String, String)> {
    match &record.event {
        Ok(envelope) => serde_json::to_string(envelope).map_err(|e| (format!("{envelope:?}"), e.to_string())),
        Err(unreadable) => Err((unreadable.raw.clone(), format!("not an event envelope: {}", unreadable.reason))),
    }
}

/// Relays `records` in order; returns how many of them, from the front, are done (sent
/// or parked). The rest must be offered again. Every event goes to the notify queue;
/// those a storefront is told of (`storefront_sync::WRITTEN_BACK`) to the storefront
/// queue too, each parked in its own queue's dead letters when it cannot be sent.
pub async fn relay(app: &App, records: &[ChangeRecord]) -> usize {
    let bodies: Vec<Result<String, (String, String)>> = records.iter().map(body).collect();
    let notify = send_all(app, Route::NOTIFY, &bodies, |_| true).await;
    let written_back = |i: usize| records[i].event.as_ref().is_ok_and(|e| super::storefront_sync::WRITTEN_BACK.contains(&e.event_type));
    let storefront = send_all(app, Route::STOREFRONT, &bodies, written_back).await;
    notify.iter().zip(&storefront).take_while(|(to_notify, to_storefront)| **to_notify && **to_storefront).count()
}

/// Where a relayed event goes, and where it is parked when it cannot go there.
#[derive(Clone, Copy)]
struct Route {
    queue: QueueName,
    dead_letters: DeadLetterQueue,
}

impl Route {
    const NOTIFY: Route = Route { queue: QueueName::Notify, dead_letters: DeadLetterQueue::Relay };
    const STOREFRONT: Route = Route { queue: QueueName::Storefront, dead_letters: DeadLetterQueue::Storefront };
}

/// Sends the bodies `chosen` picks to `route`'s queue in one batch, retrying or parking
/// each that failed; whether each record is settled there (one not chosen is). An
/// unreadable record is parked once, on the notify route.
async fn send_all(app: &App, route: Route, bodies: &[Result<String, (String, String)>], chosen: impl Fn(usize) -> bool) -> Vec<bool> {
    let sendable: Vec<String> = bodies.iter().enumerate().filter(|(i, _)| chosen(*i)).filter_map(|(_, b)| b.as_ref().ok().cloned()).collect();
    let mut first_try = if sendable.is_empty() { Vec::new() } else { app.publisher.publish_batch(route.queue, sendable).await }.into_iter();
    let mut settled = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.iter().enumerate() {
        settled.push(match body {
            _ if !chosen(i) => true,
            Ok(body) => match first_try.next() {
                Some(Ok(())) => true,
                Some(Err(error)) => retry_or_park(app, route, body.clone(), error).await,
                None => retry_or_park(app, route, body.clone(), QueueError("no answer for this message".into())).await,
            },
            Err(_) if route.queue != QueueName::Notify => true,
            Err((raw, reason)) => park(app, route, raw.clone(), reason).await,
        });
    }
    settled
}

async fn retry_or_park(app: &App, route: Route, body: String, mut error: QueueError) -> bool {
    let mut backoff = FIRST_BACKOFF;
    for _ in 1..TRIES {
        tokio::time::sleep(backoff).await;
        backoff *= 2;
        match app.publisher.publish(route.queue, body.clone()).await {
            Ok(()) => return true,
            Err(next) => error = next,
        }
    }
    park(app, route, body, &format!("not sent to the {} queue after {TRIES} tries: {error}", route.queue.as_str())).await
}

async fn park(app: &App, route: Route, body: String, reason: &str) -> bool {
    match app.publisher.park(route.dead_letters, body, reason).await {
        Ok(()) => {
            tracing::warn!(reason, dead_letters = route.dead_letters.as_str(), "event parked in a dead-letter queue");
            true
        }
        Err(error) => {
            tracing::error!(%error, reason, "event neither sent nor parked; it will be read again");
            false
        }
    }
}

/// Reads one batch of `feed`, relays it and moves the checkpoint past what is done;
/// returns how many records it relayed (0: the feed is caught up).
pub async fn relay_from(app: &App, feed: &dyn EventFeed, max: usize) -> Result<usize, ServiceError> {
    let batch = feed.next_batch(max).await?;
    if batch.is_empty() {
        return Ok(0);
    }
    let done = relay(app, &batch).await;
    feed.acknowledge(&batch[..done]).await?;
    if done < batch.len() {
        return Err(ServiceError::Queue(QueueError(format!("{} events could be neither sent nor parked; they will be read again", batch.len() - done))));
    }
    Ok(done)
}
