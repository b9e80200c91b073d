//! `dropflow-sim`: generates whole order histories from a seed (storefronts, vendors,
//! carriers, the operator, time, faults), plays each through the real HTTP surface and
//! queues of a fresh dropflow on either backend, on an injected clock, and checks after
//! every step a small reference model of DESIGN's rules: nothing lost, money adds up,
//! clocks end with their orders, no vendor sees another's, nothing answers 5xx, no
//! dead letter, and (at the end) no mail twice. The same seed gives the same histories;
//! a failing history is shrunk to a short one and written as a trace file.

mod converge;
mod history;
mod model;

pub use history::{DISABLED, Kind, Step, generate};

use dropflow_scenarios::{Backend, TestApp};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What one run is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub histories: usize,
    pub backend: Backend,
    /// The share of port calls that fail (throttling, timeouts after the write landed,
    /// the process killed between two calls and restarted).
    pub chaos: f64,
    /// Where the trace of a failing history is written.
    pub trace_dir: std::path::PathBuf,
}

/// An invariant broken, where.
#[derive(Debug, Clone)]
pub struct Violation {
    pub history: usize,
    pub invariant: String,
    pub detail: String,
    /// The (shrunk) steps that break it.
    pub steps: Vec<Step>,
    pub trace: String,
}

/// The run's summary, printed as one JSON line.
#[derive(Debug, Default)]
pub struct Summary {
    pub seed: u64,
    pub histories: usize,
    pub steps: usize,
    pub kinds: BTreeMap<&'static str, usize>,
    pub violations: usize,
    /// How often a kill (`--chaos`) took the process down and the history went on after
    /// a restart.
    pub restarts: usize,
    /// Mails sent twice in histories with kills: the documented send-then-crash window
    /// (a kill after the mail went out, before it was marked sent), counted apart.
    pub mail_resent: usize,
    /// Dead letters whose receives kills wore out, replayed by the operator
    /// (`dropflow dlq replay`) before the invariants were checked.
    pub replayed: usize,
    /// Fulfillments written back to the Shopify stand-in (each parcel of a Shopify
    /// order once: the `storefront write-back once` invariant).
    pub fulfillments: usize,
    /// Parcels written back to the WooCommerce stand-in (tracking items and notes), and
    /// orders the reconciliation filed.
    pub woo_parcels: usize,
    pub reconciled: usize,
    /// Supplier orders the CJ stand-in made (each bought once: the `a supplier order is
    /// bought once` invariant), and how many of them shipped.
    pub supplier_orders: usize,
    pub supplier_shipped: usize,
    /// How many histories broke each invariant (the first broken in each).
    pub broken: BTreeMap<String, usize>,
    pub first_violation: Option<Violation>,
}

impl Summary {
    /// The summary line: `{"seed","histories","steps","kinds","violations","first_violation","disabled"}`.
    pub fn json(&self) -> Value {
        let first = self.first_violation.as_ref().map(|v| json!({"history": v.history, "invariant": v.invariant, "detail": v.detail, "trace": v.trace}));
        json!({"seed": self.seed, "histories": self.histories, "steps": self.steps, "kinds": self.kinds, "violations": self.violations,
            "restarts": self.restarts, "mail_resent": self.mail_resent, "replayed": self.replayed, "fulfillments": self.fulfillments, "woo_parcels": self.woo_parcels, "reconciled": self.reconciled, "supplier_orders": self.supplier_orders, "supplier_shipped": self.supplier_shipped, "broken": self.broken, "first_violation": first, "disabled": history::DISABLED})
    }
}

/// A small deterministic generator (splitmix64): the same seed, the same histories.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next number of the sequence.
    pub fn draw(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..below`.
    pub fn below(&mut self, below: u64) -> u64 {
        self.draw() % below.max(1)
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Runs `options.histories` histories from `options.seed`.
pub async fn run(options: &Options) -> Summary {
    let mut summary = Summary { seed: options.seed, histories: options.histories, ..Summary::default() };
    for history in 0..options.histories {
        let seed = history_seed(options.seed, history);
        let steps = generate(seed);
        summary.steps += steps.len();
        for step in &steps {
            *summary.kinds.entry(step.kind.name()).or_default() += 1;
        }
        let played = play(options, seed, &steps, None).await;
        summary.restarts += played.counts.restarts;
        summary.mail_resent += played.counts.mail_resent;
        summary.replayed += played.counts.replayed;
        summary.fulfillments += played.counts.fulfillments;
        summary.woo_parcels += played.counts.woo_parcels;
        summary.reconciled += played.counts.reconciled;
        summary.supplier_orders += played.counts.supplier_orders;
        summary.supplier_shipped += played.counts.supplier_shipped;
        if let Err((at, invariant, detail)) = played.outcome {
            summary.violations += 1;
            *summary.broken.entry(invariant.clone()).or_default() += 1;
            if std::env::var_os("DROPFLOW_SIM_VERBOSE").is_some() {
                eprintln!("history {history} (seed {seed}): {invariant}: {detail}");
            }
            if summary.first_violation.is_none() {
                let shrunk = shrink(options, seed, steps[..=at].to_vec(), &invariant).await;
                let mut trace = Vec::new();
                let outcome = play(options, seed, &shrunk, Some(&mut trace)).await.outcome;
                let detail = outcome.err().map(|(_, _, d)| d).unwrap_or(detail);
                let path = options.trace_dir.join(format!("sim-{}-{history}.json", options.seed));
                let _ = std::fs::create_dir_all(&options.trace_dir);
                let written =
                    serde_json::to_vec_pretty(&json!({"seed": options.seed, "history": history, "invariant": invariant, "detail": detail, "steps": trace}))
                        .map_err(|e| e.to_string())
                        .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| e.to_string()));
                let trace = match written {
                    Ok(()) => path.display().to_string(),
                    Err(error) => format!("(not written: {error})"),
                };
                summary.first_violation = Some(Violation { history, invariant, detail, steps: shrunk, trace });
            }
        }
    }
    summary
}

/// The seed of history `n` of a run.
fn history_seed(seed: u64, n: usize) -> u64 {
    let mut rng = Rng::new(seed ^ (n as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    rng.draw()
}

/// Removes steps while the same invariant still breaks: the shortest history found
/// within a bounded number of replays.
async fn shrink(options: &Options, seed: u64, mut steps: Vec<Step>, invariant: &str) -> Vec<Step> {
    let mut replays = 0;
    let mut i = steps.len();
    while i > 0 && replays < 40 {
        i -= 1;
        let mut shorter = steps.clone();
        shorter.remove(i);
        replays += 1;
        if let Err((at, broken, _)) = play(options, seed, &shorter, None).await.outcome
            && broken == invariant
        {
            shorter.truncate(at + 1);
            steps = shorter;
            i = i.min(steps.len());
        }
    }
    steps
}

/// Plays `steps` on a fresh app; the first invariant broken, after which step. With
/// `trace`, each step's request and the state after it are recorded.
async fn play(options: &Options, seed: u64, steps: &[Step], trace: Option<&mut Vec<Value>>) -> Played {
    let mut counts = Counts::default();
    let outcome = play_counting(options, seed, steps, trace, &mut counts).await;
    Played { outcome, counts }
}

/// What a history's faults came to.
#[derive(Debug, Default)]
struct Counts {
    /// Restarts after a kill.
    restarts: usize,
    /// Mails sent twice in the send-then-crash window.
    mail_resent: usize,
    /// Dead letters worn out under kills that the operator replayed.
    replayed: usize,
    /// Fulfillments the Shopify stand-in holds at the end.
    fulfillments: usize,
    woo_parcels: usize,
    reconciled: usize,
    supplier_orders: usize,
    supplier_shipped: usize,
}

/// What playing a history came to: the first invariant broken, after which step (or
/// none), and how often the process was restarted on the way.
struct Played {
    outcome: Result<(), (usize, String, String)>,
    counts: Counts,
}

async fn play_counting(
    options: &Options,
    seed: u64,
    steps: &[Step],
    mut trace: Option<&mut Vec<Value>>,
    counts: &mut Counts,
) -> Result<(), (usize, String, String)> {
    let mut rng = Rng::new(seed);
    let start = history::start_instant(&mut rng);
    let chaos = dropflow_shared::adapters::faults::Chaos::seeded(0.0, seed);
    // Retention short enough that a history's sweeps purge closed orders (clock.sweep).
    let lease = (options.chaos > 0.0).then_some(SIM_LEASE_SECONDS);
    // Shipments of Shopify orders are written back to a stand-in of its Admin API, as
    // the shop the simulated webhooks name.
    let (endpoint, shopify) = dropflow_scenarios::shopify_admin::start(dropflow_scenarios::SCENARIO_SHOP).await;
    let tokens = format!("{}={}", dropflow_scenarios::SCENARIO_SHOP, dropflow_scenarios::shopify_admin::TOKEN);
    // And those of the polled WooCommerce site's orders to a stand-in of its REST API
    // (with the Shipment Tracking extension in every other history), which the
    // reconciliation reads back.
    let (site, woo) = dropflow_scenarios::woocommerce_api::start().await;
    woo.lock().unwrap().tracking_extension = seed % 2 == 0;
    let keys = format!("{site}={}:{}", dropflow_scenarios::woocommerce_api::CONSUMER_KEY, dropflow_scenarios::woocommerce_api::CONSUMER_SECRET);
    // v3's SKUs are bought through CJ's API (a stand-in), on auto.
    let (cj_url, cj) = dropflow_scenarios::cj_api::start().await;
    let settings = [
        ("CJ_API_URL", cj_url.as_str()),
        ("RETENTION_DAYS", "10"),
        ("SHOPIFY_ADMIN_TOKENS", tokens.as_str()),
        ("SHOPIFY_ADMIN_ENDPOINT", endpoint.as_str()),
        ("WOOCOMMERCE_API_KEYS", keys.as_str()),
    ];
    let app = dropflow_scenarios::spawn_app_leasing(options.backend, start, Some(chaos.clone()), &settings, lease).await;
    let mut world = model::World::onboard(&app, options.backend).await;
    world.shopify = Some(shopify);
    world.woo = Some((site, woo));
    app.cli(&["supplier", "connect", "v3", "cj", "--api-key", dropflow_scenarios::cj_api::API_KEY]).await.expect("connect CJ");
    for sku in ["v3-A", "v3-B"] {
        app.map_sku_on_cj(sku, "v3", "auto").await.expect("v3's SKUs on auto");
    }
    world.cj = Some(cj);
    // The reconciliation's first run, as `serve` makes it soon after it starts: the
    // site's cursor begins a look-back before the history.
    world.reconcile(&app).await;
    // Faults from the first step on: the operator's set-up is not part of the history.
    // A quarter of them kill the process between two port calls; it restarts after.
    let faults = |on: bool| {
        chaos.set_rate(if on { options.chaos * 0.75 } else { 0.0 });
        chaos.set_kill_rate(if on { options.chaos * 0.25 } else { 0.0 });
    };
    for (at, step) in steps.iter().enumerate() {
        faults(true);
        let said = world.step(&app, step).await;
        // A killed process restarts before anyone looks, and nothing fails the look.
        world.recover(&app).await;
        faults(false);
        // With kills off, a process a kill took down during the recovery comes back too.
        world.recover(&app).await;
        if options.chaos > 0.0 {
            world.replay_worn_out(&app).await;
        }
        counts.restarts = world.restarts.get();
        counts.replayed = world.replayed.get();
        let checked = world.check(&app).await;
        if let Some(trace) = trace.as_deref_mut() {
            trace.push(json!({"step": at, "kind": step.kind.name(), "step_detail": format!("{step:?}"), "request": said, "after": world.state(&app).await,
                "now": dropflow_scenarios::TestApp::now(&app).to_rfc3339()}));
        }
        if let Err((invariant, detail)) = checked {
            return Err((at, invariant, detail));
        }
    }
    // What waits for a retry (a refund that came before its order) comes back.
    settle(&app).await;
    // A message whose receives kills spent may wear out in the settling (its last
    // receive found a dead process's mail claim still running): replayed, it settles
    // again, and one that fails for a reason of its own wears out again and is reported.
    if options.chaos > 0.0 && world.replay_worn_out(&app).await > 0 {
        settle(&app).await;
        counts.replayed = world.replayed.get();
    }
    let last = steps.len().saturating_sub(1);
    world.check(&app).await.map_err(|(invariant, detail)| (last, invariant, detail))?;
    world.check_refunds(&app).await.map_err(|(invariant, detail)| (last, invariant, detail))?;
    world.check_mail(&app).await.map_err(|(invariant, detail)| (last, invariant, detail))?;
    world.check_write_back().map_err(|(invariant, detail)| (last, invariant, detail))?;
    counts.fulfillments += world.fulfillments_written();
    let (made, shipped) = world.supplier_orders();
    counts.supplier_orders += made;
    counts.supplier_shipped += shipped;
    let (woo_parcels, reconciled) = world.woo_written();
    counts.woo_parcels += woo_parcels;
    counts.reconciled += reconciled;
    counts.mail_resent = world.mail_resent.get();
    // The storefront's facts alone, in another order of arrival and with duplicates,
    // end alike (on the embedded store: the property is the services', and the
    // conformance suite holds the two stores to one behaviour).
    if options.backend == Backend::Embedded {
        converge::check(options.backend, world.deliveries(), &world.numbers(), app.now(), seed)
            .await
            .map_err(|(invariant, detail)| (last, invariant, detail))?;
    }
    Ok(())
}

/// Lets what waits for a retry come back, however long its backoff: three hours, in
/// steps that each deliver what came back.
async fn settle(app: &TestApp) {
    for _ in 0..6 {
        app.advance(chrono::Duration::minutes(30));
        app.deliver().await;
    }
}

/// The queues' lease on AWS under `--chaos`, in seconds: how long a killed process's
/// messages stay taken before SQS offers them again.
pub const SIM_LEASE_SECONDS: u32 = 5;

/// The app type the model drives (re-exported for the binary's tests).
pub type App = TestApp;
