//! Running an [`Experiment`]: a fresh run or a resume, on local threads or
//! Redis workers, with observers.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use evonet_runner::{
    Checkpoint, CheckpointError, Observer, RunError, RunLock, RunOutcome, RunSettings,
    ThreadEvaluator,
};

#[cfg(feature = "nas")]
use crate::final_stage::FinalStage;
use crate::registry::GenomeKind;
#[cfg(feature = "redis")]
use crate::remote::RedisBackend;
use crate::search::{Backend, RunContext, Search};
use crate::{Error, Experiment};

/// Hears of the built search before the run starts.
type OnStart<'a> = Box<dyn FnOnce(&dyn Search) + 'a>;

/// Turns the built search into the run published on Redis.
#[cfg(feature = "redis")]
type Publish<'a> = Box<dyn FnOnce(&dyn Search) -> RedisBackend + 'a>;

/// A run of an experiment into a folder: `metrics.jsonl`,
/// `best/champion.json` and `checkpoints/latest.evock` go there.
///
/// ```
/// # fn main() -> Result<(), evonet::Error> {
/// use evonet::{Experiment, ExperimentConfig, Registry, StrategyConfig};
/// use evonet::strategies::DeepGaConfig;
/// let ga = StrategyConfig::DeepGa(DeepGaConfig {
///     population: 10, truncation: 3, sigma: 0.05, elite_candidates: 2, elite_episodes: 3,
/// });
/// let mut cfg = ExperimentConfig::on_env("CartPole-v1", ga, 2);
/// cfg.run.noise_table_size = 1 << 16;
/// cfg.run.stop_when_solved = false;
/// cfg.run.checkpoint_every = 1;
/// let exp = Experiment::new("doc", cfg, &Registry::builtin())?;
/// let out = std::env::temp_dir().join(format!("evonet-doc-session-{}", std::process::id()));
/// let first = exp.session(&out).max_generations(1).run()?;
/// let resumed = exp.session(&out).resume()?; // continues from the checkpoint
/// assert_eq!(first.state().generation, 1);
/// assert_eq!(resumed.state().generation, 2);
/// # std::fs::remove_dir_all(&out).ok();
/// # Ok(()) }
/// ```
pub struct Session<'a> {
    experiment: &'a Experiment,
    out: PathBuf,
    config_text: Option<String>,
    stop: Arc<AtomicBool>,
    max_generations: Option<u64>,
    observers: Vec<&'a mut dyn Observer>,
    lock: Option<RunLock>,
    run_id: Option<String>,
    on_start: Option<OnStart<'a>>,
    #[cfg(feature = "redis")]
    redis: Option<Publish<'a>>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(experiment: &'a Experiment, out: &Path) -> Self {
        Self {
            experiment,
            out: out.to_path_buf(),
            config_text: None,
            stop: Arc::new(AtomicBool::new(false)),
            max_generations: None,
            observers: Vec::new(),
            lock: None,
            run_id: None,
            on_start: None,
            #[cfg(feature = "redis")]
            redis: None,
        }
    }

    /// Called with the built search before its first generation (the CLI
    /// prints the strategy and the parameters per candidate: a default
    /// that changes a problem's size is visible at once).
    pub fn on_start(mut self, f: impl FnOnce(&dyn Search) + 'a) -> Self {
        self.on_start = Some(Box::new(f));
        self
    }

    /// The id of a fresh run (default: [`evonet_runner::new_run_id`]),
    /// written into its checkpoints; a resumed run keeps its checkpoint's.
    /// The CLI writes it into `config.toml` too, and refuses to resume
    /// from a checkpoint of another run.
    pub fn run_id(mut self, id: String) -> Self {
        self.run_id = Some(id);
        self
    }

    /// The folder's lock, taken by a front end that prepares the folder
    /// before the run (the CLI writes `config.toml`). Without it, the
    /// session takes the lock itself; either way a second process on the
    /// same folder gets [`Error::Lock`] naming this one.
    pub fn lock(mut self, lock: RunLock) -> Self {
        self.lock = Some(lock);
        self
    }

    /// The config text stored in checkpoints (the CLI stores the resolved
    /// TOML; default: the resolved config as JSON).
    pub fn config_text(mut self, text: String) -> Self {
        self.config_text = Some(text);
        self
    }

    /// A flag that, once set (by Ctrl-C, say), stops the run at the next
    /// generation boundary with a checkpoint.
    pub fn stop_flag(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = stop;
        self
    }

    /// Overrides `run.max_generations` (at least 1).
    pub fn max_generations(mut self, n: u64) -> Self {
        self.max_generations = Some(n.max(1));
        self
    }

    /// Hears the run's events, after the run's own files (so a champion
    /// or checkpoint it hears of is on disk).
    ///
    /// ```
    /// # fn main() -> Result<(), evonet::Error> {
    /// use evonet::{ChampionEvent, ChampionRecord, Experiment, ExperimentConfig, GenerationRecord,
    ///     Observed, Observer, Registry, StrategyConfig};
    /// use evonet::champion::VectorChampion;
    /// use evonet::strategies::CmaEsConfig;
    ///
    /// /// Keeps the best test score of every better champion.
    /// #[derive(Default)]
    /// struct Champions(Vec<f64>);
    /// impl Observer for Champions {
    ///     fn on_champion(&mut self, e: &ChampionEvent<'_>) -> Observed {
    ///         let file: ChampionRecord<VectorChampion> = serde_json::from_str(e.document).unwrap();
    ///         assert_eq!(file.provenance.generation, e.generation);
    ///         self.0.push(e.test.score);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let cma = StrategyConfig::CmaEs(CmaEsConfig {
    ///     population: 8, sigma: 0.5, separable: false, init_scale: 1.0, restarts: 0,
    ///     max_dimension: 5_000,
    /// });
    /// let mut cfg = ExperimentConfig::on_task("sphere", cma, 5);
    /// cfg.run.stop_when_solved = false;
    /// let exp = Experiment::new("doc", cfg, &Registry::builtin())?;
    /// let out = std::env::temp_dir().join(format!("evonet-doc-observer-{}", std::process::id()));
    /// let (mut champions, mut generations) = (Champions::default(), 0);
    /// let mut count = |_: &GenerationRecord| generations += 1;
    /// exp.session(&out).observer(&mut champions).observer(&mut count).run()?;
    /// assert_eq!(generations, 5);
    /// assert!(!champions.0.is_empty());
    /// # std::fs::remove_dir_all(&out).ok();
    /// # Ok(()) }
    /// ```
    pub fn observer(mut self, o: &'a mut dyn Observer) -> Self {
        self.observers.push(o);
        self
    }

    #[cfg(feature = "redis")]
    /// Evaluates through Redis workers instead of local threads: `publish`
    /// turns the built search into the published run (see
    /// [`RedisBackend::new`]).
    pub fn redis(mut self, publish: impl FnOnce(&dyn Search) -> RedisBackend + 'a) -> Self {
        self.redis = Some(Box::new(publish));
        self
    }

    /// Starts a fresh run (an earlier run's files in the folder are
    /// replaced as the run writes its own).
    pub fn run(self) -> Result<Finished, Error> {
        self.go(None)
    }

    /// Continues the run in the folder from its latest checkpoint.
    pub fn resume(mut self) -> Result<Finished, Error> {
        if self.lock.is_none() {
            // Before reading: the checkpoint is not another process's to
            // rewrite meanwhile.
            self.lock = Some(RunLock::acquire(&self.out)?);
        }
        let path = Checkpoint::latest_path(&self.out);
        let ck = Checkpoint::read(&path).map_err(Error::Checkpoint)?;
        self.go(Some(ck))
    }

    /// Continues from a checkpoint already read.
    pub fn resume_from(self, ck: Checkpoint) -> Result<Finished, Error> {
        self.go(Some(ck))
    }

    fn go(self, resume: Option<Checkpoint>) -> Result<Finished, Error> {
        let lock = match self.lock {
            Some(lock) => lock,
            None => RunLock::acquire(&self.out)?,
        };
        let exp = self.experiment;
        let mut evaluator = ThreadEvaluator::new(exp.config().run.threads)
            .map_err(|e| Error::Threads(e.to_string()))?;
        let search = exp.build_in(evaluator.pool())?;
        if let Some(f) = self.on_start {
            f(&*search);
        }
        let settings = RunSettings {
            out_dir: self.out.clone(),
            run_id: self.run_id.unwrap_or_else(evonet_runner::new_run_id),
            seed: exp.config().run.seed,
            max_generations: self
                .max_generations
                .unwrap_or(exp.config().run.max_generations),
            max_evaluations: exp.config().run.max_evaluations,
            max_env_steps: exp.config().run.max_env_steps,
            stop_when_solved: exp.config().run.stop_when_solved,
            test_every: exp.config().run.test_every,
            test_champion: search.genome() != GenomeKind::Architecture,
            checkpoint_every: exp.config().run.checkpoint_every,
            record_behaviors: exp.config().records_behaviors(),
            config_text: self.config_text.unwrap_or_else(|| exp.config_json()),
            stop: self.stop,
        };
        #[cfg(feature = "redis")]
        let redis = self.redis.map(|publish| publish(&*search));
        #[cfg(all(feature = "redis", feature = "nas"))]
        let final_redis = redis.as_ref().and_then(|r| {
            let stage = search.final_stage()?;
            Some(r.stage(crate::remote::FINAL_STAGE, stage.fingerprint()))
        });
        #[cfg(feature = "redis")]
        let backend = match redis {
            None => Backend::Threads(&mut evaluator),
            Some(r) => Backend::Redis(Box::new(r)),
        };
        #[cfg(not(feature = "redis"))]
        let backend = Backend::Threads(&mut evaluator);
        let mut observers = self.observers;
        let outcome = search.run(RunContext {
            settings: &settings,
            resume,
            backend,
            observers: &mut observers,
        })?;
        // Only a final stage still writes into the folder after the run.
        #[cfg(feature = "nas")]
        let final_lock = search.final_stage().is_some().then_some(lock);
        #[cfg(not(feature = "nas"))]
        let final_lock: Option<RunLock> = {
            drop(lock);
            None
        };
        Ok(Finished {
            outcome,
            search,
            out: self.out,
            _lock: final_lock,
            #[cfg(feature = "nas")]
            evaluator,
            #[cfg(all(feature = "redis", feature = "nas"))]
            final_redis,
        })
    }
}

/// A run that ended: by its budget, by success, or by the stop flag.
pub struct Finished {
    pub outcome: RunOutcome,
    /// The search that ran (for its final stage, its fingerprint).
    pub search: Box<dyn Search>,
    pub out: PathBuf,
    /// An architecture search's folder stays this process's until this is
    /// dropped (its final stage writes `best/`); other runs release their
    /// folder when they end.
    _lock: Option<RunLock>,
    /// The run's threads, for its final stage.
    #[cfg(feature = "nas")]
    evaluator: ThreadEvaluator,
    /// The final stage's run on Redis, when the search ran there.
    #[cfg(all(feature = "redis", feature = "nas"))]
    final_redis: Option<RedisBackend>,
}

impl Finished {
    /// The final stage of an architecture search, with where the run
    /// evaluated (its threads, or its Redis workers, which build the
    /// retraining from the same config): hand both to
    /// [`FinalStage::execute_on`].
    #[cfg(feature = "nas")]
    pub fn final_stage(&mut self) -> Option<(&FinalStage, Backend<'_>)> {
        let stage = self.search.final_stage()?;
        #[cfg(feature = "redis")]
        if let Some(redis) = self.final_redis.take() {
            return Some((stage, Backend::Redis(Box::new(redis))));
        }
        Some((stage, Backend::Threads(&mut self.evaluator)))
    }

    /// The runner's counters at the end.
    pub fn state(&self) -> &evonet_runner::RunnerState {
        match &self.outcome {
            RunOutcome::Finished(s) | RunOutcome::Interrupted(s) => s,
        }
    }

    pub fn interrupted(&self) -> bool {
        matches!(self.outcome, RunOutcome::Interrupted(_))
    }
}

impl From<RunError> for Error {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Checkpoint(c) => Error::Checkpoint(c),
            other => Error::Run(other),
        }
    }
}

impl From<CheckpointError> for Error {
    fn from(e: CheckpointError) -> Self {
        Error::Checkpoint(e)
    }
}
