//! What every Lambda main shares: JSON logs, configuration from the environment, and the
//! AWS clients and services built once per container (never per request).

use crate::adapters::aws::{self, AwsResources};
use crate::config::Config;
use crate::ports::QueueName;
use crate::services::App;

/// Sets up JSON logs for CloudWatch and builds the services on DynamoDB, SQS and SES
/// from the environment. A missing or malformed setting ends start-up with one line
/// naming it.
pub async fn start() -> App {
    tracing_subscriber_init();
    let settings = Config::from_env().and_then(|config| Ok((config, AwsResources::from_lookup(|name| std::env::var(name).ok())?)));
    let built = match settings {
        Ok((config, resources)) => aws::lambda_sdk_config().await.map(|sdk| aws::open_app(&sdk, &resources, config).0),
        Err(error) => Err(error.to_string()),
    };
    match built {
        Ok(app) => app,
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
    let app = start().await;
    lambda_http::run(crate::http::router(app)).await
}

/// Feeds SQS batches from `queue`'s event source mapping to its consumer (order-intake,
/// notifier), answering with the failed message ids only.
pub async fn run_queue_consumer(queue: QueueName) -> Result<(), lambda_runtime::Error> {
    use aws_lambda_events::event::sqs::SqsEvent;
    use lambda_runtime::{LambdaEvent, service_fn};
    let app = start().await;
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(crate::handlers::consume(app, queue, event.payload).await)
    }))
    .await
}
