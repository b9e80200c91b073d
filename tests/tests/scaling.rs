//! Sweeps and releases read what is due, not the table: 20 clocks due and 20 holds
//! ended among 10³ and 10⁴ vendor orders and earnings (10⁵ too with
//! `DROPFLOW_SCALE_MAX=100000`, as `scripts/bench.sh` runs it), on the embedded store,
//! with every read counted. The reads must not grow with the table; the wall time of each
//! run is printed for `BENCHMARKS.md`, never asserted.

use chrono::Duration;
use dropflow_scenarios::{Backend, spawn_app};
use dropflow_shared::adapters::counting::Counting;
use dropflow_shared::domain::ids::OrderId;
use dropflow_shared::domain::ledger::Earning;
use dropflow_shared::domain::money::{Currency, Money};
use dropflow_shared::domain::tracking::TrackingNumber;
use dropflow_shared::domain::vendor_order::{Actor, Command, VendorOrder};
use dropflow_shared::ports::Write;
use dropflow_shared::services::{App, money, sweep};
use dropflow_shared::store::Tables;
use std::sync::Arc;

const DUE: usize = 20;

/// `total` vendor orders, `DUE` of them with a clock due now, and `total` earnings of
/// one vendor, `DUE` of them with their hold ended, written 100 items a transaction.
async fn seed(app: &App, total: usize) {
    let usd = Currency::parse("USD").unwrap();
    let paid = Money::parse_decimal("10.00", usd).unwrap();
    let template = dropflow_scenarios::one_line_vendor_order(0, "lamp-co", paid, app.clock.now(), &app.config.sla);
    let actor = Actor::Vendor(template.vendor_id.clone());
    let mut delivered = template.clone();
    for command in [
        Command::PlaceWithSupplier { supplier_order_ref: dropflow_shared::domain::ids::SupplierOrderRef::parse("AE-1").unwrap(), lines: None },
        Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None },
        Command::MarkDelivered { tracking_number: None },
    ] {
        delivered = delivered.apply(command, actor.clone(), app.clock.now(), &app.config.sla).unwrap().vendor_order;
    }
    let mut writes: Vec<Write> = Vec::new();
    for n in 0..total {
        let order_id = OrderId::derive("generic", "scale", &n.to_string());
        let created = if n < DUE { app.clock.now() - Duration::days(2) } else { app.clock.now() };
        let vo = VendorOrder { order_id: order_id.clone(), created_at: created, clocks: app.config.sla.on_created(created), ..template.clone() };
        writes.push(Tables::put_vendor_order(&vo, None).unwrap());
        let ended = if n < DUE { app.clock.now() - Duration::days(20) } else { app.clock.now() };
        let (earning, _) = Earning::at_delivery(
            &VendorOrder { order_id, ..delivered.clone() },
            0,
            dropflow_shared::domain::money::CommissionBps::new(1_000).unwrap(),
            14,
            ended,
        )
        .unwrap()
        .unwrap();
        writes.push(Tables::put_earning(&earning, None).unwrap());
        if writes.len() >= 100 {
            app.tables.items.transact(std::mem::take(&mut writes)).await.unwrap();
        }
    }
    if !writes.is_empty() {
        app.tables.items.transact(writes).await.unwrap();
    }
}

#[tokio::test]
async fn sweeps_and_releases_read_what_is_due_not_the_table() {
    let max: usize = std::env::var("DROPFLOW_SCALE_MAX").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let mut reads = Vec::new();
    println!("| vendor orders and earnings | sweep: items read | sweep: ms | release + payout: items read | release + payout: ms |");
    println!("|---|---|---|---|---|");
    let mut total = 1_000;
    while total <= max {
        let app = spawn_app(Backend::Embedded).await;
        seed(&app.local.app, total).await;
        let (counting, counts) = Counting::new(app.local.app.tables.items.clone());
        let counted = App { tables: Tables::new(Arc::new(counting)), ..app.local.app.clone() };
        let started = std::time::Instant::now();
        let swept = sweep::sweep(&counted, app.now(), None).await.unwrap();
        let sweep_ms = started.elapsed().as_secs_f64() * 1e3;
        let sweep_reads = counts.reads();
        assert_eq!(swept.fired, DUE, "{swept:?}");
        let started = std::time::Instant::now();
        let released = money::run(&counted, app.now(), None).await.unwrap();
        let release_ms = started.elapsed().as_secs_f64() * 1e3;
        let release_reads = counts.reads() - sweep_reads;
        assert_eq!((released.released, released.payouts.len()), (DUE, 1), "{released:?}");
        println!("| {total} | {sweep_reads} | {sweep_ms:.1} | {release_reads} | {release_ms:.1} |");
        reads.push((sweep_reads, release_reads));
        total *= 10;
    }
    assert!(reads.windows(2).all(|w| w[0] == w[1]), "reads grow with the table: {reads:?}");
}
