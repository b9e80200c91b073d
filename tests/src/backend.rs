//! The two backends the tests run every scenario and conformance case on, and where
//! each keeps the mail it sent.

use dropflow_shared::adapters::aws::bootstrap::Bootstrap;
use dropflow_shared::adapters::aws::{AwsResources, sdk_config};
use dropflow_shared::config::Config;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which adapters a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite and the outbox folder.
    Embedded,
    /// DynamoDB, SQS and SES on the moto server at `AWS_ENDPOINT_URL`.
    Aws,
}

/// The configuration of a test app: the scenario secret, the operator's address, and
/// `sender` (unique per AWS stack, so each test finds its own mail in moto).
pub fn config(sender: &str) -> Config {
    config_with(sender, &[])
}

/// The test configuration with `extra` settings on top.
pub fn config_with(sender: &str, extra: &[(&str, &str)]) -> Config {
    Config::from_lookup(
        |name| match name {
            // A test's own setting wins over the scenario defaults below.
            name if extra.iter().any(|(n, _)| *n == name) => extra.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()),
            "SHOPIFY_WEBHOOK_SECRET" => Some(crate::SHOPIFY_SECRET.to_string()),
            "WOOCOMMERCE_WEBHOOK_SECRET" => Some(crate::WOOCOMMERCE_SECRET.to_string()),
            "AFTERSHIP_WEBHOOK_SECRET" => Some(crate::AFTERSHIP_SECRET.to_string()),
            "GENERIC_WEBHOOK_SECRET" => Some(format!("shop-a={},shop-b={}", crate::GENERIC_SECRETS[0], crate::GENERIC_SECRETS[1])),
            "OPERATOR_EMAIL" => Some("ops@market.example".to_string()),
            "SENDER_EMAIL" => Some(sender.to_string()),
            _ => None,
        },
        dropflow_local::local_default,
    )
    .expect("config")
}

/// The moto server `scripts/test.sh` started. The AWS tests never run against a real
/// account and are never skipped: without the emulator they fail and say why.
pub fn emulator() -> String {
    std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: the AWS adapter tests run against moto, which `bash scripts/test.sh` installs and starts")
}

/// A fresh stack of its own on the emulator: table, queues with DLQs, sender identity.
pub struct AwsStack {
    pub name: String,
    pub sender: String,
    pub resources: AwsResources,
}

impl AwsStack {
    /// Bootstraps a uniquely named stack; `visibility_timeout_seconds` shortens the
    /// queues' lease for tests that watch redelivery.
    pub async fn create(visibility_timeout_seconds: Option<u32>) -> AwsStack {
        AwsStack::create_with(visibility_timeout_seconds, &[]).await
    }

    /// A stack bootstrapped with `settings` on top of the test configuration: a webhook
    /// secret among them is stored in the stack's Secrets Manager secret, as
    /// `dropflow aws bootstrap` stores an operator's.
    pub async fn create_with(visibility_timeout_seconds: Option<u32>, settings: &[(&str, &str)]) -> AwsStack {
        emulator();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = getrandom::u32().unwrap_or_default();
        let name = format!("t{}-{nanos:x}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let sender = format!("orders-{name}@dropflow.test");
        let plan = Bootstrap {
            stack_name: name.clone(),
            sender_email: sender.clone(),
            visibility_timeout_seconds,
            webhook_secrets: config_with(&sender, settings).webhook_secret_values(),
        };
        let resources = plan.run(&sdk_config().await).await.expect("bootstrap a stack on moto");
        AwsStack { name, sender, resources }
    }

    /// The services and queues on this stack, configured with its sender.
    pub async fn open(&self) -> (dropflow_shared::services::App, std::sync::Arc<dyn dropflow_shared::ports::QueueConsumer>) {
        let system = dropflow_shared::compose::aws(&sdk_config().await, &self.resources, dropflow_shared::compose::Settings::new(config(&self.sender)), None);
        (system.app, system.queues)
    }

    /// This stack's table stream, read from its start (no checkpoint file).
    pub async fn feed(&self) -> dropflow_shared::adapters::aws::StreamFeed {
        dropflow_shared::adapters::aws::StreamFeed::new(&sdk_config().await, &self.resources.table_name, None)
    }

    pub fn mail_box(&self) -> MailBox {
        MailBox::Ses { endpoint: emulator(), sender: self.sender.clone() }
    }
}

/// Where sent mail can be read back.
#[derive(Debug, Clone)]
pub enum MailBox {
    /// The embedded outbox folder under a data dir.
    Outbox(PathBuf),
    /// SES on moto: mail from `sender` (under the store's name), read from moto's
    /// `/moto-api/data.json`.
    Ses { endpoint: String, sender: String },
}

impl MailBox {
    /// The mail sent so far, oldest first, as `[{"to","subject","text","html"}]`. moto
    /// keeps one body per mail (the HTML when both parts are sent), so on SES `html` is
    /// that body and `text` is it read as text.
    pub async fn sent(&self) -> Vec<Value> {
        match self {
            MailBox::Outbox(dir) => {
                let mail = dropflow_shared::adapters::embedded::list_outbox(dir).expect("outbox");
                mail.into_iter().map(|m| serde_json::to_value(m).expect("mail as JSON")).collect()
            }
            MailBox::Ses { endpoint, sender } => {
                let data = moto_data(endpoint).await;
                let messages = data["ses"]["Message"].as_array().cloned().unwrap_or_default();
                messages
                    .into_iter()
                    .filter(|m| m["source"].as_str().is_some_and(|source| source.ends_with(&format!("<{sender}>"))))
                    .map(|m| json!({ "to": m["destinations"]["ToAddresses"][0], "subject": m["subject"], "text": as_text(m["body"].as_str().unwrap_or_default()), "html": m["body"] }))
                    .collect()
            }
        }
    }
}

/// HTML read as text: a table row `<th>Label</th><td>value</td>` reads "Label: value",
/// block ends are line breaks, other tags go, entities are decoded.
fn as_text(html: &str) -> String {
    let marked = html.replace("</th>", ": ").replace("</tr>", "\n").replace("</p>", "\n").replace("</div>", "\n").replace("<br>", "\n");
    let mut text = String::with_capacity(marked.len());
    let mut in_tag = false;
    for c in marked.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&#x27;", "'").replace("&amp;", "&")
}

/// The ports of one backend, bare: what the conformance suite holds to one behaviour.
pub struct Ports {
    pub app: dropflow_shared::services::App,
    pub queues: std::sync::Arc<dyn dropflow_shared::ports::QueueConsumer>,
    /// The table's stream of committed events (the embedded change log, or DynamoDB's).
    pub feed: std::sync::Arc<dyn dropflow_shared::ports::EventFeed>,
    pub mail: MailBox,
    _dir: tempfile::TempDir,
}

/// Opens a fresh store, queues (with a lease of `visibility_seconds`) and mailer.
pub async fn open_ports(backend: Backend, visibility_seconds: u32) -> Ports {
    let dir = tempfile::tempdir().expect("temp dir");
    let lease = std::time::Duration::from_secs(u64::from(visibility_seconds));
    match backend {
        Backend::Embedded => {
            let (system, db) = dropflow_shared::compose::embedded(dir.path(), dropflow_shared::compose::Settings::new(config("orders@dropflow.local")))
                .expect("open data dir");
            let feed = std::sync::Arc::new(dropflow_shared::adapters::embedded::EmbeddedStore::new(db.clone()));
            Ports { app: system.app, queues: std::sync::Arc::new(db.with_visibility(lease)), feed, mail: MailBox::Outbox(dir.path().to_path_buf()), _dir: dir }
        }
        Backend::Aws => {
            let stack = AwsStack::create(Some(visibility_seconds)).await;
            let (app, queues) = stack.open().await;
            let feed = std::sync::Arc::new(stack.feed().await);
            Ports { app, queues, feed, mail: stack.mail_box(), _dir: dir }
        }
    }
}

/// moto's record of the mail SES took, `/moto-api/data.json?service=ses` (the filter
/// is `scripts/moto_server.py`'s: the whole dump holds every DynamoDB item and stream
/// record, and takes seconds to build late in a run). moto builds it from live state
/// and now and then fails while another request changes that state (an error page, not
/// JSON), so a few tries are allowed.
async fn moto_data(endpoint: &str) -> Value {
    let mut last_error = String::new();
    for _ in 0..20 {
        match reqwest::get(format!("{endpoint}/moto-api/data.json?service=ses")).await {
            Ok(response) => match response.json::<Value>().await {
                Ok(data) => return data,
                Err(error) => last_error = error.to_string(),
            },
            Err(error) => last_error = error.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("moto's data.json stayed unreadable: {last_error}")
}
