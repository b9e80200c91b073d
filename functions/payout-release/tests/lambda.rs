//! The payout-release binary in a Lambda-like run: an EventBridge scheduled event shaped
//! as AWS sends it, from a local Runtime API, with its real clients on the moto stack of
//! `scripts/test.sh`. An earning whose hold ended is released and paid out once: the
//! first run does both, the second finds nothing due.

use chrono::Duration;
use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::runtime_api::{function_env, invoke_once, invoke_once_logged, scheduled_event, wall_clock};
use dropflow_shared::domain::ids::VendorId;
use dropflow_shared::domain::ledger::Earning;
use dropflow_shared::domain::money::{Currency, Money};
use dropflow_shared::domain::tracking::TrackingNumber;
use dropflow_shared::domain::vendor_order::{Actor, Command};
use dropflow_shared::store::Tables;
use std::path::Path;

#[tokio::test]
async fn a_scheduled_run_releases_and_pays_what_is_due_once() {
    let stack = AwsStack::create(None).await;
    let (app, _) = stack.open().await;
    let jpy = Currency::parse("JPY").unwrap();
    let paid = Money::parse_decimal("4999", jpy).unwrap();
    let vendor = VendorId::parse("lamp-co").unwrap();
    let delivered_at = wall_clock() - Duration::days(15);
    let mut vo = dropflow_scenarios::one_line_vendor_order(7, "lamp-co", paid, delivered_at - Duration::days(3), &app.config.sla);
    let actor = Actor::Vendor(vendor.clone());
    for command in [
        Command::PlaceWithSupplier { supplier_order_ref: dropflow_shared::domain::ids::SupplierOrderRef::parse("AE-7").unwrap(), lines: None },
        Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None },
        Command::MarkDelivered { tracking_number: None },
    ] {
        vo = vo.apply(command, actor.clone(), delivered_at, &app.config.sla).unwrap().vendor_order;
    }
    // 10% of 4999 yen is 499.9: 500.
    let (earning, entry) = Earning::at_delivery(&vo, 0, dropflow_shared::domain::money::CommissionBps::new(1_000).unwrap(), 14, delivered_at).unwrap().unwrap();
    assert_eq!(entry.amount.minor, 4_499);
    app.commit(vec![Tables::put_earning(&earning, None).unwrap(), Tables::put_entry(&entry).unwrap(), Tables::add_to_balance(&vendor, &[entry], None)], &[])
        .await
        .unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_payout-release"));

    let (kind, answer, stdout) = invoke_once_logged(binary, &function_env(&stack), scheduled_event("dropflow-PayoutReleaseFunctionRelease")).await;
    assert_eq!(kind, "response", "{answer}");
    // One metrics line (CloudWatch EMF) for the invocation, with what it did.
    let metrics: Vec<serde_json::Value> =
        stdout.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(metrics.len(), 1, "{stdout}");
    assert_eq!(
        (metrics[0]["function"].as_str(), metrics[0]["EarningsReleased"].as_u64(), metrics[0]["PayoutsCreated"].as_u64()),
        (Some("payout-release"), Some(1), Some(1)),
        "{stdout}"
    );
    assert_eq!(
        (answer["released"].as_u64(), answer["payouts"].as_array().map(Vec::len), answer["complete"].as_bool()),
        (Some(1), Some(1), Some(true)),
        "{answer}"
    );
    let balance = app.tables.balance(&vendor).await.unwrap().of(jpy);
    assert_eq!((balance.held, balance.available, balance.in_payout), (0, 0, 4_499));

    let (_, again) = invoke_once(binary, &function_env(&stack), scheduled_event("dropflow-PayoutReleaseFunctionRelease")).await;
    assert_eq!((again["released"].as_u64(), again["payouts"].as_array().map(Vec::len)), (Some(0), Some(0)), "{again}");
    assert_eq!(app.tables.balance(&vendor).await.unwrap().of(jpy).in_payout, 4_499, "nothing paid twice");
}
