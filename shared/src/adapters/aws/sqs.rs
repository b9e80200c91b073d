//! The queues on SQS: publish with `SendMessage`, consume the way an event source
//! mapping does (receive, delete what succeeded), and reach each queue's dead-letter
//! queue through its redrive policy, so no DLQ address needs configuring.

use super::{AwsResources, describe};
use crate::ports::{DeadLetter, DeadLetterQueue, MAX_MESSAGE_BYTES, Publisher, QueueConsumer, QueueError, QueueName, Received};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry};
use std::time::Duration;

/// SQS allows at most 10 messages per receive.
const MAX_BATCH: usize = 10;
/// How long a listed dead letter is hidden while the listing pages through the queue.
const LISTING_LEASE_SECONDS: i32 = 30;

/// Both queues of DESIGN on SQS.
#[derive(Clone)]
pub struct SqsQueues {
    client: super::LazyClient<Client>,
    intake_url: String,
    notify_url: String,
    storefront_url: String,
    /// The relay's dead-letter queue, for the functions that park in it or list it.
    relay_dead_letter_url: Option<String>,
}

/// The message attribute that carries why a message was parked.
const REASON_ATTRIBUTE: &str = "reason";

fn unavailable(error: impl std::error::Error + 'static) -> QueueError {
    QueueError(describe(&error))
}

impl SqsQueues {
    /// The queues of `resources`, the client built from `sdk` at the first call.
    pub fn new(sdk: &aws_config::SdkConfig, resources: &AwsResources) -> Self {
        SqsQueues {
            client: super::LazyClient::new(sdk, Client::new),
            intake_url: resources.intake_queue_url.clone(),
            notify_url: resources.notify_queue_url.clone(),
            storefront_url: resources.storefront_queue_url.clone(),
            relay_dead_letter_url: resources.relay_dead_letter_queue_url.clone(),
        }
    }

    fn url(&self, queue: QueueName) -> &str {
        match queue {
            QueueName::Intake => &self.intake_url,
            QueueName::Notify => &self.notify_url,
            QueueName::Storefront => &self.storefront_url,
        }
    }

    /// The URL of a dead-letter queue: the relay's as configured, a queue's own from
    /// its redrive policy.
    async fn dead_letter_url(&self, dead_letters: DeadLetterQueue) -> Result<String, QueueError> {
        let queue = match dead_letters {
            DeadLetterQueue::Relay => {
                return self.relay_dead_letter_url.clone().ok_or_else(|| QueueError("the relay dead-letter queue is not configured (RELAY_DLQ_URL)".into()));
            }
            other => other.home(),
        };
        let attributes = self
            .client
            .get()
            .get_queue_attributes()
            .queue_url(self.url(queue))
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(unavailable)?;
        let policy = attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
            .ok_or_else(|| QueueError(format!("the {} queue has no dead-letter queue", queue.as_str())))?;
        let policy: serde_json::Value = serde_json::from_str(policy).map_err(|e| QueueError(format!("unreadable redrive policy: {e}")))?;
        let arn = policy["deadLetterTargetArn"].as_str().ok_or_else(|| QueueError("redrive policy without deadLetterTargetArn".into()))?;
        let name = arn.rsplit(':').next().unwrap_or(arn);
        let found = self.client.get().get_queue_url().queue_name(name).send().await.map_err(unavailable)?;
        found.queue_url.ok_or_else(|| QueueError(format!("no URL for dead-letter queue {name}")))
    }

    async fn receive_from(&self, url: &str, max: usize, wait: Duration, lease_seconds: Option<i32>) -> Result<Vec<Taken>, QueueError> {
        let output = self
            .client
            .get()
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, MAX_BATCH) as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .set_visibility_timeout(lease_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names(REASON_ATTRIBUTE)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Taken {
                sent_at: m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                    .and_then(|t| t.parse().ok())
                    .and_then(chrono::DateTime::from_timestamp_millis),
                reason: m.message_attributes().and_then(|a| a.get(REASON_ATTRIBUTE)).and_then(|v| v.string_value()).map(str::to_string),
                received: Received {
                    receive_count: m
                        .attributes()
                        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                    message_id: m.message_id.unwrap_or_default(),
                    receipt: m.receipt_handle.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                },
            })
            .collect())
    }

    /// Ends the listing's lease of `taken`: they are visible again at once.
    async fn show_again(&self, url: &str, taken: &[Taken]) -> Result<(), QueueError> {
        for message in taken {
            self.client
                .get()
                .change_message_visibility()
                .queue_url(url)
                .receipt_handle(&message.received.receipt)
                .visibility_timeout(0)
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }

    /// Every message of the queue at `url`, each leased for the listing's duration.
    async fn take_all(&self, url: &str) -> Result<Vec<Taken>, QueueError> {
        let mut taken: Vec<Taken> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            let batch = self.receive_from(url, MAX_BATCH, Duration::ZERO, Some(LISTING_LEASE_SECONDS)).await?;
            let fresh: Vec<Taken> = batch.into_iter().filter(|m| seen.insert(m.received.message_id.clone())).collect();
            if fresh.is_empty() {
                return Ok(taken);
            }
            taken.extend(fresh);
        }
    }
}

/// A received message with the reason it was parked, if it was.
struct Taken {
    received: Received,
    reason: Option<String>,
    /// SQS's `SentTimestamp`: first sent, kept by a redrive to the DLQ.
    sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[async_trait]
impl Publisher for SqsQueues {
    async fn publish(&self, queue: QueueName, body: String) -> Result<(), QueueError> {
        self.client.get().send_message().queue_url(self.url(queue)).message_body(body).send().await.map_err(unavailable)?;
        Ok(())
    }

    /// `SendMessageBatch`, ten at a time (and fewer when ten would pass the 1 MiB
    /// request limit); each entry's own failure is its result.
    async fn publish_batch(&self, queue: QueueName, bodies: Vec<String>) -> Vec<Result<(), QueueError>> {
        let mut results: Vec<Result<(), QueueError>> = Vec::with_capacity(bodies.len());
        let mut start = 0;
        while start < bodies.len() {
            let mut end = start;
            let mut bytes = 0;
            while end < bodies.len() && end - start < MAX_BATCH && (end == start || bytes + bodies[end].len() <= MAX_MESSAGE_BYTES) {
                bytes += bodies[end].len();
                end += 1;
            }
            let entries: Result<Vec<SendMessageBatchRequestEntry>, _> =
                (start..end).map(|i| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(&bodies[i]).build()).collect();
            let sent = match entries {
                Ok(entries) => self.client.get().send_message_batch().queue_url(self.url(queue)).set_entries(Some(entries)).send().await.map_err(unavailable),
                Err(error) => Err(unavailable(error)),
            };
            match sent {
                Ok(output) => {
                    let failed: std::collections::HashMap<&str, String> =
                        output.failed().iter().map(|f| (f.id(), format!("{}: {}", f.code(), f.message().unwrap_or_default()))).collect();
                    for i in start..end {
                        results.push(failed.get(i.to_string().as_str()).map_or(Ok(()), |reason| Err(QueueError(reason.clone()))));
                    }
                }
                Err(error) => results.extend((start..end).map(|_| Err(QueueError(error.0.clone())))),
            }
            start = end;
        }
        results
    }

    async fn park(&self, dead_letters: DeadLetterQueue, body: String, reason: &str) -> Result<(), QueueError> {
        let url = self.dead_letter_url(dead_letters).await?;
        // SQS caps an attribute with the message; a reason is a line, not a log.
        let reason: String = reason.chars().take(1000).collect();
        let attribute = MessageAttributeValue::builder().data_type("String").string_value(reason).build().map_err(unavailable)?;
        self.client.get().send_message().queue_url(url).message_body(body).message_attributes(REASON_ATTRIBUTE, attribute).send().await.map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqsQueues {
    async fn receive(&self, queue: QueueName, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        Ok(self.receive_from(self.url(queue), max, wait, None).await?.into_iter().map(|t| t.received).collect())
    }

    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        self.client.get().delete_message().queue_url(self.url(queue)).receipt_handle(receipt).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn retry_after(&self, queue: QueueName, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        // SQS takes 0 to 12 hours.
        let seconds = i32::try_from(delay.as_secs().min(43_200)).unwrap_or(43_200);
        self.client
            .get()
            .change_message_visibility()
            .queue_url(self.url(queue))
            .receipt_handle(receipt)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<Vec<DeadLetter>, QueueError> {
        let url = self.dead_letter_url(dead_letters).await?;
        let taken = self.take_all(&url).await?;
        // Listing must not hide them: make each visible again at once.
        self.show_again(&url, &taken).await?;
        Ok(taken
            .into_iter()
            .map(|Taken { received, reason, sent_at }| DeadLetter {
                message_id: received.message_id,
                queue: dead_letters.as_str().into(),
                body: received.body,
                receive_count: if reason.is_some() { 0 } else { received.receive_count },
                reason,
                first_seen: sent_at,
            })
            .collect())
    }

    async fn discard_dead_letter(&self, dead_letters: DeadLetterQueue, message_id: &str) -> Result<bool, QueueError> {
        let url = self.dead_letter_url(dead_letters).await?;
        // SQS deletes by a receipt, which only receiving gives: take them all, delete
        // the one, and show the others again at once.
        let (discarded, others): (Vec<Taken>, Vec<Taken>) = self.take_all(&url).await?.into_iter().partition(|m| m.received.message_id == message_id);
        self.show_again(&url, &others).await?;
        for message in &discarded {
            self.client.get().delete_message().queue_url(&url).receipt_handle(&message.received.receipt).send().await.map_err(unavailable)?;
        }
        Ok(!discarded.is_empty())
    }

    async fn replay_dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<usize, QueueError> {
        let url = self.dead_letter_url(dead_letters).await?;
        let taken = self.take_all(&url).await?;
        // Sent before deleted: a failure in between leaves a duplicate, which every
        // consumer absorbs, never a loss.
        for message in &taken {
            self.publish(dead_letters.home(), message.received.body.clone()).await?;
            self.client.get().delete_message().queue_url(&url).receipt_handle(&message.received.receipt).send().await.map_err(unavailable)?;
        }
        Ok(taken.len())
    }
}
