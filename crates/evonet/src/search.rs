//! A strategy and its problem, built and ready to run, with the genome type
//! erased: the one value every front end (the CLI, a Redis worker, a Rust
//! user) drives, whatever the strategy.

use std::sync::Arc;

use evonet_core::{Champion, Problem, Strategy, StrategyError, TestReport, Transport};
#[cfg(feature = "redis")]
use evonet_distributed::{Fingerprint, Job, ProblemJob, RedisEvaluator, PROTOCOL_VERSION};
use evonet_runner::{Checkpoint, Evaluator, Observer, RunError, RunOutcome, RunSettings};

use evonet_strategies::NoveltySearch;

use crate::build::{BuildContext, BuildError};
use crate::champion::ChampionBody;
#[cfg(feature = "nas")]
use crate::final_stage::FinalStage;
use crate::registry::GenomeKind;
#[cfg(feature = "redis")]
use crate::remote::RedisBackend;

/// Where candidates are evaluated.
pub enum Backend<'a> {
    /// Threads of this process.
    Threads(&'a mut evonet_runner::ThreadEvaluator),
    /// Workers on other processes or machines, through Redis.
    #[cfg(feature = "redis")]
    Redis(Box<RedisBackend>),
}

/// Everything a run needs besides its strategy and problem.
pub struct RunContext<'a, 'o> {
    pub settings: &'a RunSettings,
    /// The checkpoint to continue from (`None`: a fresh run).
    pub resume: Option<Checkpoint>,
    pub backend: Backend<'a>,
    pub observers: &'a mut [&'o mut dyn Observer],
}

/// A built search: a strategy, the problem it is evaluated on, and how its
/// champions are written.
pub trait Search: Send + Sync {
    /// The strategy's name (as in checkpoints).
    fn strategy(&self) -> &'static str;
    /// What it evolves.
    fn genome(&self) -> GenomeKind;
    /// Parameters of each candidate's network, when the problem fixes it
    /// (flat-vector strategies); printed at the start of a run.
    fn parameters(&self) -> Option<usize>;
    /// The network in words, when the problem fixes it (`hidden [64, 64],
    /// tanh`); printed with [`Search::parameters`].
    fn network(&self) -> Option<String> {
        None
    }
    /// What the search evaluates, one fact per line: strategy, genome type,
    /// the problem's settings.
    fn describe(&self) -> Vec<String>;
    /// What another process must build identically to evaluate this run's
    /// candidates: versions and [`Search::describe`].
    #[cfg(feature = "redis")]
    fn fingerprint(&self) -> Fingerprint {
        versioned(self.describe())
    }
    /// The problem alone, for a worker.
    #[cfg(feature = "redis")]
    fn job(&self) -> Box<dyn Job>;
    /// Runs (or resumes) the search until its budget, success or the stop
    /// flag ends it.
    fn run(&self, ctx: RunContext<'_, '_>) -> Result<RunOutcome, RunError>;
    /// The stage after the search (architecture search: retraining the
    /// best at full fidelity), if the problem has one.
    #[cfg(feature = "nas")]
    fn final_stage(&self) -> Option<&FinalStage> {
        None
    }
}

/// A fingerprint of `lines` with this evonet's version and protocol first.
#[cfg(feature = "redis")]
pub(crate) fn versioned(lines: Vec<String>) -> Fingerprint {
    let mut all = vec![
        format!("evonet {}", env!("CARGO_PKG_VERSION")),
        format!("protocol {PROTOCOL_VERSION}"),
    ];
    all.extend(lines);
    Fingerprint::new(all)
}

/// The shared closure that writes a champion's body.
pub type Export<G> =
    Arc<dyn Fn(&Champion<G>, &TestReport) -> Result<ChampionBody, String> + Send + Sync>;

/// The one implementation of [`Search`]: generic over the strategy, so
/// adding a strategy adds no code here.
pub struct Prepared<S: Strategy> {
    pub(crate) strategy: S,
    pub(crate) genome: GenomeKind,
    pub(crate) problem: Arc<dyn Problem<S::Genome> + Send + Sync>,
    /// The problem's fingerprint lines.
    pub(crate) describe: Vec<String>,
    pub(crate) export: Export<S::Genome>,
    pub(crate) parameters: Option<usize>,
    pub(crate) network: Option<String>,
    #[cfg(feature = "nas")]
    pub(crate) final_stage: Option<FinalStage>,
}

impl<S: Strategy> Prepared<S> {
    pub(crate) fn new(
        strategy: S,
        genome: GenomeKind,
        problem: Arc<dyn Problem<S::Genome> + Send + Sync>,
        describe: Vec<String>,
        export: Export<S::Genome>,
        parameters: Option<usize>,
    ) -> Self {
        Self {
            strategy,
            genome,
            problem,
            describe,
            export,
            parameters,
            network: None,
            #[cfg(feature = "nas")]
            final_stage: None,
        }
    }
}

impl<S: Strategy + 'static> Prepared<S>
where
    S::Genome: Transport,
{
    /// The search, with its strategy inside novelty search when the config
    /// has `[novelty]`.
    pub(crate) fn boxed(self, ctx: &BuildContext<'_>) -> Result<Box<dyn Search>, BuildError> {
        let Some(cfg) = &ctx.config.novelty else {
            return Ok(Box::new(self));
        };
        let strategy = NoveltySearch::new(self.strategy, cfg.clone()).map_err(|e| match e {
            StrategyError::Config { key, message } => ctx.error(&format!("novelty.{key}"), message),
            other => ctx.error("novelty", other.to_string()),
        })?;
        Ok(Box::new(Prepared {
            strategy,
            genome: self.genome,
            problem: self.problem,
            describe: self.describe,
            export: self.export,
            parameters: self.parameters,
            network: self.network,
            #[cfg(feature = "nas")]
            final_stage: self.final_stage,
        }))
    }
}

impl<S: Strategy> Search for Prepared<S>
where
    S::Genome: Transport,
{
    fn strategy(&self) -> &'static str {
        self.strategy.name()
    }

    fn genome(&self) -> GenomeKind {
        self.genome
    }

    fn parameters(&self) -> Option<usize> {
        self.parameters
    }

    fn network(&self) -> Option<String> {
        self.network.clone()
    }

    fn describe(&self) -> Vec<String> {
        let mut lines = vec![
            format!("strategy {}", self.strategy.name()),
            format!("genome {}", std::any::type_name::<S::Genome>()),
        ];
        lines.extend(self.describe.iter().cloned());
        lines
    }

    #[cfg(feature = "redis")]
    fn job(&self) -> Box<dyn Job> {
        Box::new(ProblemJob::<S::Genome, _>::new(Arc::clone(&self.problem)))
    }

    fn run(&self, ctx: RunContext<'_, '_>) -> Result<RunOutcome, RunError> {
        let export = |c: &Champion<S::Genome>, t: &TestReport| (self.export)(c, t);
        let problem: &dyn Problem<S::Genome> = &self.problem;
        match ctx.backend {
            Backend::Threads(evaluator) => evonet_runner::run(
                &self.strategy,
                problem,
                evaluator as &mut dyn Evaluator<S::Genome>,
                ctx.settings,
                &export,
                ctx.resume,
                ctx.observers,
            ),
            #[cfg(feature = "redis")]
            Backend::Redis(backend) => {
                let mut evaluator: RedisEvaluator<S::Genome> =
                    (*backend).evaluator().map_err(|e| {
                        RunError::Evaluator(evonet_runner::EvaluatorError(e.to_string()))
                    })?;
                let outcome = evonet_runner::run(
                    &self.strategy,
                    problem,
                    &mut evaluator,
                    ctx.settings,
                    &export,
                    ctx.resume,
                    ctx.observers,
                )?;
                // Workers stop looking for this run's tasks.
                evaluator.retire().map_err(|e| {
                    RunError::Evaluator(evonet_runner::EvaluatorError(e.to_string()))
                })?;
                Ok(outcome)
            }
        }
    }

    #[cfg(feature = "nas")]
    fn final_stage(&self) -> Option<&FinalStage> {
        self.final_stage.as_ref()
    }
}
