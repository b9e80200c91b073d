//! The composition root: which adapters make the services' `App` on each backend, and
//! the layers every port gets on the way: transient failures retried in process
//! (`adapters::retry`), and, when asked for, faults injected under that
//! (`adapters::faults`, for the tests and `dropflow serve --chaos`) and the process's
//! kills over it (for the simulation). Nothing else
//! chooses an adapter.

use crate::adapters::faults::{Chaos, Faulty};
use crate::adapters::retry::Retrying;
use crate::config::Config;
use crate::ports::{Clock, EventFeed, ItemStore, Mailer, Publisher, QueueConsumer, Queues};
use crate::services::App;
use crate::store::Tables;
use std::sync::Arc;

/// The services and what drives them: the queues their consumers read, and the table's
/// stream the relay reads (absent in a Lambda function, which a mapping feeds).
#[derive(Clone)]
pub struct System {
    pub app: App,
    pub queues: Arc<dyn QueueConsumer>,
    pub feed: Option<Arc<dyn EventFeed>>,
}

/// What a system is built with besides its adapters: its configuration, its clock (the
/// one source of time of every service and embedded adapter), and the fault injectors
/// to put under every port, if any.
#[derive(Clone)]
pub struct Settings {
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub chaos: Option<Chaos>,
}

impl Settings {
    /// `config` on the wall clock, without faults: what production runs.
    pub fn new(config: Config) -> Settings {
        Settings { config, clock: Arc::new(crate::ports::SystemClock), chaos: None }
    }

    /// The same, on `clock`.
    pub fn on(self, clock: Arc<dyn Clock>) -> Settings {
        Settings { clock, ..self }
    }

    /// The same, with `chaos` under every port.
    pub fn with_chaos(self, chaos: Option<Chaos>) -> Settings {
        Settings { chaos, ..self }
    }
}

/// Builds the system on these adapters, each wrapped in its retry layer and, with
/// `chaos`, its fault injector.
fn assemble<S, Q, M>(
    store: S,
    queues: Q,
    mailer: M,
    feed: Option<Arc<dyn EventFeed>>,
    sealer: Option<Arc<dyn crate::ports::Sealer>>,
    settings: Settings,
) -> System
where
    S: ItemStore + 'static,
    Q: Publisher + QueueConsumer + Clone + 'static,
    M: Mailer + 'static,
{
    type Ports = (Arc<dyn ItemStore>, Arc<dyn Publisher>, Arc<dyn QueueConsumer>, Arc<dyn Mailer>, Option<Arc<dyn EventFeed>>);
    let Settings { config, clock, chaos } = settings;
    let (store, publisher, consumer, mailer, feed): Ports = match &chaos {
        None => (
            Arc::new(Retrying::new(store)),
            Arc::new(Retrying::new(queues.clone())),
            Arc::new(Retrying::new(queues)),
            Arc::new(Retrying::new(mailer)),
            feed.map(|f| Arc::new(Retrying::new(f)) as Arc<dyn EventFeed>),
        ),
        // Call faults under the retry layer (it absorbs them as it would real ones), the
        // process's kills over it (nothing retries into a dead process).
        Some(chaos) => {
            let process = || chaos.process.clone();
            (
                Arc::new(Faulty::new(Retrying::new(Faulty::new(store, chaos.store.clone())), process())),
                Arc::new(Faulty::new(Retrying::new(Faulty::new(queues.clone(), chaos.queues.clone())), process())),
                Arc::new(Faulty::new(Retrying::new(Faulty::new(queues, chaos.queues.clone())), process())),
                Arc::new(Faulty::new(Retrying::new(Faulty::new(mailer, chaos.mailer.clone())), process())),
                feed.map(|f| Arc::new(Faulty::new(Retrying::new(Faulty::new(f, chaos.feed.clone())), process())) as Arc<dyn EventFeed>),
            )
        }
    };
    let secrets = Arc::new(crate::services::secrets::WebhookSecrets::fixed(&config.webhook_secrets));
    let app = App {
        tables: Tables::new(store),
        publisher,
        queues: consumer.clone(),
        mailer,
        clock: clock.clone(),
        tracking_feed: tracking_feed(&config),
        storefronts: storefronts(&config),
        secrets,
        suppliers: suppliers(&config, &clock, chaos.as_ref()),
        sealer,
        config: Arc::new(config),
    };
    System { app, queues: consumer, feed }
}

/// AfterShip's API when a key is configured, in the binaries that register parcels.
fn tracking_feed(config: &Config) -> Option<Arc<dyn crate::ports::TrackingFeed>> {
    #[cfg(feature = "aftership")]
    if let Some(api) = &config.aftership {
        return Some(Arc::new(crate::adapters::aftership::AfterShipFeed::new(api.clone())));
    }
    let _ = config;
    None
}

/// The storefronts' admin APIs that shipments are written back to, in the binaries
/// that write them: Shopify's when a shop has a token, WooCommerce's when a site has
/// a key.
fn storefronts(config: &Config) -> std::collections::BTreeMap<&'static str, Arc<dyn crate::ports::StorefrontWriter>> {
    #[allow(unused_mut)]
    let mut writers: std::collections::BTreeMap<&'static str, Arc<dyn crate::ports::StorefrontWriter>> = std::collections::BTreeMap::new();
    #[cfg(feature = "storefront-writeback")]
    {
        let admin = &config.shopify_admin;
        if !admin.tokens.is_empty() {
            writers.insert("shopify", Arc::new(crate::sources::shopify::admin::ShopifyAdmin::new(&admin.endpoint, admin.tokens.clone())));
        }
        if !config.woocommerce_api.sites.is_empty() {
            writers.insert("woocommerce", Arc::new(crate::sources::woocommerce::rest::WooCommerceRest::new(config.woocommerce_api.sites.clone())));
        }
    }
    let _ = config;
    writers
}

/// The suppliers' APIs, in the binaries that call them, each under the suppliers' fault
/// injector and the process's (a kill in the middle of placing) when there is chaos.
fn suppliers(config: &Config, clock: &Arc<dyn Clock>, chaos: Option<&Chaos>) -> crate::suppliers::Suppliers {
    #[cfg(feature = "supplier-api")]
    {
        let clients = crate::suppliers::from_settings(&config.suppliers, clock.clone());
        let Some(chaos) = chaos else { return clients };
        clients
            .into_iter()
            .map(|(api, client)| {
                let faulty: Arc<dyn crate::ports::SupplierClient> = Arc::new(Faulty::new(client, chaos.suppliers.clone()));
                (api, Arc::new(Faulty::new(faulty, chaos.process.clone())) as Arc<dyn crate::ports::SupplierClient>)
            })
            .collect()
    }
    #[cfg(not(feature = "supplier-api"))]
    {
        let _ = (config, clock, chaos);
        crate::suppliers::Suppliers::new()
    }
}

/// The embedded system under `data_dir` (SQLite store, change log and queues; the
/// outbox folder), and its database (for `serve` to take back a dead process's leases).
#[cfg(feature = "embedded")]
pub fn embedded(data_dir: &std::path::Path, settings: Settings) -> Result<(System, crate::adapters::embedded::Database), String> {
    use crate::adapters::embedded::{Database, EmbeddedStore, OutboxMailer};
    let db = Database::open(data_dir)?.with_clock(settings.clock.clone());
    let feed: Arc<dyn EventFeed> = Arc::new(EmbeddedStore::new(db.clone()));
    let mailer = OutboxMailer::new(data_dir, settings.clock.clone());
    let sealer = match &settings.config.suppliers.credentials_key {
        Some(key) => Some(Arc::new(crate::adapters::embedded::LocalSealer::from_base64(key).map_err(|e| format!("SUPPLIER_CREDENTIALS_KEY: {e}"))?)
            as Arc<dyn crate::ports::Sealer>),
        None => None,
    };
    let system = assemble(EmbeddedStore::new(db.clone()), db.clone(), mailer, Some(feed), sealer, settings);
    Ok((system, db))
}

/// The system on DynamoDB, SQS and SES; `feed` is the table's stream when this process
/// relays it itself (the local binary on `--backend aws`).
#[cfg(feature = "aws")]
pub fn aws(sdk: &aws_config::SdkConfig, resources: &crate::adapters::aws::AwsResources, settings: Settings, feed: Option<Arc<dyn EventFeed>>) -> System {
    aws_with(AwsAdapters::ALL, sdk, resources, settings, feed)
}

/// The AWS adapters a system is built with, each as its constructor. A Lambda function
/// names those it calls (the webhook only the queues), and the ports it does not name
/// are `adapters::absent`: an adapter held as a trait object keeps every operation of
/// its SDK client in the binary, called or not, so a constructor that is never named is
/// the only way the linker leaves a client out (smaller binaries, faster cold starts:
/// BENCHMARKS.md).
#[cfg(feature = "aws")]
#[derive(Clone, Copy)]
pub struct AwsAdapters {
    store: Option<Build<dyn ItemStore>>,
    queues: Option<Build<dyn Queues>>,
    mailer: Option<Build<dyn Mailer>>,
}

/// The constructor of an adapter on the stack's resources and settings.
#[cfg(feature = "aws")]
type Build<P> = fn(&aws_config::SdkConfig, &crate::adapters::aws::AwsResources, &Config) -> Arc<P>;

#[cfg(feature = "aws")]
impl AwsAdapters {
    /// Every adapter: the local binary on `--backend aws`, the tests.
    pub const ALL: AwsAdapters = AwsAdapters::NONE.store().queues().mail();
    /// None yet: a function starts from here and names what it calls.
    pub const NONE: AwsAdapters = AwsAdapters { store: None, queues: None, mailer: None };

    /// With the table (DynamoDB).
    pub const fn store(self) -> AwsAdapters {
        AwsAdapters { store: Some(|sdk, resources, _| Arc::new(crate::adapters::aws::DynamoStore::new(sdk, &resources.table_name))), ..self }
    }

    /// With the queues (SQS): publishing, a consumer's backoff, the dead letters.
    pub const fn queues(self) -> AwsAdapters {
        AwsAdapters { queues: Some(|sdk, resources, _| Arc::new(crate::adapters::aws::SqsQueues::new(sdk, resources))), ..self }
    }

    /// With mail (SES).
    pub const fn mail(self) -> AwsAdapters {
        AwsAdapters { mailer: Some(|sdk, _, config| Arc::new(crate::adapters::aws::SesMailer::new(sdk, config.ses_max_send_rate))), ..self }
    }
}

/// The system on the AWS adapters `adapters` names, the others absent.
#[cfg(feature = "aws")]
pub fn aws_with(
    adapters: AwsAdapters,
    sdk: &aws_config::SdkConfig,
    resources: &crate::adapters::aws::AwsResources,
    settings: Settings,
    feed: Option<Arc<dyn EventFeed>>,
) -> System {
    use crate::adapters::absent::Absent;
    let store: Arc<dyn ItemStore> = adapters.store.map_or_else(|| Arc::new(Absent("a store (DynamoDB)")) as _, |build| build(sdk, resources, &settings.config));
    let queues: Arc<dyn Queues> = adapters.queues.map_or_else(|| Arc::new(Absent("queues (SQS)")) as _, |build| build(sdk, resources, &settings.config));
    let mailer: Arc<dyn Mailer> = adapters.mailer.map_or_else(|| Arc::new(Absent("a mailer (SES)")) as _, |build| build(sdk, resources, &settings.config));
    // Only the binaries that call suppliers open credentials (and build a KMS client).
    let sealer = cfg!(feature = "supplier-api").then(|| {
        let key = settings.config.suppliers.kms_key.clone().unwrap_or_else(|| kms_alias(&resources.table_name));
        Arc::new(crate::adapters::aws::KmsSealer::new(sdk, &key)) as Arc<dyn crate::ports::Sealer>
    });
    assemble(store, queues, mailer, feed, sealer, settings)
}

/// The KMS key a stack seals supplier credentials with unless
/// `SUPPLIER_CREDENTIALS_KMS_KEY` names one (the template and `dropflow aws bootstrap`
/// create it under this alias).
pub fn kms_alias(stack: &str) -> String {
    format!("alias/{stack}-supplier-credentials")
}

/// The webhook secrets of `stack`: each source's Secrets Manager secret
/// (`{stack}/webhook/{source}`) where the stack has one, read as its functions read
/// them; the configuration's (the environment, or the local default) for the others.
#[cfg(feature = "aws")]
pub async fn stack_secrets(
    sdk: &aws_config::SdkConfig,
    stack: &str,
    configured: &std::collections::BTreeMap<&'static str, Vec<String>>,
) -> Result<crate::services::secrets::WebhookSecrets, String> {
    use crate::adapters::aws::{SecretsManagerVault, webhook_secret_name};
    use crate::ports::{SecretError, SecretVault};
    let vault: Arc<dyn SecretVault> = Arc::new(SecretsManagerVault::new(sdk));
    let mut read = std::collections::BTreeMap::new();
    for source in crate::sources::SOURCES {
        let name = webhook_secret_name(stack, source.name());
        match vault.read(&name).await {
            Ok(versions) => {
                read.insert(source.name(), (name, versions));
            }
            Err(SecretError::NotFound(_)) => {}
            Err(error) => return Err(error.to_string()),
        }
    }
    Ok(crate::services::secrets::WebhookSecrets::from_read(vault, read, configured))
}
