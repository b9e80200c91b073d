//! The ports: what the services need from the outside world, as traits. Each has an
//! embedded adapter (local runs, fast tests) and an AWS adapter, held to the same
//! behaviour by one conformance suite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// A stored item: a JSON object with string `pk` and `sk`, optional index keys
/// (`gsi1pk`/`gsi1sk`, `gsi2pk`/`gsi2sk`), `ttl` and `version`; the same shape as a
/// DynamoDB item of the single table.
pub type Item = Map<String, Value>;

/// What must hold for a write to happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Always,
    /// No item with this key exists.
    NotExists,
    /// The stored item's `version` equals this (optimistic locking).
    VersionIs(u64),
}

/// One write of a transaction.
#[derive(Debug, Clone)]
pub enum Write {
    Put { item: Item, condition: Condition },
    Delete { pk: String, sk: String },
}

/// Which key a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// The table's own `pk`/`sk`.
    Table,
    /// `gsi1pk`/`gsi1sk`: a vendor's orders by state and time.
    Gsi1,
    /// `gsi2pk`/`gsi2sk`: armed clocks by due time.
    Gsi2,
}

/// A key-range read: one partition, sort keys starting with `sk_prefix` (and at most
/// `sk_max` when set), in order or reversed, `limit` at a time from an opaque `cursor`.
#[derive(Debug, Clone)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk_prefix: String,
    pub sk_max: Option<String>,
    pub descending: bool,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// A page of items and where the next one starts (None at the end).
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub cursor: Option<String>,
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition did not hold: someone else wrote first, or the item already exists.
    #[error("a conditional write lost: the item changed or already exists")]
    ConditionFailed,
    #[error("bad cursor")]
    BadCursor,
    /// The store could not be reached or failed; a retry may help.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// The single-table item store.
#[async_trait]
pub trait ItemStore: Send + Sync {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError>;
    /// All writes or none; any failed condition fails the whole transaction.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    async fn query(&self, query: Query) -> Result<Page, StoreError>;
}

/// The two queues of DESIGN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueName {
    /// Raw verified webhooks, for order-intake.
    Intake,
    /// Domain events, for the notifier.
    Notify,
}

impl QueueName {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Intake => "intake",
            QueueName::Notify => "notify",
        }
    }
}

/// A message taken from a queue, hidden from others until deleted or its lease ends.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt: String,
    pub body: String,
    pub receive_count: u32,
}

/// A message that failed too often and was set aside.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    pub queue: String,
    pub body: String,
    pub receive_count: u32,
}

/// Why a queue call failed.
#[derive(Debug, thiserror::Error)]
#[error("queue unavailable: {0}")]
pub struct QueueError(pub String);

/// The largest queue message, in bytes: SQS's limit (1 MiB), which the embedded queue
/// keeps too, so that what fits locally fits on AWS.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Sends messages to a queue (what every publisher needs, and all it needs).
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(&self, queue: QueueName, body: String) -> Result<(), QueueError>;
}

/// Reads a queue the way Lambda's event source mapping does, and manages its DLQ.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Takes up to `max` ready messages, waiting up to `wait` for one when none is
    /// (SQS long polling).
    async fn receive(&self, queue: QueueName, max: usize, wait: std::time::Duration) -> Result<Vec<Received>, QueueError>;
    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError>;
    async fn dead_letters(&self, queue: QueueName) -> Result<Vec<DeadLetter>, QueueError>;
    /// Moves every dead letter back to its queue; returns how many.
    async fn replay_dead_letters(&self, queue: QueueName) -> Result<usize, QueueError>;
}

/// An email with both parts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why mail could not be sent.
#[derive(Debug, thiserror::Error)]
#[error("mail not sent: {0}")]
pub struct MailError(pub String);

/// Sends mail; returns the provider's message id.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, from: &str, mail: &Mail) -> Result<String, MailError>;
}

/// The time, injected so that tests and the sweep commands can fix it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real time.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A time set by hand.
pub struct FixedClock(pub std::sync::Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(instant: DateTime<Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(instant))
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = instant;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
