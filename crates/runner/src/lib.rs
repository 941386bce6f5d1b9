//! The generation loop: ask → evaluate → tell → observe, with atomic,
//! versioned, checksummed checkpoints and exact resume.
//!
//! Evaluators turn `(candidate, problem)` into results and know nothing of
//! strategies; a panic or a non-finite fitness inside one evaluation becomes
//! a failed evaluation, never a crashed run.

pub mod atomic;
pub mod champion_file;
pub mod checkpoint;
pub mod evaluator;
pub mod metrics;
pub mod run;
pub mod state;

pub use champion_file::{ChampionRecord, ExportFn, Provenance};
pub use checkpoint::{Checkpoint, CheckpointError, CHECKPOINT_VERSION};
pub use evaluator::{evaluate_one, Evaluator, EvaluatorError, ThreadEvaluator};
pub use metrics::{read_candidates, CandidateRecord, GenerationRecord};
pub use run::{run, Observer, RunError};
pub use state::{RunOutcome, RunSettings, RunnerState};

/// Format version of `metrics.jsonl` lines and `best/champion.json`.
pub const FORMAT_VERSION: u32 = 1;
