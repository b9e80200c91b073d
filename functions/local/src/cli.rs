//! The `dropflow` command line: `serve` (the default) and the operator commands.

use crate::Local;
use clap::{Parser, Subcommand};
use dropflow_shared::ports::DeadLetterQueue;
use dropflow_shared::services::operator::{self, ProductInput};
use std::io::Write;
use std::path::PathBuf;

/// dropflow: the fulfillment back office of a dropshipping marketplace, in one process.
#[derive(Parser)]
#[command(name = "dropflow", version)]
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
    #[command(subcommand)]
    pub command: Option<Command>,
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
    Reroute { order_id: String },
    /// Dead-letter queues: inspect and replay.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
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
pub enum AwsAction {
    /// Create the table, the queues with their DLQs and the SES sender identity of
    /// `--stack`, as the template defines them; print their names.
    Bootstrap,
}

#[derive(Subcommand)]
pub enum VendorAction {
    /// Onboard a vendor.
    Add {
        vendor_id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// Marketplace commission in basis points (default: COMMISSION_BPS).
        #[arg(long)]
        commission_bps: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum KeyAction {
    /// Print a new API key for the vendor, once; only its hash is stored.
    Create { vendor_id: String },
}

#[derive(Subcommand)]
pub enum ProductAction {
    /// Map a SKU to its vendor and supplier.
    Add {
        sku: String,
        #[arg(long)]
        vendor: String,
        #[arg(long)]
        supplier: String,
        #[arg(long)]
        url: String,
        /// Supplier cost as a decimal ("12.40").
        #[arg(long)]
        cost: String,
        #[arg(long)]
        currency: String,
        #[arg(long)]
        variant: Option<String>,
        /// Move the SKU to this vendor from the vendor that maps it now.
        #[arg(long)]
        force: bool,
    },
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
    let print = |out: &mut (dyn Write + Send), text: String| writeln!(out, "{text}").map_err(|e| e.to_string());
    let local = match (&command, cli.backend) {
        (Command::Demo, _) => return crate::demo::run(out).await,
        (Command::Aws { action: AwsAction::Bootstrap }, _) => return bootstrap(&cli.stack, out).await,
        (_, Backend::Embedded) => Local::open_with(&cli.data_dir, crate::local_config()?, chaos)?,
        (_, Backend::Aws) => Local::open_aws(&cli.stack, crate::local_config()?, &cli.data_dir, chaos).await?,
    };
    let app = &local.app;
    let place = match cli.backend {
        Backend::Embedded => format!("data dir {}", cli.data_dir.display()),
        Backend::Aws => format!("AWS stack {}", cli.stack),
    };
    match command {
        Command::Serve { port, chaos } => {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
            print(out, format!("dropflow serving on http://127.0.0.1:{port} ({place})"))?;
            if let Some(rate) = chaos {
                print(out, format!("chaos: {rate} of calls to every port fail (outages, throttling, timeouts after the effect)"))?;
            }
            if std::env::var_os("SHOPIFY_WEBHOOK_SECRET").is_none() {
                print(out, "SHOPIFY_WEBHOOK_SECRET is unset: webhooks are verified with the public local default secret (development only)".into())?;
            }
            local.serve(listener).await.map_err(|e| e.to_string())
        }
        Command::Vendor { action: VendorAction::Add { vendor_id, name, email, commission_bps } } => {
            let vendor = operator::add_vendor(app, &vendor_id, &name, &email, commission_bps).await.map_err(|e| e.to_string())?;
            print(out, format!("vendor {} added ({} <{}>, commission {} bps)", vendor.vendor_id, vendor.name, vendor.email, vendor.commission_bps))
        }
        Command::Key { action: KeyAction::Create { vendor_id } } => {
            let key = operator::create_key(app, &vendor_id).await.map_err(|e| e.to_string())?;
            print(out, key)
        }
        Command::Product { action: ProductAction::Add { sku, vendor, supplier, url, cost, currency, variant, force } } => {
            let input = ProductInput { sku: &sku, vendor_id: &vendor, supplier_name: &supplier, product_url: &url, cost: &cost, currency: &currency, variant: variant.as_deref(), force };
            let (mapping, rerouted) = operator::add_product(app, input).await.map_err(|e| e.to_string())?;
            print(out, format!("SKU {} -> vendor {} (supplier {}, cost {})", mapping.sku, mapping.vendor_id, mapping.supplier_name, mapping.supplier_cost))?;
            if rerouted > 0 {
                print(out, format!("{rerouted} waiting order lines routed to {}", mapping.vendor_id))?;
            }
            Ok(())
        }
        Command::Reroute { order_id } => {
            let id = dropflow_shared::domain::ids::OrderId::parse(&order_id).map_err(|e| e.to_string())?;
            let routed = dropflow_shared::services::reroute::reroute(app, &id).await.map_err(|e| e.to_string())?;
            print(out, format!("{routed} lines of order {id} routed"))
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
        Command::Demo | Command::Aws { .. } => Ok(()),
    }
}

/// `dropflow aws bootstrap`: creates the stack's resources and prints the settings a
/// function would be given for them.
async fn bootstrap(stack: &str, out: &mut (dyn Write + Send)) -> Result<(), String> {
    use dropflow_shared::adapters::aws::{bootstrap::Bootstrap, sdk_config};
    let config = crate::local_config()?;
    let plan = Bootstrap { stack_name: stack.to_string(), sender_email: config.sender_email.to_string(), visibility_timeout_seconds: None };
    let resources = plan.run(&sdk_config().await).await?;
    let lines = [
        format!("TABLE_NAME={}", resources.table_name),
        format!("INTAKE_QUEUE_URL={}", resources.intake_queue_url),
        format!("NOTIFY_QUEUE_URL={}", resources.notify_queue_url),
        format!("RELAY_DLQ_URL={}", resources.relay_dead_letter_queue_url.unwrap_or_default()),
        format!("SENDER_EMAIL={} (SES identity verification requested)", config.sender_email),
    ];
    writeln!(out, "{}", lines.join("\n")).map_err(|e| e.to_string())
}
