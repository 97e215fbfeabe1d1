//! `ehr`: the command line that hospital back-ends, radiologists, lab
//! testers, pharmacists, patients and regulators script against.

mod cli;
mod commands;
mod demo;
mod exit;
mod output;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse_env();
    let filter = if cli.global.verbose { "info,ehr=debug,fabric_gateway_client=debug" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("EHR_LOG").unwrap_or_else(|_| filter.into()))
        .with_writer(std::io::stderr)
        .init();
    let (verbose, json) = (cli.global.verbose, cli.global.json);
    match commands::run(cli).await {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            eprintln!("error: {err}");
            exit::details(&err, json);
            if let Some(hint) = exit::hint(&err) {
                eprintln!("hint: {hint}");
            }
            if verbose {
                eprintln!("debug: {err:#?}");
            }
            ExitCode::from(exit::code(&err))
        }
    }
}
