//! dropflow as one local process: every function on the embedded adapters (the HTTP
//! routes, the queue consumers polling as Lambda's event source mappings do), plus the
//! operator commands. Also the library the scenario tests drive.

pub mod cli;
mod demo;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use dropflow_shared::adapters::embedded::{Database, list_outbox, open_app};
use dropflow_shared::config::{Config, ConfigError};
use dropflow_shared::handlers;
use dropflow_shared::ports::{QueueConsumer, QueueName};
use dropflow_shared::services::App;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Development defaults for settings left unset, so that `dropflow` runs with none.
pub fn local_default(name: &str) -> Option<&'static str> {
    match name {
        "STORE_NAME" => Some("dropflow demo store"),
        "SENDER_EMAIL" => Some("orders@dropflow.local"),
        "OPERATOR_EMAIL" => Some("operator@dropflow.local"),
        "SHOPIFY_WEBHOOK_SECRET" => Some("dropflow-local-shopify-secret"),
        _ => None,
    }
}

/// The system on a data dir: the services and the queues they share.
#[derive(Clone)]
pub struct Local {
    pub app: App,
    pub queues: Database,
    pub data_dir: PathBuf,
}

impl Local {
    /// Opens the embedded store under `data_dir`, configured from the environment with
    /// local defaults.
    pub fn open(data_dir: &Path) -> Result<Local, String> {
        let config = Config::from_lookup(|n| std::env::var(n).ok(), local_default).map_err(|e: ConfigError| e.to_string())?;
        Local::open_with(data_dir, config)
    }

    /// Opens the embedded store under `data_dir` with a given configuration.
    pub fn open_with(data_dir: &Path, config: Config) -> Result<Local, String> {
        let (app, queues) = open_app(data_dir, config)?;
        Ok(Local { app, queues, data_dir: data_dir.to_path_buf() })
    }

    /// Delivers one batch from `queue` to its function; returns how many messages it took.
    pub async fn deliver_batch(&self, queue: QueueName) -> Result<usize, String> {
        let received = self.queues.receive(queue, 10).await.map_err(|e| e.to_string())?;
        if received.is_empty() {
            return Ok(0);
        }
        let mut event = SqsEvent::default();
        event.records = received
            .iter()
            .map(|m| {
                let mut message = SqsMessage::default();
                message.message_id = Some(m.message_id.clone());
                message.receipt_handle = Some(m.receipt.clone());
                message.body = Some(m.body.clone());
                message
            })
            .collect();
        let response = match queue {
            QueueName::Intake => handlers::order_intake(&self.app, event).await,
            QueueName::Notify => handlers::notify(&self.app, event).await,
        };
        let failed: HashSet<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
        for message in received.iter().filter(|m| !failed.contains(&m.message_id)) {
            self.queues.delete(queue, &message.receipt).await.map_err(|e| e.to_string())?;
        }
        Ok(received.len())
    }

    /// Delivers every message ready now, on both queues, until none is left.
    pub async fn drain(&self) -> Result<usize, String> {
        let mut total = 0;
        loop {
            let taken = self.deliver_batch(QueueName::Intake).await? + self.deliver_batch(QueueName::Notify).await?;
            if taken == 0 {
                return Ok(total);
            }
            total += taken;
        }
    }

    /// Polls the queues for ever, as the event source mappings do in AWS.
    pub async fn run_consumers(self) {
        loop {
            match self.drain().await {
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "queue poll failed"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The router of every function, plus the local outbox listing.
    pub fn router(&self) -> axum::Router {
        let data_dir = self.data_dir.clone();
        let outbox = axum::Router::new().route(
            "/_local/outbox",
            axum::routing::get(move || {
                let data_dir = data_dir.clone();
                async move {
                    match list_outbox(&data_dir) {
                        Ok(mail) => Ok(axum::Json(mail)),
                        Err(e) => Err(dropflow_shared::http::Problem::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
                    }
                }
            }),
        );
        outbox.merge(dropflow_shared::http::router(self.app.clone()))
    }

    /// Serves HTTP on `listener` and runs the queue consumers, until the process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        tokio::spawn(self.clone().run_consumers());
        axum::serve(listener, self.router()).await
    }
}
