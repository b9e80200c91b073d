//! The queues on SQLite, with SQS's contract: at-least-once delivery, a lease (visibility
//! timeout) per receive, and a dead-letter table after too many receives.

use super::{Database, Held};
use crate::ports::{DeadLetter, DeadLetterQueue, MAX_MESSAGE_BYTES, Publisher, QueueConsumer, QueueError, QueueName, Received};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use std::time::Duration;

/// Receives after which a message of `queue` goes to the dead letters (the template's
/// maxReceiveCount, from the same definitions).
fn max_receive(queue: QueueName) -> u32 {
    match queue {
        QueueName::Intake => 5,
        QueueName::Notify | QueueName::Storefront => 10,
    }
}

impl From<rusqlite::Error> for QueueError {
    fn from(error: rusqlite::Error) -> Self {
        QueueError(error.to_string())
    }
}

#[async_trait]
impl Publisher for Database {
    async fn publish(&self, queue: QueueName, body: String) -> Result<(), QueueError> {
        self.publish_batch(queue, vec![body]).await.pop().unwrap_or(Ok(()))
    }

    /// All the messages that fit in one transaction: one commit for the relay's batch,
    /// where one per message made the relay the local pipeline's bottleneck.
    async fn publish_batch(&self, queue: QueueName, bodies: Vec<String>) -> Vec<Result<(), QueueError>> {
        let too_large = |body: &String| body.len() > MAX_MESSAGE_BYTES;
        let results: Vec<Result<(), QueueError>> = bodies
            .iter()
            .map(|body| match too_large(body) {
                true => Err(QueueError(format!("a message of {} bytes is over the queue limit of {MAX_MESSAGE_BYTES}", body.len()))),
                false => Ok(()),
            })
            .collect();
        let insert = move |db: &Held<'_>| {
            db.write(|tx| {
                let mut statement = tx.prepare_cached("INSERT INTO messages (queue, body, visible_at, sent_at) VALUES (?1, ?2, ?3, ?3)")?;
                let now = db.now_ms();
                for body in bodies.iter().filter(|b| !too_large(b)) {
                    statement.execute(params![queue.as_str(), body, now])?;
                }
                Ok::<_, QueueError>(())
            })
        };
        match self.off_runtime(insert, QueueError).await {
            Ok(()) => results,
            Err(error) => results.into_iter().map(|r| r.and(Err(QueueError(error.0.clone())))).collect(),
        }
    }

    async fn park(&self, dead_letters: DeadLetterQueue, body: String, reason: &str) -> Result<(), QueueError> {
        let (now, reason) = (self.now_ms(), reason.to_string());
        let insert = move |db: &Held<'_>| {
            Ok(db.write(|tx| {
                tx.prepare_cached("INSERT INTO dead_letters (queue, body, receive_count, reason, sent_at) VALUES (?1, ?2, 0, ?3, ?4)")?.execute(params![
                    dead_letters.as_str(),
                    body,
                    reason,
                    now
                ])
            })?)
        };
        self.off_runtime(insert, QueueError).await?;
        Ok(())
    }
}

/// The message a receipt (`{id}:{receive count}`, from `take_ready`) is for, so that
/// its delete finds it by key: looked up by receipt, every delete read the whole table.
/// A receipt that is not one finds nothing.
fn receipt_id(receipt: &str) -> i64 {
    receipt.split_once(':').and_then(|(id, _)| id.parse().ok()).unwrap_or(-1)
}

/// How often a waiting receive looks again (SQS long polling, on a file).
const POLL_INTERVAL: Duration = Duration::from_millis(50);

impl Database {
    /// Makes every message that was in flight visible again at once. For the one
    /// process that consumes these queues (`dropflow serve`) when it starts: leases held
    /// by a process that died would otherwise keep its work waiting out the whole
    /// visibility timeout. A message set to back off (`retry_after`) keeps its delay:
    /// offering it early would only spend its receives.
    pub fn release_leases(&self) -> Result<usize, QueueError> {
        let now = self.now_ms();
        self.on_thread_blocking(
            move |db| {
                Ok(db.write(|tx| {
                    tx.prepare_cached("UPDATE messages SET visible_at = ?1 WHERE visible_at > ?1 AND receipt IS NOT NULL")?.execute(params![now])
                })?)
            },
            QueueError,
        )
    }
}

impl Held<'_> {
    /// Leases up to `max` ready messages; moves those received too often to the dead
    /// letters instead. A queue with nothing ready is answered from a read: an idle
    /// consumer's polls take no write lock (another process, an operator command, never
    /// waits on them) and commit nothing.
    fn take_ready(&self, queue: QueueName, max: usize) -> Result<Vec<Received>, QueueError> {
        let now = self.now_ms();
        let ready = |c: &rusqlite::Connection| {
            c.prepare_cached("SELECT 1 FROM messages WHERE queue = ?1 AND visible_at <= ?2 LIMIT 1")?
                .query_row(params![queue.as_str(), now], |_| Ok(()))
                .optional()
        };
        if self.read(ready)?.is_none() {
            return Ok(Vec::new());
        }
        let lease = i64::try_from(self.visibility.as_millis()).unwrap_or(i64::MAX);
        self.write(|tx| {
            let ready: Vec<(i64, String, u32, Option<i64>)> = tx
                // In the index's order, so that only the rows taken are read (ordered by
                // id alone, SQLite sorted every ready message, bodies and all).
                .prepare_cached("SELECT id, body, receive_count, sent_at FROM messages WHERE queue = ?1 AND visible_at <= ?2 ORDER BY visible_at, id LIMIT ?3")?
                .query_map(params![queue.as_str(), now, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut received = Vec::new();
            for (id, body, count, sent_at) in ready {
                if count >= max_receive(queue) {
                    tx.prepare_cached("INSERT INTO dead_letters (queue, body, receive_count, sent_at) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
                        queue.as_str(),
                        body,
                        count,
                        sent_at
                    ])?;
                    tx.prepare_cached("DELETE FROM messages WHERE id = ?1")?.execute(params![id])?;
                    continue;
                }
                let receipt = format!("{id}:{}", count + 1);
                tx.prepare_cached("UPDATE messages SET visible_at = ?1, receive_count = ?2, receipt = ?3 WHERE id = ?4")?.execute(params![
                    now + lease,
                    count + 1,
                    receipt,
                    id
                ])?;
                received.push(Received { message_id: id.to_string(), receipt, body, receive_count: count + 1 });
            }
            Ok(received)
        })
    }
}

#[async_trait]
impl QueueConsumer for Database {
    async fn receive(&self, queue: QueueName, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let received = self.off_runtime(move |db| db.take_ready(queue, max), QueueError).await?;
            if !received.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(received);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    async fn delete(&self, _queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        let (id, receipt) = (receipt_id(receipt), receipt.to_string());
        self.off_runtime(
            move |db| Ok(db.write(|tx| tx.prepare_cached("DELETE FROM messages WHERE id = ?1 AND receipt = ?2")?.execute(params![id, receipt]))?),
            QueueError,
        )
        .await?;
        Ok(())
    }

    async fn retry_after(&self, _queue: QueueName, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        let visible_at = self.now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
        // No longer in flight: it waits out its backoff, restarts or not.
        let (id, receipt) = (receipt_id(receipt), receipt.to_string());
        self.off_runtime(
            move |db| {
                Ok(db.write(|tx| {
                    tx.prepare_cached("UPDATE messages SET visible_at = ?1, receipt = NULL WHERE id = ?2 AND receipt = ?3")?
                        .execute(params![visible_at, id, receipt])
                })?)
            },
            QueueError,
        )
        .await?;
        Ok(())
    }

    async fn dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<Vec<DeadLetter>, QueueError> {
        let list = move |db: &Held<'_>| {
            Ok(db.read(|c| {
                c.prepare_cached("SELECT id, body, receive_count, reason, sent_at FROM dead_letters WHERE queue = ?1 ORDER BY id")?
                    .query_map(params![dead_letters.as_str()], |r| {
                        Ok(DeadLetter {
                            message_id: r.get::<_, i64>(0)?.to_string(),
                            queue: dead_letters.as_str().to_string(),
                            body: r.get(1)?,
                            receive_count: r.get(2)?,
                            reason: r.get(3)?,
                            first_seen: r.get::<_, Option<i64>>(4)?.and_then(chrono::DateTime::from_timestamp_millis),
                        })
                    })?
                    .collect()
            })?)
        };
        self.off_runtime(list, QueueError).await
    }

    async fn replay_dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<usize, QueueError> {
        let now = self.now_ms();
        let key = dead_letters.as_str();
        let replay = move |db: &Held<'_>| {
            db.write(|tx| {
                let moved = tx
                    .prepare_cached(
                        "INSERT INTO messages (queue, body, visible_at, sent_at) SELECT ?3, body, ?2, sent_at FROM dead_letters WHERE queue = ?1 ORDER BY id",
                    )?
                    .execute(params![key, now, dead_letters.home().as_str()])?;
                tx.prepare_cached("DELETE FROM dead_letters WHERE queue = ?1")?.execute(params![key])?;
                Ok::<_, QueueError>(moved)
            })
        };
        self.off_runtime(replay, QueueError).await
    }

    async fn discard_dead_letter(&self, dead_letters: DeadLetterQueue, message_id: &str) -> Result<bool, QueueError> {
        let Ok(id) = message_id.parse::<i64>() else { return Ok(false) };
        let discard = move |db: &Held<'_>| {
            Ok(db.write(|tx| tx.prepare_cached("DELETE FROM dead_letters WHERE queue = ?1 AND id = ?2")?.execute(params![dead_letters.as_str(), id]))?)
        };
        Ok(self.off_runtime(discard, QueueError).await? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_restart_offers_in_flight_messages_at_once_but_keeps_a_backoff() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        db.publish(QueueName::Notify, "in flight".into()).await.unwrap();
        db.publish(QueueName::Notify, "backing off".into()).await.unwrap();
        let taken = db.receive(QueueName::Notify, 10, Duration::ZERO).await.unwrap();
        assert_eq!(taken.len(), 2);
        let backing_off = taken.iter().find(|m| m.body == "backing off").unwrap();
        db.retry_after(QueueName::Notify, &backing_off.receipt, Duration::from_secs(60)).await.unwrap();

        assert_eq!(db.release_leases().unwrap(), 1, "the process that held them died");
        let again = db.receive(QueueName::Notify, 10, Duration::ZERO).await.unwrap();
        assert_eq!(again.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["in flight"]);
    }

    #[tokio::test]
    async fn a_poll_of_an_empty_queue_waits_for_no_other_process_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        db.publish(QueueName::Notify, "for another queue".into()).await.unwrap();
        // An operator command in another process, in the middle of a write.
        let other = rusqlite::Connection::open(dir.path().join("dropflow.db")).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();

        let started = std::time::Instant::now();
        let polled = db.receive(QueueName::Intake, 10, Duration::ZERO).await.unwrap();
        assert!(polled.is_empty());
        assert!(started.elapsed() < Duration::from_secs(2), "an idle poll waited {:?} for the lock", started.elapsed());
        other.execute_batch("COMMIT").unwrap();
        assert_eq!(db.receive(QueueName::Notify, 10, Duration::ZERO).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_delete_takes_only_the_message_its_latest_receipt_names() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap().with_visibility(Duration::from_millis(30));
        for body in ["a", "b", "c"] {
            db.publish(QueueName::Intake, body.into()).await.unwrap();
        }
        let first = db.receive(QueueName::Intake, 10, Duration::ZERO).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        let second = db.receive(QueueName::Intake, 10, Duration::ZERO).await.unwrap();
        assert_eq!(second.iter().map(|m| (m.body.as_str(), m.receive_count)).collect::<Vec<_>>(), [("a", 2), ("b", 2), ("c", 2)]);

        db.delete(QueueName::Intake, &first[0].receipt).await.unwrap();
        db.delete(QueueName::Intake, "not-a-receipt").await.unwrap();
        db.delete(QueueName::Intake, &second[1].receipt).await.unwrap();
        tokio::time::sleep(Duration::from_millis(40)).await;
        let left = db.receive(QueueName::Intake, 10, Duration::ZERO).await.unwrap();
        assert_eq!(left.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["a", "c"], "an earlier lease's receipt deletes nothing");
    }
}
