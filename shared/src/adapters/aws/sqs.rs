//! The queues on SQS: publish with `SendMessage`, consume the way an event source
//! mapping does (receive, delete what succeeded), and reach each queue's dead-letter
//! queue through its redrive policy, so no DLQ address needs configuring.

use super::{AwsResources, describe};
use crate::ports::{DeadLetter, Publisher, QueueConsumer, QueueError, QueueName, Received};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use std::time::Duration;

/// SQS allows at most 10 messages per receive.
const MAX_BATCH: usize = 10;
/// How long a listed dead letter is hidden while the listing pages through the queue.
const LISTING_LEASE_SECONDS: i32 = 30;

/// Both queues of DESIGN on SQS.
#[derive(Clone)]
pub struct SqsQueues {
    client: Client,
    intake_url: String,
    notify_url: String,
}

fn unavailable(error: impl std::error::Error + 'static) -> QueueError {
    QueueError(describe(&error))
}

impl SqsQueues {
    pub fn new(client: Client, resources: &AwsResources) -> Self {
        SqsQueues { client, intake_url: resources.intake_queue_url.clone(), notify_url: resources.notify_queue_url.clone() }
    }

    fn url(&self, queue: QueueName) -> &str {
        match queue {
            QueueName::Intake => &self.intake_url,
            QueueName::Notify => &self.notify_url,
        }
    }

    /// The URL of `queue`'s dead-letter queue, from its redrive policy.
    async fn dead_letter_url(&self, queue: QueueName) -> Result<String, QueueError> {
        let attributes = self
            .client
            .get_queue_attributes()
            .queue_url(self.url(queue))
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(unavailable)?;
        let policy = attributes.attributes().and_then(|a| a.get(&QueueAttributeName::RedrivePolicy)).ok_or_else(|| QueueError(format!("the {} queue has no dead-letter queue", queue.as_str())))?;
        let policy: serde_json::Value = serde_json::from_str(policy).map_err(|e| QueueError(format!("unreadable redrive policy: {e}")))?;
        let arn = policy["deadLetterTargetArn"].as_str().ok_or_else(|| QueueError("redrive policy without deadLetterTargetArn".into()))?;
        let name = arn.rsplit(':').next().unwrap_or(arn);
        let found = self.client.get_queue_url().queue_name(name).send().await.map_err(unavailable)?;
        found.queue_url.ok_or_else(|| QueueError(format!("no URL for dead-letter queue {name}")))
    }

    async fn receive_from(&self, url: &str, max: usize, wait: Duration, lease_seconds: Option<i32>) -> Result<Vec<Received>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, MAX_BATCH) as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .set_visibility_timeout(lease_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| Received {
                receive_count: m.attributes().and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount)).and_then(|c| c.parse().ok()).unwrap_or(1),
                message_id: m.message_id.unwrap_or_default(),
                receipt: m.receipt_handle.unwrap_or_default(),
                body: m.body.unwrap_or_default(),
            })
            .collect())
    }

    /// Every message of the queue at `url`, each leased for the listing's duration.
    async fn take_all(&self, url: &str) -> Result<Vec<Received>, QueueError> {
        let mut taken: Vec<Received> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            let batch = self.receive_from(url, MAX_BATCH, Duration::ZERO, Some(LISTING_LEASE_SECONDS)).await?;
            let fresh: Vec<Received> = batch.into_iter().filter(|m| seen.insert(m.message_id.clone())).collect();
            if fresh.is_empty() {
                return Ok(taken);
            }
            taken.extend(fresh);
        }
    }
}

#[async_trait]
impl Publisher for SqsQueues {
    async fn publish(&self, queue: QueueName, body: String) -> Result<(), QueueError> {
        self.client.send_message().queue_url(self.url(queue)).message_body(body).send().await.map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqsQueues {
    async fn receive(&self, queue: QueueName, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        self.receive_from(self.url(queue), max, wait, None).await
    }

    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        self.client.delete_message().queue_url(self.url(queue)).receipt_handle(receipt).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn dead_letters(&self, queue: QueueName) -> Result<Vec<DeadLetter>, QueueError> {
        let url = self.dead_letter_url(queue).await?;
        let taken = self.take_all(&url).await?;
        // Listing must not hide them: make each visible again at once.
        for message in &taken {
            self.client.change_message_visibility().queue_url(&url).receipt_handle(&message.receipt).visibility_timeout(0).send().await.map_err(unavailable)?;
        }
        Ok(taken
            .into_iter()
            .map(|m| DeadLetter { message_id: m.message_id, queue: queue.as_str().into(), body: m.body, receive_count: m.receive_count })
            .collect())
    }

    async fn replay_dead_letters(&self, queue: QueueName) -> Result<usize, QueueError> {
        let url = self.dead_letter_url(queue).await?;
        let taken = self.take_all(&url).await?;
        // Sent before deleted: a failure in between leaves a duplicate, which every
        // consumer absorbs, never a loss.
        for message in &taken {
            self.publish(queue, message.body.clone()).await?;
            self.client.delete_message().queue_url(&url).receipt_handle(&message.receipt).send().await.map_err(unavailable)?;
        }
        Ok(taken.len())
    }
}
