//! The `dropflow` binary: parse the command line, run it, print errors as one line.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = dropflow_local::cli::Cli::parse();
    match dropflow_local::cli::run(cli, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dropflow: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
