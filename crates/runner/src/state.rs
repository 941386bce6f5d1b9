//! What a run is given (settings), what it counts (the runner's state, part
//! of every checkpoint) and how it ends.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How a run is driven. Plain data, filled from the experiment's config.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub out_dir: PathBuf,
    /// The id of a fresh run, written into its checkpoints (a resumed run
    /// keeps its checkpoint's).
    pub run_id: String,
    pub seed: u64,
    pub max_generations: u64,
    /// Stop once this many evaluations were spent (checked per generation).
    pub max_evaluations: Option<u64>,
    /// Stop once this many environment steps (frames) were spent on
    /// evaluations, tests excluded (checked per generation).
    pub max_env_steps: Option<u64>,
    /// Stop at the end of the generation whose champion passed the test.
    pub stop_when_solved: bool,
    /// Test the champion every N generations (and after the last one).
    pub test_every: u64,
    /// Whether the runner tests champions at all (architecture search
    /// scores its test split once, after the search, instead).
    pub test_champion: bool,
    /// Write `checkpoints/latest.evock` every N generations (and on stop).
    pub checkpoint_every: u64,
    /// Write each generation's behaviour characterisations of up to
    /// [`crate::metrics::MAX_RECORDED_BEHAVIOR`] values into its line of
    /// `metrics.jsonl` (the maze's final positions, to be drawn).
    pub record_behaviors: bool,
    /// Resolved config, stored in checkpoints.
    pub config_text: String,
    /// Set (e.g. by Ctrl-C) to stop at the next generation boundary with a
    /// checkpoint.
    pub stop: Arc<AtomicBool>,
}

impl RunSettings {
    /// Whether a run at these counters has nothing left to do.
    pub fn done(&self, rs: &RunnerState) -> bool {
        rs.generation >= self.max_generations
            || self.max_evaluations.is_some_and(|m| rs.evaluations >= m)
            || self.max_env_steps.is_some_and(|m| rs.env_steps >= m)
            || (self.stop_when_solved && rs.solved)
    }

    /// Whether the generation that brought the run to `rs` is its last by
    /// budget.
    pub fn last(&self, rs: &RunnerState) -> bool {
        rs.generation >= self.max_generations
            || self.max_evaluations.is_some_and(|m| rs.evaluations >= m)
            || self.max_env_steps.is_some_and(|m| rs.env_steps >= m)
    }
}

/// A new run's id: when and by which process it was created (Unix
/// milliseconds and pid, in hex). Nothing random depends on it.
pub fn new_run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:x}-{:x}", std::process::id())
}

/// Runner counters: part of every checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunnerState {
    /// Completed generations.
    pub generation: u64,
    pub evaluations: u64,
    pub env_steps: u64,
    pub failed_total: u64,
    pub test_env_steps: u64,
    pub solved: bool,
    pub solved_at_generation: Option<u64>,
    pub solved_at_evaluations: Option<u64>,
    /// Best champion test score so far (the champion in `best/`).
    pub best_test: Option<f64>,
    pub elapsed_s: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Finished(RunnerState),
    /// Stopped by the stop flag; a checkpoint was written.
    Interrupted(RunnerState),
}
