//! The files generated from a [`Topology`], one module per format.
//!
//! Every function here is pure: text in memory from a checked topology.
//! Writing files is [`generated_files`]' and the
//! `topology` tool's job.

pub mod compose;
pub mod configtx;
pub mod crypto;
pub mod shell;

use std::fmt::Write as _;

#[cfg(doc)]
use crate::generated_files;
use crate::{Endorsement, Topology};

/// The host name, inside each organisation's domain, of its chaincode servers'
/// TLS identity: the name peers dial and the name in the server's certificate.
pub const CHAINCODE_HOST: &str = "ehr-ccaas";

/// The first line of every generated file (after its own comment marker).
pub const GENERATED_NOTICE: &str =
    "Generated from fabric-network/topology.toml by `cargo run -p ehr-topology -- generate`; do not edit.";

/// An endorsement as a Fabric signature policy over peers, e.g.
/// `AND('HospitalAMSP.peer','HospitalBMSP.peer')`.
pub fn signature_policy(topology: &Topology, endorsement: &Endorsement) -> String {
    let principals: Vec<String> = endorsement
        .peers_of
        .iter()
        .filter_map(|name| topology.org(name))
        .map(|org| format!("'{}.peer'", org.msp))
        .collect();
    match endorsement.at_least {
        Some(n) if n < principals.len() => format!("OutOf({n},{})", principals.join(",")),
        _ => format!("AND({})", principals.join(",")),
    }
}

/// Appends one line to `out`; writing to a `String` cannot fail.
fn line(out: &mut String, text: impl std::fmt::Display) {
    let _ = writeln!(out, "{text}");
}
