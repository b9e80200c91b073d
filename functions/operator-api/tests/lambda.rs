//! The operator-api binary in a Lambda-like run: API Gateway requests from a local
//! Runtime API, its real clients on the moto stack of `scripts/test.sh`.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::runtime_api::{function_env, http_event, invoke_once};
use dropflow_shared::services::operator;
use std::path::Path;

#[tokio::test]
async fn an_operator_key_lists_the_orders_and_a_vendor_key_or_none_is_refused() {
    let stack = AwsStack::create(None).await;
    let (app, _) = stack.open().await;
    operator::add_vendor(&app, "lamp-co", "Lamp Co", "orders@lamp.example", None, None).await.unwrap();
    let vendor_key = operator::create_key(&app, "lamp-co").await.unwrap();
    let operator_key = operator::create_operator_key(&app, "alice").await.unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_operator-api"));
    let env = function_env(&stack);

    let bearer = format!("Bearer {operator_key}");
    let (kind, answer) = invoke_once(binary, &env, http_event("GET", "/operator/orders", &[("authorization", &bearer)], "")).await;
    assert_eq!((kind.as_str(), answer["statusCode"].as_u64()), ("response", Some(200)), "{answer}");
    let listing: serde_json::Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(listing["orders"], serde_json::json!([]));

    let (_, answer) = invoke_once(binary, &env, http_event("GET", "/operator/orders", &[("authorization", &format!("Bearer {vendor_key}"))], "")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(403), "a vendor's key: {answer}");
    let (_, answer) = invoke_once(binary, &env, http_event("GET", "/operator/orders", &[], "")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(401), "{answer}");

    // The console page is static, its sign-in inside it.
    let (_, answer) = invoke_once(binary, &env, http_event("GET", "/operator/app", &[], "")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(200), "{answer}");

    // It serves only its own routes: no vendor route is answered here.
    let (_, answer) = invoke_once(binary, &env, http_event("GET", "/vendor/orders", &[("authorization", &format!("Bearer {vendor_key}"))], "")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(404), "{answer}");
}
