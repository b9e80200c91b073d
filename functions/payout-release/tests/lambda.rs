//! The payout-release binary in a Lambda-like run: an EventBridge scheduled event shaped
//! as AWS sends it, from a local Runtime API, with its real clients on the moto stack of
//! `scripts/test.sh`. An earning whose hold ended is released and paid out once: the
//! first run does both, the second finds nothing due.

use chrono::{Duration, Utc};
use dropflow_scenarios::backend::AwsStack;
use dropflow_scenarios::runtime_api::{function_env, invoke_once};
use dropflow_shared::domain::address::{Address, AddressParts};
use dropflow_shared::domain::ids::{OrderId, VendorId};
use dropflow_shared::domain::ledger::Earning;
use dropflow_shared::domain::money::{Currency, Money};
use dropflow_shared::domain::order::{OrderLine, RoutedLine, SupplierSnapshot};
use dropflow_shared::domain::tracking::TrackingNumber;
use dropflow_shared::domain::vendor_order::{Actor, Command, VendorOrder};
use dropflow_shared::store::Tables;
use serde_json::json;
use std::path::Path;

fn scheduled_event() -> serde_json::Value {
    json!({
        "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(), "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/dropflow-PayoutReleaseFunctionRelease"], "detail": {}
    })
}

#[tokio::test]
async fn a_scheduled_run_releases_and_pays_what_is_due_once() {
    let stack = AwsStack::create(None).await;
    let (app, _) = stack.open().await;
    let jpy = Currency::parse("JPY").unwrap();
    let paid = Money::parse_decimal("4999", jpy).unwrap();
    let line = OrderLine { line_id: "1".into(), sku: None, title: "Tea set".into(), variant: None, quantity: 1, unit_price: paid, paid, problem: None };
    let supplier = SupplierSnapshot { supplier_name: "S".into(), product_url: "https://s.example/1".into(), supplier_cost: paid, supplier_variant: None };
    let address = Address::parse(AddressParts { name: Some("Aiko".into()), line1: Some("1-1 Chiyoda".into()), city: Some("Tokyo".into()), country_code: Some("JP".into()), ..AddressParts::default() }).unwrap();
    let vendor = VendorId::parse("tea-co").unwrap();
    let delivered_at = Utc::now() - Duration::days(15);
    let (mut vo, _) = VendorOrder::create(OrderId::derive("generic", "s", "7"), vendor.clone(), "#7".into(), vec![RoutedLine { line, supplier }], address, "Aiko".into(), jpy, delivered_at - Duration::days(3), &app.config.sla);
    let actor = Actor::Vendor(vendor.clone());
    for command in [Command::PlaceWithSupplier { supplier_order_ref: "AE-7".into(), lines: None }, Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None }, Command::MarkDelivered { tracking_number: None }] {
        vo = vo.apply(command, actor.clone(), delivered_at, &app.config.sla).unwrap().vendor_order;
    }
    // 10% of 4999 yen is 499.9: 500.
    let (earning, entry) = Earning::at_delivery(&vo, 0, 1_000, 14, delivered_at).unwrap().unwrap();
    assert_eq!(entry.amount.minor, 4_499);
    app.commit(vec![Tables::put_earning(&earning, None).unwrap(), Tables::put_entry(&entry).unwrap(), Tables::add_to_balance(&vendor, &[entry], None)], &[]).await.unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_payout-release"));

    let (kind, answer) = invoke_once(binary, &function_env(&stack), scheduled_event()).await;
    assert_eq!(kind, "response", "{answer}");
    assert_eq!((answer["released"].as_u64(), answer["payouts"].as_array().map(Vec::len), answer["complete"].as_bool()), (Some(1), Some(1), Some(true)), "{answer}");
    let balance = app.tables.balance(&vendor).await.unwrap().of(jpy);
    assert_eq!((balance.held, balance.available, balance.in_payout), (0, 0, 4_499));

    let (_, again) = invoke_once(binary, &function_env(&stack), scheduled_event()).await;
    assert_eq!((again["released"].as_u64(), again["payouts"].as_array().map(Vec::len)), (Some(0), Some(0)), "{again}");
    assert_eq!(app.tables.balance(&vendor).await.unwrap().of(jpy).in_payout, 4_499, "nothing paid twice");
}
