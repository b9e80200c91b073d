//! The queue consumers as their event source mappings drive them, on both backends: a
//! batch is processed message by message, and only the messages that failed are
//! reported back (`ReportBatchItemFailures`), so one bad message never fails, nor
//! repeats, its neighbours; a message no retry can fix is parked in its dead-letter
//! queue at once, with the reason.

use dropflow_scenarios::backend::open_ports;
use dropflow_scenarios::{Backend, fixture, on_both_backends};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::handlers::{consume, sqs_event};
use dropflow_shared::ports::{DeadLetterQueue, QueueName};
use std::time::Duration;

async fn a_poison_message_is_parked_at_once_and_its_neighbours_processed(backend: Backend) {
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

    let response = consume(&ports.app, QueueName::Intake, sqs_event(&received)).await;

    assert!(response.batch_item_failures.is_empty(), "nothing is left to a retry that cannot help");
    let parked = ports.queues.dead_letters(DeadLetterQueue::Intake).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].body, "this is not a webhook");
    assert!(parked[0].reason.as_deref().is_some_and(|r| r.contains("unreadable message")), "{parked:?}");
    let routed = ports.app.tables.order(&OrderId::derive("shopify", "", "450789469")).await.unwrap();
    assert!(routed.is_some(), "the good message was processed");
}

async fn two_deliveries_of_one_order_in_one_batch_resolve_at_once(backend: Backend) {
    let ports = open_ports(backend, 30).await;
    dropflow_shared::services::operator::add_vendor(&ports.app, "ipod-shop", "iPod Shop", "orders@ipod-shop.example", None).await.unwrap();
    let order = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    let message = serde_json::json!({"source": "shopify", "topic": "orders/paid", "shop": "batch.myshopify.com", "delivery_id": "d-1", "body": order}).to_string();
    for _ in 0..2 {
        ports.app.publisher.publish(QueueName::Intake, message.clone()).await.unwrap();
    }
    let mut received = Vec::new();
    for _ in 0..10 {
        received.extend(ports.queues.receive(QueueName::Intake, 10, Duration::from_secs(1)).await.unwrap());
        if received.len() == 2 {
            break;
        }
    }
    assert_eq!(received.len(), 2);

    let response = consume(&ports.app, QueueName::Intake, sqs_event(&received)).await;

    assert!(response.batch_item_failures.is_empty(), "the loser re-read and found the order routed; no retry waits out a lease");
    let id = OrderId::derive("shopify", "", "450789469");
    let events = ports.app.tables.events(&id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event_type.as_str() == "order_accepted").count(), 1, "{events:?}");
}

on_both_backends!(
    two_deliveries_of_one_order_in_one_batch_resolve_at_once,a_poison_message_is_parked_at_once_and_its_neighbours_processed);
