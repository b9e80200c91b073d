//! The AWS adapters: the item store on DynamoDB, the queues on SQS, mail through SES,
//! secrets in Secrets Manager.
//! The only code that imports an AWS crate. Clients are built once per process (per
//! Lambda container) from one `SdkConfig`; `AWS_ENDPOINT_URL` points them all at a local
//! emulator, with no code path special to tests.

pub mod bootstrap;
mod dynamo;
mod kms;
mod secrets;
mod ses;
mod sqs;
#[cfg(feature = "aws-stream")]
mod stream;

pub use dynamo::DynamoStore;
pub use kms::KmsSealer;
pub use secrets::{SecretsManagerVault, webhook_secret_name};
pub use ses::SesMailer;
pub use sqs::SqsQueues;
#[cfg(feature = "aws-stream")]
pub use stream::StreamFeed;

use crate::config::ConfigError;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// An SDK client built on its first call, not when its adapter is: a function builds
/// only the clients it calls, and none of them before its first event (each costs a
/// cold start a fraction of a millisecond: BENCHMARKS.md). Clones share the one client.
pub struct LazyClient<C> {
    sdk: SdkConfig,
    make: fn(&SdkConfig) -> C,
    client: std::sync::Arc<std::sync::OnceLock<C>>,
}

impl<C> LazyClient<C> {
    /// The client `make` builds from `sdk` (an SDK's `Client::new`), once, when first
    /// asked for.
    pub fn new(sdk: &SdkConfig, make: fn(&SdkConfig) -> C) -> Self {
        LazyClient { sdk: sdk.clone(), make, client: Default::default() }
    }

    /// The client, built now if this is the first call.
    pub fn get(&self) -> &C {
        self.client.get_or_init(|| (self.make)(&self.sdk))
    }
}

impl<C> Clone for LazyClient<C> {
    fn clone(&self) -> Self {
        LazyClient { sdk: self.sdk.clone(), make: self.make, client: self.client.clone() }
    }
}

/// The AWS resources a deployment runs on, as the template passes them to each function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsResources {
    pub table_name: String,
    pub intake_queue_url: String,
    pub notify_queue_url: String,
    /// `STOREFRONT_QUEUE_URL`: the events storefront-sync writes back (the relay sends
    /// them there).
    pub storefront_queue_url: String,
    /// `RELAY_DLQ_URL`: where the relay parks events it cannot send; only event-relay
    /// (and the operator's dead-letter commands) are given it.
    pub relay_dead_letter_queue_url: Option<String>,
}

impl AwsResources {
    /// Reads `TABLE_NAME`, `INTAKE_QUEUE_URL`, `NOTIFY_QUEUE_URL` and
    /// `STOREFRONT_QUEUE_URL` through `lookup`; a missing one is named.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<AwsResources, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name));
        Ok(AwsResources {
            table_name: get("TABLE_NAME")?,
            intake_queue_url: get("INTAKE_QUEUE_URL")?,
            notify_queue_url: get("NOTIFY_QUEUE_URL")?,
            storefront_queue_url: get("STOREFRONT_QUEUE_URL")?,
            relay_dead_letter_queue_url: get("RELAY_DLQ_URL").ok(),
        })
    }

    /// The resources of `stack` as `dropflow aws bootstrap` and the template name them:
    /// the table `{stack}`, the queues `{stack}-intake`, `{stack}-notify` and
    /// `{stack}-storefront`, the relay's
    /// dead-letter queue `{stack}-relay-dlq`.
    pub async fn of_stack(sdk: &SdkConfig, stack: &str) -> Result<AwsResources, String> {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut urls = Vec::new();
        for suffix in bootstrap::QUEUES.iter().map(|q| q.suffix).chain([bootstrap::RELAY_DEAD_LETTER_SUFFIX]) {
            let name = format!("{stack}-{suffix}");
            let found = sqs
                .get_queue_url()
                .queue_name(&name)
                .send()
                .await
                .map_err(|e| format!("queue {name}: {}; run `dropflow aws bootstrap` first", describe(&e)))?;
            urls.push(found.queue_url.unwrap_or_default());
        }
        let [intake_queue_url, notify_queue_url, storefront_queue_url, relay] =
            <[String; 4]>::try_from(urls).map_err(|_| "four queues expected".to_string())?;
        Ok(AwsResources { table_name: stack.to_string(), intake_queue_url, notify_queue_url, storefront_queue_url, relay_dead_letter_queue_url: Some(relay) })
    }
}

/// The variable that shortens every SDK call of a function: order-webhook sets it so
/// that a silent queue answers 503 within Shopify's 5 s, and the storefront retries.
pub const OPERATION_TIMEOUT_VARIABLE: &str = "SDK_OPERATION_TIMEOUT_SECONDS";

/// The SDK's timeouts: a connection 3 s, an attempt 25 s, a call with its retries 60 s,
/// each at most `SDK_OPERATION_TIMEOUT_SECONDS` when that is set.
fn timeouts() -> TimeoutConfig {
    timeouts_within(std::env::var(OPERATION_TIMEOUT_VARIABLE).ok().as_deref())
}

fn timeouts_within(limit: Option<&str>) -> TimeoutConfig {
    let operation = limit
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(Duration::from_secs(60), |s| Duration::from_secs(s).min(Duration::from_secs(60)));
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3).min(operation))
        .operation_attempt_timeout(Duration::from_secs(25).min(operation))
        .operation_timeout(operation)
        .build()
}

#[cfg(test)]
mod timeout_tests {
    use super::*;

    #[test]
    fn a_function_can_shorten_every_call_but_not_lengthen_it() {
        let short = timeouts_within(Some("3"));
        assert_eq!(
            (short.connect_timeout(), short.operation_attempt_timeout(), short.operation_timeout()),
            (Some(Duration::from_secs(3)), Some(Duration::from_secs(3)), Some(Duration::from_secs(3)))
        );
        for unset_or_odd in [None, Some("0"), Some("soon"), Some("600")] {
            let limits = timeouts_within(unset_or_odd);
            assert_eq!(
                (limits.operation_attempt_timeout(), limits.operation_timeout()),
                (Some(Duration::from_secs(25)), Some(Duration::from_secs(60))),
                "{unset_or_odd:?}"
            );
        }
    }
}

/// Loads the SDK configuration (region, credentials from the whole default chain:
/// environment, profiles, web identity, `AWS_ENDPOINT_URL`) with timeouts: the SDK has
/// none by default, and a silent endpoint must fail a call, not hang it. For the local
/// binary, which may run with a developer's profile.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts()).load().await
}

/// The roots every AWS service endpoint chains to: Amazon Root CA 1–4 and Starfield
/// Services Root CA G2, the five that Amazon Trust Services recommends for a custom
/// trust store (their public-key SHA-256s match amazontrust.com/repository).
const AMAZON_TRUST_ROOTS: [&[u8]; 5] = [
    include_bytes!("roots/amazon-root-ca-1.pem"),
    include_bytes!("roots/amazon-root-ca-2.pem"),
    include_bytes!("roots/amazon-root-ca-3.pem"),
    include_bytes!("roots/amazon-root-ca-4.pem"),
    include_bytes!("roots/starfield-services-root-ca-g2.pem"),
];

/// The SDK's HTTPS client trusting only the Amazon roots, compiled in: reading and
/// parsing the system's whole certificate bundle took most of a function's start-up
/// (BENCHMARKS.md), for endpoints that are all AWS's own.
fn amazon_https_client() -> Result<aws_sdk_dynamodb::config::SharedHttpClient, String> {
    use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let roots = AMAZON_TRUST_ROOTS.iter().fold(TrustStore::empty(), |store, pem| store.with_pem_certificate(*pem));
    let tls = TlsContext::builder().with_trust_store(roots).build().map_err(|e| format!("TLS trust store: {}", describe(&e)))?;
    Ok(aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc)).tls_context(tls).build_https())
}

/// The SDK configuration inside Lambda, built from the environment Lambda sets
/// (`AWS_REGION`, the function role's credentials; `AWS_ENDPOINT_URL` when an emulator
/// stands in) rather than loaded: the loader's search of profile files and the other
/// sources of each setting cost every cold start a quarter of a millisecond
/// (BENCHMARKS.md), and none of them exists in Lambda. Environment credentials alone
/// keep the other providers (and the STS client they need) out of the binaries. Every
/// endpoint is an AWS service, so only Amazon's roots are trusted.
pub async fn lambda_sdk_config() -> Result<SdkConfig, String> {
    lambda_sdk_config_from(|name| std::env::var(name).ok())
}

fn lambda_sdk_config_from(env: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, String> {
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).ok_or("AWS_REGION is not set")?;
    let builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(aws_config::environment::EnvironmentVariableCredentialsProvider::new()))
        .http_client(amazon_https_client()?)
        .timeout_config(timeouts())
        .retry_config(aws_config::retry::RetryConfig::standard());
    Ok(match env("AWS_ENDPOINT_URL") {
        Some(url) => builder.endpoint_url(url),
        None => builder,
    }
    .build())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trust_store_is_the_five_amazon_roots_and_builds() {
        for pem in AMAZON_TRUST_ROOTS {
            let text = std::str::from_utf8(pem).expect("PEM is text");
            assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 1, "one certificate per file");
        }
        let mut distinct = AMAZON_TRUST_ROOTS.to_vec();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 5);
        assert!(amazon_https_client().is_ok());
    }

    #[test]
    fn the_lambda_configuration_is_the_environment_lambda_sets() {
        let lambda = |name: &str| match name {
            "AWS_REGION" => Some("eu-west-1".to_string()),
            "AWS_DEFAULT_REGION" => Some("us-east-1".to_string()),
            "AWS_ENDPOINT_URL" => Some(" ".to_string()),
            _ => None,
        };
        let sdk = lambda_sdk_config_from(lambda).unwrap();
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(sdk.endpoint_url(), None, "a blank endpoint is none: the service's own");
        assert!(sdk.credentials_provider().is_some() && sdk.http_client().is_some());
        assert_eq!(sdk.retry_config().map(|r| r.max_attempts()), Some(3));
        assert_eq!(sdk.timeout_config().and_then(|t| t.operation_timeout()), Some(Duration::from_secs(60)));
        let emulator = lambda_sdk_config_from(|name| match name {
            "AWS_DEFAULT_REGION" => Some("us-east-1".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000".to_string()),
            _ => None,
        });
        assert_eq!(emulator.unwrap().endpoint_url(), Some("http://127.0.0.1:5000"));
        assert_eq!(lambda_sdk_config_from(|_| None).unwrap_err(), "AWS_REGION is not set");
    }
}
