//! Transient failures retried in process, with exponential backoff, at every port: an
//! outage of a few hundred milliseconds, throttling, or a timeout is absorbed here and
//! never reaches a storefront, a vendor or a queue's retry budget. Only errors that say
//! a retry may help are retried (`StoreError::Unavailable`, any queue, mail or stream
//! read error); a lost condition, an oversized item or an unreadable one is final.
//!
//! A retry after a timeout whose write had landed meets its own write: a versioned or
//! create-only write then loses its condition, which each use case resolves by
//! re-reading (DESIGN, "Exactly-once effects").

use crate::ports::{
    ChangeRecord, Condition, DeadLetter, DeadLetterQueue, EventFeed, Item, ItemStore, Mail, MailError, Mailer, Page, Publisher, Query, QueueConsumer,
    QueueError, QueueName, Received, Sender, StoreError, Write,
};
use async_trait::async_trait;
use std::time::Duration;

/// Attempts of one call, the first included: with 10% of calls failing at random, six
/// leave one failed call in a million.
const ATTEMPTS: u32 = 6;
/// The first wait; it doubles each time (10, 20, 40, 80, 160 ms), plus up to half again
/// of jitter so that retries of many callers do not land together.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// A port whose transient failures are retried.
pub struct Retrying<T> {
    inner: T,
}

impl<T> Retrying<T> {
    pub fn new(inner: T) -> Retrying<T> {
        Retrying { inner }
    }
}

fn jitter(backoff: Duration) -> Duration {
    // Up to half the backoff again, at random (from the OS, not the time of day).
    let spread = getrandom::u32().unwrap_or_default();
    backoff + backoff.mul_f64(f64::from(spread % 500) / 1000.0)
}

/// Calls `call` until it succeeds, fails for good, or has had `ATTEMPTS`.
async fn retry<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
    what: &str,
    transient: impl Fn(&E) -> bool,
    mut call: impl FnMut() -> F,
) -> Result<T, E> {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(error) if transient(&error) && attempt < ATTEMPTS => {
                tracing::debug!(%error, attempt, what, "transient failure; retrying");
                tokio::time::sleep(jitter(backoff)).await;
                backoff *= 2;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

fn store_transient(error: &StoreError) -> bool {
    error.is_retryable()
}

fn always<E>(_: &E) -> bool {
    true
}

#[async_trait]
impl<T: ItemStore> ItemStore for Retrying<T> {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        retry("get", store_transient, || self.inner.get(pk, sk)).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        retry("put", store_transient, || self.inner.put(item.clone(), condition.clone())).await
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        retry("delete", store_transient, || self.inner.delete(pk, sk)).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        retry("transact", store_transient, || self.inner.transact(writes.clone())).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        retry("query", store_transient, || self.inner.query(query.clone())).await
    }
}

#[async_trait]
impl<T: Publisher> Publisher for Retrying<T> {
    async fn publish(&self, queue: QueueName, body: String) -> Result<(), QueueError> {
        retry("publish", always, || self.inner.publish(queue, body.clone())).await
    }
    /// One batch call; the entries that failed are sent again one by one.
    async fn publish_batch(&self, queue: QueueName, bodies: Vec<String>) -> Vec<Result<(), QueueError>> {
        let first = self.inner.publish_batch(queue, bodies.clone()).await;
        let mut results = Vec::with_capacity(first.len());
        for (result, body) in first.into_iter().zip(bodies) {
            results.push(match result {
                Ok(()) => Ok(()),
                Err(_) => self.publish(queue, body).await,
            });
        }
        results
    }
    async fn park(&self, dead_letters: DeadLetterQueue, body: String, reason: &str) -> Result<(), QueueError> {
        retry("park", always, || self.inner.park(dead_letters, body.clone(), reason)).await
    }
}

#[async_trait]
impl<T: QueueConsumer> QueueConsumer for Retrying<T> {
    async fn receive(&self, queue: QueueName, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        retry("receive", always, || self.inner.receive(queue, max, wait)).await
    }
    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        retry("delete message", always, || self.inner.delete(queue, receipt)).await
    }
    async fn retry_after(&self, queue: QueueName, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        retry("set a message's next try", always, || self.inner.retry_after(queue, receipt, delay)).await
    }
    async fn dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<Vec<DeadLetter>, QueueError> {
        retry("list dead letters", always, || self.inner.dead_letters(dead_letters)).await
    }
    async fn replay_dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<usize, QueueError> {
        retry("replay dead letters", always, || self.inner.replay_dead_letters(dead_letters)).await
    }
    async fn discard_dead_letter(&self, dead_letters: DeadLetterQueue, message_id: &str) -> Result<bool, QueueError> {
        retry("discard a dead letter", always, || self.inner.discard_dead_letter(dead_letters, message_id)).await
    }
}

/// A failed send is retried too: one that failed before the provider took it is simply
/// sent; one that failed after (a timeout) goes out twice, the one duplicate DESIGN
/// allows, where giving up would leave the mail to a redelivery minutes later.
#[async_trait]
impl<T: Mailer> Mailer for Retrying<T> {
    async fn send(&self, from: &Sender, mail: &Mail) -> Result<String, MailError> {
        retry("send mail", |e: &MailError| !e.permanent, || self.inner.send(from, mail)).await
    }
    fn claim_lease(&self) -> Duration {
        self.inner.claim_lease()
    }
    fn keeps_copies(&self) -> bool {
        self.inner.keeps_copies()
    }
    async fn redact(&self, order_id: &crate::domain::ids::OrderId, personal: &crate::domain::privacy::PersonalData) -> Result<usize, MailError> {
        retry("redact mail", always, || self.inner.redact(order_id, personal)).await
    }
}

#[async_trait]
impl<T: EventFeed> EventFeed for Retrying<T> {
    async fn next_batch(&self, max: usize) -> Result<Vec<ChangeRecord>, StoreError> {
        retry("read the stream", store_transient, || self.inner.next_batch(max)).await
    }
    async fn acknowledge(&self, records: &[ChangeRecord]) -> Result<(), StoreError> {
        retry("checkpoint the stream", store_transient, || self.inner.acknowledge(records)).await
    }
}
