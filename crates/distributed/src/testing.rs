//! Test doubles for the distributed layer, shared by its tests and the
//! benchmarks: a problem over plain numbers (and over OpenAI-ES candidates,
//! whose centre travels as a shared part) and a factory that builds it.

use std::time::Duration;

use evonet_core::{Cost, EvalError, EvalRequest, Evaluation, Perturbed, Problem, TestReport};

use crate::fingerprint::Fingerprint;
use crate::job::{Job, JobFactory, ProblemJob};
use crate::wire::{RunSpec, PROTOCOL_VERSION};

/// Fitness = the genome, after sleeping `delay_ms`; panics on 13.
pub struct Echo {
    pub delay_ms: u64,
}

impl Problem<f64> for Echo {
    fn evaluate(&self, g: &f64, _r: &EvalRequest) -> Result<Evaluation, EvalError> {
        assert!(*g != 13.0, "unlucky");
        if self.delay_ms > 0 {
            std::thread::sleep(Duration::from_millis(self.delay_ms));
        }
        Ok(Evaluation {
            fitness: *g,
            cost: Cost {
                env_steps: 1,
                episodes: 1,
            },
            obs_stats: None,
            details: Vec::new(),
            solved: false,
            artifact: Vec::new(),
            behavior: None,
        })
    }

    fn test(&self, g: &f64, _seed: u64) -> Result<TestReport, EvalError> {
        Ok(TestReport {
            score: *g,
            solved: false,
            env_steps: 0,
            details: Vec::new(),
        })
    }
}

/// Fitness = the centre's first parameter plus the noise's scale, after
/// sleeping `delay_ms`.
impl Problem<Perturbed> for Echo {
    fn evaluate(&self, g: &Perturbed, r: &EvalRequest) -> Result<Evaluation, EvalError> {
        let x = g.centre.params.first().copied().unwrap_or(0.0) as f64
            + g.noise.map_or(0.0, |n| n.scale as f64);
        self.evaluate(&x, r)
    }

    fn test(&self, g: &Perturbed, seed: u64) -> Result<TestReport, EvalError> {
        let x = g.centre.params.first().copied().unwrap_or(0.0) as f64;
        self.test(&x, seed)
    }
}

/// Builds [`Echo`] jobs and describes them as `problem`; fails with
/// `problem` as its reason when `broken`.
pub struct EchoFactory {
    pub delay_ms: u64,
    pub problem: String,
    pub broken: bool,
    /// Jobs over OpenAI-ES candidates ([`Perturbed`]) instead of numbers.
    pub perturbed: bool,
}

impl EchoFactory {
    pub fn new(delay_ms: u64, problem: &str) -> Self {
        Self {
            delay_ms,
            problem: problem.into(),
            broken: false,
            perturbed: false,
        }
    }
}

impl JobFactory for EchoFactory {
    fn prepare(
        &self,
        _spec: &RunSpec,
        _pool: &rayon::ThreadPool,
    ) -> Result<(Box<dyn Job>, Fingerprint), String> {
        if self.broken {
            return Err(self.problem.clone());
        }
        let echo = Echo {
            delay_ms: self.delay_ms,
        };
        let job: Box<dyn Job> = if self.perturbed {
            Box::new(ProblemJob::<Perturbed, _>::new(echo))
        } else {
            Box::new(ProblemJob::<f64, _>::new(echo))
        };
        Ok((job, Fingerprint::new([self.problem.clone()])))
    }
}

/// The spec of run `run` of evonet `version` whose problem is described
/// as `problem`.
pub fn spec(run: &str, version: &str, problem: &str) -> RunSpec {
    let fp = Fingerprint::new([problem.to_string()]);
    RunSpec {
        protocol: PROTOCOL_VERSION,
        stage: String::new(),
        evonet_version: version.into(),
        run_id: run.into(),
        config: String::new(),
        problem_hash: fp.hash(),
        problem: fp.text,
        origin: "test".into(),
    }
}
