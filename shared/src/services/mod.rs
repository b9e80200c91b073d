//! The use cases. Each takes the `App` (ports + configuration), calls the domain for
//! every rule, and reads or writes through the ports.

pub mod clock_mail;
pub mod console;
pub mod intake;
pub mod money;
pub mod notifier;
pub mod operator;
pub mod privacy;
pub mod products;
pub mod reconcile;
pub mod relay;
pub mod reroute;
mod routing;
pub mod scorecards;
pub mod secrets;
pub mod status;
pub mod storefront_sync;
pub mod supplier;
pub mod suppression;
pub mod sweep;
pub mod tracking;
pub mod unroutable;
pub mod vendor;
pub mod webhook;

use crate::config::Config;
use crate::domain::events::Envelope;
use crate::ports::{Clock, Mailer, Publisher, QueueConsumer, QueueError, StoreError, Write};
use crate::store::Tables;
use std::sync::Arc;

/// The hex HMAC-SHA256 of `text` under `key`: how a value that must be looked up but
/// never stored in the clear (a customer's email, a supplier account) becomes a key.
pub fn keyed_hash(key: &str, text: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The ports and settings every service runs on; built once per process (or Lambda
/// container) and shared.
#[derive(Clone)]
pub struct App {
    pub tables: Tables,
    pub publisher: Arc<dyn Publisher>,
    /// The queues as their consumers see them (a failed message's next try is set here).
    pub queues: Arc<dyn QueueConsumer>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    /// Where shipped parcels are registered for carrier pushes (AfterShip), when
    /// configured (and built into this binary: the notifier's job).
    pub tracking_feed: Option<Arc<dyn crate::ports::TrackingFeed>>,
    /// Per source name, the writer of what happened back to that storefront, when
    /// configured (and built into this binary: the notifier's job).
    pub storefronts: std::collections::BTreeMap<&'static str, Arc<dyn crate::ports::StorefrontWriter>>,
    /// The webhook signing secrets, from the configuration or a vault (`secrets`).
    pub secrets: Arc<secrets::WebhookSecrets>,
    /// The suppliers' order APIs (in the binaries that call them: supplier-sync and the
    /// local one), under the same fault injection as every port.
    pub suppliers: crate::suppliers::Suppliers,
    /// What seals vendors' supplier credentials at rest (KMS on AWS, the local key on
    /// the embedded store), where they are used.
    pub sealer: Option<Arc<dyn crate::ports::Sealer>>,
}

/// Why a use case did not complete: the caller's fault (4xx, never retried) or ours
/// (retryable: the message goes back to its queue, the client may retry).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// Known, but not allowed now (a suspended vendor).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    /// The client's `If-Match` names a version the record has moved past.
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    BadRequest(String),
    /// Bigger than what can be kept (a queue message).
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The mail provider did not take a mail: a retry may help unless it refused it
    /// for good (`MailError::permanent`).
    #[error(transparent)]
    Mail(#[from] crate::ports::MailError),
    /// A mail could not be rendered from its template: a fault in the code or the data,
    /// which no retry mends.
    #[error("a mail template failed: {0}")]
    Template(#[source] askama::Error),
    /// The carrier feed did not take a parcel's registration (an outage, throttling).
    #[error("the carrier feed: {0}")]
    Feed(#[from] crate::ports::FeedError),
    /// The secret vault did not give a secret this needs (an outage, a secret not
    /// created yet): a retry may find it.
    #[error("the secret vault: {0}")]
    Vault(#[from] crate::ports::SecretError),
    /// The system cannot do this now for want of something of its own (randomness).
    #[error("{0}")]
    Internal(String),
    /// Another delivery of the same work holds it right now; later, it will be done or
    /// free to take.
    #[error("{reason}")]
    Busy { reason: String, until: Option<chrono::DateTime<chrono::Utc>> },
}

impl ServiceError {
    /// Whether trying again later can succeed.
    /// A lost condition is retryable too: the next attempt reads what won and decides
    /// again. An unreadable or oversized item, and every request error, is not.
    pub fn is_retryable(&self) -> bool {
        match self {
            ServiceError::Store(error) => error.is_retryable() || matches!(error, StoreError::ConditionFailed),
            ServiceError::Mail(error) => !error.permanent,
            ServiceError::Queue(_) | ServiceError::Feed(_) | ServiceError::Busy { .. } | ServiceError::Vault(_) => true,
            _ => false,
        }
    }
}

/// What intake did with a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Routed now, to this many vendors.
    Routed(usize),
    /// Stored and held until paid (or void).
    Held,
    /// Already routed earlier: nothing changed.
    AlreadyRouted,
    /// A routed order changed at the storefront (cancelled, new address): this many
    /// vendor orders followed; those that had shipped were left to the operator.
    Updated(usize),
    /// Older than what is stored, or for a topic dropflow does not handle.
    Ignored(String),
}

/// How often work that lost a race to another writer (a condition on the version it
/// read) reads again and decides anew before its message is left to a retry.
pub const RACE_ROUNDS: usize = 3;

/// Runs `attempt` (read, decide, commit on the version read) again while it loses a
/// race, up to `RACE_ROUNDS` times: the loser applies its change on top of what won
/// instead of waiting out a retry of its message. Any other outcome is returned as is.
pub async fn retry_on_conflict<T, F, Fut>(what: &str, mut attempt: F) -> Result<T, ServiceError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ServiceError>>,
{
    let mut round = 1;
    loop {
        match attempt().await {
            Err(ServiceError::Store(StoreError::ConditionFailed)) if round < RACE_ROUNDS => {
                tracing::debug!(round, what, "lost a race to another writer; reading again");
                round += 1;
            }
            outcome => return outcome,
        }
    }
}

impl App {
    /// Commits `writes` and the event items of `events` in one transaction: a change and
    /// the facts it causes are stored together or not at all, and the table's stream
    /// carries the events on (DESIGN, "Exactly-once effects"). Nothing is published here.
    pub async fn commit(&self, mut writes: Vec<Write>, events: &[Envelope]) -> Result<(), StoreError> {
        for event in events {
            writes.push(Tables::put_event(event)?);
        }
        let writes = scorecards::counted(&self.config, writes)?;
        self.tables.items.transact(money::merge_adds(writes)).await
    }
}
