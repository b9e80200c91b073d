//! dropflow as one local process: every function (the HTTP routes, the event relay on
//! the table's stream, the queue consumers polling as Lambda's event source mappings do)
//! on the embedded adapters or on the real AWS clients, plus the operator commands. Also
//! the library the scenario tests drive.

// No production function over 80 lines (clippy.toml): a long one is several ideas.
#![cfg_attr(not(test), warn(clippy::too_many_lines))]

pub mod cli;
mod demo;

use dropflow_shared::adapters::aws::{self, AwsResources};
use dropflow_shared::adapters::embedded::list_outbox;
use dropflow_shared::adapters::faults::Chaos;
use dropflow_shared::compose::{self, Settings, System};
use dropflow_shared::config::{Config, ConfigError};
use dropflow_shared::handlers;
use dropflow_shared::ports::{EventFeed, QueueConsumer, QueueName};
use dropflow_shared::services::{App, relay, sweep};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a consumer waits on an empty queue before asking again (long polling).
const POLL_WAIT: Duration = Duration::from_secs(5);
/// How often the relay looks at a caught-up stream again (a stream has no long polling;
/// the event source mapping polls about four times a second).
const STREAM_POLL: Duration = Duration::from_millis(100);
/// Stream records relayed per batch (the event source mapping's batch size).
const RELAY_BATCH: usize = 100;

/// Batches taken from each queue at once, as Lambda runs several invocations of a
/// consumer: one at a time, a batch's store writes and mail files left the other core
/// idle (BENCHMARKS.md, local throughput). Leases keep each message to one of them.
const CONSUMERS_PER_QUEUE: usize = 4;

/// How often `serve` runs the SLA sweep.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How many sweeps between two payout releases (hourly; daily on AWS).
const SWEEPS_PER_PAYOUT_RELEASE: u32 = 60;
/// How many sweeps between two reconciliation polls (every 15 minutes, as on AWS).
const SWEEPS_PER_RECONCILE: u32 = 15;

/// Development defaults for settings left unset, so that `dropflow` runs with none.
pub fn local_default(name: &str) -> Option<&'static str> {
    match name {
        "STORE_NAME" => Some("dropflow demo store"),
        "SENDER_EMAIL" => Some("orders@dropflow.local"),
        "OPERATOR_EMAIL" => Some("operator@dropflow.local"),
        // `serve`'s default address: vendor mail links to the dashboard there.
        "PUBLIC_BASE_URL" => Some("http://127.0.0.1:3000"),
        // A killed `serve` resumes a write-back it held within seconds.
        "WRITEBACK_LEASE_SECONDS" => Some("10"),
        // Each source's public development secret (`Source::local_secret`).
        _ => dropflow_shared::sources::SOURCES.iter().find(|s| s.secret_variable() == name).map(|s| s.local_secret()),
    }
}

/// The text of a key kept in `data_dir/name`, made once with `make` when the file is
/// not there: written whole under a name of its own (mode 0600), then linked into
/// place, so a crash leaves no half key and of two processes starting at once the
/// first key stands. Whether it was made now, too.
fn data_dir_key(data_dir: &Path, name: &str, make: impl FnOnce() -> Result<String, String>) -> Result<(String, bool), String> {
    let path = data_dir.join(name);
    let mut made = false;
    if std::fs::metadata(&path).is_err() {
        std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
        let cannot = |e: std::io::Error| format!("cannot keep the key {}: {e}", path.display());
        let draft = data_dir.join(format!("{name}.{}", std::process::id()));
        let mut file = std::fs::OpenOptions::new();
        std::os::unix::fs::OpenOptionsExt::mode(file.write(true).create(true).truncate(true), 0o600);
        std::io::Write::write_all(&mut file.open(&draft).map_err(cannot)?, make()?.as_bytes()).map_err(cannot)?;
        let linked = std::fs::hard_link(&draft, &path);
        let _ = std::fs::remove_file(&draft);
        match linked {
            Ok(()) => made = true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(cannot(e)),
        }
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read the key {}: {e}", path.display()))?;
    Ok((text.trim().to_string(), made))
}

/// `settings` with a key for the customers' status links: `STATUS_LINK_KEYS` when set,
/// else the data dir's own, made once and kept in `data_dir/status-link.key` (so that
/// links in mail keep opening across restarts); `serve` says so when it starts. And a
/// key sealing vendors' supplier credentials: `SUPPLIER_CREDENTIALS_KEY` when set, else
/// the data dir's own (`supplier-credentials.key`), with a warning when it is made.
fn with_local_keys(mut settings: Settings, data_dir: &Path) -> Result<Settings, String> {
    use dropflow_shared::domain::status_link::StatusKeys;
    if settings.config.status_keys.is_none() {
        let (text, made) = data_dir_key(data_dir, "status-link.key", || StatusKeys::generate("local"))?;
        if made {
            tracing::info!(data_dir = %data_dir.display(), "STATUS_LINK_KEYS is not set: a key of this data dir's own for customers' status links was made");
        }
        settings.config.status_keys = Some(StatusKeys::parse(&text).map_err(|e| format!("status-link.key: {e}"))?);
    }
    if settings.config.suppliers.credentials_key.is_none() {
        let (key, made) = data_dir_key(data_dir, "supplier-credentials.key", || Ok(dropflow_shared::adapters::embedded::LocalSealer::generate_key()))?;
        if made {
            // `serve` says so on every start; a command stays one clear line.
            tracing::info!(data_dir = %data_dir.display(), "SUPPLIER_CREDENTIALS_KEY is not set: supplier credentials are sealed with a key made in this data dir (supplier-credentials.key); keep it with the data");
        }
        settings.config.suppliers.credentials_key = Some(key);
    }
    Ok(settings)
}

/// The system on one backend: the services and the queues they share.
#[derive(Clone)]
pub struct Local {
    pub app: App,
    pub queues: Arc<dyn QueueConsumer>,
    /// The table's stream of committed events, which the relay carries to the notify queue.
    pub feed: Arc<dyn EventFeed>,
    /// What `serve` does at start-up to resume work a dead process held (the embedded
    /// queues' leases; on SQS, leases simply run out).
    release_leases: Option<dropflow_shared::adapters::embedded::Database>,
    /// Where sent mail is kept (the embedded backend; SES keeps it on AWS).
    pub outbox: Option<PathBuf>,
    /// The fault injectors under every port, when running with `--chaos` (or a test).
    pub chaos: Option<Chaos>,
}

/// The configuration from the environment, with local defaults for what is unset.
pub fn local_config() -> Result<Config, String> {
    Config::from_lookup(|n| std::env::var(n).ok(), local_default).map_err(|e: ConfigError| e.to_string())
}

impl Local {
    /// Opens the embedded store under `data_dir`, configured from the environment with
    /// local defaults.
    pub fn open(data_dir: &Path) -> Result<Local, String> {
        Local::open_with(data_dir, Settings::new(local_config()?))
    }

    /// Opens the embedded store under `data_dir` with given settings: a configuration,
    /// a clock, and fault injectors under every port when given.
    pub fn open_with(data_dir: &Path, settings: Settings) -> Result<Local, String> {
        let settings = with_local_keys(settings, data_dir)?;
        let chaos = settings.chaos.clone();
        let (system, db) = compose::embedded(data_dir, settings)?;
        Local::of(system, Some(db), Some(data_dir.to_path_buf()), chaos)
    }

    /// Opens `stack` on the real AWS clients (`AWS_ENDPOINT_URL` for an emulator). The
    /// relay's checkpoint in the table's stream is kept under `data_dir`.
    pub async fn open_aws(stack: &str, settings: Settings, data_dir: &Path) -> Result<Local, String> {
        let settings = with_local_keys(settings, data_dir)?;
        let chaos = settings.chaos.clone();
        let sdk = aws::sdk_config().await;
        let resources = AwsResources::of_stack(&sdk, stack).await?;
        std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
        let checkpoint = data_dir.join(format!("stream-checkpoint-{stack}.json"));
        let feed: Arc<dyn EventFeed> = Arc::new(aws::StreamFeed::new(&sdk, &resources.table_name, Some(checkpoint)));
        let mut system = compose::aws(&sdk, &resources, settings, Some(feed));
        system.app.secrets = Arc::new(compose::stack_secrets(&sdk, stack, &system.app.config.webhook_secrets).await?);
        Local::of(system, None, None, chaos)
    }

    fn of(system: System, db: Option<dropflow_shared::adapters::embedded::Database>, outbox: Option<PathBuf>, chaos: Option<Chaos>) -> Result<Local, String> {
        let feed = system.feed.ok_or("no stream to relay")?;
        Ok(Local { app: system.app, queues: system.queues, feed, release_leases: db, outbox, chaos })
    }

    /// The same system with its services on `items` instead (a counting or fault layer
    /// over the same store), for measuring what a flow costs.
    pub fn with_store(&self, items: Arc<dyn dropflow_shared::ports::ItemStore>) -> Local {
        let app = App { tables: dropflow_shared::store::Tables::new(items), ..self.app.clone() };
        Local { app, ..self.clone() }
    }

    /// Relays the events committed so far to the notify queue; returns how many.
    pub async fn relay(&self) -> Result<usize, String> {
        let mut total = 0;
        loop {
            match relay::relay_from(&self.app, self.feed.as_ref(), RELAY_BATCH).await.map_err(|e| e.to_string())? {
                0 => return Ok(total),
                relayed => total += relayed,
            }
        }
    }

    /// Delivers one batch from `queue` to its function, waiting up to `wait` for one;
    /// returns how many messages it took.
    pub async fn deliver_batch(&self, queue: QueueName, wait: Duration) -> Result<usize, String> {
        let received = self.queues.receive(queue, 10, wait).await.map_err(|e| e.to_string())?;
        if received.is_empty() {
            return Ok(0);
        }
        let response = handlers::consume(&self.app, queue, handlers::sqs_event(&received)).await;
        let failed: HashSet<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
        // All at once, as SQS's DeleteMessageBatch: on the embedded queues they share
        // one commit, where one after another each waited for a commit of its own.
        let deletes = received.iter().filter(|m| !failed.contains(&m.message_id)).map(|m| self.queues.delete(queue, &m.receipt));
        futures_util::future::try_join_all(deletes).await.map_err(|e| e.to_string())?;
        Ok(received.len())
    }

    /// Delivers every message ready now, on every queue, and relays every committed
    /// event, until nothing is left.
    pub async fn drain(&self) -> Result<usize, String> {
        Ok(self.drain_counted().await?.total())
    }

    /// `drain`, telling what it moved where: what the cost of an order's life counts
    /// (each message is an invocation and queue requests on AWS).
    pub async fn drain_counted(&self) -> Result<Drained, String> {
        let mut drained = Drained::default();
        loop {
            let step = Drained {
                intake: self.deliver_batch(QueueName::Intake, Duration::ZERO).await?,
                relayed: self.relay().await?,
                notify: self.deliver_batch(QueueName::Notify, Duration::ZERO).await?,
                storefront: self.deliver_batch(QueueName::Storefront, Duration::ZERO).await?,
            };
            if step.total() == 0 {
                return Ok(drained);
            }
            drained = drained + step;
        }
    }

    /// Polls `queue` for ever with long polling, as its event source mapping does.
    async fn consume_for_ever(self, queue: QueueName) {
        loop {
            if let Err(error) = self.deliver_batch(queue, POLL_WAIT).await {
                tracing::error!(%error, queue = queue.as_str(), "queue poll failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    /// The router of every function, plus the local outbox listing on the embedded
    /// backend.
    pub fn router(&self) -> axum::Router {
        let router = dropflow_shared::http::router(self.app.clone());
        let Some(data_dir) = self.outbox.clone() else {
            return router;
        };
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
        outbox.merge(router)
    }

    /// Runs the SLA sweep and the supplier sync every minute, as sla-sweep's schedule
    /// does (every 15 minutes on AWS; supplier-sync's every 5), the storefront reconciliation every 15 minutes (the first a minute
    /// after start), and the payout release every hour (payout-release's is daily).
    async fn sweep_for_ever(self) {
        for tick in 1u32.. {
            tokio::time::sleep(SWEEP_EVERY).await;
            match sweep::sweep(&self.app, self.app.clock.now(), None).await {
                Ok(report) if report.fired > 0 || report.voided > 0 || report.purged > 0 => tracing::info!(?report, "sla sweep"),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "sla sweep failed"),
            }
            match dropflow_shared::services::supplier::sync(&self.app, self.app.clock.now(), None).await {
                Ok(report) if report != Default::default() => tracing::info!(?report, "supplier sync"),
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "supplier sync failed"),
            }
            if tick % SWEEPS_PER_RECONCILE == 1 {
                match dropflow_shared::services::reconcile::reconcile(&self.app, self.app.clock.now(), None).await {
                    Ok(report) if report.queued > 0 || !report.failed.is_empty() => tracing::info!(?report, "storefront reconcile"),
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "storefront reconcile failed"),
                }
            }
            if tick % SWEEPS_PER_PAYOUT_RELEASE == 0 {
                match dropflow_shared::services::money::run(&self.app, self.app.clock.now(), None).await {
                    Ok(report) if report.released > 0 || !report.payouts.is_empty() => tracing::info!(?report, "payout release"),
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "payout release failed"),
                }
            }
        }
    }

    /// Relays the table's stream for ever, as event-relay's event source mapping does.
    async fn relay_for_ever(self) {
        loop {
            match relay::relay_from(&self.app, self.feed.as_ref(), RELAY_BATCH).await {
                Ok(0) => tokio::time::sleep(STREAM_POLL).await,
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, "stream relay failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Brings the process back after an injected kill (`Fault::Kill`), as a new Lambda
    /// instance or a restarted `dropflow serve` comes up: what the dead process held is
    /// offered again (at once on the embedded queues, as `start_workers` does; on SQS
    /// when its lease runs out). Whether it was down.
    pub fn restart(&self) -> Result<bool, String> {
        if !self.chaos.as_ref().is_some_and(Chaos::restart) {
            return Ok(false);
        }
        if let Some(db) = &self.release_leases {
            db.release_leases().map_err(|e| e.to_string())?;
        }
        Ok(true)
    }

    /// Starts the relay and the queue consumers, after taking back the leases a dead
    /// process held (locally this process is the queues' only consumer).
    pub fn start_workers(&self) -> Result<(), String> {
        if let Some(db) = &self.release_leases {
            let resumed = db.release_leases().map_err(|e| e.to_string())?;
            if resumed > 0 {
                tracing::warn!(resumed, "messages in flight at the last stop are offered again");
            }
        }
        tokio::spawn(self.clone().relay_for_ever());
        tokio::spawn(self.clone().sweep_for_ever());
        for queue in [QueueName::Intake, QueueName::Notify, QueueName::Storefront] {
            for _ in 0..CONSUMERS_PER_QUEUE {
                tokio::spawn(self.clone().consume_for_ever(queue));
            }
        }
        Ok(())
    }

    /// Serves HTTP on `listener` and runs the relay and the queue consumers, until the
    /// process ends.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.start_workers().map_err(std::io::Error::other)?;
        serve_http(listener, self.router(), ServerLimits::default()).await
    }
}

/// What a drain moved: intake messages delivered, events relayed from the stream to the
/// notify queue, notify messages delivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub intake: usize,
    pub relayed: usize,
    pub notify: usize,
    pub storefront: usize,
}

impl Drained {
    /// Everything moved.
    pub fn total(self) -> usize {
        self.intake + self.relayed + self.notify + self.storefront
    }
}

impl std::ops::Add for Drained {
    type Output = Drained;
    fn add(self, other: Drained) -> Drained {
        Drained {
            intake: self.intake + other.intake,
            relayed: self.relayed + other.relayed,
            notify: self.notify + other.notify,
            storefront: self.storefront + other.storefront,
        }
    }
}

/// What one client may hold of the local server.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Time to send a request's headers, and the most a connection may sit idle between
    /// requests; then it is closed.
    pub header_read_timeout: Duration,
    /// The longest a connection may live, whatever it does (a request dribbled byte by
    /// byte included).
    pub connection_lifetime: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits { header_read_timeout: Duration::from_secs(10), connection_lifetime: Duration::from_secs(120), max_connections: 512 }
    }
}

/// Serves `router` on `listener` within `limits`: idle, slow and surplus clients cannot
/// take the descriptors that others need.
pub async fn serve_http(listener: tokio::net::TcpListener, router: axum::Router, limits: ServerLimits) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    loop {
        let slot = slots.clone().acquire_owned().await.map_err(std::io::Error::other)?;
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors or a connection reset before accept: not fatal.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
            let connection = http.serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(limits.connection_lifetime, connection).await;
            drop(slot);
        });
    }
}
