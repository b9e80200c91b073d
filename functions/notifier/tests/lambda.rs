//! The notifier binary in a Lambda-like run: one SQS batch of real events from a local
//! Runtime API, its real clients on the moto stack of `scripts/test.sh`; the mail
//! lands in moto's SES, once even when the batch comes twice.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::fixture;
use dropflow_scenarios::runtime_api::{function_env, invoke_once, sqs_batch};
use dropflow_shared::handlers::{consume, sqs_event};
use dropflow_shared::ports::QueueName;
use dropflow_shared::services::relay::relay_from;
use std::path::Path;
use std::time::Duration;

#[tokio::test]
async fn events_are_mailed_through_ses_once() {
    let stack = AwsStack::create(None).await;
    let (app, queues) = stack.open().await;
    // Intake (in process) commits the order's events; the relay (in process, on the
    // table's stream) sends them to the notify queue.
    let order = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    app.publisher
        .publish(
            QueueName::Intake,
            serde_json::json!({"source": "shopify", "topic": "orders/paid", "shop": "lambda.myshopify.com", "delivery_id": "d-1", "body": order}).to_string(),
        )
        .await
        .unwrap();
    let intake = queues.receive(QueueName::Intake, 10, Duration::from_secs(1)).await.unwrap();
    assert!(consume(&app, QueueName::Intake, sqs_event(&intake)).await.batch_item_failures.is_empty());
    let feed = stack.feed().await;
    assert!(relay_from(&app, &feed, 100).await.unwrap() > 0, "the stream carried the committed events");
    let mut events = Vec::new();
    for _ in 0..5 {
        events.extend(queues.receive(QueueName::Notify, 10, Duration::from_secs(1)).await.unwrap().into_iter().map(|m| m.body));
    }
    assert!(!events.is_empty(), "the relay sent the events on");

    let binary = Path::new(env!("CARGO_BIN_EXE_notifier"));
    for _ in 0..2 {
        let (kind, answer) = invoke_once(binary, &function_env(&stack), sqs_batch(&events)).await;
        assert_eq!((kind.as_str(), &answer["batchItemFailures"]), ("response", &serde_json::json!([])), "{answer}");
    }
    let sent = stack.mail_box().sent().await;
    let subjects: Vec<&str> = sent.iter().filter_map(|m| m["subject"].as_str()).collect();
    assert!(subjects.iter().any(|s| s.contains("#1001 confirmed")), "{subjects:?}");
    let mut distinct = subjects.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), subjects.len(), "no mail twice: {subjects:?}");
}
