//! The event relay: the events a change committed (its `EVT#` items), as the table's
//! stream carries them, go on to the notify queue. A record that cannot be sent after a
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
/// or parked). The rest must be offered again.
pub async fn relay(app: &App, records: &[ChangeRecord]) -> usize {
    let bodies: Vec<Result<String, (String, String)>> = records.iter().map(body).collect();
    let sendable: Vec<String> = bodies.iter().filter_map(|b| b.as_ref().ok().cloned()).collect();
    let mut first_try = app.publisher.publish_batch(QueueName::Notify, sendable).await.into_iter();
    for (done, body) in bodies.into_iter().enumerate() {
        let settled = match body {
            Ok(body) => match first_try.next() {
                Some(Ok(())) => true,
                Some(Err(error)) => retry_or_park(app, body, error).await,
                None => retry_or_park(app, body, QueueError("no answer for this message".into())).await,
            },
            Err((raw, reason)) => park(app, raw, &reason).await,
        };
        if !settled {
            return done;
        }
    }
    records.len()
}

async fn retry_or_park(app: &App, body: String, mut error: QueueError) -> bool {
    let mut backoff = FIRST_BACKOFF;
    for _ in 1..TRIES {
        tokio::time::sleep(backoff).await;
        backoff *= 2;
        match app.publisher.publish(QueueName::Notify, body.clone()).await {
            Ok(()) => return true,
            Err(next) => error = next,
        }
    }
    park(app, body, &format!("not sent to the notify queue after {TRIES} tries: {error}")).await
}

async fn park(app: &App, body: String, reason: &str) -> bool {
    match app.publisher.park(DeadLetterQueue::Relay, body, reason).await {
        Ok(()) => {
            tracing::warn!(reason, "event parked in the relay dead-letter queue");
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
