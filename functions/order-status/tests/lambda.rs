//! The order-status binary in a Lambda-like run: API Gateway requests from a local
//! Runtime API, its real clients on the moto stack of `scripts/test.sh`. It shows an
//! order's page to its link, 404 to an altered one, and serves nothing else.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::fixture;
use dropflow_scenarios::runtime_api::{function_env, http_event, invoke_once};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::domain::status_link::StatusKeys;
use dropflow_shared::handlers::{consume, sqs_event};
use dropflow_shared::ports::QueueName;
use std::path::Path;
use std::time::Duration;

const KEYS: &str = "k2:a-status-link-key-for-the-lambda-test-000";

#[tokio::test]
async fn an_orders_link_opens_its_page_an_altered_one_is_404_and_nothing_else_is_served() {
    let stack = AwsStack::create(None).await;
    let (app, queues) = stack.open().await;
    let order = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    let message = serde_json::json!({"source": "shopify", "topic": "orders/paid", "shop": "lambda.myshopify.com", "delivery_id": "d-1", "body": order});
    app.publisher.publish(QueueName::Intake, message.to_string()).await.unwrap();
    let intake = queues.receive(QueueName::Intake, 10, Duration::from_secs(1)).await.unwrap();
    assert!(consume(&app, QueueName::Intake, sqs_event(&intake)).await.batch_item_failures.is_empty());
    let token = StatusKeys::parse(KEYS).unwrap().token(&OrderId::derive("shopify", "", "450789469"));
    let binary = Path::new(env!("CARGO_BIN_EXE_order-status"));
    let mut env = function_env(&stack);
    env.push(("STATUS_LINK_KEYS".into(), KEYS.into()));

    let (kind, answer) = invoke_once(binary, &env, http_event("GET", &format!("/status/{token}"), &[("accept-language", "de")], "")).await;
    assert_eq!((kind.as_str(), answer["statusCode"].as_u64()), ("response", Some(200)), "{answer}");
    let page = answer["body"].as_str().unwrap();
    assert!(page.contains("Ihre Bestellung #1001") && page.contains("Wird beim Hersteller vorbereitet"), "{page}");
    assert_eq!(answer["headers"]["cache-control"], "private, max-age=60");

    let last = if token.ends_with('A') { 'B' } else { 'A' };
    let altered = format!("{}{last}", &token[..token.len() - 1]);
    let (_, answer) = invoke_once(binary, &env, http_event("GET", &format!("/status/{altered}"), &[], "")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(404), "{answer}");
    let (_, answer) = invoke_once(binary, &env, http_event("GET", "/vendor/orders", &[("authorization", "Bearer dfk_any")], "")).await;
    assert_eq!(answer["statusCode"].as_u64(), Some(404), "{answer}");
}
