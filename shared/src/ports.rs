//! The ports: what the services need from the outside world, as traits. Each has an
//! embedded adapter (local runs, fast tests) and an AWS adapter, held to the same
//! behaviour by one conformance suite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// A stored item: a JSON object with string `pk` and `sk`, optional index keys
/// (`gsi1pk`/`gsi1sk`, `gsi2pk`/`gsi2sk`, `gsi3pk`/`gsi3sk`), `ttl` and `version`; the same shape as a
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

/// DynamoDB's limit on one item, in bytes: every adapter refuses more (the embedded
/// store counts an item as its JSON, which is never smaller than DynamoDB's count).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// One write of a transaction.
#[derive(Debug, Clone)]
pub enum Write {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        pk: String,
        sk: String,
        /// `VersionIs` deletes only what was read (an operator refusing a claim that an
        /// approval changed meanwhile deletes nothing).
        condition: Condition,
    },
    /// Adds each amount to a whole-number attribute of the item (an absent attribute or
    /// item counts as 0) and 1 to its `version`, without reading it first: DynamoDB's
    /// `ADD`. Money moves use it for the balance, so that concurrent deliveries of one
    /// vendor never contend for it; `VersionIs` makes the one that must not race (a
    /// payout) conditional on the balance it read.
    Add {
        pk: String,
        sk: String,
        add: Vec<(String, i64)>,
        condition: Condition,
    },
    /// Writes nothing; the transaction commits only if `condition` holds for the item
    /// of this key: DynamoDB's `ConditionCheck`. A new order commits on the absence of
    /// the marks a redaction or a delete leaves, so one racing with it cannot miss it.
    Check {
        pk: String,
        sk: String,
        condition: Condition,
    },
}

/// Which key a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// The table's own `pk`/`sk`.
    Table,
    /// `gsi1pk`/`gsi1sk`: a vendor's orders by state and time.
    Gsi1,
    /// `gsi2pk`/`gsi2sk`: armed clocks and held earnings by due time, every order by
    /// time; keys only.
    Gsi2,
    /// `gsi3pk`/`gsi3sk`: a vendor's orders in one state, newest first.
    Gsi3,
}

impl Index {
    /// The attributes naming its partition and sort key.
    pub fn key_attributes(self) -> (&'static str, &'static str) {
        match self {
            Index::Table => ("pk", "sk"),
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
            Index::Gsi2 => ("gsi2pk", "gsi2sk"),
            Index::Gsi3 => ("gsi3pk", "gsi3sk"),
        }
    }

    /// Whether the index holds only keys (`KEYS_ONLY`): a query of it answers the
    /// table's and the index's keys, and a reader that needs the item reads it by those
    /// keys. Every secondary index does: a change of an item filed in one (a vendor
    /// order, while listed and while a clock is armed) then rewrites a one-unit entry
    /// there instead of the whole item, the most write units an order cost. DESIGN asks
    /// for `INCLUDE` of a listing row's fields on the listing indexes; keys only costs
    /// less to write still, and a listing's reads by key cost about what reading whole
    /// items from the index did (README, "Storage beyond DESIGN's table").
    pub fn keys_only(self) -> bool {
        !matches!(self, Index::Table)
    }
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
    /// A stored item that cannot be read as what its key says it is (or a value that
    /// cannot be stored as an item): retrying cannot help, the item needs a person.
    #[error("unreadable item {key}: {reason}")]
    Unreadable { key: String, reason: String },
    /// An item or key over DynamoDB's limits (400 KB items, 2,048-byte partition and
    /// 1,024-byte sort keys), which both backends keep: retrying cannot help.
    #[error("{0}")]
    TooLarge(String),
    /// A request DynamoDB refuses as it is (a `ValidationException`: two operations on
    /// one item in a transaction, more than 100 actions), which both backends refuse:
    /// retrying cannot help. The message names the item.
    #[error("refused by the store: {0}")]
    Refused(String),
}

impl StoreError {
    /// Whether the same call may succeed later (an outage, throttling, a timeout).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// The most actions one transaction may hold (DynamoDB's `TransactWriteItems` limit).
pub const MAX_TRANSACTION_ACTIONS: usize = 100;

impl Write {
    /// The key of the item this write touches (`pk`, `sk`), when it names one.
    pub fn key(&self) -> Option<(&str, &str)> {
        match self {
            Write::Put { item, .. } => Some((item.get("pk")?.as_str()?, item.get("sk")?.as_str()?)),
            Write::Delete { pk, sk, .. } | Write::Add { pk, sk, .. } | Write::Check { pk, sk, .. } => Some((pk, sk)),
        }
    }
}

/// What DynamoDB refuses of a transaction before looking at any item: more than
/// `MAX_TRANSACTION_ACTIONS` actions, or two on one item (the embedded store refuses the
/// same, so that no local test passes what DynamoDB would refuse).
pub fn refused_transaction(writes: &[Write]) -> Option<StoreError> {
    if writes.len() > MAX_TRANSACTION_ACTIONS {
        return Some(StoreError::Refused(format!("a transaction of {} actions is over the limit of {MAX_TRANSACTION_ACTIONS}", writes.len())));
    }
    let mut keys = std::collections::HashSet::new();
    writes
        .iter()
        .filter_map(Write::key)
        .find(|key| !keys.insert(*key))
        .map(|(pk, sk)| StoreError::Refused(format!("two operations on item {pk}/{sk} in one transaction")))
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

/// The queues: DESIGN's two, and the storefront write-back's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueName {
    /// Raw verified webhooks, for order-intake.
    Intake,
    /// Domain events, for the notifier.
    Notify,
    /// The events a storefront is told of (`storefront_sync::WRITTEN_BACK`), for
    /// storefront-sync: a storefront's outage or throttle never holds up mail.
    Storefront,
}

impl QueueName {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Intake => "intake",
            QueueName::Notify => "notify",
            QueueName::Storefront => "storefront",
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
    /// The dead-letter queue it sits in (`DeadLetterQueue::as_str`: "notify", "relay").
    pub queue: String,
    pub body: String,
    pub receive_count: u32,
    /// Why it was set aside, when it was parked rather than worn out by receives.
    pub reason: Option<String>,
    /// When the message was first sent to a queue (SQS's `SentTimestamp`, which a
    /// redrive keeps): how long the problem has waited. None for a letter older than
    /// the embedded store's record of it.
    pub first_seen: Option<chrono::DateTime<chrono::Utc>>,
}

/// Why a queue call failed.
#[derive(Debug, thiserror::Error)]
#[error("queue unavailable: {0}")]
pub struct QueueError(pub String);

/// The largest queue message, in bytes: SQS's limit (1 MiB), which the embedded queue
/// keeps too, so that what fits locally fits on AWS.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// A dead-letter queue: where a message that cannot be delivered is set aside, with
/// the queue it is replayed to. The relay's sits in front of the notify queue: it holds
/// events the relay could not hand to that queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeadLetterQueue {
    /// `<stack>-intake-dlq`: verified webhooks intake could not process.
    Intake,
    /// `<stack>-notify-dlq`: events the notifier could not mail.
    Notify,
    /// `<stack>-relay-dlq`: committed events the relay could not send to the notify queue.
    Relay,
    /// `<stack>-storefront-dlq`: events storefront-sync could not write back, and those
    /// the relay could not send to its queue.
    Storefront,
}

impl DeadLetterQueue {
    /// Every dead-letter queue, in the order the operator commands list them.
    pub const ALL: [DeadLetterQueue; 4] = [DeadLetterQueue::Intake, DeadLetterQueue::Notify, DeadLetterQueue::Relay, DeadLetterQueue::Storefront];

    /// Its short name, as listings show it and local rows are keyed: the home queue's
    /// name for a queue's own DLQ ("notify"), "relay" for the relay's.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterQueue::Intake => "intake",
            DeadLetterQueue::Notify => "notify",
            DeadLetterQueue::Relay => "relay",
            DeadLetterQueue::Storefront => "storefront",
        }
    }

    /// The queue its messages go back to on replay.
    pub fn home(self) -> QueueName {
        match self {
            DeadLetterQueue::Intake => QueueName::Intake,
            DeadLetterQueue::Notify | DeadLetterQueue::Relay => QueueName::Notify,
            DeadLetterQueue::Storefront => QueueName::Storefront,
        }
    }
}

/// Sends messages to a queue, or sets them aside (what every publisher needs, and all
/// it needs).
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(&self, queue: QueueName, body: String) -> Result<(), QueueError>;

    /// Sends several messages; one result per message, in order (SQS sends up to ten in
    /// one request). Without a batch call of its own, an adapter sends them one by one.
    async fn publish_batch(&self, queue: QueueName, bodies: Vec<String>) -> Vec<Result<(), QueueError>> {
        let mut results = Vec::with_capacity(bodies.len());
        for body in bodies {
            results.push(self.publish(queue, body).await);
        }
        results
    }

    /// Puts a message straight into a dead-letter queue with the reason, for the operator
    /// to see and replay once the cause is fixed.
    async fn park(&self, dead_letters: DeadLetterQueue, body: String, reason: &str) -> Result<(), QueueError>;
}

/// Reads a queue the way Lambda's event source mapping does, and manages its DLQ.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Takes up to `max` ready messages, waiting up to `wait` for one when none is
    /// (SQS long polling).
    async fn receive(&self, queue: QueueName, max: usize, wait: std::time::Duration) -> Result<Vec<Received>, QueueError>;
    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError>;
    /// Offers a received message again after `delay` instead of its whole lease (SQS
    /// `ChangeMessageVisibility`): how a failed message backs off.
    async fn retry_after(&self, queue: QueueName, receipt: &str, delay: std::time::Duration) -> Result<(), QueueError>;
    /// Lists a dead-letter queue without consuming it.
    async fn dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<Vec<DeadLetter>, QueueError>;
    /// Moves every dead letter back to its home queue; returns how many.
    async fn replay_dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<usize, QueueError>;
    /// Deletes the one dead letter `message_id` (an operator decided it is not to be
    /// processed); false when there is none by that id.
    async fn discard_dead_letter(&self, dead_letters: DeadLetterQueue, message_id: &str) -> Result<bool, QueueError>;
}

/// One committed event as the table's stream carries it to the relay: its position in
/// the stream, and the envelope (or why the stored item is not one).
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    pub position: String,
    pub event: Result<crate::domain::events::Envelope, UnreadableEvent>,
}

/// A shared store is a store: the composition root holds a Lambda function's adapters
/// behind `Arc`s, built by the constructors that function names (`compose::AwsAdapters`).
#[async_trait]
impl<T: ItemStore + ?Sized> ItemStore for std::sync::Arc<T> {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        (**self).get(pk, sk).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        (**self).put(item, condition).await
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        (**self).delete(pk, sk).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        (**self).transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        (**self).query(query).await
    }
}

/// A shared publisher is a publisher (its batch call kept: SQS sends ten in a request).
#[async_trait]
impl<T: Publisher + ?Sized> Publisher for std::sync::Arc<T> {
    async fn publish(&self, queue: QueueName, body: String) -> Result<(), QueueError> {
        (**self).publish(queue, body).await
    }
    async fn publish_batch(&self, queue: QueueName, bodies: Vec<String>) -> Vec<Result<(), QueueError>> {
        (**self).publish_batch(queue, bodies).await
    }
    async fn park(&self, dead_letters: DeadLetterQueue, body: String, reason: &str) -> Result<(), QueueError> {
        (**self).park(dead_letters, body, reason).await
    }
}

/// A shared consumer is a consumer.
#[async_trait]
impl<T: QueueConsumer + ?Sized> QueueConsumer for std::sync::Arc<T> {
    async fn receive(&self, queue: QueueName, max: usize, wait: std::time::Duration) -> Result<Vec<Received>, QueueError> {
        (**self).receive(queue, max, wait).await
    }
    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        (**self).delete(queue, receipt).await
    }
    async fn retry_after(&self, queue: QueueName, receipt: &str, delay: std::time::Duration) -> Result<(), QueueError> {
        (**self).retry_after(queue, receipt, delay).await
    }
    async fn dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<Vec<DeadLetter>, QueueError> {
        (**self).dead_letters(dead_letters).await
    }
    async fn replay_dead_letters(&self, dead_letters: DeadLetterQueue) -> Result<usize, QueueError> {
        (**self).replay_dead_letters(dead_letters).await
    }
    async fn discard_dead_letter(&self, dead_letters: DeadLetterQueue, message_id: &str) -> Result<bool, QueueError> {
        (**self).discard_dead_letter(dead_letters, message_id).await
    }
}

/// Both faces of one queue backend (SQS, the embedded queues): what publishes and what
/// consumes, held as one adapter.
pub trait Queues: Publisher + QueueConsumer {}

impl<T: Publisher + QueueConsumer + ?Sized> Queues for T {}

/// A shared feed is a feed (the composition root wraps whichever one a backend has).
#[async_trait]
impl<T: EventFeed + ?Sized> EventFeed for std::sync::Arc<T> {
    async fn next_batch(&self, max: usize) -> Result<Vec<ChangeRecord>, StoreError> {
        (**self).next_batch(max).await
    }
    async fn acknowledge(&self, records: &[ChangeRecord]) -> Result<(), StoreError> {
        (**self).acknowledge(records).await
    }
}

/// An event item that is not an envelope: kept as it was stored, with the reason.
#[derive(Debug, Clone)]
pub struct UnreadableEvent {
    pub raw: String,
    pub reason: String,
}

/// The table's stream of inserted event items, read in commit order from a checkpoint:
/// the embedded store's change log, or a DynamoDB stream read the way its event source
/// mapping reads it. What is not acknowledged is read again.
#[async_trait]
pub trait EventFeed: Send + Sync {
    /// Up to `max` records after the checkpoint.
    async fn next_batch(&self, max: usize) -> Result<Vec<ChangeRecord>, StoreError>;
    /// Moves the checkpoint past `records` (a prefix of the last batch); the rest of that
    /// batch is read again by the next call.
    async fn acknowledge(&self, records: &[ChangeRecord]) -> Result<(), StoreError>;
}

/// An email with both parts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// What this mail is, stably (its event and recipient): a mailer that can replace an
    /// earlier send of the same key does (the local outbox), so a re-send is no duplicate.
    pub key: String,
    /// The order it is about, so that a mailer keeping copies can find them to redact.
    pub order_id: Option<crate::domain::ids::OrderId>,
    /// Where a reply goes, when not to the sender address (customer mail: the store's
    /// support address, since the text invites a reply).
    pub reply_to: Option<String>,
}

/// Who mail comes from: the store's name and its sender address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub name: String,
    pub address: String,
}

/// Why mail could not be sent, and whether sending it again can help.
#[derive(Debug, thiserror::Error)]
#[error("mail not sent: {reason}")]
pub struct MailError {
    pub reason: String,
    /// The provider refused this mail for good (SES `MessageRejected`, an unverified
    /// sender): sending it again cannot help, a person must look.
    pub permanent: bool,
}

impl MailError {
    /// A failure a later send may not meet (an outage, throttling, a timeout, a disk).
    pub fn transient(reason: impl Into<String>) -> MailError {
        MailError { reason: reason.into(), permanent: false }
    }

    /// A refusal that sending again meets again.
    pub fn permanent(reason: impl Into<String>) -> MailError {
        MailError { reason: reason.into(), permanent: true }
    }
}

/// Sends mail; returns the provider's message id.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, from: &Sender, mail: &Mail) -> Result<String, MailError>;

    /// How long one send may take at worst (its timeouts and retries included): a claim
    /// on a mail is held this long before another delivery may take it over.
    fn claim_lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(90)
    }

    /// Whether this mailer keeps copies of what it sent (the local outbox does; SES does
    /// not), which a redaction has to reach too.
    fn keeps_copies(&self) -> bool {
        false
    }

    /// Erases `personal` from the copies this mailer keeps of an order's mail; returns
    /// how many it rewrote. A provider that keeps none (SES: sent mail is gone from
    /// here) has nothing to do.
    async fn redact(&self, _order_id: &crate::domain::ids::OrderId, _personal: &crate::domain::privacy::PersonalData) -> Result<usize, MailError> {
        Ok(0)
    }
}

/// A shared mailer is a mailer, with its lease, its copies and its redaction.
#[async_trait]
impl<T: Mailer + ?Sized> Mailer for std::sync::Arc<T> {
    async fn send(&self, from: &Sender, mail: &Mail) -> Result<String, MailError> {
        (**self).send(from, mail).await
    }
    fn claim_lease(&self) -> std::time::Duration {
        (**self).claim_lease()
    }
    fn keeps_copies(&self) -> bool {
        (**self).keeps_copies()
    }
    async fn redact(&self, order_id: &crate::domain::ids::OrderId, personal: &crate::domain::privacy::PersonalData) -> Result<usize, MailError> {
        (**self).redact(order_id, personal).await
    }
}

/// A carrier feed that pushes only the parcels it was told of (AfterShip): shipped
/// parcels are registered with it, so that their news reaches
/// `/webhooks/tracking/{feed}`.
#[async_trait]
pub trait TrackingFeed: Send + Sync {
    /// Registers a parcel with its carrier (the feed detects a carrier it has no name
    /// for). Registering one it knows already is success.
    async fn register(&self, tracking_number: &str, carrier: &crate::domain::tracking::Carrier) -> Result<(), FeedError>;
}

/// A registration that did not happen; a retry may succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FeedError(pub String);

/// A storefront's admin API, for writing back what happened to its order: a vendor's
/// parcel shipped (a fulfillment with its tracking on Shopify). One per storefront that
/// can be written to, in that storefront's module (`sources::shopify::admin`).
#[async_trait]
pub trait StorefrontWriter: Send + Sync {
    /// Whether `shop`'s credentials are configured: an order of a shop without them is
    /// not written back (nothing is claimed or retried for it).
    fn writes_to(&self, shop: &str) -> bool;
    /// Writes `parcel` back; returns the storefront's ids of what records it (the
    /// fulfillments). A parcel the storefront already holds under its number is
    /// success with the ids found, never a second record.
    async fn parcel_shipped(&self, parcel: &ParcelWrite) -> Result<Vec<String>, WriteBackError>;
    /// The parcel shipped under `from` has the number `parcel.tracking`: the
    /// storefront's record of it changes (never a second one); a storefront that holds
    /// none of it yet gets it made with the right number. Returns the ids it holds.
    async fn parcel_corrected(&self, parcel: &ParcelWrite, from: &str) -> Result<Vec<String>, WriteBackError>;
    /// Tells the storefront what the carrier said of a parcel it holds (a fulfillment
    /// event on Shopify); returns the storefront's id of what it recorded, or `None`
    /// when the news is nothing the storefront has a word for.
    async fn parcel_news(&self, news: &ParcelNews) -> Result<Option<String>, WriteBackError>;
    /// Marks the storefront's order for the merchant (a tag and a staff note on
    /// Shopify) when dropflow's side cancelled part of it: never a cancel of the order
    /// itself, which would refund the customer and cannot be undone. Marking it again
    /// changes nothing.
    async fn part_cancelled(&self, note: &CancelNote) -> Result<(), WriteBackError>;
    /// Tells the storefront's order where its customer's status page is (`url`), so
    /// that the shop can show it: an order attribute on Shopify, an order meta on
    /// WooCommerce. Telling it again changes nothing. A storefront without a place for
    /// it is told nothing.
    async fn status_link(&self, shop: &str, external_order_id: &str, url: &str) -> Result<(), WriteBackError> {
        let _ = (shop, external_order_id, url);
        Ok(())
    }
    /// Whether it completes an order whose last line shipped (`ParcelWrite.
    /// completes_order`): a storefront without per-line fulfillment does; for the
    /// others that is never worked out (it costs a read of the order's vendor orders).
    fn completes_orders(&self) -> bool {
        false
    }
    /// The shops whose orders `changed_since` reads (for the reconciliation poll);
    /// none for a storefront that is not polled.
    fn polled_shops(&self) -> Vec<String> {
        Vec::new()
    }
    /// Page `page` (from 1) of `shop`'s orders changed after `since`, oldest change
    /// first, at most `POLL_PAGE` of them: what the storefront's webhooks may have
    /// missed, read back through its API.
    async fn changed_since(&self, shop: &str, since: DateTime<Utc>, page: u32) -> Result<Vec<ChangedOrder>, WriteBackError> {
        let _ = (shop, since, page);
        Ok(Vec::new())
    }
}

/// How many orders one page of `StorefrontWriter::changed_since` holds at most.
pub const POLL_PAGE: usize = 100;

/// An order read back from its storefront, as its webhook would have carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedOrder {
    /// The storefront's id of the order.
    pub id: String,
    /// When the storefront last changed it.
    pub modified_at: DateTime<Utc>,
    /// The webhook topic its body reads as (`order.updated`).
    pub topic: String,
    /// The order as the storefront's API gave it: the body of that webhook.
    pub body: String,
}

/// What the merchant is told of a vendor order cancelled on dropflow's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelNote {
    pub shop: String,
    pub external_order_id: String,
    /// The tag the order gets (one for every such order, to filter on).
    pub tag: String,
    /// One line for the order's note: which items, and why.
    pub line: String,
}

/// What a carrier said of a shipped parcel, as a storefront is told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelNews {
    pub shop: String,
    pub external_order_id: String,
    pub tracking_number: String,
    /// The carrier feed's word (AfterShip's tags: `InTransit`, `OutForDelivery`,
    /// `AvailableForPickup`, `Delivered`, `AttemptFail`, `Exception`…).
    pub tag: String,
    pub happened_at: chrono::DateTime<chrono::Utc>,
    pub message: Option<String>,
}

/// A shipped parcel as a storefront is told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelWrite {
    pub shop: String,
    /// The storefront's own id of the order.
    pub external_order_id: String,
    /// The storefront's line ids in the parcel, with the quantity of each.
    pub lines: Vec<(String, u32)>,
    pub tracking: crate::domain::tracking::TrackingNumber,
    /// Whether the storefront mails the customer about it (then dropflow does not).
    pub notify_customer: bool,
    /// Whether every line of the order has shipped with it: a storefront that keeps no
    /// per-line fulfillment (WooCommerce) completes the order then.
    pub completes_order: bool,
}

/// Why a write-back did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteBackError {
    /// An outage, a throttle or a timeout: a later try may succeed (after `after`,
    /// when the storefront said how long).
    #[error("the storefront is unavailable: {reason}")]
    Unavailable { reason: String, after: Option<std::time::Duration> },
    /// The storefront refused it for a reason no retry mends (its `userErrors`, lines
    /// it no longer has to fulfil, a token it refuses): recorded, the operator told.
    #[error("the storefront refused it: {0}")]
    Refused(String),
}

/// A supplier's order API (AliExpress's Dropshipping API, CJdropshipping's API 2.0), as
/// dropflow connects a vendor's account, places supplier orders and reads them back. The
/// adapters name the documentation each request follows; the scenario stand-ins answer
/// as those pages say.
#[async_trait]
pub trait SupplierClient: Send + Sync {
    /// Which supplier it speaks to.
    fn api(&self) -> crate::domain::supplier::SupplierApi;
    /// Exchanges what the vendor gave (AliExpress's OAuth code, CJ's API key) for the
    /// account's credentials.
    async fn connect(&self, grant: &str, now: DateTime<Utc>) -> Result<SupplierCredentials, SupplierError>;
    /// New credentials before the access token runs out (with the refresh token; CJ
    /// may fetch a new token with its API key, at most once per 5 minutes).
    async fn refresh(&self, credentials: &SupplierCredentials, now: DateTime<Utc>) -> Result<SupplierCredentials, SupplierError>;
    /// Creates the supplier order under our id (`out_order_id`/`orderNumber`).
    async fn place(&self, credentials: &SupplierCredentials, order: &SupplierOrderRequest) -> Result<PlacedOrder, SupplierError>;
    /// The order the supplier holds under our id, when it can be looked up by it (CJ);
    /// `Ok(None)` when it holds none, `Err(Unsupported)` when the supplier has no such
    /// lookup (AliExpress: a create re-sent with the same id is its idempotency).
    async fn find(&self, credentials: &SupplierCredentials, out_order_id: &str) -> Result<Option<PlacedOrder>, SupplierError>;
    /// Where the supplier's order `reference` stands, with its parcels.
    async fn follow(&self, credentials: &SupplierCredentials, reference: &str) -> Result<FollowedOrder, SupplierError>;
    /// The supplier's offer of `link`'s variant shipped to `ship_to` (ISO country):
    /// its unit price now (in `currency` where the supplier converts, else its own) and
    /// stock; `Refused` when the product or the variant does not exist.
    async fn offer(
        &self,
        credentials: &SupplierCredentials,
        link: &crate::domain::supplier::SupplierLink,
        ship_to: &str,
        currency: crate::domain::money::Currency,
    ) -> Result<SupplierOffer, SupplierError>;
    /// The shipping methods the supplier offers for one unit of `offer`'s variant to
    /// `ship_to`, by the names its orders take.
    async fn methods(
        &self,
        credentials: &SupplierCredentials,
        link: &crate::domain::supplier::SupplierLink,
        offer: &SupplierOffer,
        ship_to: &str,
    ) -> Result<Vec<String>, SupplierError>;
}

/// A supplier's offer of one variant, as its product call gives it: what a mapping is
/// checked against, and what a price or stock change is caught with before an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierOffer {
    /// The variant's id in the supplier's freight call (AliExpress `sku_id`, CJ `vid`).
    pub variant_id: String,
    /// The variant as the supplier's orders name it, spelt as the supplier does
    /// (AliExpress `sku_attr` with its custom names, CJ `vid`).
    pub sku: String,
    /// Its unit price, when the supplier gives one.
    pub unit_price: Option<crate::domain::money::Money>,
    /// Units in stock, when the supplier says.
    pub stock: Option<u64>,
}

/// A vendor's supplier account as dropflow holds it: secret as a whole (sealed at rest,
/// never logged or shown).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SupplierCredentials {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// CJ's API key (what a new access token is fetched with).
    #[serde(default)]
    pub api_key: Option<String>,
    /// CJ's `openId`: the key its pushes are signed with.
    #[serde(default)]
    pub open_id: Option<String>,
    /// The account's name or id as the supplier gives it (shown to the vendor).
    #[serde(default)]
    pub account: Option<String>,
    /// When a token was last fetched with the API key (CJ allows one per 5 minutes).
    #[serde(default)]
    pub fetched_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SupplierCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the tokens: a Debug print may end up in a log.
        f.debug_struct("SupplierCredentials").field("account", &self.account).field("access_expires_at", &self.access_expires_at).finish_non_exhaustive()
    }
}

/// A supplier order to create: our id, the address, and each line as the supplier names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierOrderRequest {
    pub out_order_id: String,
    pub address: crate::domain::address::Address,
    pub email: Option<String>,
    pub lines: Vec<SupplierOrderLine>,
}

/// One line of a supplier order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierOrderLine {
    pub product_id: String,
    pub sku: String,
    pub quantity: u32,
    pub shipping_method: String,
    /// Our line id (CJ's `storeLineItemId`).
    pub line_id: String,
}

/// A supplier order the supplier created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    /// Its order numbers (AliExpress may split one request by store).
    pub references: Vec<String>,
    /// Created but not paid: the vendor pays it (at `pay_url`, when the supplier gave one).
    pub awaiting_payment: bool,
    pub pay_url: Option<String>,
}

/// A supplier order read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedOrder {
    /// None: a status dropflow does not know (kept as it was).
    pub status: Option<crate::domain::supplier::SupplierStatus>,
    pub parcels: Vec<crate::domain::supplier::SupplierParcel>,
}

/// Why a supplier call did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupplierError {
    /// A refusal no retry mends (out of stock, address refused, unknown product): the
    /// supplier's code and reason, in words.
    #[error("{code}: {reason}")]
    Refused { code: String, reason: String },
    /// AliExpress already holds an order under this id (`REPEATED_ORDER_ERROR`): it was
    /// placed, but the answer that named it was lost.
    #[error("the supplier already holds an order under this id")]
    Repeated,
    /// The access token is refused (expired or revoked): refresh, or reconnect.
    #[error("the supplier refused the credentials: {0}")]
    Unauthorized(String),
    /// An outage, a rate limit, a timeout: a later try may succeed (after `after`).
    #[error("the supplier is unavailable: {reason}")]
    Unavailable { reason: String, after: Option<std::time::Duration> },
    /// The answer is not in the documented shape: names the field. Never retried as
    /// if it might change; the operator looks.
    #[error("the supplier's answer has no {0}")]
    Unreadable(String),
    /// The supplier has no such call (AliExpress's lookup by our id).
    #[error("the supplier cannot look orders up by our id")]
    Unsupported,
}

/// Seals secrets at rest, bound to a context (the vendor id): AWS KMS on AWS, a local
/// key on the embedded store. What one vendor's context sealed, another's cannot open.
#[async_trait]
pub trait Sealer: Send + Sync {
    async fn seal(&self, context: &str, plain: &[u8]) -> Result<String, SealError>;
    async fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>, SealError>;
}

/// Why sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The key service could not be reached: a later try may succeed.
    #[error("the key service is unavailable: {0}")]
    Unavailable(String),
    /// Not sealed by this key for this context (tampered, or another vendor's).
    #[error("the sealed value does not open: {0}")]
    Refused(String),
}

/// A secret's versions as a secrets vault (AWS Secrets Manager) keeps them: what is
/// current, since when, and what it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretVersions {
    pub current: String,
    /// When the current value was stored (a rotation's start).
    pub current_since: DateTime<Utc>,
    /// The value before it, while the vault keeps one.
    pub previous: Option<String>,
}

/// Where a deployment keeps its secrets (webhook signing secrets, API keys), so that
/// they are in no environment variable or template: read at start-up and again when a
/// rotation may have happened.
#[async_trait]
pub trait SecretVault: Send + Sync {
    /// The secret named `id` (an ARN or a name); a missing one is an error.
    async fn read(&self, id: &str) -> Result<SecretVersions, SecretError>;
}

/// A secret that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The vault has no secret of that id.
    #[error("no secret {0}")]
    NotFound(String),
    /// The vault did not answer, or refused.
    #[error("{0}")]
    Unavailable(String),
}

/// The time, injected so that tests and the sweep commands can fix it. Every read of the
/// time in `shared` goes through this port (clippy's `disallowed-methods` refuses
/// `Utc::now` and `SystemTime::now` elsewhere), so that no behaviour depends on the day
/// a test runs, and a history can be replayed at any instant.
pub trait Clock: Send + Sync {
    /// The instant now, as this process is to see it.
    fn now(&self) -> DateTime<Utc>;
}

/// The real time: the one place that reads the wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A time set by hand, standing still until it is set again (for unit tests of one
/// instant; a whole system wants `SteppedClock`, whose time goes on).
pub struct FixedClock(pub std::sync::Mutex<DateTime<Utc>>);

impl FixedClock {
    /// Stands at `instant`.
    pub fn at(instant: DateTime<Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(instant))
    }

    /// Moves to `instant`.
    pub fn set(&self, instant: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = instant;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clock that starts at a chosen instant and then goes on at the real pace, plus any
/// jumps asked of it: the scenarios, the simulation and `dropflow serve --clock` run on
/// it. It must go on by itself: a frozen clock would never bring a leased queue message
/// back, nor let a mail claim's lease run out. It never goes back.
pub struct SteppedClock {
    start: DateTime<Utc>,
    began: std::time::Instant,
    /// Jumps taken so far, in milliseconds.
    jumped_ms: std::sync::atomic::AtomicI64,
}

impl SteppedClock {
    /// Starts at `start`, now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        SteppedClock { start, began: std::time::Instant::now(), jumped_ms: std::sync::atomic::AtomicI64::new(0) }
    }

    /// Jumps `by` forward (a negative duration is refused: time never goes back).
    pub fn advance(&self, by: chrono::Duration) {
        assert!(by >= chrono::Duration::zero(), "a clock never goes back ({by})");
        self.jumped_ms.fetch_add(by.num_milliseconds(), std::sync::atomic::Ordering::SeqCst);
    }

    /// Jumps forward to `instant`, if it is still ahead: it reads `instant` or later
    /// from then on. (The jump is kept in whole milliseconds, so it is rounded up: a
    /// jump rounded down read up to a millisecond early, and a deadline computed from
    /// "now" and cut to the second came out a second early.)
    pub fn advance_to(&self, instant: DateTime<Utc>) {
        let gap = instant - self.now();
        if gap > chrono::Duration::zero() {
            let whole = chrono::Duration::milliseconds(gap.num_milliseconds());
            self.advance(if whole < gap { whole + chrono::Duration::milliseconds(1) } else { whole });
        }
    }
}

impl Clock for SteppedClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.began.elapsed()).unwrap_or_default();
        self.start + elapsed + chrono::Duration::milliseconds(self.jumped_ms.load(std::sync::atomic::Ordering::SeqCst))
    }
}

#[cfg(test)]
mod stepped_clock_tests {
    use super::{Clock, SteppedClock};

    #[test]
    fn a_clock_advanced_to_an_instant_never_reads_before_it() {
        let clock = SteppedClock::starting_at(chrono::DateTime::parse_from_rfc3339("2026-12-06T09:00:00Z").unwrap().to_utc());
        for _ in 0..2_000 {
            // A whole second ahead of a clock that has run some nanoseconds: the gap is
            // never whole milliseconds.
            let instant = chrono::SubsecRound::trunc_subsecs(clock.now(), 0) + chrono::Duration::seconds(2);
            clock.advance_to(instant);
            let read = clock.now();
            assert!(read >= instant, "{read} is before {instant}");
        }
    }
}
