//! Turning settings into a connected, signed-in client: find the identity
//! (wallet first, then the users the network enrolled), refuse an expired
//! certificate or a foreign key, connect to the gateway peer.

use std::path::PathBuf;
use std::time::SystemTime;

use ehr_api::model::Person;
use fabric_ca_client::{IdentityMeta, Wallet};
use fabric_gateway_client::Gateway;
use fabric_identity::{ClientIdentity, Identity, Signer, read_msp_folder};

use crate::client::EhrClient;
use crate::config::Config;
use crate::error::{EhrClientError, Result};

/// Where an identity was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// In the wallet.
    Wallet(PathBuf),
    /// In the local network's user folders.
    LocalNetwork(PathBuf),
}

/// A usable identity: certificate, key and where they came from.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The certificate and MSP.
    pub identity: Identity,
    /// The key.
    pub signer: Signer,
    /// Where it was found.
    pub source: Source,
}

/// Finds the configured identity and checks it can sign today.
pub fn sign_in(config: &Config) -> Result<SignedIn> {
    let wallet = Wallet::new(&config.wallet);
    let signed_in = if wallet.list()?.iter().any(|l| l == &config.identity) {
        let entry = wallet.get(&config.identity)?;
        SignedIn { identity: entry.identity, signer: entry.signer, source: Source::Wallet(wallet.path().to_owned()) }
    } else if let Some(msp) = config.local_msp_dir() {
        let (identity, signer) = read_msp_folder(&config.msp_id, &msp)?;
        SignedIn { identity, signer, source: Source::LocalNetwork(msp) }
    } else {
        return Err(EhrClientError::NotSignedIn { identity: config.identity.clone(), wallet: config.wallet.clone() });
    };
    signed_in.identity.certificate().check_not_expired(&config.identity, SystemTime::now())?;
    Ok(signed_in)
}

/// Connects to the configured gateway peer as `signed_in`.
pub async fn connect(config: &Config, signed_in: &SignedIn) -> Result<Gateway> {
    let root = std::fs::read(&config.tls_root).map_err(|e| {
        EhrClientError::Config(format!(
            "cannot read the peer's TLS root {}: {e}; is the network up? otherwise set --tls-root / EHR_TLS_ROOT",
            config.tls_root.display()
        ))
    })?;
    let mut builder = Gateway::builder(config.peer.clone())
        .tls_root(root)
        .identity(signed_in.identity.clone())
        .signer(signed_in.signer.clone());
    if let Some(name) = &config.server_name {
        builder = builder.server_name(name.clone());
    }
    Ok(builder.connect().await?)
}

/// Signs in, connects, and returns the EHR client.
pub async fn ehr_client(config: &Config) -> Result<EhrClient> {
    let signed_in = sign_in(config)?;
    let gateway = connect(config, &signed_in).await?;
    Ok(EhrClient::new(gateway.network(config.channel.clone()).contract(config.chaincode.clone())))
}

/// What a wallet entry written by `ehr login` says about itself.
pub fn login_meta(config: &Config, enrollment_id: &str) -> IdentityMeta {
    IdentityMeta {
        msp_id: config.msp_id.clone(),
        label: config.identity.clone(),
        enrollment_id: enrollment_id.to_owned(),
        ca_url: Some(config.ca_url.clone()),
    }
}

/// How the contract sees `identity`: its `cid` id, MSP and certificate
/// attributes (role, patient id), computed by the code the shim uses (`fabric-identity`).
pub fn client_identity(identity: &Identity) -> Result<ClientIdentity> {
    Ok(ClientIdentity::from_certificate(identity.msp_id(), identity.certificate().clone())?)
}

/// The contract's `Person` for `identity`, as it records actors and grantees.
pub fn person(identity: &Identity) -> Result<Person> {
    let cid = client_identity(identity)?;
    Ok(Person { id: cid.id().to_owned(), msp: cid.msp_id().to_owned() })
}
