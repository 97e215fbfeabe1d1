//! The committed files generated from the topology, and how to check them.

use std::path::Path;

use crate::render::{compose, configtx};
use crate::{Result, Topology, TopologyError};

/// One file generated from the topology and committed to the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the repository root.
    pub path: String,
    /// What the file must contain.
    pub contents: String,
}

impl GeneratedFile {
    /// Whether the file under `repo` has exactly these contents.
    pub fn is_current(&self, repo: &Path) -> bool {
        std::fs::read_to_string(repo.join(&self.path)).is_ok_and(|have| have == self.contents)
    }

    /// Writes the file under `repo`; returns whether it changed.
    pub fn write(&self, repo: &Path) -> Result<bool> {
        if self.is_current(repo) {
            return Ok(false);
        }
        let path = repo.join(&self.path);
        std::fs::write(&path, &self.contents)
            .map_err(|source| TopologyError::Io { path: path.display().to_string(), source })?;
        Ok(true)
    }
}

/// Every committed file the topology generates: `docker-compose.yaml`, the
/// Compose channel configuration, and each chaincode's roles registry.
pub fn generated_files(topology: &Topology) -> Result<Vec<GeneratedFile>> {
    let mut files = vec![
        GeneratedFile { path: "docker-compose.yaml".into(), contents: compose::docker_compose(topology) },
        GeneratedFile {
            path: "fabric-network/compose/configtx.yaml".into(),
            contents: configtx::configtx(topology, configtx::Target::Compose),
        },
    ];
    let registry = topology.roles_registry()?;
    let json = serde_json::to_string_pretty(&registry)
        .map_err(|e| TopologyError::Invalid(format!("the roles registry does not serialise: {e}")))?;
    for path in topology.chaincodes.iter().filter_map(|c| c.roles_registry.clone()) {
        files.push(GeneratedFile { path, contents: format!("{json}\n") });
    }
    Ok(files)
}
