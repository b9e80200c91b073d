//! `dropflow-sim --seed <u64> --histories <N> [--backend embedded|aws] [--chaos <rate>]`:
//! plays N generated order histories and prints one JSON line; exits 1 on a violation.

use clap::Parser;
use dropflow_scenarios::Backend;

/// Plays generated order histories through a fresh dropflow and checks every step.
#[derive(Parser)]
#[command(name = "dropflow-sim", version)]
struct Args {
    /// The seed every history is drawn from: the same seed, the same histories.
    #[arg(long)]
    seed: u64,
    /// How many histories to play.
    #[arg(long, default_value_t = 100)]
    histories: usize,
    /// Which adapters: the embedded store, or DynamoDB/SQS/SES at AWS_ENDPOINT_URL (moto).
    #[arg(long, value_enum, default_value_t = BackendArg::Embedded)]
    backend: BackendArg,
    /// The share (0-1) of port calls that fail: throttling, timeouts after the write landed.
    #[arg(long, default_value_t = 0.0)]
    chaos: f64,
    /// Where a failing history's trace is written.
    #[arg(long, default_value = "target/sim-traces")]
    trace_dir: std::path::PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum BackendArg {
    Embedded,
    Aws,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.chaos) {
        eprintln!("dropflow-sim: --chaos must be between 0 and 1");
        return std::process::ExitCode::from(2);
    }
    let backend = match args.backend {
        BackendArg::Embedded => Backend::Embedded,
        BackendArg::Aws => Backend::Aws,
    };
    let options = dropflow_sim::Options { seed: args.seed, histories: args.histories, backend, chaos: args.chaos, trace_dir: args.trace_dir };
    let summary = dropflow_sim::run(&options).await;
    println!("{}", summary.json());
    if summary.violations > 0 { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS }
}
