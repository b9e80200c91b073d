//! The use cases. Each takes the `App` (ports + configuration), calls the domain for
//! every rule, and reads or writes through the ports.

pub mod intake;
pub mod notifier;
pub mod operator;
pub mod vendor;
pub mod webhook;

use crate::config::Config;
use crate::domain::events::Envelope;
use crate::ports::{Clock, Mailer, Publisher, QueueError, QueueName, StoreError};
use crate::store::Tables;
use std::sync::Arc;

/// The ports and settings every service runs on; built once per process (or Lambda
/// container) and shared.
#[derive(Clone)]
pub struct App {
    pub tables: Tables,
    pub publisher: Arc<dyn Publisher>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
}

/// Why a use case did not complete: the caller's fault (4xx, never retried) or ours
/// (retryable: the message goes back to its queue, the client may retry).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    BadRequest(String),
    /// Bigger than what can be kept (a queue message).
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("{0}")]
    Mail(String),
}

impl ServiceError {
    /// Whether trying again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ServiceError::Store(_) | ServiceError::Queue(_) | ServiceError::Mail(_))
    }
}

impl App {
    /// Publishes events to the notify queue. Event ids are stable, so publishing the same
    /// fact again (after a retry) is harmless: the notifier sends each mail once.
    pub async fn publish(&self, events: &[Envelope]) -> Result<(), ServiceError> {
        for event in events {
            let body = serde_json::to_string(event).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
            self.publisher.publish(QueueName::Notify, body).await?;
        }
        Ok(())
    }
}
