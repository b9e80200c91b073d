//! The sla-sweep binary in a Lambda-like run: an EventBridge scheduled event shaped as
//! AWS sends it, from a local Runtime API, with its real clients on the moto stack of
//! `scripts/test.sh`. A vendor order a day and a half old with no supplier order is
//! breached once: the first run fires it, the second finds nothing due.

use chrono::Duration;
use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::runtime_api::{function_env, invoke_once, scheduled_event, wall_clock};
use dropflow_shared::domain::events::EventType;
use dropflow_shared::domain::money::{Currency, Money};
use dropflow_shared::domain::sla::ClockKind;
use dropflow_shared::store::Tables;
use std::path::Path;

#[tokio::test]
async fn a_scheduled_run_fires_what_is_due_once() {
    let stack = AwsStack::create(None).await;
    let (app, _) = stack.open().await;
    let usd = Currency::parse("USD").unwrap();
    let paid = Money::parse_decimal("10.00", usd).unwrap();
    let vo = dropflow_scenarios::one_line_vendor_order(1, "lamp-co", paid, wall_clock() - Duration::hours(36), &app.config.sla);
    app.commit(vec![Tables::put_vendor_order(&vo, None).unwrap()], &[]).await.unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_sla-sweep"));

    let (kind, answer) = invoke_once(binary, &function_env(&stack), scheduled_event("dropflow-SlaSweepSchedule")).await;
    assert_eq!(kind, "response", "{answer}");
    assert_eq!(
        (answer["due"].as_u64(), answer["fired"].as_u64(), answer["escalations"].as_u64(), answer["complete"].as_bool()),
        (Some(1), Some(1), Some(1), Some(true)),
        "{answer}"
    );
    let stored = app.tables.vendor_order(&vo.order_id, &vo.vendor_id).await.unwrap().unwrap();
    let armed: Vec<_> = stored.clocks.iter().map(|c| (c.kind, c.overdue_since.is_some())).collect();
    assert_eq!(armed, [(ClockKind::PlaceWithSupplier, true)], "the reminder and the deadline both fired; only the deadline's repeat is armed");
    let events: Vec<EventType> = app.tables.events(&vo.order_id).await.unwrap().into_iter().map(|e| e.event_type).collect();
    assert!(events.contains(&EventType::SlaBreached) && events.contains(&EventType::SlaDigest), "{events:?}");
    assert!(!events.contains(&EventType::SlaReminder), "a reminder after its deadline is not sent: {events:?}");

    let (_, again) = invoke_once(binary, &function_env(&stack), scheduled_event("dropflow-SlaSweepSchedule")).await;
    assert_eq!((again["due"].as_u64(), again["fired"].as_u64()), (Some(0), Some(0)), "{again}");
}
