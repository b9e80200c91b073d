//! The port a Lambda function is built without. Each function names the AWS adapters it
//! calls (`compose::AwsAdapters`) so that its binary links only their SDK clients; the
//! ports it does not name are this adapter, which refuses every call with an error naming
//! the port and the function's missing adapter. Nothing of a function ever reaches it (the
//! end-to-end test of each function binary runs its events); if a change ever made one
//! reach it, the call fails for good, loudly, and is never retried as if it could pass.

use crate::domain::ids::OrderId;
use crate::domain::privacy::PersonalData;
use crate::ports::{
    Condition, DeadLetter, DeadLetterQueue, Item, ItemStore, Mail, MailError, Mailer, Page, Publisher, Query, QueueConsumer, QueueError, QueueName, Received,
    Sender, StoreError, Write,
};
use async_trait::async_trait;

/// A port this binary was not built with; its name says which.
#[derive(Debug, Clone, Copy)]
pub struct Absent(pub &'static str);

impl Absent {
    fn reason(self) -> String {
        format!("this function is built without {} (compose::AwsAdapters)", self.0)
    }
}

#[async_trait]
impl ItemStore for Absent {
    async fn get(&self, _: &str, _: &str) -> Result<Option<Item>, StoreError> {
        Err(StoreError::Refused(self.reason()))
    }
    async fn put(&self, _: Item, _: Condition) -> Result<(), StoreError> {
        Err(StoreError::Refused(self.reason()))
    }
    async fn delete(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Err(StoreError::Refused(self.reason()))
    }
    async fn transact(&self, _: Vec<Write>) -> Result<(), StoreError> {
        Err(StoreError::Refused(self.reason()))
    }
    async fn query(&self, _: Query) -> Result<Page, StoreError> {
        Err(StoreError::Refused(self.reason()))
    }
}

#[async_trait]
impl Publisher for Absent {
    async fn publish(&self, _: QueueName, _: String) -> Result<(), QueueError> {
        Err(QueueError(self.reason()))
    }
    async fn park(&self, _: DeadLetterQueue, _: String, _: &str) -> Result<(), QueueError> {
        Err(QueueError(self.reason()))
    }
}

#[async_trait]
impl QueueConsumer for Absent {
    async fn receive(&self, _: QueueName, _: usize, _: std::time::Duration) -> Result<Vec<Received>, QueueError> {
        Err(QueueError(self.reason()))
    }
    async fn delete(&self, _: QueueName, _: &str) -> Result<(), QueueError> {
        Err(QueueError(self.reason()))
    }
    async fn retry_after(&self, _: QueueName, _: &str, _: std::time::Duration) -> Result<(), QueueError> {
        Err(QueueError(self.reason()))
    }
    async fn dead_letters(&self, _: DeadLetterQueue) -> Result<Vec<DeadLetter>, QueueError> {
        Err(QueueError(self.reason()))
    }
    async fn replay_dead_letters(&self, _: DeadLetterQueue) -> Result<usize, QueueError> {
        Err(QueueError(self.reason()))
    }
    async fn discard_dead_letter(&self, _: DeadLetterQueue, _: &str) -> Result<bool, QueueError> {
        Err(QueueError(self.reason()))
    }
}

/// Sends nothing, and keeps no copies (as SES keeps none): a function without a mailer
/// that erases a customer's data has no mail of theirs to reach.
#[async_trait]
impl Mailer for Absent {
    async fn send(&self, _: &Sender, _: &Mail) -> Result<String, MailError> {
        Err(MailError::permanent(self.reason()))
    }
    async fn redact(&self, _: &OrderId, _: &PersonalData) -> Result<usize, MailError> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_absent_port_refuses_for_good_and_names_itself() {
        let store = Absent("a store (DynamoDB)");
        let error = store.get("pk", "sk").await.unwrap_err();
        assert!(!error.is_retryable(), "a missing adapter is no transient failure");
        assert!(error.to_string().contains("a store (DynamoDB)"), "{error}");
        let mailer = Absent("a mailer (SES)");
        let from = Sender { name: "s".into(), address: "s@example.com".into() };
        let mail =
            Mail { to: "c@example.com".into(), subject: "s".into(), text: "t".into(), html: "h".into(), key: "k".into(), order_id: None, reply_to: None };
        assert!(mailer.send(&from, &mail).await.unwrap_err().permanent);
        assert!(Absent("queues (SQS)").publish(QueueName::Notify, "{}".into()).await.unwrap_err().to_string().contains("queues (SQS)"));
    }
}
