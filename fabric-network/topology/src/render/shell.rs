//! Bash settings for `network.sh`, which `eval`s them.
//!
//! Every value is single-quoted, so nothing in the topology is ever run as
//! shell code (the topology's rules also keep names to plain words).

use super::{GENERATED_NOTICE, line, signature_policy};
use crate::{Chaincode, Topology};

/// The network's settings as bash assignments: `CHANNEL`, `ORDERER_DOMAIN`,
/// `ORDERER_MSP`, `ORDERERS` and `RAFT_ORDERERS`, `ORGS`, the associative
/// arrays `ORG_MSP`, `ORG_DOMAIN` and `ORG_USERS` (`NAME:ROLE[:ATTR=VALUE,...]`
/// words), `CHAINCODES`, every port by name (`HOSPITALA_PEER_PORT=7051`,
/// ...) and `PORT_VARS` / `BFT_ONLY_PORT_VARS` listing those names.
pub fn network_env(topology: &Topology) -> String {
    let mut out = String::new();
    line(&mut out, format!("# {GENERATED_NOTICE}"));
    assign(&mut out, "CHANNEL", &topology.channel);
    assign(&mut out, "ORDERER_DOMAIN", &topology.orderer_domain());
    assign(&mut out, "ORDERER_MSP", &topology.orderers.msp);
    array(&mut out, "ORDERERS", topology.orderers.nodes.iter().map(|n| n.name.clone()));
    assign(&mut out, "RAFT_ORDERERS", &topology.orderers.raft.to_string());
    array(&mut out, "ORGS", topology.organisations.iter().map(|o| o.name.clone()));
    map(&mut out, "ORG_MSP", topology.organisations.iter().map(|o| (o.name.clone(), o.msp.clone())));
    map(&mut out, "ORG_DOMAIN", topology.organisations.iter().map(|o| (o.name.clone(), topology.org_domain(o))));
    let users = topology.organisations.iter().map(|o| {
        let words: Vec<String> = o
            .users
            .iter()
            .map(|u| {
                let attrs: Vec<String> = u.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let word = format!("{}:{}", u.name, u.role.as_str());
                if attrs.is_empty() { word } else { format!("{word}:{}", attrs.join(",")) }
            })
            .collect();
        (o.name.clone(), words.join(" "))
    });
    map(&mut out, "ORG_USERS", users);
    array(&mut out, "CHAINCODES", topology.chaincodes.iter().map(|c| c.name.clone()));
    let ports = topology.ports();
    for p in &ports {
        assign(&mut out, &p.name, &p.port.to_string());
    }
    array(&mut out, "PORT_VARS", ports.iter().map(|p| p.name.clone()));
    array(&mut out, "BFT_ONLY_PORT_VARS", ports.iter().filter(|p| p.bft_only).map(|p| p.name.clone()));
    out
}

/// One chaincode's deploy settings as bash assignments: `CC_PACKAGE`,
/// `CC_BINARY_NAME`, `CC_PORT_SUFFIX` (an organisation's server port is
/// `<ORG>_<CC_PORT_SUFFIX>`), `CC_COLLECTIONS`, `CC_INDEXES` and
/// `CC_ROLES_REGISTRY` (repository-relative, empty when none),
/// `CC_CHANNEL_SECRET` (1 or 0), `CC_POLICY` (a signature policy) and
/// `CC_ENDORSING_ORGS` (how many organisations the policy names).
pub fn chaincode_env(topology: &Topology, cc: &Chaincode) -> String {
    let mut out = String::new();
    assign(&mut out, "CC_PACKAGE", &cc.package);
    assign(&mut out, "CC_BINARY_NAME", &cc.binary);
    assign(&mut out, "CC_PORT_SUFFIX", &format!("{}_CHAINCODE_PORT", cc.name.to_uppercase()));
    assign(&mut out, "CC_COLLECTIONS", cc.collections.as_deref().unwrap_or(""));
    assign(&mut out, "CC_INDEXES", cc.indexes.as_deref().unwrap_or(""));
    assign(&mut out, "CC_ROLES_REGISTRY", cc.roles_registry.as_deref().unwrap_or(""));
    assign(&mut out, "CC_CHANNEL_SECRET", if cc.channel_secret { "1" } else { "0" });
    assign(&mut out, "CC_POLICY", &signature_policy(topology, &cc.endorsement));
    assign(&mut out, "CC_ENDORSING_ORGS", &cc.endorsement.peers_of.len().to_string());
    out
}

/// `value` as one single-quoted bash word.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

fn assign(out: &mut String, name: &str, value: &str) {
    line(out, format!("{name}={}", quote(value)));
}

fn array(out: &mut String, name: &str, values: impl Iterator<Item = String>) {
    let words: Vec<String> = values.map(|v| quote(&v)).collect();
    line(out, format!("{name}=({})", words.join(" ")));
}

fn map(out: &mut String, name: &str, entries: impl Iterator<Item = (String, String)>) {
    let words: Vec<String> = entries.map(|(k, v)| format!("[{}]={}", quote(&k), quote(&v))).collect();
    line(out, format!("declare -gA {name}=({})", words.join(" ")));
}
