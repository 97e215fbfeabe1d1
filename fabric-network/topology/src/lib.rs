//! The EHR network's topology as data.
//!
//! One file, `fabric-network/topology.toml`, says which organisations the
//! network has, their users and roles, every port, the endorsement policies
//! and the chaincodes. Everything else is generated from it, so that adding
//! an organisation or moving a port is one edit:
//!
//! - for the local network, at start-up (`network.sh` calls the `topology`
//!   tool): its shell settings, `crypto-config.yaml`, `configtx.yaml` and the
//!   `network.json` profile that clients read;
//! - committed, and checked by `topology check` and this crate's tests:
//!   `docker-compose.yaml`, `fabric-network/compose/configtx.yaml` and the
//!   chaincode's `roles_registry.json`.
//!
//! The YAML is written by hand rather than through a serialiser because the
//! committed files keep comments and anchors that readers rely on, and no
//! YAML crate emits them.
//!
//! ```
//! let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../topology.toml"))?;
//! let topology = ehr_topology::Topology::parse(&text)?;
//! assert!(topology.org("hospitala").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod generated;
mod model;
pub mod profile;
pub mod render;

pub use error::{Result, TopologyError};
pub use generated::{GeneratedFile, generated_files};
pub use model::{
    Chaincode, Compose, Consensus, Endorsement, NamedPort, OrdererNode, Orderers, OrgPorts, Organisation, Topology,
    User, chaincode_port_name,
};

/// Where the topology file lives, relative to the repository root.
pub const TOPOLOGY_FILE: &str = "fabric-network/topology.toml";

/// Reads and checks the topology file at `path`.
pub fn load(path: &std::path::Path) -> Result<Topology> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| TopologyError::Io { path: path.display().to_string(), source })?;
    Topology::parse(&text)
}
