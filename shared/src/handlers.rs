//! What each function runs: the HTTP router (order-webhook, vendor-api), the queue
//! consumers (order-intake, notifier, storefront-sync) and the stream consumer
//! (event-relay). The Lambda mains and the local binary call these
//! same functions with the same event types.

use crate::domain::events::Envelope;
use crate::ports::{ChangeRecord, DeadLetterQueue, UnreadableEvent};
use crate::ports::{QueueName, Received};
use crate::services::{App, ServiceError, intake, notifier, relay, suppression};
use crate::sources::IntakeMessage;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::future::Future;
use tracing::Instrument;

/// Runs `handle` on every message of a batch concurrently, each in a span with its
/// message id, and reports only the failed ones (`ReportBatchItemFailures`), so one bad
/// message never fails its neighbours. A message that fails for good (unreadable, or
/// against a rule) is parked in `dead_letters` with the reason at once instead of
/// burning its receives; only what a retry may fix is reported for a retry, and set to
/// come back after its backoff (`next_try`) rather than the queue's whole lease.
pub async fn process_batch<F, Fut>(app: &App, queue: QueueName, event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<(), ServiceError>>,
{
    let dead_letters = match queue {
        QueueName::Intake => DeadLetterQueue::Intake,
        QueueName::Notify => DeadLetterQueue::Notify,
        QueueName::Storefront => DeadLetterQueue::Storefront,
    };
    let work = event.records.into_iter().map(|record| {
        let id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let receipt = record.receipt_handle.unwrap_or_default();
        let receive_count = record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
        let span = tracing::info_span!("message", message_id = %id);
        let outcome = handle(body.clone());
        async move {
            match outcome.await {
                Ok(()) => None,
                Err(error) if !error.is_retryable() => match app.publisher.park(dead_letters, body, &error.to_string()).await {
                    Ok(()) => {
                        crate::metrics::count(crate::metrics::Metric::DeadLettered, 1);
                        tracing::warn!(%error, "message parked in its dead-letter queue: a retry cannot help");
                        None
                    }
                    Err(park_error) => {
                        tracing::error!(%error, %park_error, "message could not be parked; left for a retry");
                        Some(id)
                    }
                },
                Err(error) => {
                    let delay = next_try(&error, receive_count, app.config.first_backoff_seconds, app.clock.now());
                    tracing::warn!(%error, delay_seconds = delay.as_secs(), "message failed; it will be retried");
                    if let Err(visibility_error) = app.queues.retry_after(queue, &receipt, delay).await {
                        tracing::warn!(%visibility_error, "the message comes back after the queue's lease instead");
                    }
                    Some(id)
                }
            }
        }
        .instrument(span)
    });
    let failed = futures_util::future::join_all(work).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .flatten()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

/// When a failed message is offered again: once the work it waits for is free (a
/// claim's lease), or after a backoff that doubles with each receive from `first_seconds`
/// (10 s unless configured) to at most 15 minutes, so that a burst of throttling is outlasted instead of using up the
/// message's receives (the notify queue allows 10: over an hour of backoff).
pub fn next_try(error: &ServiceError, receive_count: u32, first_seconds: u32, now: chrono::DateTime<chrono::Utc>) -> std::time::Duration {
    if let ServiceError::Busy { until: Some(until), .. } = error {
        return (*until - now).to_std().unwrap_or_default().max(std::time::Duration::from_secs(1)) + std::time::Duration::from_secs(1);
    }
    let doublings = receive_count.saturating_sub(1).min(10);
    std::time::Duration::from_secs((u64::from(first_seconds.max(1)) << doublings).min(900))
}

fn unreadable(error: serde_json::Error) -> ServiceError {
    ServiceError::BadRequest(format!("unreadable message: {error}"))
}

/// order-intake: each message is a verified webhook.
pub async fn order_intake(app: &App, event: SqsEvent) -> SqsBatchResponse {
    process_batch(app, QueueName::Intake, event, |body| async move {
        let message = IntakeMessage::decode(&body).map_err(|e| ServiceError::BadRequest(format!("unreadable message: {e}")))?;
        let outcome = intake::handle(app, &message).await?;
        tracing::info!(source = %message.source, topic = %message.topic, ?outcome, "intake");
        Ok(())
    })
    .await
}

/// The batch an event source mapping would hand over for messages taken from a queue
/// (how the local binary and the tests feed the consumers).
pub fn sqs_event(received: &[Received]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = received
        .iter()
        .map(|m| {
            let mut message = SqsMessage::default();
            message.message_id = Some(m.message_id.clone());
            message.receipt_handle = Some(m.receipt.clone());
            message.body = Some(m.body.clone());
            message.attributes.insert("ApproximateReceiveCount".into(), m.receive_count.to_string());
            message
        })
        .collect();
    event
}

/// The consumer of `queue`: what its event source mapping feeds.
pub async fn consume(app: &App, queue: QueueName, event: SqsEvent) -> SqsBatchResponse {
    match queue {
        QueueName::Intake => order_intake(app, event).await,
        QueueName::Notify => notify(app, event).await,
        QueueName::Storefront => storefront_sync(app, event).await,
    }
}

/// storefront-sync: each message is a domain event a storefront is told of.
pub async fn storefront_sync(app: &App, event: SqsEvent) -> SqsBatchResponse {
    process_batch(app, QueueName::Storefront, event, |body| async move {
        let envelope: Envelope = serde_json::from_str(&body).map_err(unreadable)?;
        crate::services::storefront_sync::handle(app, &envelope).await?;
        tracing::info!(event_id = %envelope.event_id, "storefront told");
        Ok(())
    })
    .await
}

/// notifier: each message is a domain event, or SES's feedback on a mail sent (a
/// bounce or a complaint suppresses the address).
pub async fn notify(app: &App, event: SqsEvent) -> SqsBatchResponse {
    process_batch(app, QueueName::Notify, event, |body| async move {
        if let Some(suppressions) = suppression::feedback(&body, app.clock.now()) {
            suppression::record(app, &suppressions).await?;
            return Ok(());
        }
        let envelope: Envelope = serde_json::from_str(&body).map_err(unreadable)?;
        let sent = notifier::handle(app, &envelope).await?;
        tracing::info!(event_id = %envelope.event_id, sent, "notified");
        Ok(())
    })
    .await
}

/// One record of the table's stream as the relay takes it: inserted event items only.
/// The event source mapping filters to these, and the relay drops anything else too
/// (moto stores a mapping's filter but does not apply it).
pub fn change_record(record: aws_lambda_events::event::dynamodb::EventRecord) -> Option<ChangeRecord> {
    let sk = match record.change.keys.get("sk").or_else(|| record.change.new_image.get("sk")) {
        Some(serde_dynamo::AttributeValue::S(sk)) => Some(sk.as_str()),
        _ => None,
    };
    if !crate::store::is_event_insert(&record.event_name, sk) {
        return None;
    }
    let position = record.change.sequence_number.clone().unwrap_or_default();
    let image = record.change.new_image;
    let event =
        serde_dynamo::from_item(image.clone()).map_err(|e| UnreadableEvent { raw: serde_json::to_string(&image).unwrap_or_default(), reason: e.to_string() });
    Some(ChangeRecord { position, event })
}

/// event-relay: a batch of the table's stream. Every committed event goes to the notify
/// queue (or, failing that, to the relay's dead letters); the first record that could
/// do neither is reported, and the mapping retries the stream from there (a stream is
/// read in order, so what follows it is offered again too).
pub async fn event_relay(app: &App, event: aws_lambda_events::event::dynamodb::Event) -> aws_lambda_events::event::streams::DynamoDbEventResponse {
    let records: Vec<ChangeRecord> = event.records.into_iter().filter_map(change_record).collect();
    let done = relay::relay(app, &records).await;
    let mut response = aws_lambda_events::event::streams::DynamoDbEventResponse::default();
    if let Some(first_failed) = records.get(done) {
        let mut failure = aws_lambda_events::event::streams::DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(first_failed.position.clone());
        response.batch_item_failures.push(failure);
    }
    response
}

/// sla-sweep's job: one sweep of the due clocks as of `now`, stopping by `deadline`;
/// what it did, as the invocation answers it.
pub async fn sla_sweep(app: App, now: chrono::DateTime<chrono::Utc>, deadline: std::time::Instant) -> Result<serde_json::Value, ServiceError> {
    let report = crate::services::sweep::sweep(&app, now, Some(deadline)).await?;
    Ok(serde_json::json!({ "swept_at": now, "due": report.due, "fired": report.fired, "escalations": report.escalations, "complete": report.complete }))
}

/// payout-release's job: the holds that ended by `now` released, then the payouts,
/// stopping by `deadline`; what it did, as the invocation answers it.
pub async fn payout_release(app: App, now: chrono::DateTime<chrono::Utc>, deadline: std::time::Instant) -> Result<serde_json::Value, ServiceError> {
    let report = crate::services::money::run(&app, now, Some(deadline)).await?;
    Ok(
        serde_json::json!({ "released_at": now, "released": report.released, "payouts": report.payouts, "below_minimum": report.below_minimum, "refused": report.refused, "complete": report.complete }),
    )
}

/// storefront-reconcile's job: each polled storefront's changes since its cursor
/// queued for intake (`services::reconcile`); what it read, as the invocation answers it.
/// A shop that could not be read is named, and read again from its cursor next run.
pub async fn storefront_reconcile(app: App, now: chrono::DateTime<chrono::Utc>, deadline: std::time::Instant) -> Result<serde_json::Value, ServiceError> {
    let report = crate::services::reconcile::reconcile(&app, now, Some(deadline)).await?;
    Ok(serde_json::json!({
        "reconciled_at": now, "shops": report.shops, "read": report.read, "queued": report.queued,
        "too_large": report.too_large, "failed": report.failed, "unfinished": report.unfinished,
    }))
}

/// supplier-sync's job: the supplier orders that are due placed, the placed ones read
/// back (`services::supplier::sync`); what it did, as the invocation answers it.
pub async fn supplier_sync(app: App, now: chrono::DateTime<chrono::Utc>, deadline: std::time::Instant) -> Result<serde_json::Value, ServiceError> {
    let report = crate::services::supplier::sync(&app, now, Some(deadline)).await?;
    Ok(serde_json::json!({
        "synced_at": now, "placed": report.placed, "followed": report.followed, "shipped": report.shipped,
        "delivered": report.delivered, "handed_back": report.handed_back, "deferred": report.deferred, "complete": report.complete,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn a_failed_message_backs_off_longer_with_each_receive_up_to_fifteen_minutes() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        let throttled = ServiceError::Mail(crate::ports::MailError::transient("Throttling: Maximum sending rate exceeded"));
        let delays: Vec<u64> = (1..=10).map(|n| next_try(&throttled, n, 10, now).as_secs()).collect();
        assert_eq!(delays, [10, 20, 40, 80, 160, 320, 640, 900, 900, 900]);
        assert!(delays.iter().sum::<u64>() > 3_600, "ten receives outlast an hour-long burst");
        let short: Vec<u64> = (1..=4).map(|n| next_try(&throttled, n, 1, now).as_secs()).collect();
        assert_eq!(short, [1, 2, 4, 8], "a configured first backoff doubles the same way");
    }

    #[test]
    fn a_message_waiting_on_a_claim_comes_back_when_the_claim_ends() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        let busy = ServiceError::Busy { reason: "claimed".into(), until: Some(now + Duration::seconds(4)) };
        assert_eq!(next_try(&busy, 3, 10, now).as_secs(), 5);
    }
}
