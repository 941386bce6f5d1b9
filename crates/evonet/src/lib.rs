//! # evonet
//!
//! Evolve neural networks: their weights (Deep GA, OpenAI-ES, CMA-ES,
//! random search), their topologies (NEAT) and their architectures
//! (regularized evolution, a GA with crossover, random sampling), with
//! deterministic, resumable runs on local threads or Redis workers. The
//! `evonet` command-line tool is built on this crate; everything a config
//! file does, a Rust program does here in a few lines.
//!
//! ## The model
//!
//! - **Strategies** propose and learn through *ask/tell*
//!   ([`core::Strategy`]): `ask` returns candidates, each a *genome* with
//!   its evaluation seed; `tell` takes their results back in any order and
//!   updates the strategy's state. All of a strategy's state is plain serde
//!   data, so a checkpoint restores a run exactly. The strategies are
//!   registered in [`registry::STRATEGIES`], each with the genome it evolves
//!   ([`GenomeKind`]).
//! - **Genomes** are what a strategy varies: a flat parameter vector
//!   ([`core::PolicyParams`]), a Deep GA seed chain ([`core::SeedChain`]), a
//!   NEAT genome, or a network architecture.
//! - **Problems** turn a genome into a fitness ([`core::Problem`]), always
//!   maximised: an environment (`[env]`, built-in or one you register with
//!   [`Registry::register_env`]), a task (`[task]`: XOR, the benchmark
//!   functions, or your fitness closure registered with
//!   [`Registry::register_fitness`]), or a dataset (`[data]`, architecture
//!   search).
//! - **Evaluators** run the evaluations: threads of this process, or
//!   workers on other machines through Redis ([`remote`]). Every random
//!   number comes from `(run seed, generation, candidate, purpose)`, so
//!   neither the thread count nor the worker count changes a result.
//! - **Observers** hear a run's events ([`Observer`]): each candidate's
//!   and each generation's record, a better champion, a due checkpoint.
//!   The run's own files (`metrics.jsonl`, `best/champion.json`,
//!   checkpoints) are observers too, ahead of yours: progress bars, live
//!   plots, your own logging or uploads.
//!
//! An [`Experiment`] is a checked [`ExperimentConfig`] (the typed form of a
//! config file) with the [`Registry`] it names things from; a [`Session`]
//! runs it into a folder, fresh or resumed.
//!
//! ```
//! # fn main() -> Result<(), evonet::Error> {
//! use evonet::{Experiment, ExperimentConfig, Registry, StrategyConfig};
//! use evonet::strategies::CmaEsConfig;
//!
//! // CMA-ES on the 10-dimensional sphere, for 150 generations.
//! let strategy = StrategyConfig::CmaEs(CmaEsConfig {
//!     population: 0, sigma: 0.5, separable: false, init_scale: 1.0, restarts: 0,
//!     max_dimension: 5_000,
//! });
//! let mut config = ExperimentConfig::on_task("sphere", strategy, 150);
//! config.run.stop_when_solved = false;
//! let exp = Experiment::new("sphere", config, &Registry::builtin())?;
//! let out = std::env::temp_dir().join(format!("evonet-doc-lib-{}", std::process::id()));
//! let done = exp.session(&out).run()?;
//! assert!(done.state().best_test.unwrap() > -1e-6);
//! # std::fs::remove_dir_all(&out).ok();
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! - `nas` (default): architecture search, its networks trained by
//!   backprop with burn, datasets, ONNX export ([`final_stage`], the
//!   `aging_evolution`, `truncation_ga` and `random_sampling` strategies,
//!   `[data]`, `[search_space]`, `[training]`, `[final_training]`).
//! - `redis` (default): evaluation through Redis workers ([`remote`]).
//!
//! `default-features = false` builds weight evolution (Deep GA, random
//! search, OpenAI-ES, CMA-ES) and NEAT alone.
//!
//! The examples of this package show the extension points:
//! `cargo run -p evonet --example custom_env` (your own environment, evolved
//! by Deep GA, resumed and evaluated), `--example fitness_closure` (a
//! closure optimised by CMA-ES and OpenAI-ES) and `--example ask_tell` (a
//! strategy driven by hand, without the runner).

pub mod build;
pub mod champion;
pub mod config;
pub mod export;
#[cfg(feature = "nas")]
pub mod final_stage;
pub mod memory;
#[cfg(feature = "nas")]
pub mod pareto_file;
pub mod registry;
#[cfg(feature = "redis")]
pub mod remote;
pub mod replay;
pub mod search;
pub mod session;

use std::path::{Path, PathBuf};

pub use config::{ConfigError, EnvConfig, ExperimentConfig, PolicyConfig, RunConfig, TaskConfig};
pub use registry::{GenomeKind, Registry, StrategyConfig, StrategyEntry, STRATEGIES};
pub use search::Search;
pub use session::{Finished, Session};

pub use evonet_runner::{
    CandidateRecord, ChampionEvent, ChampionRecord, Checkpoint, CheckpointEvent, GenerationRecord,
    LockError, Observed, Observer, ObserverError, RunLock, RunOutcome, RunnerState,
    ThreadEvaluator,
};

/// The vocabulary: ask/tell, candidates, genomes, problems, seeds.
pub use evonet_core as core;
/// Evaluation through Redis workers.
#[cfg(feature = "redis")]
pub use evonet_distributed as distributed;
/// Environments and the environment trait.
pub use evonet_envs as envs;
/// Architecture search: search spaces, datasets, the training problem.
#[cfg(feature = "nas")]
pub use evonet_nas as nas;
/// NEAT.
pub use evonet_neat as neat;
/// Forward-only networks (MLPs, graphs).
pub use evonet_nn as nn;
/// Problems: RL rollouts, XOR, fitness functions.
pub use evonet_problems as problems;
/// The run loop, evaluators, checkpoints, metrics.
pub use evonet_runner as runner;
/// Strategies and their settings.
pub use evonet_strategies as strategies;
/// Networks trained by backprop (burn): architectures, datasets, weights,
/// ONNX.
#[cfg(feature = "nas")]
pub use evonet_train as train;

/// Everything that can go wrong around a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is wrong (names the file and key).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A checkpoint is missing, damaged, or not this run's.
    #[error(transparent)]
    Checkpoint(evonet_runner::CheckpointError),
    /// The run failed (IO, the evaluation backend).
    #[error(transparent)]
    Run(evonet_runner::RunError),
    #[error("starting evaluation threads: {0}")]
    Threads(String),
    /// The run folder is another process's, or cannot be locked.
    #[error(transparent)]
    Lock(#[from] evonet_runner::LockError),
    /// The stage after an architecture search failed.
    #[cfg(feature = "nas")]
    #[error(transparent)]
    Final(#[from] final_stage::FinalError),
}

impl From<build::BuildError> for Error {
    fn from(e: build::BuildError) -> Self {
        match e {
            build::BuildError::Config(c) => Error::Config(c),
        }
    }
}

impl Error {
    /// Whether the user can fix it by changing a setting or a file (the CLI
    /// exits with status 2 then).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::Config(_)
                | Error::Checkpoint(_)
                | Error::Lock(evonet_runner::LockError::Busy { .. })
                | Error::Run(evonet_runner::RunError::Mismatch(_))
        )
    }
}

/// A checked experiment: its config, resolved (defaults spelled out), and
/// the registry its names come from.
pub struct Experiment {
    source: PathBuf,
    config: ExperimentConfig,
    registry: Registry,
}

impl std::fmt::Debug for Experiment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Experiment")
            .field("source", &self.source)
            .field("config", &self.config)
            .field("registry", &self.registry)
            .finish()
    }
}

impl Experiment {
    /// Checks `config` against `registry` and resolves its defaults;
    /// `source` (a file, or a label) is named in errors.
    ///
    /// ```
    /// use evonet::{Experiment, ExperimentConfig, Registry, StrategyConfig};
    /// let strategy = StrategyConfig::Neat(Default::default());
    /// let exp = Experiment::new("xor", ExperimentConfig::on_task("xor", strategy, 10), &Registry::builtin());
    /// assert!(exp.is_ok());
    /// let bad = ExperimentConfig::on_env("CartPole-v9", StrategyConfig::Neat(Default::default()), 10);
    /// let e = Experiment::new("x.toml", bad, &Registry::builtin()).err().unwrap();
    /// assert_eq!(e.key, "env.id");
    /// ```
    pub fn new(
        source: impl AsRef<Path>,
        mut config: ExperimentConfig,
        registry: &Registry,
    ) -> Result<Self, ConfigError> {
        let source = source.as_ref().to_path_buf();
        config.check(&source, registry)?;
        config.resolve(registry);
        Ok(Self {
            source,
            config,
            registry: registry.clone(),
        })
    }

    /// The resolved config.
    pub fn config(&self) -> &ExperimentConfig {
        &self.config
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Builds the strategy and its problem, with `run.threads` threads for
    /// the noise table.
    ///
    /// ```
    /// use evonet::{Experiment, ExperimentConfig, GenomeKind, Registry, StrategyConfig};
    /// use evonet::strategies::DeepGaConfig;
    /// let ga = StrategyConfig::DeepGa(DeepGaConfig {
    ///     population: 10, truncation: 3, sigma: 0.05, elite_candidates: 2, elite_episodes: 3,
    /// });
    /// let mut cfg = ExperimentConfig::on_env("CartPole-v1", ga, 5);
    /// cfg.run.noise_table_size = 1 << 16;
    /// let search = Experiment::new("doc", cfg, &Registry::builtin()).unwrap().build().unwrap();
    /// assert_eq!(search.genome(), GenomeKind::SeedChain);
    /// assert_eq!(search.parameters(), Some(4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2));
    /// ```
    pub fn build(&self) -> Result<Box<dyn Search>, Error> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.config.run.threads)
            .build()
            .map_err(|e| Error::Threads(e.to_string()))?;
        Ok(self.build_in(&pool)?)
    }

    /// Builds the strategy and its problem, using `pool` for the noise
    /// table.
    pub fn build_in(&self, pool: &rayon::ThreadPool) -> Result<Box<dyn Search>, build::BuildError> {
        let ctx = build::BuildContext {
            config: &self.config,
            registry: &self.registry,
            file: &self.source,
            pool,
            data_root: Path::new("."),
        };
        self.config.strategy.build(&ctx)
    }

    /// A run of this experiment into the folder `out`.
    pub fn session(&self, out: impl AsRef<Path>) -> Session<'_> {
        Session::new(self, out.as_ref())
    }

    /// The resolved config as JSON (what a [`Session`] stores in its
    /// checkpoints unless given another text).
    pub fn config_json(&self) -> String {
        // Plain serde data without maps of non-string keys: cannot fail.
        serde_json::to_string_pretty(&self.config).unwrap_or_default()
    }
}

impl ExperimentConfig {
    /// An experiment on the environment `id`, every other setting at its
    /// default.
    pub fn on_env(id: &str, strategy: StrategyConfig, max_generations: u64) -> Self {
        let mut c = Self::new(RunConfig::new(max_generations), strategy);
        c.env = Some(EnvConfig::new(id));
        c
    }

    /// An experiment on the registered task `kind`.
    pub fn on_task(kind: &str, strategy: StrategyConfig, max_generations: u64) -> Self {
        let mut c = Self::new(RunConfig::new(max_generations), strategy);
        c.task = Some(TaskConfig {
            kind: kind.to_string(),
            dim: None,
            target: None,
        });
        c
    }
}
