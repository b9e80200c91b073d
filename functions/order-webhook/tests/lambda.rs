//! The order-webhook binary in a Lambda-like run: one API Gateway request from a local
//! Runtime API, its real clients on the moto stack of `scripts/test.sh`.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::runtime_api::{function_env, http_event, invoke_once};
use dropflow_scenarios::{SHOPIFY_SECRET, fixture, sign};
use dropflow_shared::ports::QueueName;
use std::path::Path;

#[tokio::test]
async fn a_signed_webhook_is_queued_and_a_forged_one_is_401() {
    let stack = AwsStack::create(None).await;
    let binary = Path::new(env!("CARGO_BIN_EXE_order-webhook"));
    let body = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    let signature = sign(SHOPIFY_SECRET, body.as_bytes());
    let headers = [("content-type", "application/json"), ("x-shopify-topic", "orders/paid"), ("x-shopify-shop-domain", "lambda.myshopify.com")];

    let mut env = function_env(&stack);
    // Where the secret is (bootstrap stored it), never the secret itself.
    env.push(("SHOPIFY_WEBHOOK_SECRET_ARN".to_string(), dropflow_shared::adapters::aws::webhook_secret_name(&stack.name, "shopify")));
    let signed: Vec<(&str, &str)> = headers.iter().copied().chain([("x-shopify-hmac-sha256", signature.as_str())]).collect();
    let (kind, answer) = invoke_once(binary, &env, http_event("POST", "/webhooks/shopify", &signed, &body)).await;
    assert_eq!((kind.as_str(), answer["statusCode"].as_u64()), ("response", Some(200)), "{answer}");

    let forged: Vec<(&str, &str)> = headers.iter().copied().chain([("x-shopify-hmac-sha256", "Zm9yZ2Vk")]).collect();
    let (_, answer) = invoke_once(binary, &env, http_event("POST", "/webhooks/shopify", &forged, &body)).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(401), "{answer}");

    // It serves only its own route: the vendor API is not here.
    let (_, answer) = invoke_once(binary, &env, http_event("GET", "/vendor/orders", &[("authorization", "Bearer dfk_any")], "")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(404), "{answer}");

    let (_, queues) = stack.open().await;
    let queued = queues.receive(QueueName::Intake, 10, std::time::Duration::from_secs(1)).await.unwrap();
    assert_eq!(queued.len(), 1, "only the signed webhook reached the intake queue");
    assert!(queued[0].body.contains("lambda.myshopify.com"));
}

/// The webhook secrets are read in the background as the function starts: when Secrets
/// Manager cannot give them (here, a secret that does not exist), a signed delivery is
/// answered 503 so that the storefront redelivers; it is never verified against no
/// secret (a 401 would tell the storefront the delivery was forged) and nothing is
/// queued.
#[tokio::test]
async fn a_webhook_secret_that_cannot_be_read_is_a_503_and_nothing_is_queued() {
    let stack = AwsStack::create(None).await;
    let binary = Path::new(env!("CARGO_BIN_EXE_order-webhook"));
    let body = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    let signature = sign(SHOPIFY_SECRET, body.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("x-shopify-topic", "orders/paid"),
        ("x-shopify-shop-domain", "lambda.myshopify.com"),
        ("x-shopify-hmac-sha256", signature.as_str()),
    ];
    let mut env = function_env(&stack);
    env.push(("SHOPIFY_WEBHOOK_SECRET_ARN".to_string(), format!("{}/webhook/not-created", stack.name)));
    let (kind, answer) = invoke_once(binary, &env, http_event("POST", "/webhooks/shopify", &headers, &body)).await;
    assert_eq!((kind.as_str(), answer["statusCode"].as_u64()), ("response", Some(503)), "{answer}");
    let (_, queues) = stack.open().await;
    assert!(queues.receive(QueueName::Intake, 10, std::time::Duration::from_secs(1)).await.unwrap().is_empty());
}
