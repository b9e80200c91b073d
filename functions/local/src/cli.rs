//! The `dropflow` command line: `serve` (the default) and the operator commands.

use crate::Local;
use clap::{Parser, Subcommand};
use dropflow_shared::http::wire;
use dropflow_shared::ports::DeadLetterQueue;
use dropflow_shared::services::money;
use dropflow_shared::services::operator::{self, ProductInput};
use dropflow_shared::services::unroutable::{self, Voider};
use std::io::Write;
use std::path::PathBuf;

/// dropflow: the fulfillment back office of a dropshipping marketplace, in one process.
#[derive(Parser)]
#[command(name = "dropflow", version, after_help = "With no command, dropflow runs `serve`: every function on 127.0.0.1:3000.")]
pub struct Cli {
    /// Where the embedded store, queues and outbox live.
    #[arg(long, global = true, default_value = "./.dropflow")]
    pub data_dir: PathBuf,
    /// Which adapters to run on: the embedded store, or the real AWS clients
    /// (`AWS_ENDPOINT_URL` points them at an emulator).
    #[arg(long, global = true, value_enum, default_value_t = Backend::Embedded)]
    pub backend: Backend,
    /// With `--backend aws`: the stack whose table (`<STACK>`) and queues
    /// (`<STACK>-intake`, `<STACK>-notify`) to use, as bootstrapped or deployed.
    #[arg(long, global = true, default_value = "dropflow")]
    pub stack: String,
    /// Run on a clock that starts at this instant (RFC 3339) and goes on from there at
    /// the real pace, instead of the wall clock: to replay a date-bound history or
    /// report. Operator commands on the same data dir should be given the same flag.
    #[arg(long, global = true, value_parser = instant)]
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Command {
    /// Whether the command only reads what is stored (a listing, a report).
    fn only_reads(&self) -> bool {
        matches!(
            self,
            Command::Orders { .. }
                | Command::Order { action: OrderAction::Show { .. } }
                | Command::Retention { .. }
                | Command::Vendor { action: VendorAction::List }
                | Command::Key { action: KeyAction::List { .. } }
                | Command::Product { action: ProductAction::List { .. } }
                | Command::Dlq { action: DlqAction::List }
                | Command::Suppressions { action: None | Some(SuppressionAction::List { .. }) }
        )
    }
}

/// Where the system runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Embedded,
    Aws,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run every function: HTTP on 127.0.0.1, the queue consumers, the outbox.
    Serve {
        /// The port to listen on (127.0.0.1 only).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Inject faults into this share (0.0-1.0) of the calls to every port (store,
        /// queues, stream, mail): outages, throttling, and timeouts after the call took
        /// effect. For trying the system's resilience; never in production.
        #[arg(long, value_parser = chaos_rate)]
        chaos: Option<f64>,
    },
    /// Onboard vendors.
    Vendor {
        #[command(subcommand)]
        action: VendorAction,
    },
    /// Vendor API keys.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// SKU → vendor and supplier mappings.
    Product {
        #[command(subcommand)]
        action: ProductAction,
    },
    /// Route an order's unroutable lines again, after their SKUs were mapped (mapping a
    /// SKU with `product add` already does this for every order waiting for it).
    Reroute {
        /// The order's id (`o_…`), as the operator's mail names it.
        order_id: String,
    },
    /// Orders, newest first: every order (or those in one status: held, routed, void,
    /// parked), or one vendor's vendor orders (or those in one state).
    Orders {
        /// Only this vendor's vendor orders.
        #[arg(long)]
        vendor: Option<String>,
        /// Only orders in this listing: held, routed, cancelled (routed, then cancelled by
        /// the storefront), void, parked (or, with --vendor, vendor orders in this state).
        #[arg(long)]
        state: Option<String>,
        /// At most this many (1-100).
        #[arg(long, default_value_t = 50, allow_negative_numbers = true)]
        limit: u32,
    },
    /// One order whole: its vendor orders with their history and clocks, and the mail
    /// it sent.
    Order {
        #[command(subcommand)]
        action: OrderAction,
    },
    /// Run the SLA sweep once: fire every clock due (reminders, breaches, delay mail,
    /// the operator's digest). `serve` runs it every minute by itself.
    Sweep {
        /// Sweep as of this instant (RFC 3339) instead of now.
        #[arg(long, value_parser = instant)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The orders whose customers' personal data is due to be purged (`RETENTION_DAYS`
    /// after their last vendor order closed), one vendor order per line: due at, order,
    /// vendor. The sweep purges them when due.
    Retention {
        /// Also what falls due within this many days from now.
        #[arg(long, default_value_t = 0)]
        within: u32,
    },
    /// Release the holds that ended and build the payouts (what the daily
    /// `payout-release` function does); `export` and `mark-paid` are the payment run.
    Payouts {
        /// Release and pay as of this instant (RFC 3339) instead of now.
        #[arg(long, value_parser = instant)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        #[command(subcommand)]
        action: Option<PayoutAction>,
    },
    /// Dead-letter queues: inspect and replay.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Addresses no mail goes to (they bounced for good, or complained).
    Suppressions {
        #[command(subcommand)]
        action: Option<SuppressionAction>,
    },
    /// Play one order's whole life on a fresh data dir, step by step.
    Demo,
    /// AWS resources for `--backend aws`.
    Aws {
        #[command(subcommand)]
        action: AwsAction,
    },
}

#[derive(Subcommand)]
pub enum PayoutAction {
    /// The pending payouts, for the payment run: vendor, name, email, payee, currency,
    /// amount, payout id.
    Export {
        /// As CSV (RFC 4180, with a header row), the one format there is.
        #[arg(long, required = true)]
        csv: bool,
    },
    /// Record that a payout was transferred: its amount moves from in payout to paid out
    /// and the vendor is mailed the reference.
    MarkPaid {
        payout_id: String,
        /// The transfer's reference (the bank's or PayPal's id).
        #[arg(long)]
        reference: String,
    },
}

#[derive(Subcommand)]
pub enum AwsAction {
    /// Create the table, the queues with their DLQs and the SES sender identity of
    /// `--stack`, as the template defines them; print their names.
    Bootstrap,
}

#[derive(Subcommand)]
pub enum VendorAction {
    /// Onboard a vendor.
    Add {
        /// The vendor's id: 1-64 of a-z, 0-9, '-' or '_' ("acme-gadgets").
        vendor_id: String,
        /// The vendor's name, as mail and the operator see it.
        #[arg(long)]
        name: String,
        /// Where the vendor's mail goes (supplier briefs, reminders).
        #[arg(long)]
        email: String,
        /// Marketplace commission in basis points (default: COMMISSION_BPS).
        #[arg(long, allow_negative_numbers = true)]
        commission_bps: Option<u32>,
        /// Who its payouts go to (an IBAN, a PayPal address): the payout export needs
        /// one (`vendor update --payee` sets it later).
        #[arg(long)]
        payee: Option<String>,
    },
    /// Every vendor, one per line: id, name, email, commission, state, payee.
    List,
    /// Change a vendor's name, email, commission or payout details.
    Update {
        /// The vendor to change.
        vendor_id: String,
        /// The vendor's name, as mail and the operator see it.
        #[arg(long)]
        name: Option<String>,
        /// Where the vendor's mail goes.
        #[arg(long)]
        email: Option<String>,
        /// Marketplace commission in basis points (0-10000).
        #[arg(long, allow_negative_numbers = true)]
        commission_bps: Option<u32>,
        /// Where payouts go (an IBAN, a PayPal address); empty to clear.
        #[arg(long)]
        payee: Option<String>,
    },
    /// Refuse the vendor's keys (403) and route its SKUs to no one until resumed.
    Suspend {
        /// The vendor to suspend.
        vendor_id: String,
    },
    /// Undo a suspension; lines that waited for its SKUs are routed.
    Resume {
        /// The vendor to resume.
        vendor_id: String,
    },
}

#[derive(Subcommand)]
pub enum KeyAction {
    /// Print a new API key for the vendor, once; only its hash is stored.
    Create {
        /// The vendor the key is for.
        vendor_id: String,
    },
    /// The vendor's keys, one per line: prefix, created, last used, state.
    List {
        /// The vendor whose keys to list.
        vendor_id: String,
    },
    /// Revoke the key that starts with PREFIX (as `key list` prints it); the next request
    /// with it gets 401.
    Revoke {
        /// The key's first 12 characters, as `key list` prints them.
        prefix: String,
    },
}

#[derive(Subcommand)]
pub enum ProductAction {
    /// Map a SKU to its vendor and supplier.
    Add {
        /// The SKU as the storefront sends it (any text up to 255 characters).
        sku: String,
        /// The vendor that sells it.
        #[arg(long)]
        vendor: String,
        /// Who the vendor buys it from ("AliExpress: Acme store").
        #[arg(long)]
        supplier: String,
        /// The supplier's product page (https://).
        #[arg(long)]
        url: String,
        /// Supplier cost per unit as a decimal ("12.40").
        #[arg(long)]
        cost: String,
        /// The supplier cost's currency (ISO 4217, "USD").
        #[arg(long)]
        currency: String,
        /// The supplier's variant to order ("8GB, green").
        #[arg(long)]
        variant: Option<String>,
        /// Move the SKU to this vendor from the vendor that maps it now.
        #[arg(long)]
        force: bool,
    },
    /// Approve a vendor's claim on a SKU that orders wait for: they are routed to it.
    Approve {
        /// The SKU as the storefront sends it.
        sku: String,
    },
    /// Refuse a vendor's claim on a SKU: the claim is taken away, the orders keep waiting.
    Refuse {
        /// The SKU as the storefront sends it.
        sku: String,
    },
    /// Take a SKU's mapping away from its vendor: what was handed out stays; new lines
    /// of it wait until it is mapped again.
    Remove {
        /// The SKU as the storefront sends it.
        sku: String,
    },
    /// Every SKU mapping, one per line: SKU, vendor, supplier, cost, URL (and "awaiting
    /// approval" for a claim not approved yet).
    List {
        /// Only this vendor's.
        #[arg(long)]
        vendor: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum OrderAction {
    /// Show the order named by its id (`o_…`) or the number customers quote (#1001).
    Show {
        /// An order id, or a storefront order number ("#1001").
        reference: String,
    },
    /// End the wait of lines no vendor sells: they will not be sent. The customer is
    /// told they will be refunded (you refund them at the store); the lines are routed
    /// no more, whatever is mapped later. Lines left waiting are voided this way by
    /// the sweep UNROUTABLE_NOTICE_HOURS after they were routed.
    VoidLine {
        /// An order id, or a storefront order number ("#1001") that names one order.
        reference: String,
        /// The line ids (as `dropflow order show` lists them).
        #[arg(required = true)]
        lines: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum SuppressionAction {
    /// List them, newest first (the default).
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Mail an address again (its mailbox works now).
    Remove { email: String },
}

#[derive(Subcommand)]
pub enum DlqAction {
    /// List the dead letters of every queue (intake, notify, and the relay's).
    List,
    /// Move every dead letter back to its queue.
    Replay,
}

fn chaos_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("{text:?} is not a rate between 0 and 1")),
    }
}

/// Runs a parsed command, writing its output to `out`. Errors are one line.
pub async fn run(cli: Cli, out: &mut (dyn Write + Send)) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve { port: 3000, chaos: None });
    let chaos = match &command {
        Command::Serve { chaos: Some(rate), .. } if *rate > 0.0 => Some(dropflow_shared::adapters::faults::Chaos::random(*rate)),
        _ => None,
    };
    let mut settings = dropflow_shared::compose::Settings::new(crate::local_config()?).with_chaos(chaos);
    if let Some(start) = cli.clock {
        settings = settings.on(std::sync::Arc::new(dropflow_shared::ports::SteppedClock::starting_at(start)));
    }
    // A command that only reads has nothing to read in a data dir that does not exist
    // (a mistyped --data-dir): said in one line, never an empty store created there.
    if cli.backend == Backend::Embedded && command.only_reads() && !cli.data_dir.exists() {
        return Err(format!("no dropflow data in {}: give the --data-dir that `dropflow serve` uses", cli.data_dir.display()));
    }
    let local = match (&command, cli.backend) {
        (Command::Demo, _) => return crate::demo::run(out).await,
        (Command::Aws { action: AwsAction::Bootstrap }, _) => return bootstrap(&cli.stack, out).await,
        (_, Backend::Embedded) => Local::open_with(&cli.data_dir, settings)?,
        (_, Backend::Aws) => Local::open_aws(&cli.stack, settings, &cli.data_dir).await?,
    };
    let place = match cli.backend {
        Backend::Embedded => format!("data dir {}", cli.data_dir.display()),
        Backend::Aws => format!("AWS stack {}", cli.stack),
    };
    execute(&local, command, &place, out).await
}

/// Runs `command` on a system already open (`place` says where, for `serve`'s banner):
/// what `run` does once it has opened the backend, and how the scenario tests run
/// operator steps on their own app, on its clock and configuration.
pub async fn execute(local: &Local, command: Command, place: &str, out: &mut (dyn Write + Send)) -> Result<(), String> {
    let print = |out: &mut (dyn Write + Send), text: String| writeln!(out, "{text}").map_err(|e| e.to_string());
    let app = &local.app;
    match command {
        Command::Demo | Command::Aws { .. } => Err("demo and aws bootstrap open their own system; run them from the command line".into()),
        Command::Serve { port, chaos } => {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
            print(out, format!("dropflow serving on http://127.0.0.1:{port} ({place})"))?;
            print(out, format!("vendor dashboard: http://127.0.0.1:{port}/vendor/app (sign in with a key from `dropflow key create <vendor>`)"))?;
            if let Some(rate) = chaos {
                print(out, format!("chaos: {rate} of calls to every port fail (outages, throttling, timeouts after the effect)"))?;
            }
            // Every source whose secret is the public local default: anyone can sign for it.
            for variable in dropflow_shared::sources::SOURCES.iter().map(|s| s.secret_variable()).filter(|v| std::env::var_os(v).is_none()) {
                print(out, format!("{variable} is unset: webhooks are verified with the public local default secret (development only)"))?;
            }
            local.clone().serve(listener).await.map_err(|e| e.to_string())
        }
        Command::Vendor { action: VendorAction::Add { vendor_id, name, email, commission_bps, payee } } => {
            let vendor = operator::add_vendor(app, &vendor_id, &name, &email, commission_bps, payee.as_deref()).await.map_err(|e| e.to_string())?;
            print(out, format!("vendor {} added ({} <{}>, commission {} bps)", vendor.vendor_id, vendor.name, vendor.email, vendor.commission_bps))
        }
        Command::Key { action: KeyAction::Create { vendor_id } } => {
            let key = operator::create_key(app, &vendor_id).await.map_err(|e| e.to_string())?;
            print(out, key)
        }
        Command::Key { action: KeyAction::List { vendor_id } } => {
            for key in operator::list_keys(app, &vendor_id).await.map_err(|e| e.to_string())? {
                let last_used = key.last_used.map_or_else(|| "never".to_string(), |d| d.to_string());
                let state = if key.revoked { "revoked" } else { "active" };
                print(out, format!("{} {} {last_used} {state}", key.prefix, dropflow_shared::http::wire::instant(key.created_at)))?;
            }
            Ok(())
        }
        Command::Key { action: KeyAction::Revoke { prefix } } => {
            let key = operator::revoke_key(app, &prefix).await.map_err(|e| e.to_string())?;
            print(out, format!("key {} of vendor {} revoked", key.prefix, key.vendor_id))
        }
        Command::Vendor { action: VendorAction::List } => {
            for v in operator::list_vendors(app).await.map_err(|e| e.to_string())? {
                let state = if v.suspended { "suspended" } else { "active" };
                print(out, format!("{}\t{}\t{}\t{} bps\t{state}\t{}", v.vendor_id, v.name, v.email, v.commission_bps, v.payee.as_deref().unwrap_or("-")))?;
            }
            Ok(())
        }
        Command::Vendor { action: VendorAction::Update { vendor_id, name, email, commission_bps, payee } } => {
            let changes = operator::VendorChanges { name: name.as_deref(), email: email.as_deref(), commission_bps, payee: payee.as_deref(), suspended: None };
            let (v, _) = operator::update_vendor(app, &vendor_id, changes).await.map_err(|e| e.to_string())?;
            print(
                out,
                format!(
                    "vendor {} updated ({} <{}>, commission {} bps, payee {})",
                    v.vendor_id,
                    v.name,
                    v.email,
                    v.commission_bps,
                    v.payee.as_deref().unwrap_or("-")
                ),
            )
        }
        Command::Vendor { action: VendorAction::Suspend { vendor_id } } => {
            let changes = operator::VendorChanges { suspended: Some(true), ..Default::default() };
            operator::update_vendor(app, &vendor_id, changes).await.map_err(|e| e.to_string())?;
            print(out, format!("vendor {vendor_id} suspended: its keys get 403 and its SKUs route to no one"))
        }
        Command::Vendor { action: VendorAction::Resume { vendor_id } } => {
            let changes = operator::VendorChanges { suspended: Some(false), ..Default::default() };
            let (_, routed) = operator::update_vendor(app, &vendor_id, changes).await.map_err(|e| e.to_string())?;
            print(out, format!("vendor {vendor_id} resumed; {routed} waiting order lines routed"))
        }
        Command::Product { action: ProductAction::List { vendor } } => {
            let vendor = vendor.map(|v| dropflow_shared::domain::ids::VendorId::parse(&v)).transpose().map_err(|e| e.to_string())?;
            for p in operator::all_products(app, vendor.as_ref()).await.map_err(|e| e.to_string())? {
                let claim = if p.awaiting_approval { "\tawaiting approval" } else { "" };
                print(out, format!("{}\t{}\t{}\t{}\t{}{claim}", p.sku, p.vendor_id, p.supplier_name, p.supplier_cost, p.product_url))?;
            }
            Ok(())
        }
        Command::Product { action: ProductAction::Add { sku, vendor, supplier, url, cost, currency, variant, force } } => {
            let input = ProductInput {
                sku: &sku,
                vendor_id: &vendor,
                supplier_name: &supplier,
                product_url: &url,
                cost: &cost,
                currency: &currency,
                variant: variant.as_deref(),
                force,
            };
            let (mapping, rerouted) = operator::add_product(app, input).await.map_err(|e| e.to_string())?;
            print(out, format!("SKU {} -> vendor {} (supplier {}, cost {})", mapping.sku, mapping.vendor_id, mapping.supplier_name, mapping.supplier_cost))?;
            if rerouted > 0 {
                print(out, format!("{rerouted} waiting order lines routed to {}", mapping.vendor_id))?;
            }
            Ok(())
        }
        Command::Product { action: ProductAction::Approve { sku } } => {
            let (mapping, routed) = dropflow_shared::services::products::approve(app, &sku).await.map_err(|e| e.to_string())?;
            print(out, format!("SKU {} approved for vendor {}; {routed} waiting order lines routed", mapping.sku, mapping.vendor_id))
        }
        Command::Product { action: ProductAction::Remove { sku } } => {
            let mapping = dropflow_shared::services::products::remove(app, &sku).await.map_err(|e| e.to_string())?;
            print(out, format!("SKU {} no longer maps to vendor {}; its new lines wait until it is mapped again", mapping.sku, mapping.vendor_id))
        }
        Command::Product { action: ProductAction::Refuse { sku } } => {
            let mapping = dropflow_shared::services::products::refuse(app, &sku).await.map_err(|e| e.to_string())?;
            print(out, format!("claim of vendor {} on SKU {} refused; its orders keep waiting", mapping.vendor_id, mapping.sku))
        }
        Command::Reroute { order_id } => {
            let id = dropflow_shared::domain::ids::OrderId::parse(&order_id).map_err(|e| e.to_string())?;
            let routed = dropflow_shared::services::reroute::reroute(app, &id).await.map_err(|e| e.to_string())?;
            print(out, format!("{routed} lines of order {id} routed"))
        }
        Command::Orders { vendor, state, limit } => {
            let limit = usize::try_from(limit).ok().filter(|l| (1..=100).contains(l)).ok_or("--limit must be from 1 to 100")?;
            match vendor {
                Some(vendor) => {
                    let vendor = dropflow_shared::domain::ids::VendorId::parse(&vendor).map_err(|e| e.to_string())?;
                    let (orders, _) = dropflow_shared::services::vendor::list(app, &vendor, state.as_deref(), None, limit).await.map_err(|e| e.to_string())?;
                    for vo in orders {
                        print(out, format!("{}\t{}\t{}\t{}", wire::instant(vo.created_at), vo.id(), vo.order_number, vo.state.as_str()))?;
                    }
                }
                None => {
                    let orders = operator::list_orders(app, state.as_deref(), limit).await.map_err(|e| format!("--state: {e}"))?;
                    for record in orders {
                        let order = &record.order;
                        print(
                            out,
                            format!(
                                "{}\t{}\t{}\t{} {}\t{}\t{}",
                                wire::instant(order.created_at),
                                order.order_id,
                                order.order_number,
                                order.source,
                                order.shop,
                                record.listed_as(),
                                order.total
                            ),
                        )?;
                    }
                }
            }
            Ok(())
        }
        Command::Order { action: OrderAction::Show { reference } } => {
            let found = operator::find_orders(app, &reference).await.map_err(|e| e.to_string())?;
            if found.is_empty() {
                return Err(format!("no order {reference:?}"));
            }
            for order_id in found {
                let report = operator::show_order(app, &order_id).await.map_err(|e| e.to_string())?;
                for line in report_lines(&report) {
                    print(out, line)?;
                }
            }
            Ok(())
        }
        Command::Order { action: OrderAction::VoidLine { reference, lines } } => {
            let found = operator::find_orders(app, &reference).await.map_err(|e| e.to_string())?;
            let [order_id] = found.as_slice() else {
                return Err(if found.is_empty() {
                    format!("no order {reference:?}")
                } else {
                    format!("{reference:?} names {} orders: give the order id", found.len())
                });
            };
            let voided = unroutable::void(app, unroutable::Void { order_id, line_ids: &lines, by: Voider::Operator, notice: None, now: app.clock.now() })
                .await
                .map_err(|e| e.to_string())?;
            if voided == 0 {
                return Err(format!("no line of {lines:?} waits for a vendor in order {order_id}"));
            }
            print(out, format!("{voided} lines of order {order_id} voided: the customer is told they will be refunded; refund them at the store"))
        }
        Command::Sweep { now } => {
            let now = now.unwrap_or_else(|| app.clock.now());
            let report = dropflow_shared::services::sweep::sweep(app, now, None).await.map_err(|e| e.to_string())?;
            print(
                out,
                format!(
                    "sweep as of {}: {} vendor orders due, {} fired, {} escalations, {} orders' personal data purged",
                    wire::instant(now),
                    report.due,
                    report.fired,
                    report.escalations,
                    report.purged
                ) + &if report.voided > 0 { format!("; {} lines no vendor sells voided", report.voided) } else { String::new() },
            )
        }
        Command::Retention { within } => {
            let until = app.clock.now() + chrono::Duration::days(i64::from(within));
            for (due_at, vo) in dropflow_shared::services::privacy::purges_due(app, until).await.map_err(|e| e.to_string())? {
                print(out, format!("{}\t{}\t{}", wire::instant(due_at), vo.order_id, vo.vendor_id))?;
            }
            Ok(())
        }
        Command::Payouts { now, action: None } => {
            let now = now.unwrap_or_else(|| app.clock.now());
            let report = money::run(app, now, None).await.map_err(|e| e.to_string())?;
            print(
                out,
                format!(
                    "payouts as of {}: {} earnings released, {} payouts created, {} owed less than the minimum",
                    wire::instant(now),
                    report.released,
                    report.payouts.len(),
                    report.below_minimum
                ),
            )?;
            for payout_id in &report.payouts {
                print(out, format!("payout {payout_id} pending"))?;
            }
            for refused in &report.refused {
                print(out, format!("refused (needs a person): {refused}"))?;
            }
            Ok(())
        }
        Command::Payouts { action: Some(PayoutAction::Export { .. }), .. } => {
            let mut csv = csv::Writer::from_writer(Vec::new());
            let write =
                |csv: &mut csv::Writer<Vec<u8>>, row: &[&str]| csv.write_record(row.iter().map(|cell| spreadsheet_safe(cell))).map_err(|e| e.to_string());
            write(&mut csv, &["vendor_id", "name", "email", "payee", "currency", "amount", "payout_id"])?;
            for (payout, vendor) in money::payment_run(app).await.map_err(|e| e.to_string())? {
                let (name, email) = vendor.as_ref().map_or((String::new(), String::new()), |v| (v.name.clone(), v.email.to_string()));
                // A row without a payee is a transfer nobody can make: it is left out and
                // flagged, so that the payment run never pays an empty account.
                let Some(payee) = vendor.as_ref().and_then(|v| v.payee.clone()) else {
                    eprintln!(
                        "payout {} ({} {}) of vendor {} not exported: no payee; set one with `dropflow vendor update {} --payee <account>`",
                        payout.payout_id,
                        payout.amount.decimal(),
                        payout.amount.currency.code(),
                        payout.vendor_id,
                        payout.vendor_id
                    );
                    continue;
                };
                write(
                    &mut csv,
                    &[payout.vendor_id.as_str(), &name, &email, &payee, payout.amount.currency.code(), &payout.amount.decimal(), &payout.payout_id],
                )?;
            }
            let bytes = csv.into_inner().map_err(|e| e.to_string())?;
            out.write_all(&bytes).map_err(|e| e.to_string())
        }
        Command::Payouts { action: Some(PayoutAction::MarkPaid { payout_id, reference }), .. } => {
            let payout = money::mark_paid(app, &payout_id, &reference).await.map_err(|e| e.to_string())?;
            print(
                out,
                format!("payout {} of {} to {} paid, reference {}", payout.payout_id, payout.amount, payout.vendor_id, payout.reference.unwrap_or_default()),
            )
        }
        Command::Dlq { action: DlqAction::List } => {
            for queue in DeadLetterQueue::ALL {
                for letter in local.queues.dead_letters(queue).await.map_err(|e| e.to_string())? {
                    print(out, serde_json::to_string(&letter).map_err(|e| e.to_string())?)?;
                }
            }
            Ok(())
        }
        Command::Dlq { action: DlqAction::Replay } => {
            let mut moved = 0;
            for queue in DeadLetterQueue::ALL {
                moved += local.queues.replay_dead_letters(queue).await.map_err(|e| e.to_string())?;
            }
            print(out, format!("{moved} dead letters moved back to their queues"))
        }
        Command::Suppressions { action: None } => suppressions(app, 50, out).await,
        Command::Suppressions { action: Some(SuppressionAction::List { limit }) } => suppressions(app, limit, out).await,
        Command::Suppressions { action: Some(SuppressionAction::Remove { email }) } => {
            app.tables.unsuppress(&email).await.map_err(|e| e.to_string())?;
            print(out, format!("{email} will be mailed again"))
        }
    }
}

/// A CSV cell a spreadsheet shows as text: a vendor's name or payee note that starts
/// like a formula (`=`, `+`, `-`, `@`, a tab or a return) gets a leading `'` (OWASP's
/// advice against CSV injection). Amounts are never negative here, so none is touched.
fn spreadsheet_safe(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// An RFC 3339 instant from the command line.
fn instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2026-11-23T10:00:00Z)"))
}

/// `dropflow suppressions`: the suppressed addresses, newest first, one a line.
async fn suppressions(app: &dropflow_shared::services::App, limit: usize, out: &mut (dyn Write + Send)) -> Result<(), String> {
    let (list, _) = app.tables.suppressions(None, limit.clamp(1, 1000)).await.map_err(|e| e.to_string())?;
    if list.is_empty() {
        return writeln!(out, "no address is suppressed").map_err(|e| e.to_string());
    }
    for s in list {
        writeln!(out, "{}  {}  {}  {}", s.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), s.reason, s.email, s.detail.unwrap_or_default())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `dropflow aws bootstrap`: creates the stack's resources and prints the settings a
/// function would be given for them.
async fn bootstrap(stack: &str, out: &mut (dyn Write + Send)) -> Result<(), String> {
    use dropflow_shared::adapters::aws::{bootstrap::Bootstrap, sdk_config};
    let config = crate::local_config()?;
    let plan = Bootstrap {
        stack_name: stack.to_string(),
        sender_email: config.sender_email.to_string(),
        visibility_timeout_seconds: None,
        webhook_secrets: config.webhook_secret_values(),
    };
    let resources = plan.run(&sdk_config().await).await?;
    let mut lines = vec![
        format!("TABLE_NAME={}", resources.table_name),
        format!("INTAKE_QUEUE_URL={}", resources.intake_queue_url),
        format!("NOTIFY_QUEUE_URL={}", resources.notify_queue_url),
        format!("RELAY_DLQ_URL={}", resources.relay_dead_letter_queue_url.unwrap_or_default()),
        format!("SENDER_EMAIL={} (SES identity verification requested)", config.sender_email),
    ];
    // The functions are given where each secret is, never the secret.
    for (source, _) in &plan.webhook_secrets {
        let variable = dropflow_shared::sources::SOURCES.iter().find(|s| s.name() == *source).map(|s| s.secret_variable()).unwrap_or_default();
        lines.push(format!("{variable}_ARN={}", dropflow_shared::adapters::aws::webhook_secret_name(stack, source)));
    }
    writeln!(out, "{}", lines.join("\n")).map_err(|e| e.to_string())
}

/// An order report as the operator reads it, one fact per line.
fn report_lines(report: &operator::OrderReport) -> Vec<String> {
    let (record, order) = (&report.record, &report.record.order);
    let mut lines = vec![
        format!("order {} {} ({} {}), {}, total {}", order.order_id, order.order_number, order.source, order.shop, record.status.as_str(), order.total),
        format!("customer: {} <{}>", order.customer_name, order.customer_email.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "no email".into())),
        format!(
            "ship to: {}",
            order.shipping_address.as_ref().map(|a| a.lines().join(", ")).or_else(|| order.address_problem.clone()).unwrap_or_else(|| "no address".into())
        ),
    ];
    for (line, reason) in record.unroutable_lines() {
        lines.push(format!(
            "unroutable: {} x {} [{}]: {reason} (line {}: `dropflow order void-line` ends its wait)",
            line.quantity,
            line.title,
            line.sku.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "no SKU".into()),
            line.line_id
        ));
    }
    for void in &record.void_lines {
        let title = order.lines.iter().find(|l| l.line_id == void.line_id).map_or("?", |l| l.title.as_str());
        lines.push(format!(
            "void since {}: {title} (line {}): {}; the customer was told it will be refunded",
            wire::instant(void.at),
            void.line_id,
            void.reason
        ));
    }
    for refund in &record.unassigned_refunds {
        lines.push(format!(
            "refund to split: {} {} ({})",
            refund.refund_id,
            refund.amount.map(|m| m.to_string()).unwrap_or_else(|| "amount unknown".into()),
            refund.reason
        ));
    }
    for (vo, history) in &report.vendor_orders {
        lines.push(format!("vendor order {} ({}): {}", vo.id(), vo.vendor_id, vo.state.as_str()));
        for clock in &vo.clocks {
            lines.push(format!("  clock {} due {}", clock.kind.as_str(), wire::instant(clock.due_at)));
        }
        for entry in history {
            lines.push(format!(
                "  {} {} {}{}",
                wire::instant(entry.at),
                entry.action,
                entry.state.as_str(),
                entry.detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default()
            ));
        }
    }
    for (at, event, to) in &report.mail {
        lines.push(format!("mail {} {event} -> {to}", wire::instant(*at)));
    }
    lines
}
