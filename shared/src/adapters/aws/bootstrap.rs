//! `dropflow aws bootstrap`: creates the table (with its stream), the queues (each with
//! its dead-letter queue), the relay's dead-letter queue and the SES sender identity on an emulator or a dev account, from the same
//! definitions as `infra/template.yaml`. A test holds the two to the same keys, indexes,
//! queue names and redrive settings.

use super::{AwsResources, describe};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType, StreamSpecification,
    StreamViewType, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use std::time::Duration;

/// The table's key attributes: (hash, range).
pub const TABLE_KEYS: (&str, &str) = ("pk", "sk");
/// The global secondary indexes: (name, hash, range), all projecting every attribute.
pub const INDEXES: [(&str, &str, &str); 3] = [("gsi1", "gsi1pk", "gsi1sk"), ("gsi2", "gsi2pk", "gsi2sk"), ("gsi3", "gsi3pk", "gsi3sk")];
/// The attribute DynamoDB expires items by.
pub const TTL_ATTRIBUTE: &str = "ttl";
/// How long every queue keeps a message, dead letters included (the SQS maximum, 14
/// days): an outage over a long weekend loses nothing.
pub const DEAD_LETTER_RETENTION_SECONDS: u32 = 1_209_600;

/// One queue of the stack: named `{stack}-{suffix}`, its DLQ `{stack}-{suffix}-dlq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueDefinition {
    pub suffix: &'static str,
    /// Six times the timeout of the function that consumes it (AWS's advice for event
    /// source mappings), so a message is never offered twice while still in flight.
    pub visibility_timeout_seconds: u32,
    /// Receives before a message moves to its dead-letter queue. A message no retry can
    /// fix is parked at once, so this only bounds retries that may yet succeed.
    pub max_receive_count: u32,
}

/// The intake queue (order-intake, 30 s timeout; 5 receives), the notify queue
/// (notifier, 30 s; 10 receives, whose backoff, `handlers::next_try`, outlasts an hour of
/// SES throttling) and the storefront queue (storefront-sync, 30 s; 10 receives, the
/// same backoff through a storefront's outage).
pub const QUEUES: [QueueDefinition; 3] = [
    QueueDefinition { suffix: "intake", visibility_timeout_seconds: 180, max_receive_count: 5 },
    QueueDefinition { suffix: "notify", visibility_timeout_seconds: 180, max_receive_count: 10 },
    QueueDefinition { suffix: "storefront", visibility_timeout_seconds: 180, max_receive_count: 10 },
];

/// The relay's dead-letter queue, `{stack}-relay-dlq`: events the relay could not send
/// to the notify queue, replayed to it.
pub const RELAY_DEAD_LETTER_SUFFIX: &str = "relay-dlq";

/// What the table's stream carries: the new image of each changed item (the relay
/// reads the inserted event items from it).
pub const STREAM_VIEW: &str = "NEW_IMAGE";

/// What to create.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The prefix of every name: the table is `{stack_name}`, the queues
    /// `{stack_name}-intake` and so on.
    pub stack_name: String,
    /// The SES identity mail is sent from.
    pub sender_email: String,
    /// Overrides the queues' visibility timeout (tests that watch redrive use seconds).
    pub visibility_timeout_seconds: Option<u32>,
    /// Each source's webhook signing secret (its comma-separated value), stored as the
    /// Secrets Manager secret `{stack_name}/webhook/{source}` as the template does.
    pub webhook_secrets: Vec<(&'static str, String)>,
}

fn failed(error: impl std::error::Error + 'static) -> String {
    describe(&error)
}

impl Bootstrap {
    /// Creates whatever is missing (running it again changes nothing) and returns the
    /// resources, as the template's outputs would name them.
    pub async fn run(&self, sdk: &SdkConfig) -> Result<AwsResources, String> {
        self.create_table(&aws_sdk_dynamodb::Client::new(sdk)).await?;
        let sqs = aws_sdk_sqs::Client::new(sdk);
        for queue in QUEUES {
            self.create_queue(&sqs, queue).await?;
        }
        self.create_dead_letter_queue(&sqs, &format!("{}-{RELAY_DEAD_LETTER_SUFFIX}", self.stack_name)).await?;
        aws_sdk_ses::Client::new(sdk).verify_email_identity().email_address(&self.sender_email).send().await.map_err(failed)?;
        self.create_secrets(&aws_sdk_secretsmanager::Client::new(sdk)).await?;
        self.create_credentials_key(&aws_sdk_kms::Client::new(sdk)).await?;
        AwsResources::of_stack(sdk, &self.stack_name).await
    }

    /// The KMS key that seals vendors' supplier credentials, under the stack's alias
    /// (`compose::kms_alias`), as the template's `SupplierCredentialsKey`; one that is
    /// there stays.
    async fn create_credentials_key(&self, kms: &aws_sdk_kms::Client) -> Result<(), String> {
        let alias = crate::compose::kms_alias(&self.stack_name);
        if kms.describe_key().key_id(&alias).send().await.is_ok() {
            return Ok(());
        }
        let key = kms.create_key().description(format!("{}: vendors' supplier credentials", self.stack_name)).send().await.map_err(failed)?;
        let key_id = key.key_metadata().map(|m| m.key_id().to_string()).ok_or("CreateKey returned no key")?;
        kms.create_alias().alias_name(&alias).target_key_id(key_id).send().await.map_err(failed)?;
        Ok(())
    }

    /// Stores each webhook secret not stored yet (one that is stays as it is: rotate it
    /// with `aws secretsmanager put-secret-value`).
    async fn create_secrets(&self, secrets: &aws_sdk_secretsmanager::Client) -> Result<(), String> {
        use aws_sdk_secretsmanager::operation::create_secret::CreateSecretError;
        for (source, value) in &self.webhook_secrets {
            let name = super::webhook_secret_name(&self.stack_name, source);
            match secrets.create_secret().name(&name).secret_string(value).send().await {
                Ok(_) => {}
                Err(e) if matches!(e.as_service_error(), Some(CreateSecretError::ResourceExistsException(_))) => {}
                Err(e) => return Err(format!("secret {name}: {}", failed(e))),
            }
        }
        Ok(())
    }

    async fn create_table(&self, dynamodb: &aws_sdk_dynamodb::Client) -> Result<(), String> {
        let key = |hash: &str, range: &str| -> Result<Vec<KeySchemaElement>, String> {
            Ok(vec![
                KeySchemaElement::builder().attribute_name(hash).key_type(KeyType::Hash).build().map_err(failed)?,
                KeySchemaElement::builder().attribute_name(range).key_type(KeyType::Range).build().map_err(failed)?,
            ])
        };
        let mut attributes = vec![TABLE_KEYS.0, TABLE_KEYS.1];
        let mut indexes = Vec::new();
        for (name, hash, range) in INDEXES {
            attributes.extend([hash, range]);
            let keys_only = [crate::ports::Index::Gsi1, crate::ports::Index::Gsi2, crate::ports::Index::Gsi3]
                .into_iter()
                .any(|index| index.key_attributes().0 == hash && index.keys_only());
            let projection = Projection::builder().projection_type(if keys_only { ProjectionType::KeysOnly } else { ProjectionType::All }).build();
            indexes
                .push(GlobalSecondaryIndex::builder().index_name(name).set_key_schema(Some(key(hash, range)?)).projection(projection).build().map_err(failed)?);
        }
        let definitions = attributes
            .into_iter()
            .map(|name| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().map_err(failed))
            .collect::<Result<Vec<_>, _>>()?;
        let created = dynamodb
            .create_table()
            .table_name(&self.stack_name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key(TABLE_KEYS.0, TABLE_KEYS.1)?))
            .set_attribute_definitions(Some(definitions))
            .set_global_secondary_indexes(Some(indexes))
            .stream_specification(
                StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::from(STREAM_VIEW)).build().map_err(failed)?,
            )
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(error) if error.as_service_error().is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(error) => return Err(failed(error)),
        }
        self.wait_until_active(dynamodb).await?;
        let ttl = TimeToLiveSpecification::builder().attribute_name(TTL_ATTRIBUTE).enabled(true).build().map_err(failed)?;
        match dynamodb.update_time_to_live().table_name(&self.stack_name).time_to_live_specification(ttl).send().await {
            Ok(_) => Ok(()),
            // Enabling TTL twice is refused; the first time stands.
            Err(error) if error.as_service_error().is_some_and(|e| e.meta().message().is_some_and(|m| m.contains("already enabled"))) => Ok(()),
            Err(error) => Err(failed(error)),
        }
    }

    async fn wait_until_active(&self, dynamodb: &aws_sdk_dynamodb::Client) -> Result<(), String> {
        for _ in 0..120 {
            let described = dynamodb.describe_table().table_name(&self.stack_name).send().await.map_err(failed)?;
            if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(format!("table {} did not become active within a minute", self.stack_name))
    }

    /// Creates a dead-letter queue (kept 14 days); returns its URL.
    async fn create_dead_letter_queue(&self, sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String, String> {
        let dead_letters = sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::MessageRetentionPeriod, DEAD_LETTER_RETENTION_SECONDS.to_string())
            .send()
            .await
            .map_err(failed)?;
        Ok(dead_letters.queue_url.ok_or("CreateQueue returned no URL")?)
    }

    async fn create_queue(&self, sqs: &aws_sdk_sqs::Client, queue: QueueDefinition) -> Result<(), String> {
        let name = format!("{}-{}", self.stack_name, queue.suffix);
        let dead_letter_url = self.create_dead_letter_queue(sqs, &format!("{name}-dlq")).await?;
        let attributes = sqs.get_queue_attributes().queue_url(&dead_letter_url).attribute_names(QueueAttributeName::QueueArn).send().await.map_err(failed)?;
        let arn = attributes.attributes().and_then(|a| a.get(&QueueAttributeName::QueueArn)).ok_or("GetQueueAttributes returned no ARN")?;
        let redrive = serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": queue.max_receive_count }).to_string();
        let visibility = self.visibility_timeout_seconds.unwrap_or(queue.visibility_timeout_seconds);
        sqs.create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility.to_string())
            .attributes(QueueAttributeName::MessageRetentionPeriod, DEAD_LETTER_RETENTION_SECONDS.to_string())
            .send()
            .await
            .map_err(failed)?;
        Ok(())
    }
}
