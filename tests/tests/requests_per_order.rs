//! DynamoDB requests per order's life, counted on the AWS adapters against moto (the
//! counting layer sits on the store port, so each port call is one DynamoDB request):
//! a single-vendor Shopify order from webhook to delivered with all its mail, phase by
//! phase, then the release and payout of a vendor's batch of orders, amortized per
//! order. Prints the table `BENCHMARKS.md` records (`-- --nocapture`) and holds the
//! counts to what they are, so that a change that adds a request fails here first.

use chrono::Duration;
use dropflow_scenarios::{Backend, SHOPIFY_SECRET, fixture, spawn_app};
use dropflow_shared::adapters::counting::{Counting, Counts};
use dropflow_shared::domain::ids::VendorId;
use dropflow_shared::domain::tracking::TrackingNumber;
use dropflow_shared::domain::vendor_order::Command;
use dropflow_shared::services::vendor::{self, Preconditions};
use std::sync::Arc;

/// Orders in the vendor's batch besides the first (release and payout amortize over it).
const BATCH: usize = 9;

/// One phase's counts: (requests per operation, write requests, items written, write units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Phase {
    get: u64,
    put: u64,
    delete: u64,
    transact: u64,
    query: u64,
    items_read: u64,
    items_written: u64,
    write_units: u64,
    /// The write units if every index projected only the keys.
    keys_only_units: u64,
}

impl Phase {
    fn of(counts: &Counts) -> Phase {
        let r: Vec<u64> = counts.requests().into_iter().map(|(_, n)| n).collect();
        Phase {
            get: r[0],
            put: r[1],
            delete: r[2],
            transact: r[3],
            query: r[4],
            items_read: counts.reads(),
            items_written: counts.writes(),
            write_units: counts.write_units(),
            keys_only_units: counts.keys_only_write_units(),
        }
    }

    /// Each count of `self` combined with `other`'s by `op`.
    fn zip(self, other: Phase, op: fn(u64, u64) -> u64) -> Phase {
        Phase {
            get: op(self.get, other.get),
            put: op(self.put, other.put),
            delete: op(self.delete, other.delete),
            transact: op(self.transact, other.transact),
            query: op(self.query, other.query),
            items_read: op(self.items_read, other.items_read),
            items_written: op(self.items_written, other.items_written),
            write_units: op(self.write_units, other.write_units),
            keys_only_units: op(self.keys_only_units, other.keys_only_units),
        }
    }

    fn since(self, before: Phase) -> Phase {
        self.zip(before, |a, b| a - b)
    }

    /// The counts as JSON, for the cost table (`scripts/bench_cost.py`).
    fn json(self) -> serde_json::Value {
        serde_json::json!({
            "GetItem": self.get, "Query": self.query, "PutItem": self.put, "DeleteItem": self.delete, "TransactWriteItems": self.transact,
            "write_requests": self.write_requests(), "items_read": self.items_read, "items_written": self.items_written,
            "write_units": self.write_units, "keys_only_write_units": self.keys_only_units,
        })
    }

    fn write_requests(self) -> u64 {
        self.put + self.delete + self.transact
    }

    fn row(self, name: &str) -> String {
        let Phase { get, query, put, delete, transact, items_written, write_units, keys_only_units, .. } = self;
        format!(
            "| {name} | {get} | {query} | {put} | {delete} | {transact} | {} | {items_written} | {write_units} | {keys_only_units} |",
            self.write_requests()
        )
    }
}

#[tokio::test]
async fn an_orders_life_costs_what_the_table_says() {
    let app = spawn_app(Backend::Aws).await;
    let key = app.onboard("ipod-shop", &["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]).await;
    // A key's first use of the day writes its `last_used` date: once a day per key, not
    // per order, so it is spent before counting.
    vendor::authenticate(&app.local.app, Some(&key)).await.unwrap();
    let (counting, counts) = Counting::new(app.local.app.tables.items.clone());
    let counted = app.local.with_store(Arc::new(counting));
    let vendor_id = VendorId::parse("ipod-shop").unwrap();
    let mut rows = Vec::new();
    let mails_before = app.outbox().await.len();
    let mut mark = Phase::of(&counts);
    let phase = |name: &str, rows: &mut Vec<(String, Phase)>, mark: &mut Phase| {
        let now = Phase::of(&counts);
        rows.push((name.to_string(), now.since(*mark)));
        *mark = now;
    };

    assert_eq!(
        app.client
            .post(format!("{}/webhooks/shopify", app.base))
            .header("x-shopify-hmac-sha256", dropflow_scenarios::sign(SHOPIFY_SECRET, &fixture("shopify/orders-create-paid.json")))
            .header("x-shopify-topic", "orders/paid")
            .header("x-shopify-shop-domain", "jsmith.myshopify.com")
            .body(fixture("shopify/orders-create-paid.json"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    phase("webhook (verify, enqueue)", &mut rows, &mut mark);
    let mut drained = counted.drain_counted().await.unwrap();
    phase("intake + mail: supplier brief, order confirmation", &mut rows, &mut mark);
    let (orders, _) = app.local.app.tables.vendor_orders(&vendor_id, None, None, 1).await.unwrap();
    let id = orders[0].id();
    let pre = Preconditions { if_match: None, idempotency: None };
    let mut api_requests = 0;
    for (name, request) in [
        (
            "supplier order (API, authenticated)",
            Command::PlaceWithSupplier { supplier_order_ref: dropflow_shared::domain::ids::SupplierOrderRef::parse("AE-1").unwrap(), lines: None },
        ),
        ("shipment + mail: shipped", Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None }),
        ("delivered + earnings held + mail: delivered", Command::MarkDelivered { tracking_number: None }),
    ] {
        let caller = vendor::authenticate(&counted.app, Some(&key)).await.unwrap();
        vendor::act(&counted.app, &caller.vendor_id, &id, request, &pre).await.unwrap();
        api_requests += 1;
        drained = drained + counted.drain_counted().await.unwrap();
        phase(name, &mut rows, &mut mark);
    }
    let mails = app.outbox().await.len() - mails_before;
    let life: Phase = rows.iter().fold(Phase::default(), |sum, (_, p)| sum.zip(*p, |a, b| a + b));
    // A batch: the vendor's next orders delivered (uncounted), then one release and
    // payout run for all of them, counted.
    for n in 0..BATCH {
        let body = serde_json::to_vec(
            &serde_json::json!({"id": format!("B-{n}"), "currency": "USD", "financial_status": "paid", "updated_at": "2026-11-20T10:00:00Z",
            "shipping_address": {"name": "Ann", "line1": "1 Main St", "city": "Austin", "country_code": "US"},
            "lines": [{"id": "1", "sku": "IPOD2008GREEN", "title": "iPod", "quantity": 1, "unit_price": "199.00"}]}),
        )
        .unwrap();
        assert_eq!(app.generic_webhook("order.paid", None, &body, dropflow_scenarios::GENERIC_SECRETS[0]).await.status(), 200);
    }
    let (batch, _) =
        app.local.app.tables.vendor_orders(&vendor_id, Some(dropflow_shared::domain::vendor_order::VoState::AwaitingSupplier), None, 100).await.unwrap();
    assert_eq!(batch.len(), BATCH);
    for vo in &batch {
        for request in [
            Command::PlaceWithSupplier { supplier_order_ref: dropflow_shared::domain::ids::SupplierOrderRef::parse("AE-2").unwrap(), lines: None },
            Command::Ship { tracking: TrackingNumber::parse("1Z5R89390357567127", None).unwrap(), lines: None },
            Command::MarkDelivered { tracking_number: None },
        ] {
            vendor::act(&app.local.app, &vendor_id, &vo.id(), request, &pre).await.unwrap();
        }
    }
    app.deliver().await;
    mark = Phase::of(&counts);
    let report = dropflow_shared::services::money::run(&counted.app, app.now() + Duration::days(15), None).await.unwrap();
    assert_eq!((report.released, report.payouts.len()), (BATCH + 1, 1), "{report:?}");
    counted.drain().await.unwrap();
    let batch_phase = Phase::of(&counts).since(mark);
    println!(
        "| phase | GetItem | Query | PutItem | DeleteItem | TransactWriteItems | write requests | items written | write units | write units, KEYS_ONLY indexes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (name, p) in &rows {
        println!("{}", p.row(name));
    }
    println!("{}", life.row("**webhook to delivered, all mail**"));
    println!("{}", batch_phase.row(&format!("release + payout of one vendor's {} delivered orders, with their mail (one run)", BATCH + 1)));
    println!(
        "per order of that batch: {:.2} write requests, {:.2} items written, {:.2} write units",
        batch_phase.write_requests() as f64 / (BATCH + 1) as f64,
        batch_phase.items_written as f64 / (BATCH + 1) as f64,
        batch_phase.write_units as f64 / (BATCH + 1) as f64
    );
    // One line for the cost table (scripts/bench_cost.py reads it from bench.sh's run).
    println!(
        "counts-json: {}",
        serde_json::json!({
            "order": life.json(), "vendor_batch": batch_phase.json(), "orders_per_vendor_batch": BATCH + 1,
            "intake_messages": drained.intake, "events_relayed": drained.relayed, "notify_messages": drained.notify, "vendor_api_requests": api_requests, "mails": mails,
        })
    );
    // DESIGN's budget: webhook to delivered, with all its mail and its ledger entry, in
    // at most 12 write requests, and no Scan (there is no Scan in the port at all).
    assert!(life.write_requests() <= 12, "{life:?}");
    // Release and payout are batched per vendor: their cost does not grow with the batch.
    // The run also evaluates the scorecards, and here one turns: the batch's parcels had
    // no carrier news, so the vendor's valid tracking fails. That is 3 write requests
    // once per vendor and turn (its standing with the event, the operator's mail claimed
    // and marked), not per order.
    assert!(batch_phase.write_requests() <= 6 + 3, "{batch_phase:?}");
}
