//! What every Lambda main shares: JSON logs, configuration from the environment, and the
//! AWS clients and services built once per container (never per request).

use crate::adapters::aws::{self, AwsResources};
pub use crate::compose::AwsAdapters;
use crate::config::{Config, ConfigError};
use crate::services::App;

/// Sets up JSON logs for CloudWatch and builds the services on DynamoDB, SQS and SES
/// from the environment. A missing or malformed setting, or a missing one of
/// `also_required` (what only this function needs), ends start-up with one line naming
/// it. Secrets are never in the environment: a variable `{NAME}_ARN` names the Secrets
/// Manager secret that holds `NAME`, read here once for the container.
pub async fn start(also_required: &[&'static str], adapters: AwsAdapters) -> App {
    let mut phases = Phases::new();
    tracing_subscriber_init();
    phases.end("logs");
    match build(also_required, adapters, &mut phases).await {
        Ok(app) => {
            phases.log();
            app
        }
        Err(error) => {
            eprintln!("start-up failed: {error}");
            std::process::exit(1)
        }
    }
}

/// The secret settings other than the webhook secrets that a function reads from the
/// vault when given `{NAME}_ARN`: the notifier's AfterShip API key, the storefronts'
/// API credentials (storefront-sync and storefront-reconcile call with them; the
/// notifier reads which shops have them, to leave shipment mail to a shop that sends
/// its own), the AliExpress app's secret (supplier-sync signs with it).
const VAULT_SETTINGS: [&str; 5] = ["AFTERSHIP_API_KEY", "SHOPIFY_ADMIN_TOKENS", "WOOCOMMERCE_API_KEYS", "STATUS_LINK_KEYS", "ALIEXPRESS_APP_SECRET"];

/// The start-up of a container timed phase by phase, logged once as one `start-up` line
/// (each phase's microseconds): where a cold start goes, measured where it happens, in
/// production as in `scripts/bench_cold_start.py` (BENCHMARKS.md).
struct Phases {
    last: std::time::Instant,
    spent: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    fn new() -> Phases {
        Phases { last: std::time::Instant::now(), spent: Vec::new() }
    }

    /// Ends the phase `name` now: it took the time since the last one ended.
    fn end(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.spent.push((name, now - self.last));
        self.last = now;
    }

    fn log(&self) {
        let phases: serde_json::Map<String, serde_json::Value> =
            self.spent.iter().map(|(name, spent)| ((*name).to_string(), (spent.as_micros() as u64).into())).collect();
        tracing::info!(phases_us = %serde_json::Value::Object(phases), "start-up");
    }
}

async fn build(also_required: &[&'static str], adapters: AwsAdapters, phases: &mut Phases) -> Result<App, String> {
    use crate::ports::SecretVault;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(name) = also_required.iter().find(|name| env(name).is_none()) {
        return Err(ConfigError::Missing(name).to_string());
    }
    let sdk = aws::lambda_sdk_config().await?;
    phases.end("sdk_config");
    let vault: Arc<dyn SecretVault> = Arc::new(aws::SecretsManagerVault::new(&sdk));
    phases.end("vault_client");
    // Every setting's read at once: a function's start waits for one round trip, not
    // one per setting.
    let reads = VAULT_SETTINGS.into_iter().filter_map(|name| env(&format!("{name}_ARN")).map(|id| (name, id))).map(|(name, id)| {
        let vault = &vault;
        async move { vault.read(&id).await.map(|versions| (name, versions.current)).map_err(|e| format!("{name}_ARN: {e}")) }
    });
    let from_vault: BTreeMap<&str, String> = futures_util::future::try_join_all(reads).await?.into_iter().collect();
    phases.end("vault_settings");
    let lookup = |name: &str| from_vault.get(name).cloned().or_else(|| env(name));
    let config = Config::from_lookup(lookup, |_| None).map_err(|e| e.to_string())?;
    let resources = AwsResources::from_lookup(lookup).map_err(|e| e.to_string())?;
    phases.end("config");
    let ids: BTreeMap<&'static str, String> =
        crate::sources::SOURCES.iter().filter_map(|source| env(&format!("{}_ARN", source.secret_variable())).map(|id| (source.name(), id))).collect();
    let mut app = crate::compose::aws_with(adapters, &sdk, &resources, crate::compose::Settings::new(config), None).app;
    phases.end("clients");
    if !ids.is_empty() {
        // Read in the background: the read overlaps the runtime's first fetch of an
        // event, and the first delivery waits for it (a failed read is a 503 to it).
        let secrets = Arc::new(crate::services::secrets::WebhookSecrets::from_vault_later(vault, ids, &app.config.webhook_secrets));
        app.secrets = secrets.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match secrets.ready().await {
                Ok(()) => tracing::info!(took_us = started.elapsed().as_micros() as u64, "webhook secrets read"),
                Err(error) => tracing::error!(%error, "could not read the webhook secrets; deliveries are answered 503 until they are"),
            }
        });
    }
    phases.end("webhook_secrets");
    Ok(app)
}

/// Ends an invocation of `function` that started at `started` with its metrics line
/// (`metrics::emf_line`) on stdout, where CloudWatch Logs picks it up.
fn emit_metrics(function: &str, started: std::time::Instant, clock: &dyn crate::ports::Clock) {
    println!("{}", crate::metrics::emf_line(function, started.elapsed().as_secs_f64() * 1e3, clock.now().timestamp_millis()));
}

/// `router` with a metrics line after each request it answers.
fn with_metrics(router: axum::Router, function: &'static str, clock: std::sync::Arc<dyn crate::ports::Clock>) -> axum::Router {
    router.layer(axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| {
        let clock = clock.clone();
        async move {
            let started = std::time::Instant::now();
            let response = next.run(request).await;
            emit_metrics(function, started, clock.as_ref());
            response
        }
    }))
}

/// JSON lines without a time (CloudWatch stamps each), filtered by `RUST_LOG` read as
/// targets and levels (`info`, `warn,dropflow_shared=debug`); `info` when it is unset
/// or does not parse.
fn tracing_subscriber_init() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|filter| filter.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO));
    let _ = tracing_subscriber::fmt().json().without_time().finish().with(targets).try_init();
}

/// What an HTTP function needs at start-up beyond the common settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing more (the vendor API verifies no webhook, so it holds no secret).
    Nothing,
    /// The vault id of at least one source's signing secret (`{SECRET}_ARN`, one per
    /// `sources::SOURCES`): without one, every webhook would be a 401.
    AWebhookSecret,
}

/// An HTTP function (order-webhook, vendor-api): `router` behind API Gateway, with a
/// metrics line per request.
pub async fn run_http(function: &'static str, router: fn(App) -> axum::Router, needs: Needs, adapters: AwsAdapters) -> Result<(), lambda_http::Error> {
    if needs == Needs::AWebhookSecret {
        let variables: Vec<String> = crate::sources::SOURCES.iter().map(|s| format!("{}_ARN", s.secret_variable())).collect();
        if !variables.iter().any(|name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty())) {
            eprintln!("start-up failed: none of {} is set: every webhook would be refused", variables.join(", "));
            std::process::exit(1)
        }
    }
    let app = start(&[], adapters).await;
    let clock = app.clock.clone();
    lambda_http::run(with_metrics(router(app), function, clock)).await
}

/// A queue consumer (order-intake, notifier, storefront-sync): feeds SQS batches from
/// its queue's event source mapping to `consume` (`handlers::order_intake`,
/// `handlers::notify`, `handlers::storefront_sync`: only its own, so a binary links no
/// other consumer's code), answering with the failed message ids only.
pub async fn run_sqs<F, Fut>(function: &'static str, consume: F, adapters: AwsAdapters) -> Result<(), lambda_runtime::Error>
where
    F: Fn(&'static App, aws_lambda_events::event::sqs::SqsEvent) -> Fut,
    Fut: std::future::Future<Output = aws_lambda_events::event::sqs::SqsBatchResponse>,
{
    use aws_lambda_events::event::sqs::SqsEvent;
    use lambda_runtime::{LambdaEvent, service_fn};
    // The container's services live as long as its process.
    let app: &'static App = Box::leak(Box::new(start(&[], adapters).await));
    let consume = &consume;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let started = std::time::Instant::now();
        let answer = consume(app, event.payload).await;
        emit_metrics(function, started, app.clock.as_ref());
        Ok::<_, lambda_runtime::Error>(answer)
    }))
    .await
}

/// The stream's consumer (event-relay): feeds the table's stream batches (its event
/// source mapping filters them to inserted event items) to `handlers::event_relay`,
/// answering with the first record it could not relay. It parks what it cannot send in
/// the relay's dead-letter queue, so it requires that queue's address.
pub async fn run_stream(function: &'static str, adapters: AwsAdapters) -> Result<(), lambda_runtime::Error> {
    use aws_lambda_events::event::dynamodb::Event;
    use lambda_runtime::{LambdaEvent, service_fn};
    let app = start(&["RELAY_DLQ_URL"], adapters).await;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        let started = std::time::Instant::now();
        let answer = crate::handlers::event_relay(app, event.payload).await;
        emit_metrics(function, started, app.clock.as_ref());
        Ok::<_, lambda_runtime::Error>(answer)
    }))
    .await
}

/// A scheduled function (sla-sweep, payout-release): each EventBridge scheduled event
/// runs `job` (`handlers::sla_sweep`, `handlers::payout_release`) once as of now, with a
/// deadline that leaves time to spare before the invocation's own (what is left is done
/// at the next run), and answers what it did.
pub async fn run_scheduled<F, Fut>(name: &'static str, job: F, adapters: AwsAdapters) -> Result<(), lambda_runtime::Error>
where
    F: Fn(App, chrono::DateTime<chrono::Utc>, std::time::Instant) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, crate::services::ServiceError>>,
{
    use lambda_runtime::{LambdaEvent, service_fn};
    /// Kept free at the end of an invocation for the last commit to finish.
    const MARGIN: std::time::Duration = std::time::Duration::from_secs(10);
    let app = start(&[], adapters).await;
    let (app, job) = (&app, &job);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        // The invocation's deadline is in epoch milliseconds; what is left of it is read
        // on the system's clock, like every other time.
        let remaining = std::time::Duration::from_millis(event.context.deadline.saturating_sub(u64::try_from(app.clock.now().timestamp_millis()).unwrap_or(0)));
        let deadline = std::time::Instant::now() + remaining.saturating_sub(MARGIN);
        let started = std::time::Instant::now();
        let report = job(app.clone(), app.clock.now(), deadline).await;
        emit_metrics(name, started, app.clock.as_ref());
        let report = report?;
        tracing::info!(%report, scheduled = %event.payload["time"].as_str().unwrap_or("-"), "{name}");
        Ok::<_, lambda_runtime::Error>(report)
    }))
    .await
}
