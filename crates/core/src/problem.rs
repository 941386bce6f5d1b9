//! The `Problem` trait: turns a genome and an evaluation request into an
//! [`Evaluation`]. Problems are pure: no IO, no threads, no shared mutable
//! state that changes a result.

use serde::{Deserialize, Serialize};

use crate::candidate::{EvalRequest, Evaluation};

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum EvalError {
    #[error("non-finite observation at step {step} of episode {episode}")]
    NonFiniteObservation { episode: u32, step: u64 },
    #[error("non-finite fitness {0}")]
    NonFiniteFitness(f64),
    #[error("genome does not fit the problem: {0}")]
    BadGenome(String),
    #[error("{0}")]
    Other(String),
}

/// Result of the task's success test on a champion (e.g. CartPole-v1: mean
/// return over 100 fresh episodes ≥ 475).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// Mean return (or the task's score) over the test.
    pub score: f64,
    pub solved: bool,
    /// Work spent on the test (not counted as evaluations).
    pub env_steps: u64,
    /// Task-specific figures, e.g. the generalisation count of DPNV.
    pub details: Vec<(String, f64)>,
}

pub trait Problem<G>: Sync {
    fn evaluate(&self, genome: &G, request: &EvalRequest) -> Result<Evaluation, EvalError>;

    /// The task's success test, run on a champion with its own seed.
    fn test(&self, genome: &G, seed: u64) -> Result<TestReport, EvalError>;

    /// A description of `genome` for its line in `metrics.jsonl`. Problems
    /// that return one (architecture search) get a line per evaluated
    /// candidate; others only the line per generation.
    fn describe_genome(&self, _genome: &G) -> Option<serde_json::Value> {
        None
    }
}

/// A shared problem is the problem (several runs, or a run and its workers,
/// may hold one).
impl<G, P: Problem<G> + Send + ?Sized> Problem<G> for std::sync::Arc<P> {
    fn evaluate(&self, genome: &G, request: &EvalRequest) -> Result<Evaluation, EvalError> {
        (**self).evaluate(genome, request)
    }
    fn test(&self, genome: &G, seed: u64) -> Result<TestReport, EvalError> {
        (**self).test(genome, seed)
    }
    fn describe_genome(&self, genome: &G) -> Option<serde_json::Value> {
        (**self).describe_genome(genome)
    }
}
