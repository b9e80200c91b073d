//! Storefront calls per parcel written back, counted at the stand-ins, and the
//! write-back's latency from the vendor's shipment request to the storefront's create
//! call (embedded backend, in process: the relay and the notifier run when the test
//! delivers, with no poll interval). Prints what `BENCHMARKS.md` records
//! (`-- --nocapture`) and holds the counts to what they are, so that a change that adds
//! a call fails here first. The latency is printed, never asserted.

use dropflow_scenarios::{Backend, SHOPIFY_SECRET, TestApp, WOOCOMMERCE_SECRET, fixture, spawn_app_configured};
use dropflow_shared::domain::ids::OrderId;
use reqwest::Method;
use serde_json::{Value, json};

const SHOP: &str = "lumen.myshopify.com";
/// Parcels shipped (one order each) for the latency.
const PARCELS: u64 = 12;

async fn ship(app: &TestApp, key: &str, order_id: &str, number: &str) -> std::time::Instant {
    let path = |step: &str| format!("/vendor/orders/{order_id}/{step}");
    let (status, body, _) = app.vendor(Method::POST, &path("supplier-order"), key, Some(json!({"supplier_order_ref": "AE-1"}))).await;
    assert_eq!(status, 200, "{body}");
    app.deliver().await;
    let sent = std::time::Instant::now();
    let (status, body, _) = app.vendor(Method::POST, &path("shipment"), key, Some(json!({"tracking_number": number}))).await;
    assert_eq!(status, 200, "{body}");
    app.deliver().await;
    sent
}

/// A valid S10 number of serial `serial` (eight digits), Royal Mail's.
fn royal_mail(serial: u64) -> String {
    let digits: Vec<u64> = format!("{serial:08}").bytes().map(|b| u64::from(b - b'0')).collect();
    let sum: u64 = digits.iter().zip([8, 6, 4, 2, 3, 5, 9, 7]).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    };
    format!("RB{serial:08}{check}GB")
}

fn quantiles(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9), ms[ms.len() - 1])
}

#[tokio::test]
async fn shopify_takes_one_read_and_one_write_per_parcel() {
    let (endpoint, shop) = dropflow_scenarios::shopify_admin::start(SHOP).await;
    let token = format!("{SHOP}={}", dropflow_scenarios::shopify_admin::TOKEN);
    let settings = [("SHOPIFY_ADMIN_TOKENS", token.as_str()), ("SHOPIFY_ADMIN_ENDPOINT", endpoint.as_str())];
    let app = spawn_app_configured(Backend::Embedded, None, &settings).await;
    let key = app.onboard("vendor-a", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    let mut latencies = Vec::new();
    for k in 0..PARCELS {
        let id = 450789469 + k;
        shop.lock().unwrap().add_order(&id.to_string(), &[("466157049", 1), ("518995019", 1), ("703073504", 1)]);
        let mut order: Value = serde_json::from_slice(&fixture("shopify/orders-create-paid.json")).unwrap();
        order["id"] = json!(id);
        order["name"] = json!(format!("#{}", 2000 + k));
        order["order_number"] = json!(2000 + k);
        let answer = app.shopify_webhook_from(Some(SHOP), "orders/paid", &serde_json::to_vec(&order).unwrap(), SHOPIFY_SECRET).await;
        assert_eq!(answer.status(), 200);
        app.deliver().await;
        let calls_before = shop.lock().unwrap().calls;
        let sent = ship(&app, &key, OrderId::derive("shopify", "", &id.to_string()).as_str(), &royal_mail(10_000_000 + k)).await;
        let shop = shop.lock().unwrap();
        assert_eq!(shop.calls - calls_before, 2, "the order's state read, then one fulfillmentCreate of its one fulfillment order");
        latencies.push(shop.created_at.last().expect("a fulfillment").duration_since(sent).as_secs_f64() * 1000.0);
    }
    let (median, p90, max) = quantiles(latencies);
    println!(
        "shopify: 2 calls per parcel (1 read, 1 write per fulfillment order); shipment request -> fulfillmentCreate over {PARCELS} parcels: median {median:.1} ms, p90 {p90:.1} ms, max {max:.1} ms"
    );
}

#[tokio::test]
async fn woocommerce_takes_two_calls_per_parcel_and_two_more_to_complete() {
    for extension in [true, false] {
        let (base, site) = dropflow_scenarios::woocommerce_api::start().await;
        site.lock().unwrap().tracking_extension = extension;
        site.lock().unwrap().add_order("727");
        let keys = format!("{base}={}:{}", dropflow_scenarios::woocommerce_api::CONSUMER_KEY, dropflow_scenarios::woocommerce_api::CONSUMER_SECRET);
        let app = spawn_app_configured(Backend::Embedded, None, &[("WOOCOMMERCE_API_KEYS", keys.as_str())]).await;
        let a = app.onboard("vendor-a", &[]).await;
        app.map_sku("Foo2", "vendor-a", "3.00 USD").await.unwrap();
        let b = app.onboard("vendor-b", &[]).await;
        app.map_sku("Bar3", "vendor-b", "4.10 USD").await.unwrap();
        let mut order: Value = serde_json::from_slice(&fixture("woocommerce/order-processing.json")).unwrap();
        order["line_items"][0]["sku"] = json!("Foo2");
        order["_links"] = json!({"self": [{"href": format!("{base}/wp-json/wc/v3/orders/727")}]});
        let answer = app.woocommerce_webhook_from(&format!("{base}/"), "order.created", &serde_json::to_vec(&order).unwrap(), WOOCOMMERCE_SECRET).await;
        assert_eq!(answer.status(), 200);
        app.deliver().await;
        let id = OrderId::derive("woocommerce", base.trim_start_matches("http://"), "727").to_string();
        let mut counts = Vec::new();
        for (key, number) in [(&a, royal_mail(20_000_001)), (&b, royal_mail(20_000_002))] {
            let before = site.lock().unwrap().requests;
            ship(&app, key, &id, &number).await;
            counts.push(site.lock().unwrap().requests - before);
        }
        let what = if extension { "tracking items" } else { "notes" };
        // The first parcel asks for the extension's providers (404 without it), once per
        // process.
        assert_eq!(counts, [3, 4], "{what}: list and add per parcel; the last one reads the order and completes it");
        println!(
            "woocommerce ({what}): first parcel {} calls (the providers asked once per process), last parcel {} (its list and add, then the order read and completed)",
            counts[0], counts[1]
        );
        assert!(site.lock().unwrap().refused.is_empty());
    }
}
