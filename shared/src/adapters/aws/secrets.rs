//! The secret vault on AWS Secrets Manager: `GetSecretValue` of the `AWSCURRENT` and
//! `AWSPREVIOUS` stages at once (the previous one is what a rotation replaced).

use crate::ports::{SecretError, SecretVault, SecretVersions};
use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::get_secret_value::{GetSecretValueError, GetSecretValueOutput};

/// Where the stack keeps a source's webhook signing secret: `{stack}/webhook/{source}`
/// (the template's secrets and `dropflow aws bootstrap` name them so).
pub fn webhook_secret_name(stack: &str, source: &str) -> String {
    format!("{stack}/webhook/{source}")
}

/// Secrets Manager through the SDK client.
pub struct SecretsManagerVault {
    client: super::LazyClient<Client>,
}

impl SecretsManagerVault {
    /// The vault, its client built from `sdk` at the first read.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        SecretsManagerVault { client: super::LazyClient::new(sdk, Client::new) }
    }

    async fn stage(&self, id: &str, stage: &str) -> Result<Option<GetSecretValueOutput>, SecretError> {
        match self.client.get().get_secret_value().secret_id(id).version_stage(stage).send().await {
            Ok(output) => Ok(Some(output)),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetSecretValueError::ResourceNotFoundException(_)) => Ok(None),
            Err(e) => Err(SecretError::Unavailable(format!("secret {id} ({stage}): {}", super::describe(&e)))),
        }
    }
}

#[async_trait]
impl SecretVault for SecretsManagerVault {
    async fn read(&self, id: &str) -> Result<SecretVersions, SecretError> {
        let (current, previous) = tokio::join!(self.stage(id, "AWSCURRENT"), self.stage(id, "AWSPREVIOUS"));
        let current = current?.ok_or_else(|| SecretError::NotFound(id.to_string()))?;
        let value = current.secret_string().ok_or_else(|| SecretError::Unavailable(format!("secret {id} holds no string")))?.to_string();
        let since = current.created_date().and_then(|d| chrono::DateTime::from_timestamp(d.secs(), d.subsec_nanos())).unwrap_or(chrono::DateTime::UNIX_EPOCH);
        // (Secrets Manager always dates a version; were one undated, its previous
        // version would count as replaced long ago and no longer verify: the safe side.)
        // No rotation yet: there is no previous version.
        let previous = previous?.and_then(|p| p.secret_string().map(str::to_string));
        Ok(SecretVersions { current: value, current_since: since, previous })
    }
}
