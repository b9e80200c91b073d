//! Every function's DynamoDB policy against the calls it makes. Each function runs its
//! own part of an order's whole life (storefront webhooks of every kind, the vendor's
//! whole day in the API, mail, the sweep, the payout) on a store that records every
//! call: its DynamoDB action, the index it queries, and the family of the partition key
//! it touches (`ORDER#`, `VENDOR#`, …). The template's policy must allow each recorded
//! call (the action, on the table or that index, within its `dynamodb:LeadingKeys`),
//! and grant no action the function never calls.

use async_trait::async_trait;
use dropflow_scenarios::{AFTERSHIP_SECRET, Backend, SHOPIFY_SECRET, TestApp, fixture, sign};
use dropflow_shared::ports::{Condition, Index, Item, ItemStore, Page, Query, QueueName, StoreError, Write};
use dropflow_shared::services::App;
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One call as IAM sees it: the action, the index (None: the table), the key family.
type Call = (String, Option<&'static str>, String);

/// A store that records the calls passing through it.
struct Recording {
    inner: Arc<dyn ItemStore>,
    calls: Arc<Mutex<BTreeSet<Call>>>,
}

/// `ORDER#…` → `ORDER#`: what a `LeadingKeys` pattern `ORDER#*` matches.
fn family(pk: &str) -> String {
    pk.find('#').map_or(pk.to_string(), |i| pk[..=i].to_string())
}

impl Recording {
    fn note(&self, action: &str, index: Option<&'static str>, pk: &str) {
        self.calls.lock().unwrap().insert((action.to_string(), index, family(pk)));
    }
}

#[async_trait]
impl ItemStore for Recording {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.note("GetItem", None, pk);
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.note("PutItem", None, item["pk"].as_str().unwrap_or_default());
        self.inner.put(item, condition).await
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.note("DeleteItem", None, pk);
        self.inner.delete(pk, sk).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        // A transaction is allowed item by item, by each item's own action.
        for write in &writes {
            match write {
                Write::Put { item, .. } => self.note("PutItem", None, item["pk"].as_str().unwrap_or_default()),
                Write::Delete { pk, .. } => self.note("DeleteItem", None, pk),
                Write::Add { pk, .. } => self.note("UpdateItem", None, pk),
                Write::Check { pk, .. } => self.note("ConditionCheckItem", None, pk),
            }
        }
        self.inner.transact(writes).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let index = match query.index {
            Index::Table => None,
            Index::Gsi1 => Some("gsi1"),
            Index::Gsi2 => Some("gsi2"),
            Index::Gsi3 => Some("gsi3"),
        };
        self.note("Query", index, &query.pk);
        self.inner.query(query).await
    }
}

/// The functions, each on its own recording store over the one embedded store.
struct Functions {
    app: TestApp,
    calls: BTreeMap<&'static str, Arc<Mutex<BTreeSet<Call>>>>,
}

impl Functions {
    fn app_of(&self, function: &'static str) -> App {
        let store = Recording { inner: self.app.local.app.tables.items.clone(), calls: self.calls[function].clone() };
        App { tables: dropflow_shared::store::Tables::new(Arc::new(store)), ..self.app.local.app.clone() }
    }

    /// Serves `router` (a function's HTTP surface) on a free port.
    async fn serve(&self, router: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    /// Delivers both queues through their functions, relaying between, until quiet.
    async fn drain(&self) {
        let intake = self.app.local.with_store(self.app_of("OrderIntakeFunction").tables.items.clone());
        let notifier = self.app.local.with_store(self.app_of("NotifierFunction").tables.items.clone());
        let storefront = self.app.local.with_store(self.app_of("StorefrontSyncFunction").tables.items.clone());
        loop {
            let moved = intake.deliver_batch(QueueName::Intake, Duration::ZERO).await.unwrap()
                + self.app.local.relay().await.unwrap()
                + notifier.deliver_batch(QueueName::Notify, Duration::ZERO).await.unwrap()
                + storefront.deliver_batch(QueueName::Storefront, Duration::ZERO).await.unwrap();
            if moved == 0 {
                return;
            }
        }
    }
}

const FUNCTIONS: [&str; 12] = [
    "OrderWebhookFunction",
    "VendorApiFunction",
    "OrderStatusFunction",
    "OrderIntakeFunction",
    "NotifierFunction",
    "EventRelayFunction",
    "SlaSweepFunction",
    "PayoutReleaseFunction",
    "StorefrontSyncFunction",
    "StorefrontReconcileFunction",
    "SupplierSyncFunction",
    "OperatorApiFunction",
];

async fn an_order_life_through_every_function() -> BTreeMap<&'static str, BTreeSet<Call>> {
    // The shop is written back to (storefront-sync), and a Shopify shop and a WooCommerce site are
    // reconciled (storefront-reconcile).
    let (endpoint, shop) = dropflow_scenarios::shopify_admin::start(dropflow_scenarios::SCENARIO_SHOP).await;
    let (site, woo) = dropflow_scenarios::woocommerce_api::start().await;
    let tokens = format!("{}={}", dropflow_scenarios::SCENARIO_SHOP, dropflow_scenarios::shopify_admin::TOKEN);
    let keys = format!("{site}={}:{}", dropflow_scenarios::woocommerce_api::CONSUMER_KEY, dropflow_scenarios::woocommerce_api::CONSUMER_SECRET);
    // One SKU is bought through CJ's API (a stand-in) on auto (supplier-sync).
    // The vendor connects CJ and AliExpress (stand-ins) through the vendor API.
    let (cj_url, cj) = dropflow_scenarios::cj_api::start().await;
    let (ae_url, _ae) = dropflow_scenarios::aliexpress_api::start().await;
    let settings = [
        ("SHOPIFY_ADMIN_TOKENS", tokens.as_str()),
        ("SHOPIFY_ADMIN_ENDPOINT", endpoint.as_str()),
        ("WOOCOMMERCE_API_KEYS", keys.as_str()),
        ("CJ_API_URL", cj_url.as_str()),
        ("ALIEXPRESS_API_URL", ae_url.as_str()),
        ("ALIEXPRESS_APP_KEY", dropflow_scenarios::aliexpress_api::APP_KEY),
        ("ALIEXPRESS_APP_SECRET", dropflow_scenarios::aliexpress_api::APP_SECRET),
        ("PUBLIC_BASE_URL", "https://market.example"),
    ];
    let app = dropflow_scenarios::spawn_app_configured(Backend::Embedded, None, &settings).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN"]).await;
    let functions = Functions { app, calls: FUNCTIONS.iter().map(|f| (*f, Arc::new(Mutex::new(BTreeSet::new())))).collect() };
    let http = reqwest::Client::new();
    let webhooks = functions.serve(dropflow_shared::http::webhook_router(functions.app_of("OrderWebhookFunction"))).await;
    let vendor_api = functions.serve(dropflow_shared::http::vendor_router(functions.app_of("VendorApiFunction"))).await;
    let shopify = |topic: &'static str, body: Vec<u8>| {
        let request = http
            .post(format!("{webhooks}/webhooks/shopify"))
            .header("X-Shopify-Hmac-Sha256", sign(SHOPIFY_SECRET, &body))
            .header("X-Shopify-Topic", topic)
            .header("X-Shopify-Shop-Domain", "scenario.myshopify.com");
        async move { assert_eq!(request.body(body).send().await.unwrap().status(), 200, "{topic}") }
    };
    let api = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut request = http.request(method, format!("{vendor_api}{path}")).bearer_auth(&key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            assert!(status < 300, "{path}: {status} {}", response.text().await.unwrap_or_default());
        }
    };

    api(reqwest::Method::POST, "/vendor/suppliers/cj".into(), Some(json!({"api_key": dropflow_scenarios::cj_api::API_KEY}))).await;
    let started: Value = http.post(format!("{vendor_api}/vendor/suppliers/aliexpress/authorize")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let back = browser.get(started["authorize_url"].as_str().unwrap()).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().replace("https://market.example", &vendor_api);
    let landed = browser.get(callback).send().await.unwrap();
    assert!(landed.headers()["location"].to_str().unwrap().contains("supplier_connected=aliexpress"), "{landed:?}");
    api(reqwest::Method::GET, "/vendor/suppliers".into(), None).await;
    functions.app.map_sku_on_cj("IPOD2008RED", "ipod-shop", "auto").await.unwrap();

    // Five orders, each with a line of a SKU nobody sells yet (it waits under the SKU).
    let paid: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    // The fifth stays open, its clocks running for the sweep.
    let ids = [450789469u64, 450789470, 450789471, 450789472, 450789473];
    for id in ids {
        shop.lock().unwrap().add_order(&id.to_string(), &[("466157049", 1), ("518995019", 1), ("703073504", 1)]);
    }
    for (n, id) in ids.iter().enumerate() {
        let mut order = paid.clone();
        order["id"] = json!(id);
        order["name"] = json!(format!("#{}", 1001 + n));
        shopify("orders/paid", serde_json::to_vec(&order).unwrap()).await;
    }
    functions.drain().await;
    let [first, second, third, fourth, _open] = ids.map(|id| dropflow_shared::domain::ids::OrderId::derive("shopify", "", &id.to_string()));
    let redact = |order: u64| {
        serde_json::to_vec(&json!({"shop_id": 954889, "shop_domain": "scenario.myshopify.com", "customer": {"id": 191167, "email": "bob.norman@hostmail.com"}, "orders_to_redact": [order]})).unwrap()
    };
    // Privacy: an erasure that waits for the order to close (the notifier carries it
    // out), and one of an order closed already (intake does).
    shopify("customers/data_request", fixture("shopify/customers-data_request.json")).await;
    shopify("customers/redact", redact(ids[3])).await;
    functions.drain().await;
    api(reqwest::Method::POST, format!("/vendor/orders/{fourth}/cancel"), Some(json!({"reason": "supplier out of stock"}))).await;
    functions.drain().await;
    api(reqwest::Method::POST, format!("/vendor/orders/{third}/cancel"), Some(json!({"reason": "supplier out of stock"}))).await;
    shopify("customers/redact", redact(ids[2])).await;
    functions.drain().await;
    // The vendor's day: listings, the SKU that waited claimed (its lines wait for the
    // operator's approval), two orders placed and shipped; a carrier delivers one, the
    // vendor marks the other.
    api(reqwest::Method::GET, "/vendor/orders".into(), None).await;
    api(reqwest::Method::GET, "/vendor/orders?state=awaiting_supplier".into(), None).await;
    api(reqwest::Method::GET, format!("/vendor/orders/{first}"), None).await;
    api(
        reqwest::Method::PUT,
        "/vendor/products/IPOD2008BLACK".into(),
        Some(json!({"supplier_name": "S", "product_url": "https://s.example/b", "supplier_cost": {"amount": "1.00", "currency": "USD"}})),
    )
    .await;
    functions.drain().await;
    for (order, number) in [(&first, "1Z5R89390357567127"), (&second, "RB123456785GB")] {
        api(reqwest::Method::POST, format!("/vendor/orders/{order}/supplier-order"), Some(json!({"supplier_order_ref": format!("AE-{number}")}))).await;
        let shipment = http
            .post(format!("{vendor_api}/vendor/orders/{order}/shipment"))
            .bearer_auth(&key)
            .header("Idempotency-Key", format!("ship-{number}"))
            .json(&json!({"tracking_number": number}));
        assert_eq!(shipment.send().await.unwrap().status(), 200);
    }
    functions.drain().await;
    assert_eq!(shop.lock().unwrap().creates, 2, "both parcels written back through storefront-sync");
    // What the site's webhooks missed, read back.
    let mut missed: Value = serde_json::from_slice(&fixture("woocommerce/order-processing.json")).unwrap();
    missed["date_modified_gmt"] = json!(functions.app.now().format("%Y-%m-%dT%H:%M:%S").to_string());
    missed["_links"] = json!({"self": [{"href": format!("{site}/wp-json/wc/v3/orders/727")}]});
    woo.lock().unwrap().list(missed);
    // And a Shopify order whose webhook never came (the function reads the shop's token).
    let mut lost: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
    lost["id"] = json!(450_789_999_u64);
    lost["updated_at"] = json!(functions.app.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    shop.lock().unwrap().list(lost);
    functions.app.map_sku("Bar3", "ipod-shop", "4.10 USD").await.unwrap();
    let reconciled =
        dropflow_shared::services::reconcile::reconcile(&functions.app_of("StorefrontReconcileFunction"), functions.app.now(), None).await.unwrap();
    assert_eq!((reconciled.shops, reconciled.queued), (2, 2), "{reconciled:?}");
    functions.drain().await;
    // Its parcel is written back to the site (which completes an order once its last
    // line ships, so storefront-sync reads the order's vendor orders).
    let woo_order = dropflow_shared::domain::ids::OrderId::derive("woocommerce", site.trim_start_matches("http://"), "727");
    api(reqwest::Method::POST, format!("/vendor/orders/{woo_order}/supplier-order"), Some(json!({"supplier_order_ref": "AE-W"}))).await;
    api(reqwest::Method::POST, format!("/vendor/orders/{woo_order}/shipment"), Some(json!({"tracking_number": "RB876543216GB"}))).await;
    functions.drain().await;
    let written = woo.lock().unwrap().orders["727"].notes.len();
    assert_eq!(written, 1, "written back to the site (a note: it has no Shipment Tracking extension)");
    let push = serde_json::to_vec(&json!({"event": "tracking_update", "event_id": "e-1", "ts": 1795000000, "msg": {"tracking_number": "1Z5R89390357567127", "slug": "ups", "tag": "Delivered", "checkpoints": [{"checkpoint_time": "2026-11-23T08:00:00Z", "message": "Delivered", "tag": "Delivered"}]}})).unwrap();
    let pushed = http
        .post(format!("{webhooks}/webhooks/tracking/aftership"))
        .header("aftership-hmac-sha256", sign(AFTERSHIP_SECRET, &push))
        .header("content-type", "application/json")
        .body(push);
    assert_eq!(pushed.send().await.unwrap().status(), 200);
    api(reqwest::Method::POST, format!("/vendor/orders/{second}/delivered"), Some(json!({}))).await;
    functions.drain().await;
    for path in ["/vendor/products", "/vendor/products/IPOD2008BLACK", "/vendor/balance", "/vendor/payouts"] {
        api(reqwest::Method::GET, path.into(), None).await;
    }
    api(reqwest::Method::DELETE, "/vendor/products/IPOD2008BLACK".into(), None).await;
    // supplier-sync places the supplier orders on auto: of the open order and of the one
    // reconciled (part of each: their other lines are manual), and of an order of the
    // automated SKU alone, which a CJ push has read back, ships and arrives whole (its
    // earnings held: the balance's ADD).
    let mut red_only = paid.clone();
    red_only["id"] = json!(450_789_480_u64);
    red_only["name"] = json!("#1080");
    red_only["line_items"] = json!(paid["line_items"].as_array().unwrap().iter().filter(|l| l["sku"] == "IPOD2008RED").cloned().collect::<Vec<_>>());
    shop.lock().unwrap().add_order("450789480", &[("518995019", 1)]);
    shopify("orders/paid", serde_json::to_vec(&red_only).unwrap()).await;
    functions.drain().await;
    let sync = || async { dropflow_shared::services::supplier::sync(&functions.app_of("SupplierSyncFunction"), functions.app.now(), None).await.unwrap() };
    assert_eq!(sync().await.placed, 3);
    functions.drain().await;
    let whole = dropflow_shared::domain::ids::OrderId::derive("shopify", "", "450789480");
    let purchase =
        functions.app.local.app.tables.purchases_of(&whole, &dropflow_shared::domain::ids::VendorId::parse("ipod-shop").unwrap(), 1).await.unwrap().remove(0);
    let number = purchase.out_order_id();
    cj.lock().unwrap().pay_all();
    cj.lock().unwrap().ship(&number, "YT2412345678901234");
    let (body, signature) = cj.lock().unwrap().push_of(&number, "m-1").unwrap();
    let pushed = http.post(format!("{webhooks}/webhooks/supplier/cj")).header("sign", signature).body(body);
    assert_eq!(pushed.send().await.unwrap().status(), 200);
    functions.drain().await;
    assert_eq!(sync().await.shipped, 1);
    functions.drain().await;
    cj.lock().unwrap().deliver(&number);
    functions.app.advance(chrono::Duration::hours(2));
    assert_eq!(sync().await.delivered, 1);
    functions.drain().await;
    let delivered =
        functions.app.local.app.tables.vendor_order(&whole, &dropflow_shared::domain::ids::VendorId::parse("ipod-shop").unwrap()).await.unwrap().unwrap();
    assert_eq!(delivered.state.as_str(), "delivered");
    // The customer's status page of the first order, and its JSON (naming its sellers).
    let mut status_app = functions.app_of("OrderStatusFunction");
    status_app.config = Arc::new(dropflow_shared::config::Config { status_shows_sellers: true, ..(*status_app.config).clone() });
    let token = status_app.config.status_keys.as_ref().expect("a status-link key").token(&first);
    let status_page = functions.serve(dropflow_shared::http::status_router(status_app)).await;
    for path in [format!("/status/{token}"), format!("/status/{token}.json")] {
        assert_eq!(http.get(format!("{status_page}{path}")).send().await.unwrap().status(), 200, "{path}");
    }
    // The operator's console: signed in, it finds orders every way, reads one and the
    // decisions queue, gives the open order's waiting line to the vendor and voids the
    // first's, holds and releases the vendor, and reads the dead letters; a vendor's key
    // is refused there.
    let operator_key = dropflow_shared::services::operator::create_operator_key(&functions.app.local.app, "alice").await.unwrap();
    let console = functions.serve(dropflow_shared::http::operator_router(functions.app_of("OperatorApiFunction"))).await;
    let open_order = dropflow_shared::domain::ids::OrderId::derive("shopify", "", &ids[4].to_string());
    let calls: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (reqwest::Method::GET, "/operator/me".into(), None),
        (reqwest::Method::GET, "/operator/orders".into(), None),
        (reqwest::Method::GET, "/operator/orders?state=routed".into(), None),
        (reqwest::Method::GET, "/operator/orders?vendor=ipod-shop".into(), None),
        (reqwest::Method::GET, "/operator/orders?q=%231005".into(), None),
        (reqwest::Method::GET, "/operator/orders?q=bob.norman%40hostmail.com".into(), None),
        (reqwest::Method::GET, "/operator/orders?q=RB123456785GB".into(), None),
        (reqwest::Method::GET, format!("/operator/orders/{open_order}"), None),
        (reqwest::Method::GET, "/operator/queue".into(), None),
        (reqwest::Method::GET, "/operator/vendors".into(), None),
        (reqwest::Method::GET, "/operator/dead-letters".into(), None),
        (
            reqwest::Method::POST,
            format!("/operator/orders/{open_order}/give"),
            Some(
                json!({"lines": ["703073504"], "vendor": "ipod-shop", "reason": "it stocks it", "supplier": {"supplier_name": "S", "product_url": "https://s.example/b", "cost": {"amount": "1.00", "currency": "USD"}}}),
            ),
        ),
        (reqwest::Method::POST, format!("/operator/orders/{first}/void"), Some(json!({"lines": ["703073504"], "reason": "discontinued"}))),
        (reqwest::Method::POST, "/operator/vendors/ipod-shop/hold".into(), Some(json!({"reason": "review"}))),
        (reqwest::Method::POST, "/operator/vendors/ipod-shop/release".into(), Some(json!({"reason": "reviewed"}))),
    ];
    operator_calls(&http, &console, &operator_key, calls).await;
    assert_eq!(http.get(format!("{console}/operator/me")).bearer_auth(&key).send().await.unwrap().status(), 403, "a vendor's key");
    functions.drain().await;
    // The schedules, as of a day long after: every clock due, every hold ended.
    let later = dropflow_scenarios::runtime_api::wall_clock() + chrono::Duration::days(120);
    let swept = dropflow_shared::services::sweep::sweep(&functions.app_of("SlaSweepFunction"), later, None).await.unwrap();
    assert!(swept.fired > 0, "the sweep fired: {swept:?}");
    functions.drain().await;
    let report = dropflow_shared::services::money::run(&functions.app_of("PayoutReleaseFunction"), later, None).await.unwrap();
    assert!(report.released > 0 && !report.payouts.is_empty(), "the payout ran: {report:?}");
    functions.drain().await;
    // The console's payment run: listed, exported, one payout marked paid, a run again.
    let paid = format!("/operator/payouts/{}/paid", report.payouts[0]);
    let payment_run: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (reqwest::Method::GET, "/operator/payouts".into(), None),
        (reqwest::Method::GET, "/operator/payouts/export".into(), None),
        (reqwest::Method::POST, paid, Some(json!({"reference": "SEPA-1", "reason": "sent"}))),
        (reqwest::Method::POST, "/operator/payouts/run".into(), Some(json!({"reason": "the weekly run"}))),
    ];
    operator_calls(&http, &console, &operator_key, payment_run).await;
    functions.drain().await;
    // Retention: long after, the sweep purges the closed orders' personal data, and
    // their lines that still wait come off their SKU's list.
    let purged = dropflow_shared::services::sweep::sweep(&functions.app_of("SlaSweepFunction"), later + chrono::Duration::days(365), None).await.unwrap();
    assert!(purged.purged > 0, "the sweep purged: {purged:?}");
    functions.drain().await;
    // A refund after the earnings were released: a clawback from the vendor.
    let refund = json!({"id": 509562969, "order_id": ids[0], "created_at": "2026-11-22T10:00:00-05:00", "note": "scratched",
        "refund_line_items": [{"id": 104689539, "quantity": 1, "line_item_id": 518995019, "subtotal": 195.67, "total_tax": 3.98}]});
    shopify("refunds/create", serde_json::to_vec(&refund).unwrap()).await;
    functions.drain().await;
    shopify("shop/redact", fixture("shopify/shop-redact.json")).await;
    functions.drain().await;
    // SES's feedback on a mail.
    let bounce = json!({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "someone@x.example"}]}, "mail": {"messageId": "m"}});
    functions.app.local.app.publisher.publish(QueueName::Notify, bounce.to_string()).await.unwrap();
    functions.drain().await;
    functions.calls.iter().map(|(f, calls)| (*f, calls.lock().unwrap().clone())).collect()
}

/// Makes each call of the operator's console at `console` with `key`; each must succeed.
async fn operator_calls(http: &reqwest::Client, console: &str, key: &str, calls: Vec<(reqwest::Method, String, Option<Value>)>) {
    for (method, path, body) in calls {
        let mut request = http.request(method, format!("{console}{path}")).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert!(status < 300, "{path}: {status} {}", response.text().await.unwrap_or_default());
    }
}

/// One statement of a function's policy on DynamoDB: its actions, its resources as
/// written, and its LeadingKeys patterns (None for any key).
type Statement = (BTreeSet<String>, Vec<String>, Option<Vec<String>>);

/// What a function's template policy allows of DynamoDB, one per statement.
fn allowed(template: &Yaml, function: &str) -> Vec<Statement> {
    let policies = &template["Resources"][function]["Properties"]["Policies"];
    let mut statements = Vec::new();
    for policy in policies.as_sequence().into_iter().flatten() {
        for statement in policy["Statement"].as_sequence().into_iter().flatten() {
            let actions: BTreeSet<String> = statement["Action"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
                .filter_map(|a| a.strip_prefix("dynamodb:"))
                .map(str::to_string)
                .collect();
            if actions.is_empty() {
                continue;
            }
            let resources = statement["Resource"].as_sequence().cloned().unwrap_or_else(|| vec![statement["Resource"].clone()]);
            let resources = resources.iter().map(|r| serde_yaml::to_string(r).unwrap()).collect();
            let leading = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                .as_sequence()
                .map(|keys| keys.iter().filter_map(|k| k.as_str()).map(str::to_string).collect());
            statements.push((actions, resources, leading));
        }
    }
    statements
}

/// Whether `family` (`ORDER#`) matches a LeadingKeys pattern (`ORDER#*`).
fn matches(pattern: &str, family: &str) -> bool {
    pattern.strip_suffix('*').map_or(pattern == family, |prefix| family.starts_with(prefix))
}

#[tokio::test]
async fn every_function_may_make_the_calls_it_makes_and_is_granted_nothing_it_never_calls() {
    let template: Yaml = serde_yaml::from_str(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml")).unwrap()).unwrap();
    let calls = an_order_life_through_every_function().await;
    let mut refused = Vec::new();
    for function in FUNCTIONS {
        let statements = allowed(&template, function);
        let made = &calls[function];
        for (action, index, family) in made {
            let permitted = statements.iter().any(|(actions, resources, leading)| {
                let on = match index {
                    None => resources.iter().any(|r| r.contains("Table.Arn")),
                    Some(index) => resources.iter().any(|r| r.contains(&format!("/index/{index}"))),
                };
                actions.contains(action) && on && leading.as_ref().is_none_or(|patterns| patterns.iter().any(|p| matches(p, family)))
            });
            if !permitted {
                refused.push(format!("{function} calls {action} on {} for {family}, which its policy does not allow", index.unwrap_or("the table")));
            }
        }
        let used: BTreeSet<&str> = made.iter().map(|(action, _, _)| action.as_str()).collect();
        for (actions, _, leading) in &statements {
            for action in actions.iter().filter(|a| !used.contains(a.as_str())) {
                refused.push(format!("{function} is granted dynamodb:{action}, which it never calls (it calls {used:?})"));
            }
            // Only its own key families, each one it uses.
            match leading {
                None => refused.push(format!("{function} may touch any key: no dynamodb:LeadingKeys condition")),
                Some(patterns) => {
                    for pattern in patterns.iter().filter(|p| !made.iter().any(|(action, _, family)| actions.contains(action) && matches(p, family))) {
                        refused.push(format!("{function} is granted keys {pattern}, which it never touches"));
                    }
                }
            }
        }
    }
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}
