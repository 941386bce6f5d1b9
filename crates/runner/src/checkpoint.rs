//! Checkpoint file format, version 6 (version 5's strategy states of the
//! search-space strategies had no predictor screening or halving round; version 4 had no
//! run id; versions 1 to 3 held bincode 1.3 payloads; older versions are
//! refused with their version named):
//!
//! ```text
//! magic    8 bytes  "EVONETCK"
//! version  u32 LE   CHECKPOINT_VERSION
//! crc32    u32 LE   CRC-32 (IEEE) of the payload
//! length   u64 LE   payload length in bytes
//! payload  postcard Checkpoint
//! ```
//!
//! The payload holds the resolved config text, the runner's counters and the
//! strategy state (itself postcard), so resume needs nothing else.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::observer::{CheckpointEvent, Observed, Observer, ObserverError};
use crate::state::RunnerState;

pub const MAGIC: &[u8; 8] = b"EVONETCK";
pub const CHECKPOINT_VERSION: u32 = 6;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The id the run was given when it was created (kept by every resume):
    /// a front end checks it against the run folder's config.
    pub run: String,
    /// The resolved config this run was started with.
    pub config_text: String,
    /// `Strategy::name()`, checked on resume.
    pub strategy: String,
    pub runner: RunnerState,
    /// postcard of the strategy state.
    pub strategy_state: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: cannot read checkpoint: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an evonet checkpoint (bad magic)")]
    Magic { path: PathBuf },
    #[error(
        "{path}: checkpoint format version {found}, this evonet reads version {CHECKPOINT_VERSION}"
    )]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: checkpoint is truncated ({got} of {want} payload bytes)")]
    Truncated {
        path: PathBuf,
        got: usize,
        want: u64,
    },
    #[error("{path}: checkpoint is corrupt (checksum mismatch)")]
    Checksum { path: PathBuf },
    #[error("{path}: checkpoint payload does not decode: {message}")]
    Decode { path: PathBuf, message: String },
}

impl Checkpoint {
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = postcard::to_allocvec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(24 + payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&CHECKPOINT_VERSION.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    pub fn from_bytes(path: &Path, b: &[u8]) -> Result<Self, CheckpointError> {
        let path = path.to_path_buf();
        if b.len() < 24 || &b[..8] != MAGIC {
            return Err(CheckpointError::Magic { path });
        }
        let version = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        if version != CHECKPOINT_VERSION {
            return Err(CheckpointError::Version {
                path,
                found: version,
            });
        }
        let crc = u32::from_le_bytes(b[12..16].try_into().expect("4 bytes"));
        let len = u64::from_le_bytes(b[16..24].try_into().expect("8 bytes"));
        let payload = &b[24..];
        if (payload.len() as u64) < len {
            return Err(CheckpointError::Truncated {
                path,
                got: payload.len(),
                want: len,
            });
        }
        let payload = &payload[..len as usize];
        if crc32fast::hash(payload) != crc {
            return Err(CheckpointError::Checksum { path });
        }
        postcard::from_bytes(payload).map_err(|e| CheckpointError::Decode {
            path,
            message: e.to_string(),
        })
    }

    pub fn read(path: &Path) -> Result<Self, CheckpointError> {
        let b = std::fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &b)
    }

    /// The latest checkpoint of a run folder.
    pub fn latest_path(run_dir: &Path) -> PathBuf {
        run_dir.join("checkpoints").join("latest.evock")
    }
}

/// `checkpoints/latest.evock` as an observer: writes each due checkpoint
/// atomically (after the metrics and champion files made theirs durable).
pub struct CheckpointFile;

impl Observer for CheckpointFile {
    fn on_checkpoint(&mut self, event: &CheckpointEvent<'_>) -> Observed {
        write_atomic(event.path, &event.checkpoint.to_bytes())
            .map_err(|e| ObserverError::io(event.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            run: "r".into(),
            config_text: "seed = 1\n".into(),
            strategy: "deep_ga".into(),
            runner: RunnerState::default(),
            strategy_state: vec![1, 2, 3],
        }
    }

    #[test]
    fn round_trip_and_corruption_detection() {
        let p = Path::new("x.evock");
        let b = sample().to_bytes();
        let c = Checkpoint::from_bytes(p, &b).unwrap();
        assert_eq!(c.strategy_state, vec![1, 2, 3]);
        let mut bad = b.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        assert!(matches!(
            Checkpoint::from_bytes(p, &bad),
            Err(CheckpointError::Checksum { .. })
        ));
        assert!(matches!(
            Checkpoint::from_bytes(p, &b[..b.len() - 2]),
            Err(CheckpointError::Truncated { .. })
        ));
        assert!(matches!(
            Checkpoint::from_bytes(p, b"hello"),
            Err(CheckpointError::Magic { .. })
        ));
        let mut other = b.clone();
        other[8] = 99;
        assert!(matches!(
            Checkpoint::from_bytes(p, &other),
            Err(CheckpointError::Version { found: 99, .. })
        ));
    }
}
