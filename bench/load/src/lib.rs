//! dropflow's load generator, for the local throughput of BENCHMARKS.md: distinct,
//! signed Shopify orders posted over loopback to a running `dropflow serve` by a fixed
//! number of concurrent senders, bounded in orders and in time. It reports the webhook's
//! latency as the senders saw it, and the orders per second end to end: from the first
//! request to the last of the orders' mails in the outbox, the pipeline's final step.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What to send, where, and for how long at most.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The server's base URL (`http://127.0.0.1:3000`).
    pub url: String,
    /// The Shopify webhook secret the server verifies with.
    pub secret: String,
    /// The order every request is a copy of, with its own id, name and number.
    pub fixture: Value,
    /// How many orders to send (after one warm-up order).
    pub orders: usize,
    /// Requests in flight at once, each sender on its own connection.
    pub concurrency: usize,
    /// The server's outbox folder (`<data dir>/outbox`), to time the orders to their
    /// last mail; without it only the webhook is timed.
    pub outbox: Option<PathBuf>,
    /// The first order id; later runs on the same data dir need fresh ones.
    pub first_id: u64,
    /// The most the whole run may take; what is not done by then is reported as such.
    pub time_limit: Duration,
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub orders: usize,
    /// Answered 2xx.
    pub accepted: usize,
    /// Answered otherwise, or not at all.
    pub failed: usize,
    /// From the first request to the last answer.
    pub webhook_elapsed: Duration,
    pub latency_p50: Duration,
    pub latency_p99: Duration,
    pub latency_max: Duration,
    /// Mails the warm-up order caused: what each order is waited for.
    pub mails_per_order: usize,
    /// Mails of this run's orders found in the outbox by the end.
    pub mails: usize,
    /// From the first request to the last expected mail, if it came within the limit.
    pub end_to_end: Option<Duration>,
}

impl Report {
    /// Webhooks answered per second.
    pub fn webhooks_per_second(&self) -> f64 {
        self.accepted as f64 / self.webhook_elapsed.as_secs_f64()
    }

    /// Orders taken from webhook to their last mail per second, if they all got there.
    pub fn orders_per_second(&self) -> Option<f64> {
        self.end_to_end.map(|elapsed| self.accepted as f64 / elapsed.as_secs_f64())
    }
}

/// One request of the run: the body and its headers.
struct Signed {
    body: String,
    signature: String,
    event_id: String,
}

/// Order `id` as Shopify would send it: the fixture with its own identity, signed.
fn signed_order(fixture: &Value, secret: &str, id: u64) -> Signed {
    let mut order = fixture.clone();
    order["id"] = id.into();
    order["order_number"] = id.into();
    order["name"] = format!("#L{id}").into();
    order["admin_graphql_api_id"] = format!("gid://shopify/Order/{id}").into();
    let body = order.to_string();
    let signature = dropflow_shared::services::webhook::signature(secret, body.as_bytes());
    Signed { body, signature, event_id: format!("load-{id}") }
}

/// Mails in the outbox folder now (none if it is not there yet).
fn mails_in(outbox: &Path) -> usize {
    std::fs::read_dir(outbox).map(|entries| entries.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "eml")).count()).unwrap_or(0)
}

/// Waits until the outbox holds `at_least` mails and then stops growing for `quiet`, or
/// until `deadline`; returns the count and when it was first reached.
async fn settle(outbox: &Path, at_least: usize, quiet: Duration, deadline: Instant) -> (usize, Option<Instant>) {
    let mut last = mails_in(outbox);
    let mut reached = (last >= at_least).then(Instant::now);
    let mut changed = Instant::now();
    while Instant::now() < deadline {
        // Listing a folder of thousands of mails is work on the server's cores too: a
        // tenth of a second is a fine enough clock for runs of seconds.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = mails_in(outbox);
        if now != last {
            last = now;
            changed = Instant::now();
        }
        if now >= at_least && reached.is_none() {
            reached = Some(Instant::now());
        }
        if reached.is_some() && changed.elapsed() >= quiet {
            break;
        }
    }
    (last, reached)
}

async fn post(client: &reqwest::Client, url: &str, order: &Signed) -> bool {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-shopify-hmac-sha256", &order.signature)
        .header("x-shopify-topic", "orders/paid")
        .header("x-shopify-shop-domain", "load.myshopify.com")
        .header("x-shopify-event-id", &order.event_id)
        .body(order.body.clone())
        .send()
        .await;
    matches!(response, Ok(r) if r.status().is_success())
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    sorted.get(((sorted.len() as f64 * share) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or_default()
}

/// Sends one warm-up order and waits for its mails, then the plan's orders, and times
/// them to their answers and to their last mail.
pub async fn run(plan: &Plan) -> Result<Report, String> {
    let deadline = Instant::now() + plan.time_limit;
    let url = format!("{}/webhooks/shopify", plan.url.trim_end_matches('/'));
    let client = reqwest::Client::builder().pool_max_idle_per_host(plan.concurrency).timeout(Duration::from_secs(30)).build().map_err(|e| e.to_string())?;
    let orders: Arc<Vec<Signed>> = Arc::new((0..=plan.orders as u64).map(|n| signed_order(&plan.fixture, &plan.secret, plan.first_id + n)).collect());

    let before = plan.outbox.as_deref().map(mails_in).unwrap_or(0);
    if !post(&client, &url, &orders[0]).await {
        return Err(format!("the warm-up order was refused by {url}: is `dropflow serve` running with this secret?"));
    }
    let mails_per_order = match &plan.outbox {
        Some(outbox) => settle(outbox, before + 1, Duration::from_secs(1), deadline).await.0.saturating_sub(before),
        None => 0,
    };
    let baseline = before + mails_per_order;

    let next = Arc::new(AtomicUsize::new(1));
    let started = Instant::now();
    let senders: Vec<_> = (0..plan.concurrency.max(1))
        .map(|_| {
            let (client, url, orders, next) = (client.clone(), url.clone(), orders.clone(), next.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= orders.len() || Instant::now() >= deadline {
                        return seen;
                    }
                    let sent = Instant::now();
                    let ok = post(&client, &url, &orders[n]).await;
                    seen.push((sent.elapsed(), ok));
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(plan.orders);
    let mut accepted = 0;
    for sender in senders {
        for (latency, ok) in sender.await.map_err(|e| e.to_string())? {
            latencies.push(latency);
            accepted += usize::from(ok);
        }
    }
    let webhook_elapsed = started.elapsed();
    latencies.sort();

    let (mails, end_to_end) = match &plan.outbox {
        Some(outbox) if mails_per_order > 0 => {
            let (count, reached) = settle(outbox, baseline + accepted * mails_per_order, Duration::ZERO, deadline).await;
            (count.saturating_sub(baseline), reached.map(|at| at - started))
        }
        _ => (0, None),
    };
    Ok(Report {
        orders: plan.orders,
        accepted,
        failed: plan.orders - accepted,
        webhook_elapsed,
        latency_p50: percentile(&latencies, 0.50),
        latency_p99: percentile(&latencies, 0.99),
        latency_max: latencies.last().copied().unwrap_or_default(),
        mails_per_order,
        mails,
        end_to_end,
    })
}
