//! Evaluation through Redis workers (crate `evonet-distributed`): the
//! coordinator's side of a run ([`RedisBackend`]) and the worker's
//! ([`RegistryJobs`], which builds a published run's problem from its
//! config with the same [`Registry`] as the coordinator).

use std::path::Path;
use std::sync::{Arc, Mutex};

use evonet_distributed::fingerprint::fnv1a64;
use evonet_distributed::{
    DistError, Fingerprint, Job, JobFactory, Link, RedisEvaluator, RedisTarget, RunSpec,
    WaitStatus, PROTOCOL_VERSION,
};

use crate::config::{ConfigError, ExperimentConfig};
use crate::registry::Registry;
use crate::search::Search;
use crate::Experiment;

type OnWait = Arc<Mutex<dyn FnMut(&WaitStatus) + Send>>;

/// The stage of an architecture search's final retraining in a run spec.
pub const FINAL_STAGE: &str = "final";

/// A run published on a Redis server: its evaluator sends every batch to
/// the workers that joined.
pub struct RedisBackend {
    target: RedisTarget,
    /// `None` for a stage that connects when its evaluator is made.
    link: Option<Link>,
    spec: RunSpec,
    lease_ms: Option<u64>,
    on_wait: Option<OnWait>,
}

impl RedisBackend {
    /// Publishes `search` as run `run_id` (stable across a resume of the
    /// same run; see [`run_id`]), with the config text workers build from.
    pub fn new(
        link: Link,
        run_id: String,
        config_text: String,
        origin: String,
        search: &dyn Search,
        lease_ms: Option<u64>,
    ) -> Self {
        let fp = search.fingerprint();
        let spec = RunSpec {
            protocol: PROTOCOL_VERSION,
            evonet_version: env!("CARGO_PKG_VERSION").into(),
            run_id,
            stage: String::new(),
            config: config_text,
            problem_hash: fp.hash(),
            problem: fp.text,
            origin,
        };
        Self {
            target: link.target().clone(),
            link: Some(link),
            spec,
            lease_ms,
            on_wait: None,
        }
    }

    /// Called while a batch waits for workers (progress messages).
    pub fn on_wait(mut self, f: impl FnMut(&WaitStatus) + Send + 'static) -> Self {
        self.on_wait = Some(Arc::new(Mutex::new(f)));
        self
    }

    /// Another stage of the same run (an architecture search's final
    /// retraining, [`FINAL_STAGE`]), published as run `RUN-STAGE` with the
    /// stage's problem: the same workers build it from the same config.
    /// It connects to the server when its evaluator is made.
    pub fn stage(&self, stage: &str, fingerprint: Fingerprint) -> RedisBackend {
        let mut spec = self.spec.clone();
        spec.run_id = format!("{}-{stage}", self.spec.run_id);
        spec.stage = stage.to_string();
        spec.problem_hash = fingerprint.hash();
        spec.problem = fingerprint.text;
        RedisBackend {
            target: self.target.clone(),
            link: None,
            spec,
            lease_ms: self.lease_ms,
            on_wait: self.on_wait.clone(),
        }
    }

    pub fn run_id(&self) -> &str {
        &self.spec.run_id
    }

    /// The evaluator for genomes of type `G`.
    pub fn evaluator<G>(self) -> Result<RedisEvaluator<G>, DistError> {
        let link = match self.link {
            Some(link) => link,
            None => Link::connect(&self.target)?,
        };
        tracing::info!(
            "run {} published on {}; workers join with `evonet worker --redis URL`",
            self.spec.run_id,
            self.target.display()
        );
        let mut e = RedisEvaluator::new(link, self.spec, self.lease_ms);
        if let Some(f) = self.on_wait {
            e.on_wait(move |s| (f.lock().unwrap_or_else(|p| p.into_inner()))(s));
        }
        Ok(e)
    }
}

/// A run id that is stable across resumes of the same folder and distinct
/// per machine, folder and seed.
pub fn run_id(host: &str, dir: &Path, seed: u64) -> String {
    format!(
        "{:016x}",
        fnv1a64(format!("{host}\n{}\n{seed}", dir.display()).as_bytes())
    )
}

/// Parses a published config text into an experiment.
pub type ParseConfig = dyn Fn(&Path, &str) -> Result<ExperimentConfig, ConfigError> + Send + Sync;

/// A worker's [`JobFactory`]: parses a published run's config with `parse`
/// (the format the coordinator published: TOML for the CLI) and builds it
/// with `registry`, which must hold the same user environments and tasks as
/// the coordinator's (the fingerprint check refuses a run otherwise).
pub struct RegistryJobs {
    pub registry: Registry,
    pub parse: Box<ParseConfig>,
    /// `gym:` ids this worker may run (`gym:HalfCheetah-v5`, or a prefix
    /// ending in `*`: `gym:MyPkg/*`). Gymnasium imports the module an id
    /// names, so whoever can write to Redis could otherwise make a worker
    /// run any Python: every other `gym:` id is refused.
    pub allow_envs: Vec<String>,
}

/// Whether `id` matches one of `patterns` (exactly, or by the prefix
/// before a final `*`).
pub fn env_allowed(id: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => id == p,
    })
}

impl RegistryJobs {
    /// Refuses a bridged environment that is not allowed, and the settings
    /// that would run another program or import from another folder; the
    /// worker's own Python (`EVONET_PYTHON`, else `python3`) runs it.
    fn admit_env(&self, cfg: &mut ExperimentConfig) -> Result<(), String> {
        let Some(env) = cfg.env.as_mut() else {
            return Ok(());
        };
        if env.gym_settings().is_none() {
            return Ok(());
        }
        if !env_allowed(&env.id, &self.allow_envs) {
            return Err(format!(
                "it runs the Python environment `{}`; start this worker with --allow-env '{}' to allow it",
                env.id, env.id
            ));
        }
        if !env.python_path.is_empty() {
            return Err(
                "its config sets env.python_path; set PYTHONPATH for this worker instead".into(),
            );
        }
        env.python = None;
        Ok(())
    }
}

impl JobFactory for RegistryJobs {
    fn prepare(
        &self,
        spec: &RunSpec,
        pool: &rayon::ThreadPool,
    ) -> Result<(Box<dyn Job>, Fingerprint), String> {
        let origin = format!("run {} config", spec.run_id);
        let mut cfg = (self.parse)(Path::new(&origin), &spec.config).map_err(|e| e.to_string())?;
        self.admit_env(&mut cfg)?;
        let exp =
            Experiment::new(Path::new(&origin), cfg, &self.registry).map_err(|e| e.to_string())?;
        let search = exp.build_in(pool).map_err(|e| e.to_string())?;
        match spec.stage.as_str() {
            "" => Ok((search.job(), search.fingerprint())),
            #[cfg(feature = "nas")]
            FINAL_STAGE => search
                .final_stage()
                .map(|f| (f.job(), f.fingerprint()))
                .ok_or_else(|| "its config has no final stage (not an architecture search)".into()),
            other => Err(format!("stage `{other}` is unknown to this worker")),
        }
    }
}
