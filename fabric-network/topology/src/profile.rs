//! `network.json`: the network as it describes itself to clients.
//!
//! The local network writes it when it starts; clients (the `ehr` tool)
//! read it instead of knowing ports and paths in advance. This is the one
//! definition of its shape, used by the writer and the readers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Topology;

/// The profile's file name inside the network's state folder.
pub const NETWORK_FILE: &str = "network.json";

/// What a client needs to reach each organisation. Keys a reader does not
/// know are ignored, so that a newer network's file still serves an older client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkProfile {
    /// The channel the EHR chaincode runs on.
    pub channel: String,
    /// The EHR chaincode's name.
    pub chaincode: String,
    /// Organisations by short name (the `org` of `user@org`).
    pub organisations: BTreeMap<String, OrgProfile>,
}

/// One organisation of a [`NetworkProfile`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgProfile {
    /// Its MSP id, e.g. `HospitalAMSP`.
    pub msp_id: String,
    /// Its gateway peer, `host:port`.
    pub peer: String,
    /// The CA that signed its peer's TLS certificate.
    pub tls_root: PathBuf,
    /// Its fabric-ca server.
    pub ca_url: String,
    /// Its fabric-ca CA name.
    pub ca_name: String,
    /// The CA that signed its fabric-ca server's TLS certificate.
    pub ca_tls_root: PathBuf,
    /// Its users' MSP folders, `<users>/<user>/msp`, when the network enrolled them.
    pub users: Option<PathBuf>,
}

impl NetworkProfile {
    /// The profile of the local network whose state folder is `state`: every
    /// node on 127.0.0.1, cryptogen's TLS CAs, users enrolled under `state/users`.
    pub fn local(topology: &Topology, state: &Path) -> NetworkProfile {
        let organisations = topology
            .organisations
            .iter()
            .map(|org| {
                let domain = topology.org_domain(org);
                let tls = state.join(format!("crypto/peerOrganizations/{domain}/tlsca/tlsca.{domain}-cert.pem"));
                let profile = OrgProfile {
                    msp_id: org.msp.clone(),
                    peer: format!("127.0.0.1:{}", org.ports.peer),
                    tls_root: tls.clone(),
                    ca_url: format!("https://127.0.0.1:{}", org.ports.ca),
                    ca_name: local_ca_name(&org.name),
                    ca_tls_root: tls,
                    users: Some(state.join("users").join(&org.name)),
                };
                (org.name.clone(), profile)
            })
            .collect();
        let chaincode = topology.chaincodes.first().map(|c| c.name.clone()).unwrap_or_default();
        NetworkProfile { channel: topology.channel.clone(), chaincode, organisations }
    }
}

/// The CA name of an organisation's fabric-ca server on the local network.
pub fn local_ca_name(org: &str) -> String {
    format!("ca-{org}")
}
