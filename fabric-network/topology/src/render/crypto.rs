//! `crypto-config.yaml`: what cryptogen makes identities for.

use super::{CHAINCODE_HOST, GENERATED_NOTICE, line};
use crate::Topology;

/// cryptogen's input: every orderer node (SmartBFT's too), and for each
/// organisation its peer, its chaincode servers' TLS identity and its
/// fabric-ca server's TLS identity. Every TLS certificate is valid for
/// localhost and 127.0.0.1 (the local network listens on loopback) as well as
/// the node's own host name (Docker Compose). NodeOUs are on, so certificates
/// carry client/peer/admin/orderer OUs. No users: they come from fabric-ca.
pub fn crypto_config(topology: &Topology) -> String {
    let mut out = String::new();
    line(&mut out, format!("# {GENERATED_NOTICE}"));
    line(&mut out, "OrdererOrgs:");
    line(&mut out, "  - Name: Orderer");
    line(&mut out, format!("    Domain: {}", topology.orderer_domain()));
    line(&mut out, "    EnableNodeOUs: true");
    line(&mut out, "    Specs:");
    for node in &topology.orderers.nodes {
        line(&mut out, format!("      - {{ Hostname: {}, SANS: [localhost, 127.0.0.1] }}", node.name));
    }
    line(&mut out, "PeerOrgs:");
    for org in &topology.organisations {
        line(&mut out, format!("  - Name: {}", org.label));
        line(&mut out, format!("    Domain: {}", topology.org_domain(org)));
        line(&mut out, "    EnableNodeOUs: true");
        line(&mut out, "    Specs:");
        for host in ["peer0", CHAINCODE_HOST, "ca"] {
            line(&mut out, format!("      - {{ Hostname: {host}, SANS: [localhost, 127.0.0.1] }}"));
        }
        line(&mut out, "    Users: { Count: 0 }");
    }
    out
}
