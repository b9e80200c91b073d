//! The queue consumers as their event source mappings drive them, on both backends: a
//! batch is processed message by message, and only the messages that failed are
//! reported back (`ReportBatchItemFailures`), so one bad message never fails, nor
//! repeats, its neighbours.

use dropflow_scenarios::backend::open_ports;
use dropflow_scenarios::{Backend, fixture, on_both_backends};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::handlers::{consume, sqs_event};
use dropflow_shared::ports::QueueName;
use std::time::Duration;

async fn one_bad_message_fails_alone_in_its_batch(backend: Backend) {
    let ports = open_ports(backend, 30).await;
    let order = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    let good = serde_json::json!({"source": "shopify", "topic": "orders/paid", "shop": "batch.myshopify.com", "delivery_id": "d-1", "body": order});
    ports.app.publisher.publish(QueueName::Intake, good.to_string()).await.unwrap();
    ports.app.publisher.publish(QueueName::Intake, "this is not a webhook".into()).await.unwrap();
    let mut received = Vec::new();
    for _ in 0..10 {
        received.extend(ports.queues.receive(QueueName::Intake, 10, Duration::from_secs(1)).await.unwrap());
        if received.len() == 2 {
            break;
        }
    }
    assert_eq!(received.len(), 2);
    let bad_id = received.iter().find(|m| m.body.starts_with("this")).map(|m| m.message_id.clone()).unwrap();

    let response = consume(&ports.app, QueueName::Intake, sqs_event(&received)).await;

    let failed: Vec<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
    assert_eq!(failed, [bad_id]);
    let routed = ports.app.tables.order(&OrderId::derive("shopify", "", "450789469")).await.unwrap();
    assert!(routed.is_some(), "the good message was processed");
}

on_both_backends!(one_bad_message_fails_alone_in_its_batch);
