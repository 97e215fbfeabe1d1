//! Serves the Rust conformance chaincode as chaincode-as-a-service, configured
//! like the Node and Go reference servers: `CHAINCODE_ID` and
//! `CHAINCODE_SERVER_ADDRESS` (plus the optional `CHAINCODE_TLS_*` files).
//! Stops on Ctrl-C / SIGINT. Diagnostics go to stderr only.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match ehr_tests::serve_conformance_from_env().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance-rust-chaincode: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
