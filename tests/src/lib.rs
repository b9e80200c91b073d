//! Helpers for the end-to-end scenarios and the adapter conformance suite: a real
//! dropflow (the HTTP router and the queue consumers of the local binary) on a random
//! port, on either backend (a fresh embedded data dir, or a fresh stack on the moto
//! server that `scripts/test.sh` starts), driven like a storefront, a vendor and the
//! operator would.

pub mod aliexpress_api;
pub mod backend;
pub mod cj_api;
pub mod runtime_api;
pub mod shopify_admin;
pub mod woocommerce_api;

pub use backend::{Backend, MailBox};
use dropflow_local::Local;
use dropflow_local::cli::{Cli, execute};
use serde_json::Value;

/// Makes each named `async fn(Backend)` two tests, `<name>::embedded` and
/// `<name>::aws`, so every scenario holds on both adapter sets.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn embedded() {
                super::$name($crate::Backend::Embedded).await
            }
            #[tokio::test]
            async fn aws() {
                super::$name($crate::Backend::Aws).await
            }
        }
    )*};
}

/// The shop `TestApp::shopify_webhook` names.
pub const SCENARIO_SHOP: &str = "scenario.myshopify.com";
/// The Shopify secret the test app is configured with.
pub const SHOPIFY_SECRET: &str = "scenario-shopify-secret";
/// The WooCommerce secret the test app is configured with.
pub const WOOCOMMERCE_SECRET: &str = "scenario-woocommerce-secret";
/// The AfterShip webhook secret the test app is configured with.
pub const AFTERSHIP_SECRET: &str = "scenario-aftership-secret";
/// The generic webhook's secrets of shops `shop-a` and `shop-b`.
pub const GENERIC_SECRETS: [&str; 2] = ["scenario-generic-a", "scenario-generic-b"];

/// Where every scenario's clock starts unless it says otherwise: a fixed instant (a
/// Wednesday morning, UTC), so that no scenario depends on the day it runs.
pub fn default_start() -> chrono::DateTime<chrono::Utc> {
    instant("2026-11-25T09:00:00Z")
}

/// An RFC 3339 instant, for tests that name one.
pub fn instant(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}")).with_timezone(&chrono::Utc)
}

/// A fixed instant a time-bound suite starts an app at, with the settings that make it
/// interesting (the time zone whose daylight-saving change it is just before, a
/// holiday it runs into).
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// What the instant is, for a failure to name it.
    pub name: &'static str,
    /// RFC 3339.
    pub at: &'static str,
    pub settings: &'static [(&'static str, &'static str)],
}

impl Start {
    /// The instant.
    pub fn instant(&self) -> chrono::DateTime<chrono::Utc> {
        instant(self.at)
    }
}

/// The instants the SLA and money suites run at: every day of the week, an order late
/// on a Friday, the hour before a daylight-saving change on both sides of the Atlantic,
/// New Year's Eve, a leap day, and a week with configured holidays.
pub const STARTS: [Start; 13] = [
    Start { name: "Monday", at: "2026-11-23T09:00:00Z", settings: &[] },
    Start { name: "Tuesday", at: "2026-11-24T09:00:00Z", settings: &[] },
    Start { name: "Wednesday", at: "2026-11-25T09:00:00Z", settings: &[] },
    Start { name: "Thursday", at: "2026-11-26T09:00:00Z", settings: &[] },
    Start { name: "Friday", at: "2026-11-27T09:00:00Z", settings: &[] },
    Start { name: "Saturday", at: "2026-11-28T09:00:00Z", settings: &[] },
    Start { name: "Sunday", at: "2026-11-29T09:00:00Z", settings: &[] },
    Start { name: "Friday 23:30", at: "2026-11-27T23:30:00Z", settings: &[] },
    Start { name: "before Berlin's summer time", at: "2027-03-28T01:00:00Z", settings: &[("SLA_TIMEZONE", "Europe/Berlin")] },
    Start { name: "before New York's winter time", at: "2026-11-01T06:00:00Z", settings: &[("SLA_TIMEZONE", "America/New_York")] },
    Start { name: "New Year's Eve 23:59", at: "2026-12-31T23:59:00Z", settings: &[] },
    Start { name: "a leap day", at: "2028-02-29T12:00:00Z", settings: &[] },
    Start { name: "before Christmas holidays", at: "2026-12-23T10:00:00Z", settings: &[("SLA_HOLIDAYS", "2026-12-24,2026-12-25,2026-12-28")] },
];

/// The starts a time-bound suite runs at on `backend`: all of `STARTS` on the embedded
/// store; on moto (where one order's whole life takes some 15 s or more) a weekday, the
/// Saturday (whose clocks fall due together) and New Year's Eve. The date arithmetic is the
/// domain's, the same on both; what the AWS runs add is the store under it.
pub fn starts_for(backend: Backend) -> Vec<Start> {
    match backend {
        Backend::Embedded => STARTS.to_vec(),
        Backend::Aws => STARTS.iter().filter(|s| matches!(s.name, "Monday" | "Saturday" | "New Year's Eve 23:59")).copied().collect(),
    }
}

/// A running app and ways to talk to it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub local: Local,
    /// The app's clock: it started where the test said, goes on at the real pace, and
    /// jumps when the test moves it on (`advance`).
    pub clock: std::sync::Arc<dropflow_shared::ports::SteppedClock>,
    /// The operator command line's backend flags for this app.
    cli_flags: Vec<String>,
    pub mail: MailBox,
    /// The data dir (embedded), kept alive as long as the app.
    _dir: tempfile::TempDir,
}

/// Starts the app on 127.0.0.1 on a fresh data dir or a fresh AWS stack.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, None).await
}

/// Starts the app with `chaos` injecting faults under every port (the test holds the
/// injectors through `TestApp::local.chaos`).
pub async fn spawn_app_with(backend: Backend, chaos: Option<dropflow_shared::adapters::faults::Chaos>) -> TestApp {
    spawn_app_configured(backend, chaos, &[]).await
}

/// Starts the app with `settings` on top of the test configuration.
pub async fn spawn_app_configured(backend: Backend, chaos: Option<dropflow_shared::adapters::faults::Chaos>, settings: &[(&str, &str)]) -> TestApp {
    spawn_app_at(backend, default_start(), chaos, settings).await
}

/// Starts the app on a clock that starts at `start`, with `chaos` and `settings` as
/// `spawn_app_configured`.
pub async fn spawn_app_at(
    backend: Backend,
    start: chrono::DateTime<chrono::Utc>,
    chaos: Option<dropflow_shared::adapters::faults::Chaos>,
    settings: &[(&str, &str)],
) -> TestApp {
    spawn_app_leasing(backend, start, chaos, settings, None).await
}

/// `spawn_app_at`, with the SQS queues' lease shortened to `lease_seconds` on AWS: a
/// killed process's messages come back within seconds, as they do at once on the
/// embedded queues after a restart.
pub async fn spawn_app_leasing(
    backend: Backend,
    start: chrono::DateTime<chrono::Utc>,
    chaos: Option<dropflow_shared::adapters::faults::Chaos>,
    settings: &[(&str, &str)],
    lease_seconds: Option<u32>,
) -> TestApp {
    use dropflow_shared::compose::Settings;
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = std::sync::Arc::new(dropflow_shared::ports::SteppedClock::starting_at(start));
    let with = |config| Settings::new(config).on(clock.clone()).with_chaos(chaos.clone());
    let (local, cli_flags, mail) = match backend {
        Backend::Embedded => {
            let local = Local::open_with(dir.path(), with(backend::config_with("orders@dropflow.local", settings))).expect("open data dir");
            let flags = vec!["--data-dir".to_string(), dir.path().to_string_lossy().to_string()];
            (local, flags, MailBox::Outbox(dir.path().to_path_buf()))
        }
        Backend::Aws => {
            let stack = backend::AwsStack::create_with(lease_seconds, settings).await;
            let local = Local::open_aws(&stack.name, with(backend::config_with(&stack.sender, settings)), dir.path()).await.expect("open the AWS stack");
            let flags = vec!["--backend".to_string(), "aws".to_string(), "--stack".to_string(), stack.name.clone()];
            (local, flags, stack.mail_box())
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = local.router();
    tokio::spawn(async move { axum_serve(listener, router).await });
    TestApp { base, client: reqwest::Client::new(), local, clock, cli_flags, mail, _dir: dir }
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    let _ = axum::serve(listener, router).await;
}

/// The fixture file's exact bytes.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Base64 HMAC-SHA256 of `body`, as Shopify signs it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    dropflow_shared::services::webhook::signature(secret, body)
}

impl TestApp {
    /// The AWS stack this app runs on (None on the embedded store).
    pub fn stack(&self) -> Option<&str> {
        self.cli_flags.iter().position(|f| f == "--stack").and_then(|i| self.cli_flags.get(i + 1)).map(String::as_str)
    }

    /// Now, on the app's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        use dropflow_shared::ports::Clock;
        self.clock.now()
    }

    /// Moves the app's clock `by` forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }

    /// Moves the app's clock forward to `instant` (if it is not there yet).
    pub fn advance_to(&self, instant: chrono::DateTime<chrono::Utc>) {
        self.clock.advance_to(instant);
    }

    /// Runs a `dropflow` operator command on this app (its store, configuration and
    /// clock, as the command line parses it); returns its output.
    pub async fn cli(&self, args: &[&str]) -> Result<String, String> {
        use clap::Parser;
        let mut argv = vec!["dropflow"];
        argv.extend(self.cli_flags.iter().map(String::as_str));
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let command = cli.command.ok_or("no command")?;
        let mut out = Vec::new();
        execute(&self.local, command, "test app", &mut out).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// Posts a Shopify webhook signed with `secret`; delivers the queues after.
    pub async fn shopify_webhook(&self, topic: &str, body: &[u8], secret: &str) -> reqwest::Response {
        let headers = [("X-Shopify-Topic", topic), ("X-Shopify-Shop-Domain", SCENARIO_SHOP), ("X-Shopify-Event-Id", "evt-1")];
        self.signed_webhook("shopify", "X-Shopify-Hmac-Sha256", &headers, body, secret).await
    }

    /// Posts a Shopify webhook with only the topic and, when given, the shop's header
    /// (no event id, so no delivery is taken for another's retry); delivers the queues
    /// after.
    pub async fn shopify_webhook_from(&self, shop: Option<&str>, topic: &str, body: &[u8], secret: &str) -> reqwest::Response {
        let mut headers = vec![("X-Shopify-Topic", topic)];
        headers.extend(shop.map(|shop| ("X-Shopify-Shop-Domain", shop)));
        self.signed_webhook("shopify", "X-Shopify-Hmac-Sha256", &headers, body, secret).await
    }

    /// Posts a WooCommerce webhook of `topic` signed with `secret`; delivers the queues
    /// after.
    pub async fn woocommerce_webhook(&self, topic: &str, body: &[u8], secret: &str) -> reqwest::Response {
        self.woocommerce_webhook_from("https://example.com/", topic, body, secret).await
    }

    /// Posts a WooCommerce webhook as the site at `site_url` sends it
    /// (`X-WC-Webhook-Source`); the fixture's site is `https://example.com/`.
    pub async fn woocommerce_webhook_from(&self, site_url: &str, topic: &str, body: &[u8], secret: &str) -> reqwest::Response {
        let headers = [("X-WC-Webhook-Topic", topic), ("X-WC-Webhook-Source", site_url), ("X-WC-Webhook-Delivery-ID", "d-1")];
        self.signed_webhook("woocommerce", "X-WC-Webhook-Signature", &headers, body, secret).await
    }

    /// Posts an AfterShip tracking push (signed with the test secret); delivers the queues
    /// after. `None` when the request did not get an answer.
    pub async fn aftership_push(&self, body: &[u8]) -> Option<u16> {
        self.tracking_push("/webhooks/tracking/aftership", body, AFTERSHIP_SECRET).await.map(|(status, _)| status)
    }

    /// Posts a tracking push to `path` signed with `secret` (a forged or misrouted one
    /// too); delivers the queues after: the status and the JSON answer.
    pub async fn tracking_push(&self, path: &str, body: &[u8], secret: &str) -> Option<(u16, Value)> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("aftership-hmac-sha256", sign(secret, body))
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await;
        let answer = match response {
            Ok(r) => Some((r.status().as_u16(), r.json().await.unwrap_or(Value::Null))),
            Err(_) => None,
        };
        self.deliver().await;
        answer
    }

    /// Posts a generic webhook of `topic` signed with `secret`, naming `shop` in
    /// `X-Dropflow-Shop` when given; delivers the queues after.
    pub async fn generic_webhook(&self, topic: &str, shop: Option<&str>, body: &[u8], secret: &str) -> reqwest::Response {
        let mut headers = vec![("X-Dropflow-Topic", topic)];
        headers.extend(shop.map(|shop| ("X-Dropflow-Shop", shop)));
        self.signed_webhook("generic", "X-Dropflow-Signature", &headers, body, secret).await
    }

    /// Posts `body` to `/webhooks/{source}` with its signature under `signature_header`
    /// and `headers`; delivers the queues after, as the event source mappings would.
    async fn signed_webhook(&self, source: &str, signature_header: &str, headers: &[(&str, &str)], body: &[u8], secret: &str) -> reqwest::Response {
        let mut request = self.client.post(format!("{}/webhooks/{source}", self.base)).header(signature_header, sign(secret, body));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.body(body.to_vec()).send().await.expect("request");
        self.deliver().await;
        response
    }

    /// Delivers every queued message, as the event source mappings would.
    /// A process killed by an injected fault stops delivering: what it held waits for
    /// the restart (`Local::restart`).
    pub async fn deliver(&self) -> usize {
        match self.local.drain().await {
            Ok(delivered) => delivered,
            Err(_) if self.local.chaos.as_ref().is_some_and(|c| c.is_down()) => 0,
            // An injected outage outlasted the retry layer (the simulation under
            // `--chaos`): what was not taken waits in its queue for the next delivery.
            Err(error) if error.contains("injected fault") => 0,
            Err(error) => panic!("queues: {error}"),
        }
    }

    /// The mail sent so far, oldest first: `GET /_local/outbox` on the embedded backend,
    /// moto's record of SES on AWS.
    pub async fn outbox(&self) -> Vec<Value> {
        match &self.mail {
            MailBox::Outbox(_) => {
                let response = self.client.get(format!("{}/_local/outbox", self.base)).send().await.expect("outbox");
                response.json::<Vec<Value>>().await.expect("outbox json")
            }
            MailBox::Ses { .. } => self.mail.sent().await,
        }
    }

    /// A vendor API call with `key`; returns the status and the JSON body.
    pub async fn vendor(&self, method: reqwest::Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value, String) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let value = response.json().await.unwrap_or(Value::Null);
        self.deliver().await;
        (status, value, content_type)
    }

    /// Maps `sku` to `vendor` as the operator does (`dropflow product add`: supplier
    /// "AliExpress: <sku> store", a unit's `cost` as "61.50 USD", variant "8GB"); the
    /// command's answer.
    pub async fn map_sku(&self, sku: &str, vendor: &str, cost: &str) -> Result<String, String> {
        let supplier = format!("AliExpress: {sku} store");
        // Any SKU makes a page address (an odd SKU's spaces and marks as dashes).
        let page: String = sku.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let url = format!("https://www.aliexpress.com/item/{page}.html");
        let (amount, currency) = cost.split_once(' ').expect("a cost as \"61.50 USD\"");
        let args =
            ["product", "add", sku, "--vendor", vendor, "--supplier", &supplier, "--url", &url, "--cost", amount, "--currency", currency, "--variant", "8GB"];
        self.cli(&args).await
    }

    /// Maps `sku` to `vendor`, bought through CJ's API (the stand-in's product `p-{sku}`
    /// and variant `vid-{sku}`, 2.10 USD) with its supplier step on `mode` (`auto`,
    /// `review`) and a price tolerance of 10 %.
    pub async fn map_sku_on_cj(&self, sku: &str, vendor: &str, mode: &str) -> Result<String, String> {
        let args = format!(
            "product add {sku} --vendor {vendor} --supplier CJ --url https://cjdropshipping.com/p/{sku}.html --cost 2.10 --currency USD --mode {mode} \
             --supplier-api cj --supplier-product p-{sku} --supplier-sku vid-{sku} --shipping-method CJPacket --price-tolerance 10"
        );
        self.cli(&args.split_whitespace().collect::<Vec<_>>()).await
    }

    /// The vendor's orders as its API lists them (the first page, newest first).
    pub async fn vendor_orders(&self, key: &str) -> Vec<Value> {
        let (_, list, _) = self.vendor(reqwest::Method::GET, "/vendor/orders", key, None).await;
        list["orders"].as_array().cloned().unwrap_or_default()
    }

    /// Onboards a vendor with its SKUs (supplier "AliExpress: <sku> store") and returns its key.
    pub async fn onboard(&self, vendor: &str, skus: &[&str]) -> String {
        let email = format!("{vendor}@vendors.example");
        self.cli(&["vendor", "add", vendor, "--name", vendor, "--email", &email]).await.expect("vendor add");
        let key = self.cli(&["key", "create", vendor]).await.expect("key create");
        for sku in skus {
            self.map_sku(sku, vendor, "61.50 USD").await.expect("product add");
        }
        key
    }
}

/// A vendor order of `vendor` with one line the customer paid `paid` for (order number
/// `#{n}`, shipping to Austin), created at `created`: what a test puts straight into the
/// store when it is about what happens next.
pub fn one_line_vendor_order(
    n: u32,
    vendor: &str,
    paid: dropflow_shared::domain::money::Money,
    created: chrono::DateTime<chrono::Utc>,
    sla: &dropflow_shared::domain::sla::SlaPolicy,
) -> dropflow_shared::domain::vendor_order::VendorOrder {
    use dropflow_shared::domain::address::{Address, AddressParts};
    use dropflow_shared::domain::ids::{OrderId, VendorId};
    use dropflow_shared::domain::order::{OrderLine, RoutedLine, SupplierSnapshot};
    let line =
        OrderLine { line_id: "1".into(), sku: None, title: "Lamp".into(), variant: None, quantity: 1, unit_price: paid, paid, problem: None, removed: 0 };
    let supplier = SupplierSnapshot {
        supplier_name: "S".into(),
        product_url: "https://s.example/1".into(),
        supplier_cost: paid,
        supplier_variant: None,
        mode: Default::default(),
        link: None,
    };
    let address = Address::parse(AddressParts {
        name: Some("Ann".into()),
        line1: Some("1 Main St".into()),
        city: Some("Austin".into()),
        country_code: Some("US".into()),
        ..AddressParts::default()
    })
    .expect("an address");
    let vendor = VendorId::parse(vendor).expect("a vendor id");
    let to = dropflow_shared::domain::vendor_order::Recipient {
        order_id: OrderId::derive("generic", "s", &n.to_string()),
        order_number: format!("#{n}"),
        shipping_address: address,
        customer_name: "Ann".into(),
        currency: paid.currency,
    };
    dropflow_shared::domain::vendor_order::VendorOrder::create(to, vendor, vec![RoutedLine { line, supplier }], created, sla).0
}
