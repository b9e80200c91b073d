//! The order-intake binary in a Lambda-like run: one SQS batch from a local Runtime
//! API, its real clients on the moto stack of `scripts/test.sh`.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::fixture;
use dropflow_scenarios::runtime_api::{function_env, invoke_once_logged, sqs_batch};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::ports::DeadLetterQueue;
use std::path::Path;

#[tokio::test]
async fn a_batch_is_routed_and_the_bad_message_parked_in_the_intake_dlq() {
    let stack = AwsStack::create(None).await;
    let order = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    let good = serde_json::json!({"source": "shopify", "topic": "orders/paid", "shop": "lambda.myshopify.com", "delivery_id": "d-1", "body": order});
    let batch = sqs_batch(&[good.to_string(), "not a webhook".to_string()]);

    let (kind, answer, stdout) = invoke_once_logged(Path::new(env!("CARGO_BIN_EXE_order-intake")), &function_env(&stack), batch).await;

    assert_eq!(kind, "response", "{answer}");
    assert_eq!(answer["batchItemFailures"], serde_json::json!([]), "no retry can fix the bad one");
    // The invocation's metrics line (CloudWatch EMF): one order accepted, one parked.
    let metrics = stdout.lines().find(|l| l.contains("\"_aws\"")).unwrap_or_else(|| panic!("no metrics line in {stdout}"));
    let metrics: serde_json::Value = serde_json::from_str(metrics).unwrap();
    assert_eq!(
        (metrics["function"].as_str(), metrics["OrdersAccepted"].as_u64(), metrics["DeadLettered"].as_u64()),
        (Some("order-intake"), Some(1), Some(1)),
        "{metrics}"
    );
    let (app, queues) = stack.open().await;
    let parked = queues.dead_letters(DeadLetterQueue::Intake).await.unwrap();
    assert_eq!(parked.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(), ["not a webhook"]);
    let stored = app.tables.order(&OrderId::derive("shopify", "", "450789469")).await.unwrap();
    assert!(stored.is_some(), "the order is in DynamoDB");
}
