//! The storefront-reconcile binary in a Lambda-like run: an EventBridge scheduled event
//! from a local Runtime API, its real clients on the moto stack of `scripts/test.sh`,
//! a WooCommerce site's REST API stand-in. An order the site lists as changed is put on
//! the intake queue once: the second run reads it again (the cursor's second of
//! overlap) and the intake, not the poll, drops it.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::fixture;
use dropflow_scenarios::runtime_api::{function_env, invoke_once, scheduled_event, wall_clock};
use dropflow_scenarios::woocommerce_api::{CONSUMER_KEY, CONSUMER_SECRET};
use dropflow_shared::ports::QueueName;
use std::path::Path;
use std::time::Duration;

#[tokio::test]
async fn a_scheduled_run_queues_what_the_site_changed_and_moves_its_cursor() {
    let stack = AwsStack::create(None).await;
    let (_, queues) = stack.open().await;
    let (site, woo) = dropflow_scenarios::woocommerce_api::start().await;
    let mut order: serde_json::Value = serde_json::from_slice(&fixture("woocommerce/order-processing.json")).unwrap();
    order["date_modified_gmt"] = serde_json::json!((wall_clock() - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S").to_string());
    order["_links"] = serde_json::json!({"self": [{"href": format!("{site}/wp-json/wc/v3/orders/727")}]});
    woo.lock().unwrap().list(order);
    let mut env = function_env(&stack);
    env.push(("WOOCOMMERCE_API_KEYS".into(), format!("{site}={CONSUMER_KEY}:{CONSUMER_SECRET}")));
    let binary = Path::new(env!("CARGO_BIN_EXE_storefront-reconcile"));

    let (kind, answer) = invoke_once(binary, &env, scheduled_event("dropflow-StorefrontReconcile")).await;
    assert_eq!(kind, "response", "{answer}");
    assert_eq!((answer["shops"].as_u64(), answer["read"].as_u64(), answer["queued"].as_u64()), (Some(1), Some(1), Some(1)), "{answer}");
    let queued = queues.receive(QueueName::Intake, 10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].body.contains("\"order.updated\""), "as its webhook would carry it: {}", queued[0].body);

    let (_, again) = invoke_once(binary, &env, scheduled_event("dropflow-StorefrontReconcile")).await;
    assert_eq!(again["read"].as_u64(), Some(1), "only the cursor's own second again: {again}");
    let woo = woo.lock().unwrap();
    assert!(woo.refused.is_empty(), "{:?}", woo.refused);
    assert_eq!(woo.listings.len(), 2);
    assert_ne!(woo.listings[0]["modified_after"], woo.listings[1]["modified_after"], "the second run starts from the cursor the first moved");
}
