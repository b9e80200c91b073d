//! The `dropflow` binary: parse the command line, run it, print errors as one line.

use clap::Parser;

/// mimalloc, not glibc's allocator: the local pipeline's items, messages and mail are
/// many short-lived allocations across threads, and glibc's malloc and free were about
/// an eighth of `dropflow serve`'s profile (BENCHMARKS.md, issue 30, session 18).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = match dropflow_local::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            error.exit()
        }
        // Bad input is one line, whatever was wrong with it, naming what is missing.
        Err(error) => {
            let text = error.to_string();
            let said: Vec<&str> = text.lines().map(str::trim).take_while(|l| !l.is_empty() && !l.starts_with("Usage:")).collect();
            eprintln!("dropflow: {} (see --help)", said.join(" ").trim_start_matches("error: "));
            return std::process::ExitCode::from(2);
        }
    };
    // `serve` says what its sweeps, releases and dead letters did (info); an operator
    // command only what went wrong. `RUST_LOG` decides otherwise. No colour codes
    // where stderr is not a terminal (a log file, a pipe).
    let serving = matches!(cli.command, None | Some(dropflow_local::cli::Command::Serve { .. }));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| if serving { "warn,dropflow_shared=info,dropflow_local=info" } else { "warn" }.into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match dropflow_local::cli::run(cli, &mut std::io::stdout()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("dropflow: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
