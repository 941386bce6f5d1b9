//! Evaluators: turn candidates into results. They know nothing of
//! strategies.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rayon::prelude::*;

use evonet_core::{Candidate, Cost, Evaluated, Outcome, Problem};

/// Evaluates a batch of candidates. Results may come back in any order;
/// every candidate gets exactly one result.
pub trait Evaluator<G> {
    /// An error here is a failure of the evaluation machinery (a remote
    /// queue that refuses commands), never of one candidate: those become
    /// failed evaluations inside the returned results.
    fn evaluate(
        &mut self,
        problem: &dyn Problem<G>,
        candidates: Vec<Candidate<G>>,
    ) -> Result<Vec<Evaluated<G>>, EvaluatorError>;
}

/// The evaluation machinery failed; the run stops (its last checkpoint
/// stays valid).
#[derive(Debug, thiserror::Error)]
#[error("evaluation backend: {0}")]
pub struct EvaluatorError(pub String);

/// Evaluates one candidate, turning panics, errors and non-finite fitness
/// into `Outcome::Failed`.
pub fn evaluate_one<G>(problem: &dyn Problem<G>, c: &Candidate<G>) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| problem.evaluate(&c.genome, &c.request))) {
        Ok(Ok(e)) if e.fitness.is_finite() => Outcome::Done(e),
        Ok(Ok(e)) => Outcome::Failed {
            reason: format!("non-finite fitness {}", e.fitness),
            cost: e.cost,
        },
        Ok(Err(err)) => Outcome::Failed {
            reason: err.to_string(),
            cost: Cost::default(),
        },
        Err(payload) => Outcome::Failed {
            reason: format!("panic: {}", panic_message(payload.as_ref())),
            cost: Cost::default(),
        },
    }
}

/// The message a panic carried (`"unknown panic"` when it was no string).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Evaluates on a pool of local threads (rayon). Results are independent of
/// the thread count: each candidate carries its own evaluation seed.
pub struct ThreadEvaluator {
    pool: rayon::ThreadPool,
}

impl ThreadEvaluator {
    /// `threads = 0` uses every core.
    pub fn new(threads: usize) -> Result<Self, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("evonet-eval-{i}"))
            .build()?;
        Ok(Self { pool })
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// The evaluator's threads, for set-up work such as building a noise
    /// table.
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// Runs `f` on the evaluator's threads (for champion tests).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }
}

impl<G: Send + Sync> Evaluator<G> for ThreadEvaluator {
    fn evaluate(
        &mut self,
        problem: &dyn Problem<G>,
        candidates: Vec<Candidate<G>>,
    ) -> Result<Vec<Evaluated<G>>, EvaluatorError> {
        let one = |c: Candidate<G>| {
            let outcome = evaluate_one(problem, &c);
            Evaluated {
                candidate: c,
                outcome,
            }
        };
        if self.pool.current_num_threads() == 1 {
            // No hand-off to the pool thread: tiny evaluations (XOR) would
            // spend more time waking it than evaluating.
            return Ok(candidates.into_iter().map(one).collect());
        }
        Ok(self.pool.install(|| {
            candidates
                .into_par_iter()
                .with_max_len(1)
                .map(one)
                .collect()
        }))
    }
}
