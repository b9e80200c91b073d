//! dropflow's hot paths in process (BENCHMARKS.md, "Hot paths"), with criterion:
//!
//! - the webhook: verify + parse + enqueue of the public 3-line Shopify order, beside
//!   its floor measured in the same run (one HMAC-SHA256 over the body and one
//!   `serde_json::from_slice` into a `Value`). The queue is one that drops what it is
//!   given, so the number is our CPU, not SQLite's or SQS's;
//! - intake: parse + route + build the transaction (every item and event) of that order;
//! - a vendor's shipment request end to end on the embedded store: the HTTP router, the
//!   key, the order read, the transition and its commit to SQLite;
//! - rendering one email (the supplier brief's shape: text and HTML).
//!
//! `cargo bench -p hot-paths` measures (release profile); `cargo test -p hot-paths
//! --benches` runs each once, as CI does.

use async_trait::async_trait;
use base64::Engine;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use dropflow_shared::config::Config;
use dropflow_shared::domain::ids::{Sku, VendorId};
use dropflow_shared::domain::money::{Currency, Money};
use dropflow_shared::domain::order::{ProductMapping, route};
use dropflow_shared::mail::{Message, Section};
use dropflow_shared::ports::{DeadLetterQueue, Publisher, QueueError, QueueName};
use dropflow_shared::services::webhook::{Delivery, accept};
use dropflow_shared::services::{App, intake};
use dropflow_shared::sources::{self, IntakeMessage, Parsed};
use dropflow_shared::store::Tables;
use hmac::{Hmac, Mac};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

const SECRET: &str = "bench-shopify-secret";

fn order() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/shopify/orders-create-paid.json")).expect("the Shopify fixture")
}

fn signature(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn config() -> Config {
    Config::from_lookup(
        |name| match name {
            "SHOPIFY_WEBHOOK_SECRET" => Some(SECRET.into()),
            "STORE_NAME" => Some("bench".into()),
            "SENDER_EMAIL" => Some("orders@bench.example".into()),
            "OPERATOR_EMAIL" => Some("ops@bench.example".into()),
            _ => None,
        },
        |_| None,
    )
    .expect("config")
}

/// A queue that takes every message and keeps none: the webhook's own work, measured.
struct Dropping;

#[async_trait]
impl Publisher for Dropping {
    async fn publish(&self, _queue: QueueName, body: String) -> Result<(), QueueError> {
        black_box(body);
        Ok(())
    }
    async fn park(&self, _dead_letters: DeadLetterQueue, body: String, _reason: &str) -> Result<(), QueueError> {
        black_box(body);
        Ok(())
    }
}

/// The app on an embedded store in `dir`, with the vendor, its key and the fixture's SKUs.
fn app(dir: &std::path::Path, rt: &tokio::runtime::Runtime) -> (App, String) {
    let (system, _) = dropflow_shared::compose::embedded(dir, dropflow_shared::compose::Settings::new(config())).expect("embedded store");
    let app = system.app;
    let key = rt.block_on(async {
        dropflow_shared::services::operator::add_vendor(&app, "ipod-shop", "iPod Shop", "orders@ipod-shop.example", None, None).await.unwrap();
        for (sku, mapping) in mappings() {
            app.tables.put_product(&mapping, None).await.unwrap_or_else(|e| panic!("{sku}: {e}"));
        }
        dropflow_shared::services::operator::create_key(&app, "ipod-shop").await.unwrap()
    });
    (app, key)
}

fn mappings() -> HashMap<Sku, ProductMapping> {
    let usd = Currency::parse("USD").unwrap();
    ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
        .into_iter()
        .map(|sku| {
            let sku = Sku::parse(sku).unwrap();
            let mapping = ProductMapping {
                sku: sku.clone(),
                vendor_id: VendorId::parse("ipod-shop").unwrap(),
                supplier_name: "AliExpress".into(),
                product_url: "https://www.aliexpress.com/item/1.html".into(),
                supplier_cost: Money::parse_decimal("61.50", usd).unwrap(),
                supplier_variant: None,
                awaiting_approval: false,
                mode: Default::default(),
                link: None,
            };
            (sku, mapping)
        })
        .collect()
}

fn webhook(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(dir.path(), &rt);
    let app = App { publisher: Arc::new(Dropping), ..app };
    let body = order();
    let signature = signature(&body);
    let shopify = sources::source("shopify").unwrap();
    let mut group = c.benchmark_group("webhook");
    group.bench_function("floor: HMAC-SHA256 + JSON parse", |b| {
        b.iter(|| {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(black_box(&body));
            let tag = mac.finalize().into_bytes();
            let value: serde_json::Value = serde_json::from_slice(black_box(&body)).unwrap();
            black_box((tag, value))
        })
    });
    group.bench_function("verify + parse + enqueue (3-line Shopify order)", |b| {
        b.iter_batched(
            || Delivery {
                source: shopify,
                signature: Some(signature.clone()),
                topic: "orders/paid".into(),
                shop: "jsmith.myshopify.com".into(),
                delivery_id: Some("bench-1".into()),
                body: body.clone(),
            },
            |delivery| rt.block_on(accept(&app, delivery)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// The intake queue's message for a Shopify `orders/paid` of `body`.
fn paid_message(body: String) -> IntakeMessage {
    IntakeMessage { source: "shopify".into(), topic: "orders/paid".into(), shop: "jsmith.myshopify.com".into(), claimed_shop: None, delivery_id: None, body }
}

fn intake(c: &mut Criterion) {
    let body = String::from_utf8(order()).unwrap();
    let mappings = mappings();
    let sla = config().sla;
    // A fixed instant: the measured work does not depend on the day.
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z").unwrap().to_utc();
    c.bench_function("intake: parse + route + build the transaction (3-line Shopify order)", |b| {
        b.iter(|| {
            let message = paid_message(body.clone());
            let Parsed::Order(order, _) = sources::parse(&message).unwrap() else { panic!("an order") };
            let routing = route(&order.lines, |sku| mappings.get(sku).cloned());
            let (record, mut writes) = intake::routed(*order, routing, now, &sla, None).unwrap();
            for event in intake::routing_events(&record) {
                writes.push(Tables::put_event(&event).unwrap());
            }
            black_box(writes)
        })
    });
}

fn shipment(c: &mut Criterion) {
    use tower::ServiceExt;
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (app, key) = app(dir.path(), &rt);
    let router = dropflow_shared::http::vendor_router(app.clone());
    let body = String::from_utf8(order()).unwrap();
    let mut n = 0u64;
    c.bench_function("vendor API: record a shipment, end to end on the embedded store", |b| {
        b.iter_batched(
            || {
                // A new order ordered from the supplier, ready to ship (not timed).
                n += 1;
                let body = body.replacen("450789469", &format!("9{n:08}"), 1);
                rt.block_on(async {
                    let message = paid_message(body);
                    intake::handle(&app, &message).await.unwrap();
                    let (orders, _) = app
                        .tables
                        .vendor_orders(&VendorId::parse("ipod-shop").unwrap(), Some(dropflow_shared::domain::vendor_order::VoState::AwaitingSupplier), None, 1)
                        .await
                        .unwrap();
                    let id = orders[0].id();
                    let request = dropflow_shared::domain::vendor_order::Command::PlaceWithSupplier {
                        supplier_order_ref: dropflow_shared::domain::ids::SupplierOrderRef::parse("AE-1").unwrap(),
                        lines: None,
                    };
                    dropflow_shared::services::vendor::act(
                        &app,
                        &orders[0].vendor_id,
                        &id,
                        request,
                        &dropflow_shared::services::vendor::Preconditions { if_match: None, idempotency: None },
                    )
                    .await
                    .unwrap();
                    // A parcel of its own: one number carries at most a few orders.
                    (id, format!("LP{n:014}"))
                })
            },
            |(id, number)| {
                let request = axum::http::Request::post(format!("/vendor/orders/{id}/shipment"))
                    .header("authorization", format!("Bearer {key}"))
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(format!(r#"{{"tracking_number": "{number}"}}"#)))
                    .unwrap();
                let response = rt.block_on(router.clone().oneshot(request)).unwrap();
                assert_eq!(response.status(), 200);
            },
            BatchSize::PerIteration,
        )
    });
}

fn email(c: &mut Criterion) {
    let rows = |n: usize| (0..n).map(|i| (format!("Field {i}"), format!("Value <{i}> & more"))).collect();
    let message = Message {
        subject: "New order #1001: order from your supplier by Mon 23 Nov 2026 10:00 UTC".into(),
        heading: "New order #1001 for Bob Norman".into(),
        intro: vec![
            "Order these items from your supplier by Mon 23 Nov 2026 10:00 UTC, shipping straight to the customer's address below.".into(),
            "Then record the supplier order.".into(),
        ],
        sections: (0..4)
            .map(|i| Section {
                links: Vec::new(),
                title: format!("Section {i}"),
                rows: rows(7),
                lines: vec!["123 Amoebobacterieae St".into(), "Ottawa ON K2P0V6".into()],
            })
            .collect(),
        action: None,
    };
    c.bench_function("render one email (text + HTML, a supplier brief's size)", |b| {
        b.iter(|| black_box(message.render("bench store", "orders@ipod-shop.example", "event#to").unwrap()))
    });
}

criterion_group!(benches, webhook, intake, shipment, email);
criterion_main!(benches);
