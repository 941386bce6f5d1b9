//! The generation loop: ask → evaluate → tell → observe, with atomic,
//! versioned, checksummed checkpoints and exact resume. The run's files
//! (`metrics.jsonl`, `best/champion.json`, checkpoints) are observers of
//! its events, like a user's.
//!
//! Evaluators turn `(candidate, problem)` into results and know nothing of
//! strategies; a panic or a non-finite fitness inside one evaluation becomes
//! a failed evaluation, never a crashed run.

pub mod atomic;
pub mod champion_file;
pub mod checkpoint;
pub mod evaluator;
pub mod lock;
pub mod metrics;
pub mod observer;
pub mod run;
pub mod state;

pub use champion_file::{ChampionFile, ChampionRecord, ExportFn, Provenance};
pub use checkpoint::{Checkpoint, CheckpointError, CheckpointFile, CHECKPOINT_VERSION};
pub use evaluator::{evaluate_one, panic_message, Evaluator, EvaluatorError, ThreadEvaluator};
pub use lock::{LockError, RunLock, LOCK_FILE};
pub use metrics::{read_candidates, CandidateRecord, GenerationRecord, MetricsFile};
pub use observer::{ChampionEvent, CheckpointEvent, Observed, Observer, ObserverError};
pub use run::{run, RunError};
pub use state::{new_run_id, RunOutcome, RunSettings, RunnerState};

/// Format version of `metrics.jsonl` lines and `best/champion.json`.
pub const FORMAT_VERSION: u32 = 1;
