//! `ehr-chaincode`: serves the EHR chaincode to a Fabric peer (chaincode as a service).

use std::process::ExitCode;
use std::sync::Arc;

use fabric_chaincode_shim::{ServerConfig, env, serve};
use tracing::error;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
ehr-chaincode: the EHR chaincode server the Fabric peer dials (chaincode as a service)

USAGE:
    ehr-chaincode            (configured by environment variables)

ENVIRONMENT:
    CHAINCODE_SERVER_ADDRESS     host:port to listen on, e.g. 0.0.0.0:9999 (required)
    CHAINCODE_ID                 package id from `peer lifecycle chaincode install` (required)
    CHAINCODE_TLS_KEY_FILE       PEM key of the server's TLS certificate (TLS on when set with the cert)
    CHAINCODE_TLS_CERT_FILE      PEM TLS certificate
    CHAINCODE_TLS_CLIENT_CA_FILE PEM CA of the peer's client certificate; when set, the peer must present one
    EHR_MAX_CLOCK_SKEW_SECONDS   refuse proposals stamped further than this from this machine's clock
                                 (default 300; 0 turns the check off)
    RUST_LOG                     log filter, e.g. info, debug, fabric_chaincode_shim=trace (default: info)

SIGNALS:
    SIGTERM / SIGINT stop accepting transactions, finish those in flight, then exit.

EXAMPLE:
    CHAINCODE_SERVER_ADDRESS=127.0.0.1:9999 CHAINCODE_ID=ehr_1.0:abc... ehr-chaincode
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "-V" || a == "--version") {
        println!("ehr-chaincode {}", ehr_chaincode::VERSION);
        return ExitCode::SUCCESS;
    }
    if let Some(a) = args.first() {
        eprintln!("ehr-chaincode: unexpected argument {a:?}; it is configured by environment variables (see --help)");
        return ExitCode::from(2);
    }
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ehr-chaincode: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `EHR_MAX_CLOCK_SKEW_SECONDS`: seconds, 0 for no check.
fn settings() -> Result<ehr_chaincode::Settings, fabric_chaincode_shim::Error> {
    let mut settings = ehr_chaincode::Settings::default();
    if let Ok(raw) = std::env::var("EHR_MAX_CLOCK_SKEW_SECONDS") {
        let seconds: u64 = raw.trim().parse().map_err(|_| {
            fabric_chaincode_shim::Error::InvalidArgument(format!(
                "EHR_MAX_CLOCK_SKEW_SECONDS={raw:?} is not a whole number of seconds (0 turns the check off)"
            ))
        })?;
        settings.max_clock_skew_seconds = (seconds > 0).then_some(seconds);
    }
    Ok(settings)
}

async fn run() -> Result<(), fabric_chaincode_shim::Error> {
    let (address, config) = ServerConfig::from_lookup(|name| std::env::var(name).ok())?;
    let router = ehr_chaincode::router_with(settings()?)?;
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
        fabric_chaincode_shim::Error::Server(format!("cannot listen on {address} ({}): {e}", env::ADDRESS))
    })?;
    serve(listener, config, Arc::new(router), shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
