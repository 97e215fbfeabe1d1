//! Where an event listener got to, so that after a restart it resumes
//! without missing an event or seeing one twice.
//!
//! A position is a block number plus, inside that block, the last
//! transaction already handled. The listener records a position *after*
//! handling an event; reopening the stream from it skips exactly what was
//! handled.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{GatewayError, Result};
use crate::events::ChaincodeEvent;

/// A place in the chain to resume from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// The block to start reading at.
    pub block_number: u64,
    /// The last transaction handled in that block, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

/// Records progress. Implementations must make a recorded position durable
/// before returning when they promise to survive restarts.
pub trait Checkpointer: Send {
    /// The position to resume from, or `None` when nothing was recorded yet.
    fn position(&self) -> Option<Position>;
    /// Records that `event` was handled.
    fn checkpoint_event(&mut self, event: &ChaincodeEvent) -> Result<()> {
        self.save(Position { block_number: event.block_number, transaction_id: Some(event.transaction_id.clone()) })
    }
    /// Records that the whole of block `block_number` was handled.
    fn checkpoint_block(&mut self, block_number: u64) -> Result<()> {
        self.save(Position { block_number: block_number + 1, transaction_id: None })
    }
    /// Stores a position.
    fn save(&mut self, position: Position) -> Result<()>;
}

/// A checkpoint that lives as long as the process: for a listener that
/// reconnects after a network fault without restarting.
#[derive(Debug, Clone, Default)]
pub struct InMemoryCheckpointer {
    position: Option<Position>,
}

impl InMemoryCheckpointer {
    /// An empty checkpoint.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Checkpointer for InMemoryCheckpointer {
    fn position(&self) -> Option<Position> {
        self.position.clone()
    }
    fn save(&mut self, position: Position) -> Result<()> {
        self.position = Some(position);
        Ok(())
    }
}

/// A checkpoint in a JSON file, replaced atomically (write, fsync, rename)
/// so that a crash leaves either the old or the new position, never half.
#[derive(Debug, Clone)]
pub struct FileCheckpointer {
    path: PathBuf,
    position: Option<Position>,
}

impl FileCheckpointer {
    /// Opens (or prepares to create) the checkpoint file at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let position = match std::fs::read(&path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
                Self::err(&path, format!("is not a checkpoint ({e}); delete it to start from the newest block"))
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Self::err(&path, e.to_string())),
        };
        Ok(Self { path, position })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(path: &Path, message: String) -> GatewayError {
        GatewayError::Checkpoint { path: path.display().to_string(), message }
    }
}

impl Checkpointer for FileCheckpointer {
    fn position(&self) -> Option<Position> {
        self.position.clone()
    }

    fn save(&mut self, position: Position) -> Result<()> {
        let fail = |e: std::io::Error| Self::err(&self.path, e.to_string());
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let temp = self.path.with_extension("tmp");
        let bytes = serde_json::to_vec(&position).map_err(|e| Self::err(&self.path, e.to_string()))?;
        let mut file = std::fs::File::create(&temp).map_err(fail)?;
        file.write_all(&bytes).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        std::fs::rename(&temp, &self.path).map_err(fail)?;
        self.position = Some(position);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(block: u64, tx: &str) -> ChaincodeEvent {
        ChaincodeEvent {
            block_number: block,
            transaction_id: tx.into(),
            chaincode_name: "cc".into(),
            event_name: "e".into(),
            payload: vec![],
        }
    }

    #[test]
    fn file_checkpoint_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/cp.json");
        let mut cp = FileCheckpointer::open(&path).unwrap();
        assert_eq!(cp.position(), None);
        cp.checkpoint_event(&event(7, "tx7")).unwrap();
        let again = FileCheckpointer::open(&path).unwrap();
        assert_eq!(again.position(), Some(Position { block_number: 7, transaction_id: Some("tx7".into()) }));
        cp.checkpoint_block(9).unwrap();
        assert_eq!(
            FileCheckpointer::open(&path).unwrap().position(),
            Some(Position { block_number: 10, transaction_id: None })
        );
        assert!(!path.with_extension("tmp").exists());
    }

    #[test]
    fn a_corrupt_checkpoint_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cp.json");
        std::fs::write(&path, b"{half").unwrap();
        let err = FileCheckpointer::open(&path).unwrap_err().to_string();
        assert!(err.contains("cp.json") && err.contains("delete it"), "{err}");
    }

    #[test]
    fn memory_checkpoint_tracks_the_last_event() {
        let mut cp = InMemoryCheckpointer::new();
        cp.checkpoint_event(&event(3, "a")).unwrap();
        cp.checkpoint_event(&event(3, "b")).unwrap();
        assert_eq!(cp.position(), Some(Position { block_number: 3, transaction_id: Some("b".into()) }));
    }
}
