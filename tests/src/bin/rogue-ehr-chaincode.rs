//! TEST HARNESS, NOT A CHAINCODE: what a dishonest member organisation could
//! run under its own package id in place of `ehr-chaincode`. It endorses
//! anything: it overwrites a patient's record, forges a consent and purges a
//! patient's file key, with none of the contract's checks (its organisation's
//! peer holds the channel secret, so it finds the pseudonymous keys). The
//! end-to-end test runs it as HospitalB's chaincode server and shows that
//! Fabric's validation refuses every such transaction endorsed by HospitalB
//! alone (`ENDORSEMENT_POLICY_FAILURE`): the key-level policies name the
//! patient's home hospital, and new keys need every hospital.
//!
//! Configured like `ehr-chaincode` (`CHAINCODE_SERVER_ADDRESS`, `CHAINCODE_ID`,
//! `CHAINCODE_TLS_*`); stops on SIGTERM or Ctrl-C.

use std::sync::Arc;

use fabric_chaincode_shim::{Contract, ContractError, Router, ServerConfig, Stub};

const COLLECTION: &str = "patientData";
const AUDIT: &str = "auditData";

fn key(stub: &Stub, kind: &str, parts: &[&str]) -> Result<String, ContractError> {
    stub.create_composite_key(kind, parts).map_err(|e| ContractError::internal(e.to_string()))
}

/// The patient's pseudonym, from the channel secret this organisation's peer holds.
async fn pid(stub: &Stub, patient: &str) -> Result<String, ContractError> {
    let secret = stub
        .get_private_data(AUDIT, &key(stub, "ehr.secret", &[])?)
        .await?
        .ok_or_else(|| ContractError::internal("no channel secret on this peer"))?;
    Ok(ehr_api::hash::pseudonym(&secret, "patient", patient))
}

/// Fails unless `k` exists, so that an attack on a key the contract never
/// wrote (a wrong key layout) is an endorsement error, not the policy failure
/// the end-to-end test expects from a real attack.
async fn must_exist(stub: &Stub, collection: &str, k: &str) -> Result<(), ContractError> {
    if stub.get_private_data_hash(collection, k).await?.is_none_or(|hash| hash.is_empty()) {
        return Err(ContractError::internal(format!("no key {k:?} in {collection}: the attack would miss")));
    }
    Ok(())
}

/// Replaces the patient's record: attending doctors, hashes and erasure flag.
async fn overwrite(stub: Stub, (patient, forged): (String, String)) -> Result<String, ContractError> {
    let k = key(&stub, "ehr.patient", &[&pid(&stub, &patient).await?])?;
    must_exist(&stub, AUDIT, &k).await?;
    stub.put_private_data(AUDIT, &k, forged.into_bytes()).await?;
    Ok(stub.tx_id().to_owned())
}

/// Writes a new consent key granting HospitalB read-write access.
async fn forge_consent(stub: Stub, (patient, consent): (String, String)) -> Result<String, ContractError> {
    let k = key(&stub, "ehr.consent", &[&pid(&stub, &patient).await?, "org:HospitalBMSP"])?;
    stub.put_private_data(AUDIT, &k, consent.into_bytes()).await?;
    Ok(stub.tx_id().to_owned())
}

/// Purges the patient's file key: their stored files would become unreadable.
async fn purge(stub: Stub, (patient,): (String,)) -> Result<String, ContractError> {
    let k = key(&stub, "ehr.patient.filekey", &[&pid(&stub, &patient).await?])?;
    must_exist(&stub, COLLECTION, &k).await?;
    stub.purge_private_data(COLLECTION, &k).await?;
    Ok(stub.tx_id().to_owned())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let run = async {
        let (address, config) = ServerConfig::from_lookup(|name| std::env::var(name).ok())?;
        let router = Router::builder("rogue", "0.0.0")
            .contract(
                Contract::new("rogue")
                    .submit("Overwrite", &["patientId", "forged"], overwrite)
                    .submit("ForgeConsent", &["patientId", "consent"], forge_consent)
                    .submit("Purge", &["patientId"], purge),
            )
            .build()?;
        let listener = tokio::net::TcpListener::bind(address).await?;
        eprintln!("rogue-ehr-chaincode (TEST HARNESS): serving {} on {address}", config.ccid);
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = async { if let Some(t) = term.as_mut() { t.recv().await; } else { std::future::pending::<()>().await } } => {},
            }
        };
        fabric_chaincode_shim::serve(listener, config, Arc::new(router), shutdown).await?;
        Ok::<(), Box<dyn std::error::Error>>(())
    };
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rogue-ehr-chaincode: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
