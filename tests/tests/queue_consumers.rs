//! The queue consumers as their event source mappings drive them, on both backends: a
//! batch is processed message by message, and only the messages that failed are
//! reported back (`ReportBatchItemFailures`), so one bad message never fails, nor
//! repeats, its neighbours; a message no retry can fix is parked in its dead-letter
//! queue at once, with the reason.

use dropflow_scenarios::backend::{Ports, open_ports};
use dropflow_scenarios::{Backend, fixture, on_both_backends};
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::handlers::{consume, sqs_event};
use dropflow_shared::ports::{DeadLetterQueue, QueueName, Received};
use std::time::Duration;

/// The paid fixture as an intake message.
fn paid_order_message() -> String {
    let order = String::from_utf8(fixture("shopify/orders-create-paid.json")).unwrap();
    serde_json::json!({"source": "shopify", "topic": "orders/paid", "shop": "batch.myshopify.com", "delivery_id": "d-1", "body": order}).to_string()
}

/// Publishes `bodies` to the intake queue and takes them back as one batch.
async fn one_batch_of(ports: &Ports, bodies: &[String]) -> Vec<Received> {
    for body in bodies {
        ports.app.publisher.publish(QueueName::Intake, body.clone()).await.unwrap();
    }
    let mut received = Vec::new();
    for _ in 0..10 {
        received.extend(ports.queues.receive(QueueName::Intake, 10, Duration::from_secs(1)).await.unwrap());
        if received.len() == bodies.len() {
            break;
        }
    }
    assert_eq!(received.len(), bodies.len());
    received
}

async fn a_poison_message_is_parked_at_once_and_its_neighbours_processed(backend: Backend) {
    let ports = open_ports(backend, 30).await;
    let received = one_batch_of(&ports, &[paid_order_message(), "this is not a webhook".into()]).await;

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
    dropflow_shared::services::operator::add_vendor(&ports.app, "ipod-shop", "iPod Shop", "orders@ipod-shop.example", None, None).await.unwrap();
    let received = one_batch_of(&ports, &[paid_order_message(), paid_order_message()]).await;

    let response = consume(&ports.app, QueueName::Intake, sqs_event(&received)).await;

    assert!(response.batch_item_failures.is_empty(), "the loser re-read and found the order routed; no retry waits out a lease");
    let id = OrderId::derive("shopify", "", "450789469");
    let events = ports.app.tables.events(&id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.event_type.as_str() == "order_accepted").count(), 1, "{events:?}");
}

on_both_backends!(two_deliveries_of_one_order_in_one_batch_resolve_at_once, a_poison_message_is_parked_at_once_and_its_neighbours_processed);
