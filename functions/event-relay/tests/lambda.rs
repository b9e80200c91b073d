//! The event-relay binary in a Lambda-like run: one DynamoDB stream batch shaped as the
//! event source mapping sends it, its real clients on the moto stack of
//! `scripts/test.sh`. Inserted event items reach the notify queue; the rest of the
//! stream (updates, other items) does not, even though moto does not apply the
//! mapping's filter.

use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::runtime_api::{dynamodb_stream_batch, function_env, invoke_once};
use dropflow_shared::domain::events::Envelope;
use dropflow_shared::ports::{DeadLetterQueue, QueueName};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

fn envelope_image(event_id: &str) -> serde_json::Value {
    json!({
        "pk": {"S": "ORDER#o_0123456789abcdef01234567"}, "sk": {"S": format!("EVT#{event_id}")}, "ttl": {"N": "1795600000"},
        "event_id": {"S": event_id}, "type": {"S": "shipped"}, "occurred_at": {"S": "2026-11-20T10:00:00Z"},
        "order_id": {"S": "o_0123456789abcdef01234567"}, "vendor_id": {"S": "ipod-shop"}, "payload": {"NULL": true}
    })
}

fn keys(sk: &str) -> serde_json::Value {
    json!({"pk": {"S": "ORDER#o_0123456789abcdef01234567"}, "sk": {"S": sk}})
}

#[tokio::test]
async fn inserted_events_reach_the_notify_queue_and_nothing_else_does() {
    let stack = AwsStack::create(None).await;
    let (_, queues) = stack.open().await;
    let batch = dynamodb_stream_batch(&[
        ("INSERT", keys("EVT#e-1"), envelope_image("e-1")),
        ("MODIFY", keys("EVT#e-1"), envelope_image("e-1")),
        ("INSERT", keys("VO#ipod-shop"), json!({"pk": {"S": "ORDER#o_0123456789abcdef01234567"}, "sk": {"S": "VO#ipod-shop"}})),
        ("INSERT", keys("EVT#e-2"), envelope_image("e-2")),
        ("INSERT", keys("EVT#broken"), json!({"pk": {"S": "ORDER#o_0123456789abcdef01234567"}, "sk": {"S": "EVT#broken"}})),
    ]);
    let binary = Path::new(env!("CARGO_BIN_EXE_event-relay"));
    let (kind, answer) = invoke_once(binary, &function_env(&stack), batch).await;
    assert_eq!((kind.as_str(), &answer["batchItemFailures"]), ("response", &json!([])), "{answer}");

    let mut relayed = Vec::new();
    for _ in 0..5 {
        for message in queues.receive(QueueName::Notify, 10, Duration::from_millis(500)).await.unwrap() {
            relayed.push(serde_json::from_str::<Envelope>(&message.body).expect("an envelope").event_id);
        }
    }
    relayed.sort();
    assert_eq!(relayed, ["e-1", "e-2"]);
    let parked = queues.dead_letters(DeadLetterQueue::Relay).await.unwrap();
    assert_eq!(parked.len(), 1, "the item under EVT# that is no envelope is parked with its reason");
    assert!(parked[0].reason.as_deref().is_some_and(|r| r.contains("not an event envelope")), "{parked:?}");
}

#[test]
fn without_its_dead_letter_queue_the_relay_does_not_start() {
    let stack_settings = [
        ("STORE_NAME", "Shop"),
        ("SENDER_EMAIL", "orders@shop.example"),
        ("OPERATOR_EMAIL", "ops@shop.example"),
        ("TABLE_NAME", "dropflow"),
        ("INTAKE_QUEUE_URL", "http://127.0.0.1:9/queue/intake"),
        ("NOTIFY_QUEUE_URL", "http://127.0.0.1:9/queue/notify"),
        ("STOREFRONT_QUEUE_URL", "http://127.0.0.1:9/queue/storefront"),
    ];
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_event-relay")).env_clear().envs(stack_settings).output().expect("run event-relay");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr).trim(), "start-up failed: RELAY_DLQ_URL is not set");
}
