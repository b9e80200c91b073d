//! The load generator against a real `serve` (in process, debug, embedded store): every
//! order it sends is answered and reaches its mails, so its numbers mean what they say.

use dropflow_local::Local;
use dropflow_shared::services::operator::{self, ProductInput};
use std::time::Duration;

async fn served() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let local = Local::open(dir.path()).unwrap();
    operator::add_vendor(&local.app, "ipod-shop", "iPod Shop", "orders@ipod-shop.example", None, None).await.unwrap();
    let product = ProductInput {
        sku: "IPOD2008GREEN",
        vendor_id: "ipod-shop",
        supplier_name: "AliExpress",
        product_url: "https://www.aliexpress.com/item/1.html",
        cost: "61.50",
        currency: "USD",
        variant: None,
        force: false,
        automation: Default::default(),
    };
    operator::add_product(&local.app, product).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(local.serve(listener));
    (url, dir)
}

fn plan(url: String, dir: &tempfile::TempDir, secret: &str, orders: usize) -> load::Plan {
    let fixture = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/shopify/orders-create-paid.json")).unwrap();
    load::Plan {
        url,
        secret: secret.into(),
        fixture: serde_json::from_slice(&fixture).unwrap(),
        orders,
        concurrency: 8,
        outbox: Some(dir.path().join("outbox")),
        first_id: 1,
        time_limit: Duration::from_secs(120),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_sent_is_answered_and_reaches_all_its_mails() {
    let (url, dir) = served().await;
    let report = load::run(&plan(url, &dir, "dropflow-local-shopify-secret", 60)).await.unwrap();
    assert_eq!((report.accepted, report.failed), (60, 0), "{report:?}");
    assert!(report.mails_per_order >= 2, "a customer and a vendor mail at least: {report:?}");
    assert_eq!(report.mails, 60 * report.mails_per_order, "{report:?}");
    assert!(report.end_to_end.is_some() && report.orders_per_second().unwrap() > 0.0, "{report:?}");
    assert!(report.latency_p50 <= report.latency_p99 && report.latency_p99 <= report.latency_max, "{report:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_another_secret_stops_the_run_at_its_warm_up_order() {
    let (url, dir) = served().await;
    let error = load::run(&plan(url, &dir, "not-the-server-secret", 10)).await.unwrap_err();
    assert!(error.contains("warm-up order was refused"), "{error}");
}
