//! What every Lambda main shares: JSON logs, configuration from the environment, and the
//! services built once per container.

use crate::config::Config;
use crate::services::App;

/// Sets up JSON logs for CloudWatch and builds the services from the environment. A
/// missing or malformed setting ends start-up with one line naming it.
///
/// Until the AWS adapters land, the functions run on the embedded adapters under
/// `DATA_DIR` (default `/tmp/dropflow`).
pub fn start() -> App {
    tracing_subscriber_init();
    let built = Config::from_env().map_err(|e| e.to_string()).and_then(|config| {
        let data_dir = std::env::var("DATA_DIR").unwrap_or_else(|_| "/tmp/dropflow".into());
        crate::adapters::embedded::open_app(std::path::Path::new(&data_dir), config)
    });
    match built {
        Ok((app, _queues)) => app,
        Err(error) => {
            eprintln!("start-up failed: {error}");
            std::process::exit(1)
        }
    }
}

fn tracing_subscriber_init() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .without_time()
        .try_init();
}

/// Serves the HTTP router to API Gateway (order-webhook, vendor-api).
pub async fn run_http() -> Result<(), lambda_http::Error> {
    let app = start();
    lambda_http::run(crate::http::router(app)).await
}

/// Feeds SQS batches from `queue`'s event source mapping to its consumer (order-intake,
/// notifier), answering with the failed message ids only.
pub async fn run_queue_consumer(queue: crate::ports::QueueName) -> Result<(), lambda_runtime::Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    use lambda_runtime::{LambdaEvent, service_fn};
    let app = start();
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let response = match queue {
            crate::ports::QueueName::Intake => crate::handlers::order_intake(app, event.payload).await,
            crate::ports::QueueName::Notify => crate::handlers::notify(app, event.payload).await,
        };
        Ok::<_, lambda_runtime::Error>(response)
    }))
    .await
}
