//! `dropflow-load`: the local throughput benchmark's load generator (see the library).
//! Prints one Markdown table row; BENCHMARKS.md says how to start the server for it.

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// Posts signed Shopify orders to a running `dropflow serve` and times them to their
/// answers and to their last mail.
#[derive(Parser)]
#[command(name = "dropflow-load")]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    url: String,
    /// The server's Shopify webhook secret (its environment's SHOPIFY_WEBHOOK_SECRET).
    #[arg(long, env = "SHOPIFY_WEBHOOK_SECRET", default_value = "dropflow-local-shopify-secret")]
    secret: String,
    /// The Shopify order to send copies of.
    #[arg(long, default_value = "tests/fixtures/shopify/orders-create-paid.json")]
    fixture: PathBuf,
    /// Orders to send (after one warm-up order).
    #[arg(long, default_value_t = 10_000)]
    orders: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// The server's data dir, to time orders to their last mail in its outbox.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The first order id (each run on the same data dir needs fresh ones).
    #[arg(long, default_value_t = 1_000_000)]
    first_id: u64,
    /// The most the run may take, in seconds.
    #[arg(long, default_value_t = 300)]
    time_limit: u64,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let fixture = std::fs::read(&args.fixture).map_err(|e| format!("cannot read {}: {e}", args.fixture.display()))?;
    let plan = load::Plan {
        url: args.url,
        secret: args.secret,
        fixture: serde_json::from_slice(&fixture).map_err(|e| format!("{} is not JSON: {e}", args.fixture.display()))?,
        orders: args.orders,
        concurrency: args.concurrency,
        outbox: args.data_dir.map(|dir| dir.join("outbox")),
        first_id: args.first_id,
        time_limit: Duration::from_secs(args.time_limit),
    };
    let report = load::run(&plan).await?;
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    let end_to_end = match report.orders_per_second() {
        Some(rate) => format!("{rate:.0}"),
        None => format!("not all within {} s ({} of {} mails)", args.time_limit, report.mails, report.accepted * report.mails_per_order),
    };
    println!("| orders | senders | accepted | failed | webhooks/s | webhook p50 ms | p99 ms | max ms | mails/order | orders/s end to end |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
        report.orders,
        plan.concurrency,
        report.accepted,
        report.failed,
        report.webhooks_per_second(),
        ms(report.latency_p50),
        ms(report.latency_p99),
        ms(report.latency_max),
        report.mails_per_order,
        end_to_end
    );
    if report.failed > 0 || report.end_to_end.is_none() && plan.outbox.is_some() {
        return Err("the run did not complete (see the row above)".into());
    }
    Ok(())
}
