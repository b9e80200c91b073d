//! The vendor-api binary in a Lambda-like run: API Gateway requests from a local
//! Runtime API, its real clients on the moto stack of `scripts/test.sh`.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::runtime_api::{function_env, http_event, invoke_once};
use dropflow_shared::services::operator;
use std::path::Path;

#[tokio::test]
async fn a_vendor_lists_its_orders_with_its_key_and_gets_401_without() {
    let stack = AwsStack::create(None).await;
    let (app, _) = stack.open().await;
    operator::add_vendor(&app, "lamp-co", "Lamp Co", "orders@lamp.example", None, None).await.unwrap();
    let key = operator::create_key(&app, "lamp-co").await.unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_vendor-api"));

    let bearer = format!("Bearer {key}");
    let (kind, answer) = invoke_once(binary, &function_env(&stack), http_event("GET", "/vendor/orders", &[("authorization", &bearer)], "")).await;
    assert_eq!((kind.as_str(), answer["statusCode"].as_u64()), ("response", Some(200)), "{answer}");
    let listing: serde_json::Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(listing["orders"], serde_json::json!([]));

    let (_, answer) = invoke_once(binary, &function_env(&stack), http_event("GET", "/vendor/orders", &[], "")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(401), "{answer}");

    // It serves only its own routes: no webhook is taken here.
    let (_, answer) = invoke_once(binary, &function_env(&stack), http_event("POST", "/webhooks/shopify", &[("x-shopify-topic", "orders/paid")], "{}")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(404), "{answer}");
}
