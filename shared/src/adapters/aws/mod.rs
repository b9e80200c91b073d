//! The AWS adapters: the item store on DynamoDB, the queues on SQS, mail through SES.
//! The only code that imports an AWS crate. Clients are built once per process (per
//! Lambda container) from one `SdkConfig`; `AWS_ENDPOINT_URL` points them all at a local
//! emulator, with no code path special to tests.

pub mod bootstrap;
mod dynamo;
mod ses;
mod sqs;

pub use dynamo::DynamoStore;
pub use ses::SesMailer;
pub use sqs::SqsQueues;

use crate::config::{Config, ConfigError};
use crate::ports::SystemClock;
use crate::services::App;
use crate::store::Tables;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::sync::Arc;
use std::time::Duration;

/// The AWS resources a deployment runs on, as the template passes them to each function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsResources {
    pub table_name: String,
    pub intake_queue_url: String,
    pub notify_queue_url: String,
}

impl AwsResources {
    /// Reads `TABLE_NAME`, `INTAKE_QUEUE_URL` and `NOTIFY_QUEUE_URL` through `lookup`; a
    /// missing one is named.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<AwsResources, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name));
        Ok(AwsResources { table_name: get("TABLE_NAME")?, intake_queue_url: get("INTAKE_QUEUE_URL")?, notify_queue_url: get("NOTIFY_QUEUE_URL")? })
    }

    /// The resources of `stack` as `dropflow aws bootstrap` and the template name them:
    /// the table `{stack}`, the queues `{stack}-intake` and `{stack}-notify`.
    pub async fn of_stack(sdk: &SdkConfig, stack: &str) -> Result<AwsResources, String> {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut urls = Vec::new();
        for queue in bootstrap::QUEUES {
            let name = format!("{stack}-{}", queue.suffix);
            let found = sqs.get_queue_url().queue_name(&name).send().await.map_err(|e| format!("queue {name}: {}; run `dropflow aws bootstrap` first", describe(&e)))?;
            urls.push(found.queue_url.unwrap_or_default());
        }
        let [intake_queue_url, notify_queue_url] = <[String; 2]>::try_from(urls).map_err(|_| "two queues expected".to_string())?;
        Ok(AwsResources { table_name: stack.to_string(), intake_queue_url, notify_queue_url })
    }
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(25))
        .operation_timeout(Duration::from_secs(60))
        .build()
}

/// Loads the SDK configuration (region, credentials from the whole default chain:
/// environment, profiles, web identity, `AWS_ENDPOINT_URL`) with timeouts: the SDK has
/// none by default, and a silent endpoint must fail a call, not hang it. For the local
/// binary, which may run with a developer's profile.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts()).load().await
}

/// The SDK configuration inside Lambda, which always passes the function role's
/// credentials in the environment: taking them from there alone keeps the other
/// credential providers (and the STS client they need) out of the function binaries.
pub async fn lambda_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
        .timeout_config(timeouts())
        .load()
        .await
}

/// The services wired to DynamoDB, SQS and SES, and the queues (for consumers and the
/// dead-letter commands).
pub fn open_app(sdk: &SdkConfig, resources: &AwsResources, config: Config) -> (App, SqsQueues) {
    let queues = SqsQueues::new(aws_sdk_sqs::Client::new(sdk), resources);
    let app = App {
        tables: Tables::new(Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &resources.table_name))),
        publisher: Arc::new(queues.clone()),
        mailer: Arc::new(SesMailer::new(aws_sdk_ses::Client::new(sdk))),
        clock: Arc::new(SystemClock),
        config: Arc::new(config),
    };
    (app, queues)
}

/// The text of an SDK error with its source chain, for logs and `Unavailable` errors.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
