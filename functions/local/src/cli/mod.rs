//! The `dropflow` command line: `serve` (the default) and the operator commands.

mod commands;

use crate::Local;
use clap::{Args, Parser, Subcommand};
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
                | Command::Scorecards { action: None, .. }
                | Command::Order { action: OrderAction::Show { .. } }
                | Command::Retention { .. }
                | Command::Vendor { action: VendorAction::List { .. } }
                | Command::Key { action: KeyAction::List { .. } }
                | Command::Operator { action: OperatorAction::Key { action: OperatorKeyAction::List { .. } } }
                | Command::Product { action: ProductAction::List { .. } }
                | Command::Dlq { action: DlqAction::List { .. } | DlqAction::Show { .. } }
                | Command::Suppressions { action: None | Some(SuppressionAction::List { .. }) }
                | Command::Supplier { action: SupplierAction::List { .. } }
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
    /// The operator's own keys: what signs in to the console (`/operator/app`) and the
    /// operator API.
    Operator {
        #[command(subcommand)]
        action: OperatorAction,
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
        #[command(flatten)]
        format: Format,
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
    /// Read back each configured storefront's orders changed since the last run
    /// (WooCommerce sites with a key) and file what the webhooks missed; `serve` runs
    /// it every 15 minutes by itself.
    Reconcile {
        /// Reconcile as of this instant (RFC 3339) instead of now (where a shop never
        /// read starts `RECONCILE_LOOKBACK_HOURS` back from).
        #[arg(long, value_parser = instant)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Vendors' supplier accounts (AliExpress, CJ): what lets dropflow place their
    /// supplier orders for SKUs on `review` or `auto`.
    Supplier {
        #[command(subcommand)]
        action: SupplierAction,
    },
    /// Place the supplier orders that are due and read back the placed ones (status,
    /// tracking, delivery), once; `serve` runs it every minute by itself.
    SupplierSync {
        /// Run as of this instant (RFC 3339) instead of now.
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
        #[command(flatten)]
        format: Format,
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
    /// Vendors' scorecards: each measure over its window, with its target and state.
    Scorecards {
        /// Only this vendor's.
        #[arg(long, global = true)]
        vendor: Option<String>,
        #[command(subcommand)]
        action: Option<ScorecardAction>,
        #[command(flatten)]
        format: Format,
    },
    /// Dead-letter queues: list, show, replay or discard what could not be processed.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Addresses no mail goes to (they bounced for good, or complained).
    Suppressions {
        #[command(subcommand)]
        action: Option<SuppressionAction>,
    },
    /// Play one order's whole life, step by step, on a fresh `--data-dir` (kept, to look
    /// at afterwards): onboarding, the order, a refund, shipment and delivery, the hold,
    /// the payout and its payment, with every mail it sends.
    Demo,
    /// AWS resources for `--backend aws`.
    Aws {
        #[command(subcommand)]
        action: AwsAction,
    },
}

/// A supplier whose API dropflow places orders with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SupplierArg {
    /// AliExpress's Dropshipping API (the vendor authorizes dropflow's app; give the
    /// OAuth code its callback received).
    Aliexpress,
    /// CJdropshipping's API 2.0 (give the vendor's API key).
    Cj,
}

impl SupplierArg {
    /// The domain's name of it.
    pub fn api(self) -> dropflow_shared::domain::supplier::SupplierApi {
        match self {
            SupplierArg::Aliexpress => dropflow_shared::domain::supplier::SupplierApi::Aliexpress,
            SupplierArg::Cj => dropflow_shared::domain::supplier::SupplierApi::Cj,
        }
    }
}

#[derive(Subcommand)]
pub enum SupplierAction {
    /// Connect a vendor's supplier account: `cj --api-key <KEY>`, or `aliexpress
    /// --code <OAUTH_CODE>` (the code AliExpress's authorize page sent back).
    /// Credentials are sealed at rest and never printed.
    Connect {
        /// The vendor whose account it is.
        vendor_id: String,
        /// The supplier.
        #[arg(value_enum)]
        supplier: SupplierArg,
        /// CJ's API key (MyCJ, Apps, API).
        #[arg(long, required_if_eq("supplier", "cj"))]
        api_key: Option<String>,
        /// The OAuth code AliExpress sent to the callback after the vendor authorized.
        #[arg(long, required_if_eq("supplier", "aliexpress"))]
        code: Option<String>,
    },
    /// Every connected account, one per line: vendor, supplier, account, token expiry,
    /// refresh expiry.
    List {
        /// Only this vendor's.
        vendor_id: String,
        #[command(flatten)]
        format: Format,
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
        commission_bps: Option<dropflow_shared::domain::money::CommissionBps>,
        /// Who its payouts go to (an IBAN, a PayPal address): the payout export needs
        /// one (`vendor update --payee` sets it later).
        #[arg(long)]
        payee: Option<String>,
    },
    /// Every vendor, one per line: id, name, email, commission, state, payee.
    List {
        #[command(flatten)]
        format: Format,
    },
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
        commission_bps: Option<dropflow_shared::domain::money::CommissionBps>,
        /// Where payouts go (an IBAN, a PayPal address); empty to clear.
        #[arg(long)]
        payee: Option<String>,
    },
    /// Refuse the vendor's keys (403) and route its SKUs to no one until resumed.
    Suspend {
        /// The vendor to suspend.
        vendor_id: String,
    },
    /// Hold the vendor for review: its keys still work on the orders it has, but its
    /// new orders wait, not routed, until released.
    Hold {
        /// The vendor to hold.
        vendor_id: String,
        /// Why (logged with the operator's name).
        #[arg(long)]
        reason: String,
    },
    /// Release a held vendor; the lines that waited for it are routed.
    Release {
        /// The vendor to release.
        vendor_id: String,
        /// Why (logged with the operator's name).
        #[arg(long)]
        reason: String,
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
        #[command(flatten)]
        format: Format,
    },
    /// Revoke the key that starts with PREFIX (as `key list` prints it); the next request
    /// with it gets 401.
    Revoke {
        /// The key's first 12 characters, as `key list` prints them.
        prefix: String,
    },
}

/// How a SKU's supplier step runs: by hand, or through a supplier's API.
#[derive(Args, Debug, Default)]
pub struct AutomationArgs {
    /// manual (the vendor orders by hand; the default), review (dropflow prepares the
    /// supplier order, the vendor confirms it) or auto (dropflow places it).
    #[arg(long)]
    pub mode: Option<String>,
    /// The supplier's API: aliexpress or cj.
    #[arg(long)]
    pub supplier_api: Option<String>,
    /// The supplier's product: AliExpress product_id (digits), CJ pid.
    #[arg(long)]
    pub supplier_product: Option<String>,
    /// The supplier's variant: AliExpress sku_attr (none for one SKU), CJ vid.
    #[arg(long)]
    pub supplier_sku: Option<String>,
    /// The supplier's shipping method: AliExpress logistics_service_name, CJ logisticName.
    #[arg(long)]
    pub shipping_method: Option<String>,
    /// How far (percent, 0-1000) the supplier's price may rise above --cost before
    /// dropflow stops placing orders of it and hands them to the vendor (unset: no limit).
    #[arg(long)]
    pub price_tolerance: Option<u32>,
}

impl AutomationArgs {
    /// The flags as the domain checks them.
    pub fn spec(self) -> dropflow_shared::domain::order::LinkSpec {
        dropflow_shared::domain::order::LinkSpec {
            mode: self.mode,
            supplier_api: self.supplier_api,
            supplier_product_id: self.supplier_product,
            supplier_sku: self.supplier_sku,
            shipping_method: self.shipping_method,
            price_tolerance_percent: self.price_tolerance,
        }
    }
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
        #[command(flatten)]
        automation: Box<AutomationArgs>,
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
        #[command(flatten)]
        format: Format,
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
    #[command(alias = "void-line")]
    Void {
        /// An order id, or a storefront order number ("#1001") that names one order.
        reference: String,
        /// The line ids (as `dropflow order show` lists them).
        #[arg(required = true)]
        lines: Vec<String>,
        /// Why, for the order's history.
        #[arg(long)]
        reason: String,
    },
    /// Give lines that wait for a vendor to a vendor, who is briefed; or a vendor's part
    /// nothing of which was ordered from the supplier, naming all its lines (its vendor
    /// is told not to buy it). Each is bought as the vendor's own mapping of its SKU
    /// says, else from --supplier/--url/--cost.
    Give {
        /// An order id, or a storefront order number ("#1001") that names one order.
        reference: String,
        /// The line ids (as `dropflow order show` lists them).
        #[arg(required = true)]
        lines: Vec<String>,
        /// The vendor to give them to.
        #[arg(long)]
        vendor: String,
        /// Why, for the order's history.
        #[arg(long)]
        reason: String,
        /// Where it is bought, when the vendor does not map the SKU.
        #[arg(long, requires_all = ["url", "cost"])]
        supplier: Option<String>,
        /// The product's https address at the supplier.
        #[arg(long)]
        url: Option<String>,
        /// What one unit costs there, in the order's currency.
        #[arg(long)]
        cost: Option<String>,
    },
    /// Ship the order to another address from now on: its vendor orders not yet shipped
    /// take it (their vendors are mailed), lines that waited for a usable address are
    /// routed. The fix stands while the storefront sends the address it replaced; a new
    /// address from the storefront (the customer's own change) wins.
    FixAddress {
        /// An order id, or a storefront order number ("#1001") that names one order.
        reference: String,
        #[command(flatten)]
        address: AddressArgs,
        /// Why, for the order's history.
        #[arg(long)]
        reason: String,
    },
    /// Send one mail the order sent again, to one who got it (`order show` lists each
    /// mail with its event), composed from the order as it stands now.
    Resend {
        /// An order id, or a storefront order number ("#1001") that names one order.
        reference: String,
        /// The mail's event, as `order show` lists it.
        event_id: String,
        /// Its recipient, as listed.
        #[arg(long)]
        to: String,
        /// Why, for the order's history.
        #[arg(long)]
        reason: String,
    },
    /// Give a vendor more time for one step: its clock (place_with_supplier, ship,
    /// auto_cancel, ... as `order show` lists them) is due HOURS later, from its deadline or
    /// from now when that passed. The vendor is mailed the new deadline; what the
    /// customer was told and the vendor's scorecard do not change.
    Extend {
        /// An order id, or a storefront order number ("#1001") that names one order.
        reference: String,
        /// The vendor whose vendor order in it gets the time.
        #[arg(long)]
        vendor: String,
        /// Which clock.
        #[arg(long)]
        clock: String,
        /// How many hours (1-720).
        #[arg(long)]
        hours: u32,
        /// Why, for the order's history.
        #[arg(long)]
        reason: String,
    },
}

/// A shipping address on the command line.
#[derive(clap::Args)]
pub struct AddressArgs {
    /// The recipient.
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub company: Option<String>,
    #[arg(long)]
    pub line1: String,
    #[arg(long)]
    pub line2: Option<String>,
    #[arg(long)]
    pub city: String,
    #[arg(long)]
    pub region: Option<String>,
    #[arg(long)]
    pub postal_code: Option<String>,
    /// Two letters (US, DE).
    #[arg(long)]
    pub country: String,
    #[arg(long)]
    pub phone: Option<String>,
}

#[derive(Subcommand)]
pub enum ScorecardAction {
    /// Rebuild the counters from the vendor orders (a Query per vendor, never a Scan):
    /// after a restore, or for orders from before scorecards. Run it when the vendors are
    /// quiet.
    Backfill,
}

#[derive(Subcommand)]
pub enum OperatorAction {
    /// Operator keys.
    Key {
        #[command(subcommand)]
        action: OperatorKeyAction,
    },
}

#[derive(Subcommand)]
pub enum OperatorKeyAction {
    /// Print a new operator key, once; only its hash is stored. NAME says who holds it
    /// (it is written into the history of every order the key acts on).
    Create { name: String },
    /// Every operator key, one per line: prefix, name, created, last used, state.
    List {
        #[command(flatten)]
        format: Format,
    },
    /// Revoke the operator key that starts with PREFIX (as `operator key list` prints it).
    Revoke { prefix: String },
}

#[derive(Subcommand)]
pub enum SuppressionAction {
    /// List them, newest first (the default).
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        format: Format,
    },
    /// Mail an address again (its mailbox works now).
    Remove { email: String },
}

#[derive(Subcommand)]
pub enum DlqAction {
    /// The dead letters of every queue (intake, notify, storefront, and the relay's), one a line:
    /// id, queue, why it was set aside, size, when it was first sent.
    List {
        #[command(flatten)]
        format: Format,
    },
    /// One dead letter's body (a webhook, an event), as it will be replayed.
    Show {
        /// Its id, as `dlq list` prints it.
        id: String,
    },
    /// Move every dead letter back to its queue (once its cause is fixed), or the one ID.
    Replay {
        /// Only this one (as `dlq list` prints it); needs --reason.
        #[arg(requires = "reason")]
        id: Option<String>,
        /// Why (logged).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Delete one dead letter that is not to be processed; the reason is logged with it.
    Discard {
        /// Its id, as `dlq list` prints it.
        id: String,
        /// Why it is dropped (for the log: "a test order", "replaced by order #1002").
        #[arg(long)]
        reason: String,
    },
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
        (Command::Demo, _) => return crate::demo::run(&cli.data_dir, out).await,
        (Command::Aws { action: AwsAction::Bootstrap }, _) => return commands::bootstrap(&cli.stack, out).await,
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
/// operator steps on their own app, on its clock and configuration. Each group of
/// commands is one function in `commands`.
pub async fn execute(local: &Local, command: Command, place: &str, out: &mut (dyn Write + Send)) -> Result<(), String> {
    let app = &local.app;
    match command {
        Command::Demo | Command::Aws { .. } => Err("demo and aws bootstrap open their own system; run them from the command line".into()),
        Command::Serve { port, chaos } => commands::serve(local, port, chaos, place, out).await,
        Command::Vendor { action } => commands::vendor(app, action, out).await,
        Command::Key { action } => commands::key(app, action, out).await,
        Command::Operator { action: OperatorAction::Key { action } } => commands::operator_key(app, action, out).await,
        Command::Product { action } => commands::product(app, action, out).await,
        Command::Reroute { order_id } => {
            let id = dropflow_shared::domain::ids::OrderId::parse(&order_id).map_err(said)?;
            let routed = dropflow_shared::services::reroute::reroute(app, &id).await.map_err(said)?;
            commands::print(out, format!("{routed} lines of order {id} routed"))
        }
        Command::Orders { vendor, state, limit, format } => commands::orders(app, vendor, state, limit, format, out).await,
        Command::Order { action } => commands::order(app, action, out).await,
        Command::Sweep { now } => commands::sweep(app, now, out).await,
        Command::Reconcile { now } => commands::reconcile(app, now, out).await,
        Command::Supplier { action } => commands::supplier(app, action, out).await,
        Command::SupplierSync { now } => commands::supplier_sync(app, now, out).await,
        Command::Retention { within, format } => commands::retention(app, within, format, out).await,
        Command::Payouts { now, action } => commands::payouts(app, now, action, out).await,
        Command::Dlq { action } => commands::dlq(local, action, out).await,
        Command::Scorecards { vendor, action, format } => commands::scorecards(app, vendor, action, format, out).await,
        Command::Suppressions { action } => commands::suppressions(app, action, out).await,
    }
}

/// A failure as the one line the operator reads: what every command's errors become.
pub(crate) fn said(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// How a listing is printed: a header row and tab-separated rows, or JSON.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct Format {
    /// Print one JSON array of objects (keys as the header row names them) instead.
    #[arg(long)]
    pub json: bool,
}

/// An RFC 3339 instant from the command line.
fn instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2026-11-23T10:00:00Z)"))
}
