//! The experiment description: what a config file says, as typed serde
//! data. Unknown keys are rejected by every table; [`ExperimentConfig::check`]
//! validates the whole description against a [`Registry`], each section
//! through the crate that owns its settings, and every error names the key
//! and what is allowed.
//!
//! Reading the text (TOML, JSON) is the caller's: the CLI parses TOML into
//! this type; a Rust user can build it in code or from any serde format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use evonet_envs::minatar::env::MinAtarSettings;
use evonet_envs::{Env, EnvId, EnvSource};
use evonet_gym::GymSettings;
#[cfg(feature = "nas")]
use evonet_nas::{ChainSpaceConfig, DataConfig, Fidelity, FinalTraining, SearchSpaceConfig};
use evonet_nn::{Activation, ConvLayer, ConvSpec};
use evonet_problems::Faults;
use evonet_strategies::{AlpsConfig, HalvingConfig, NoveltyConfig, PredictorConfig};

use crate::registry::{GenomeKind, Registry, StrategyConfig};

/// The most steps an episode may be capped at (`env.max_steps`).
pub const MAX_EPISODE_STEPS: u64 = 100_000_000;

/// A setting that is wrong: printed as one line naming the file (or other
/// source) and the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.line())]
pub struct ConfigError {
    /// Where the setting came from (a config file, or a label).
    pub file: PathBuf,
    /// The dotted key (`strategy.sigma`), empty for the whole file.
    pub key: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(file: &Path, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        }
    }

    fn line(&self) -> String {
        if self.key.is_empty() {
            format!("{}: {}", self.file.display(), self.message)
        } else {
            format!("{}: `{}`: {}", self.file.display(), self.key, self.message)
        }
    }
}

/// `[task]`: a problem that is not an environment or a dataset: a task
/// registered by name (`xor` for NEAT, the benchmark functions `rastrigin`
/// and `sphere`, or a user's fitness function).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub kind: String,
    /// Dimension of a benchmark function (the built-in ones; a user's
    /// function has its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dim: Option<usize>,
    /// A fitness at or above this counts as solved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
}

/// `[estimation]`: how architecture search estimates candidates beyond
/// training each at `[training]`'s fidelity.
#[cfg(feature = "nas")]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimationConfig {
    /// `[estimation.predictor]`: a learned performance predictor
    /// (Smithson et al. 2016) screens the children before they are trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictor: Option<PredictorConfig>,
    /// `[estimation.successive_halving]`: each round trained at rising
    /// epochs, the best `1 / eta` promoted (Jamieson & Talwalkar 2016;
    /// Hyperband's brackets with `hyperband = true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successive_halving: Option<HalvingConfig>,
}

/// A whole experiment: the run, the problem (`[env]`, `[task]` or
/// `[data]`), the policy or search space, and the strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    pub run: RunConfig,
    /// An environment to act in...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<EnvConfig>,
    /// ...or a registered task (XOR, a fitness function)...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskConfig>,
    /// The MLP policy of weight-evolving strategies (defaults apply when
    /// left out; NEAT evolves its own topology and refuses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyConfig>,
    /// ...or, for architecture search, the images to classify...
    #[cfg(feature = "nas")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataConfig>,
    /// ...the space of networks...
    #[cfg(feature = "nas")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_space: Option<SearchSpaceConfig>,
    /// ...how candidates are trained during the search...
    #[cfg(feature = "nas")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Fidelity>,
    /// ...and how the best are retrained and tested after it.
    #[cfg(feature = "nas")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_training: Option<FinalTraining>,
    /// Performance estimation beyond training at `[training]`'s fidelity
    /// (a learned predictor screening the children).
    #[cfg(feature = "nas")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimation: Option<EstimationConfig>,
    pub strategy: StrategyConfig,
    /// Novelty search around the strategy (`[novelty]`): it selects on the
    /// novelty of each candidate's behaviour instead of (or mixed with) its
    /// fitness. Needs an environment that defines a behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub novelty: Option<NoveltyConfig>,
    /// ALPS's age layers (`[alps]`, Hornby 2006) in place of the
    /// strategy's own selection: the strategy contributes its operators
    /// (NEAT's mutations and crossover, the Deep GA's mutation, a search
    /// space's), the layers set the population.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alps: Option<AlpsConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Name of the run (default: the config file's stem); the default
    /// output folder is `runs/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub seed: u64,
    pub max_generations: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_evaluations: Option<u64>,
    /// A frame budget: stop at the end of the generation that brings the
    /// environment steps of evaluations (tests excluded) to this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_env_steps: Option<u64>,
    #[serde(default = "yes")]
    pub stop_when_solved: bool,
    #[serde(default = "one")]
    pub test_every: u64,
    #[serde(default = "ten")]
    pub checkpoint_every: u64,
    /// Evaluation threads; 0 = all cores.
    #[serde(default)]
    pub threads: usize,
    /// Floats in the shared noise table (Deep GA, OpenAI-ES).
    #[serde(default = "default_noise_size")]
    pub noise_table_size: usize,
    #[serde(default = "default_noise_seed")]
    pub noise_seed: u64,
}

impl RunConfig {
    /// A run of `max_generations` with every other setting at its default.
    pub fn new(max_generations: u64) -> Self {
        Self {
            name: None,
            seed: 0,
            max_generations,
            max_evaluations: None,
            max_env_steps: None,
            stop_when_solved: true,
            test_every: 1,
            checkpoint_every: 10,
            threads: 0,
            noise_table_size: default_noise_size(),
            noise_seed: default_noise_seed(),
        }
    }
}

fn yes() -> bool {
    true
}
fn one() -> u64 {
    1
}
fn ten() -> u64 {
    10
}
fn default_noise_size() -> usize {
    1 << 24
}
fn default_noise_seed() -> u64 {
    123
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvConfig {
    /// A built-in Gymnasium id (CartPole-v1, Acrobot-v1, MountainCar-v0,
    /// MountainCarContinuous-v0, Pendulum-v1, DoublePole-v0 (DPV),
    /// DoublePoleNoVelocities-v0 (DPNV)) or one a user registered.
    pub id: String,
    /// Override of the time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
    /// Episodes per evaluation.
    #[serde(default = "one_u32")]
    pub episodes: u32,
    /// Episodes of the champion's success test.
    #[serde(default = "hundred")]
    pub test_episodes: u32,
    /// Mean test return that counts as solved (default: Gymnasium's
    /// reward threshold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_threshold: Option<f64>,
    /// Double pole: initial angle of the long pole in degrees (default
    /// 0.07 rad ≈ 4.01°, Stanley's code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_angle_deg: Option<f64>,
    /// MinAtar: probability that the previous action repeats (default 0.1,
    /// the package's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky_action_prob: Option<f64>,
    /// MinAtar: difficulty ramping (default on, the package's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty_ramping: Option<bool>,
    /// MinAtar: the game's minimal action set (`true`) or all six
    /// (`false`); default: the id's (`-v0` all six, `-v1` minimal, as the
    /// package registers them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimal_action_set: Option<bool>,
    /// `gym:` ids: the Python that runs the bridge (default:
    /// `EVONET_PYTHON`, else `python3` on PATH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// `gym:` ids: folders put before `PYTHONPATH`, where a module of your
    /// own environments lives (`id = "gym:my_envs:MyEnv-v0"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub python_path: Vec<String>,
    /// `gym:` ids: keyword arguments of `gymnasium.make` (`[env.kwargs]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kwargs: BTreeMap<String, serde_json::Value>,
    /// `gym:` ids: Gymnasium wrappers, innermost first: `{ kind =
    /// "time_limit", max_episode_steps = N }`, `{ kind = "clip_action" }`,
    /// `{ kind = "atari_preprocessing" }` (frame skip 4, 84×84 grayscale,
    /// up to 30 no-ops), `{ kind = "frame_stack", size = 4 }`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrappers: Vec<evonet_gym::Wrapper>,
    /// `gym:` ids: seconds a reset or step may take before the bridge
    /// process is stopped and the evaluation fails (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_timeout_s: Option<f64>,
    /// Fault injection, for testing failure handling.
    #[serde(default, skip_serializing_if = "Faults::is_default")]
    pub faults: Faults,
}

impl EnvConfig {
    /// The environment `id` with every other setting at its default.
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            max_steps: None,
            episodes: 1,
            test_episodes: 100,
            success_threshold: None,
            start_angle_deg: None,
            sticky_action_prob: None,
            difficulty_ramping: None,
            minimal_action_set: None,
            python: None,
            python_path: Vec::new(),
            kwargs: BTreeMap::new(),
            wrappers: Vec::new(),
            step_timeout_s: None,
            faults: Faults::default(),
        }
    }

    /// The bridge's settings for a `gym:` id; `None` for other ids.
    pub fn gym_settings(&self) -> Option<GymSettings> {
        let id = self.id.strip_prefix(evonet_gym::PREFIX)?;
        Some(GymSettings {
            id: id.to_string(),
            kwargs: self.kwargs.clone(),
            python: self.python.clone(),
            python_path: self.python_path.clone(),
            step_timeout_s: self
                .step_timeout_s
                .unwrap_or(evonet_gym::DEFAULT_STEP_TIMEOUT_S),
            max_steps: self.max_steps,
            wrappers: self.wrappers.clone(),
        })
    }

    /// The bridge's settings are checked here; making the environment
    /// (which starts Python) waits for the build.
    fn check_gym(&self) -> Result<(), (&'static str, String)> {
        let given = [
            ("python", self.python.is_some()),
            ("python_path", !self.python_path.is_empty()),
            ("kwargs", !self.kwargs.is_empty()),
            ("wrappers", !self.wrappers.is_empty()),
            ("step_timeout_s", self.step_timeout_s.is_some()),
        ];
        let Some(id) = self.id.strip_prefix(evonet_gym::PREFIX) else {
            return match given.iter().find(|(_, set)| *set) {
                Some((field, _)) => Err((
                    field,
                    format!("only `gym:` environments take it, not `{}`", self.id),
                )),
                None => Ok(()),
            };
        };
        if id.trim().is_empty() {
            return Err((
                "id",
                "`gym:` needs a Gymnasium id after it (`gym:HalfCheetah-v5`)".into(),
            ));
        }
        if let Some(t) = self.step_timeout_s {
            if !(t.is_finite() && t > 0.0 && t <= 86_400.0) {
                return Err((
                    "step_timeout_s",
                    "must be between 0 and 86400 seconds".into(),
                ));
            }
        }
        if self.python.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return Err(("python", "must name a Python executable".into()));
        }
        for w in &self.wrappers {
            w.validate()
                .map_err(|(field, m)| ("wrappers", format!("{field} {m}")))?;
        }
        if let Some((key, v)) = self.kwargs.iter().find(|(_, v)| names_code(v)) {
            return Err((
                "kwargs",
                format!("`{key}` = {v} names a module attribute; kwargs may not name code (register the environment instead)"),
            ));
        }
        Ok(())
    }

    /// The MinAtar settings, defaults filled in.
    pub fn minatar_settings(&self) -> MinAtarSettings {
        let d = MinAtarSettings::default();
        MinAtarSettings {
            sticky_action_prob: self.sticky_action_prob.unwrap_or(d.sticky_action_prob),
            difficulty_ramping: self.difficulty_ramping.unwrap_or(d.difficulty_ramping),
            minimal_action_set: self.minimal_action_set,
        }
    }

    fn check_minatar(&self, source: &EnvSource) -> Result<(), (&'static str, String)> {
        self.check_minatar_keys(source.builtin().and_then(EnvId::minatar).is_some())
    }

    fn check_minatar_keys(&self, is_minatar: bool) -> Result<(), (&'static str, String)> {
        let given = [
            ("sticky_action_prob", self.sticky_action_prob.is_some()),
            ("difficulty_ramping", self.difficulty_ramping.is_some()),
            ("minimal_action_set", self.minimal_action_set.is_some()),
        ];
        if let Some((field, _)) = given.iter().find(|(_, set)| *set && !is_minatar) {
            return Err((
                field,
                format!("only MinAtar environments take it, not `{}`", self.id),
            ));
        }
        if let Some(p) = self.sticky_action_prob {
            if !(0.0..=1.0).contains(&p) {
                return Err((
                    "sticky_action_prob",
                    "must be a probability in [0, 1]".into(),
                ));
            }
        }
        Ok(())
    }

    fn check(&self, registry: &Registry) -> Result<(), (&'static str, String)> {
        self.check_gym()?;
        if self.gym_settings().is_none() {
            let source = registry
                .envs()
                .resolve(&self.id)
                .map_err(|e| ("id", e.to_string()))?;
            self.check_minatar(&source)?;
        } else {
            self.check_minatar_keys(false)?;
        }
        if self.episodes == 0 || self.episodes > 100_000 {
            return Err(("episodes", "must be between 1 and 100000".into()));
        }
        if self.test_episodes == 0 || self.test_episodes > 100_000 {
            return Err(("test_episodes", "must be between 1 and 100000".into()));
        }
        if self
            .max_steps
            .is_some_and(|m| m == 0 || m > MAX_EPISODE_STEPS)
        {
            return Err((
                "max_steps",
                format!("must be between 1 and {MAX_EPISODE_STEPS} (or left out)"),
            ));
        }
        if let Some(a) = self.start_angle_deg {
            if !(a.is_finite() && a.abs() < 36.0) {
                return Err((
                    "start_angle_deg",
                    "must be a finite angle below the 36 degree failure angle".into(),
                ));
            }
        }
        if self.success_threshold.is_some_and(|t| !t.is_finite()) {
            return Err((
                "success_threshold",
                "must be a finite number (or left out for the environment's own)".into(),
            ));
        }
        self.faults.validate()
    }
}

/// Whether a kwarg value (or one inside it) looks like `module:attribute`,
/// which Gymnasium and some environments import.
fn names_code(v: &serde_json::Value) -> bool {
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    };
    match v {
        serde_json::Value::String(s) => s
            .split_once(':')
            .is_some_and(|(m, a)| ident(m.trim()) && ident(a.trim())),
        serde_json::Value::Array(a) => a.iter().any(names_code),
        serde_json::Value::Object(o) => o.values().any(names_code),
        _ => false,
    }
}

fn one_u32() -> u32 {
    1
}
fn hundred() -> u32 {
    100
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Convolutions over frames before the dense layers, for environments
    /// whose observations are frames (MinAtar): `[{ filters = 16, kernel =
    /// 3, stride = 1 }]` is MinAtar's DQN torso; `[{ filters = 32, kernel =
    /// 8, stride = 4 }, { filters = 64, kernel = 4, stride = 2 }, { filters
    /// = 64, kernel = 3, stride = 1 }]` with `hidden = [512]` the Nature DQN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<Vec<ConvLayer>>,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    #[serde(default = "default_activation")]
    pub activation: Activation,
    /// Elman recurrence in the hidden layers (needed without velocities).
    #[serde(default)]
    pub recurrent: bool,
}

fn default_hidden() -> Vec<usize> {
    vec![64, 64]
}
fn default_activation() -> Activation {
    Activation::Tanh
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            conv: None,
            hidden: default_hidden(),
            activation: default_activation(),
            recurrent: false,
        }
    }
}

impl PolicyConfig {
    /// MinAtar's DQN network (Young & Tian 2019): 16 filters of 3×3,
    /// stride 1, then a dense layer of 128, ReLU. The default policy over
    /// frames.
    pub fn minatar_dqn() -> Self {
        Self {
            conv: Some(ConvSpec::MINATAR_LAYERS.to_vec()),
            hidden: vec![128],
            activation: Activation::Relu,
            recurrent: false,
        }
    }

    /// The policy a run gets without a `[policy]` table: MinAtar's DQN
    /// network over frames, else [`PolicyConfig::default`].
    pub fn default_over(frames: bool) -> Self {
        if frames {
            Self::minatar_dqn()
        } else {
            Self::default()
        }
    }

    fn check(&self) -> Result<(), (&'static str, String)> {
        if self.hidden.iter().any(|&h| h == 0 || h > 65_536) {
            return Err(("hidden", "layer sizes must be between 1 and 65536".into()));
        }
        if self.recurrent && self.hidden.is_empty() {
            return Err(("recurrent", "needs at least one hidden layer".into()));
        }
        let bad = |l: &ConvLayer| {
            !(1..=4096).contains(&l.filters)
                || !(1..=256).contains(&l.kernel)
                || !(1..=256).contains(&l.stride)
        };
        if self.conv.as_deref().is_some_and(|c| c.iter().any(bad)) {
            return Err((
                "conv",
                "each layer needs filters in 1..=4096, kernel and stride in 1..=256".into(),
            ));
        }
        Ok(())
    }
}

/// What the config's problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    Env,
    Task,
    Data,
}

impl ExperimentConfig {
    /// The run, the problem and the strategy, everything else at defaults.
    pub fn new(run: RunConfig, strategy: StrategyConfig) -> Self {
        Self {
            run,
            env: None,
            task: None,
            policy: None,
            #[cfg(feature = "nas")]
            data: None,
            #[cfg(feature = "nas")]
            search_space: None,
            #[cfg(feature = "nas")]
            training: None,
            #[cfg(feature = "nas")]
            final_training: None,
            #[cfg(feature = "nas")]
            estimation: None,
            strategy,
            novelty: None,
            alps: None,
        }
    }

    /// The `[policy]` section, or its defaults.
    pub fn policy(&self) -> PolicyConfig {
        self.policy.clone().unwrap_or_default()
    }

    /// Which problem section the config gives.
    pub fn problem_kind(&self) -> ProblemKind {
        #[cfg(feature = "nas")]
        if self.data.is_some() || self.strategy.entry().genome == GenomeKind::Architecture {
            return ProblemKind::Data;
        }
        if self.task.is_some() {
            ProblemKind::Task
        } else {
            ProblemKind::Env
        }
    }

    /// The method in a few words, for plots and tables: the strategy, ALPS
    /// in place of its selection, novelty search around it
    /// (`"neat + alps + novelty"`).
    pub fn method(&self) -> String {
        let mut words = vec![self.strategy.kind()];
        if self.alps.is_some() {
            words.push("alps");
        }
        if self.novelty.is_some() {
            words.push("novelty");
        }
        #[cfg(feature = "nas")]
        if self.predictor().is_some() {
            words.push("predictor");
        }
        #[cfg(feature = "nas")]
        if let Some(h) = self.halving() {
            words.push(if h.hyperband {
                "hyperband"
            } else {
                "successive halving"
            });
        }
        words.join(" + ")
    }

    /// The learned predictor of `[estimation.predictor]`, if any.
    #[cfg(feature = "nas")]
    pub fn predictor(&self) -> Option<&PredictorConfig> {
        self.estimation.as_ref().and_then(|e| e.predictor.as_ref())
    }

    /// The successive halving of `[estimation.successive_halving]`, if any.
    #[cfg(feature = "nas")]
    pub fn halving(&self) -> Option<&HalvingConfig> {
        self.estimation
            .as_ref()
            .and_then(|e| e.successive_halving.as_ref())
    }

    /// Whether the run writes its behaviour characterisations into
    /// `metrics.jsonl`: with novelty search, and on the mazes (whose final
    /// positions `evonet plot --maze` draws).
    pub fn records_behaviors(&self) -> bool {
        self.novelty.is_some()
            || self
                .env
                .as_ref()
                .is_some_and(|e| matches!(EnvId::parse(&e.id), Ok(EnvId::Maze { .. })))
    }

    /// Checks every setting; `file` is named in errors.
    pub fn check(&self, file: &Path, registry: &Registry) -> Result<(), ConfigError> {
        let err = |key: &str, message: &str| ConfigError::new(file, key, message);
        let within = |section: &str, (key, message): (&str, String)| {
            ConfigError::new(file, format!("{section}.{key}"), message)
        };
        self.check_run(file)?;
        let genome = self.strategy.entry().genome;
        match self.problem_kind() {
            #[cfg(feature = "nas")]
            ProblemKind::Data => self.check_search(file)?,
            kind => {
                #[cfg(feature = "nas")]
                for (present, key) in [
                    (self.search_space.is_some(), "search_space"),
                    (self.training.is_some(), "training"),
                    (self.final_training.is_some(), "final_training"),
                    (self.estimation.is_some(), "estimation"),
                ] {
                    if present {
                        return Err(err(key, "belongs to architecture search (with [data])"));
                    }
                }
                match (&self.env, &self.task) {
                    (Some(_), Some(_)) => {
                        return Err(err("task", "give either [env] or [task], not both"))
                    }
                    (None, None) => {
                        return Err(err(
                            "env",
                            "missing: give [env] (an environment id) or [task] (a registered task)",
                        ))
                    }
                    _ => {}
                }
                if let Some(env) = &self.env {
                    env.check(registry).map_err(|e| within("env", e))?;
                }
                if let Some(task) = &self.task {
                    let entry = registry
                        .task(&task.kind)
                        .map_err(|m| err("task.kind", &m))?;
                    if !entry.genomes().contains(&genome) {
                        let kinds: Vec<String> = entry
                            .genomes()
                            .iter()
                            .flat_map(|g| crate::registry::kinds_for(*g))
                            .map(|k| format!("\"{k}\""))
                            .collect();
                        return Err(err(
                            "task.kind",
                            &format!(
                                "task `{}` takes {}, which `{}` does not evolve: use strategy.kind = {}",
                                task.kind,
                                GenomeKind::list(entry.genomes()),
                                self.strategy.kind(),
                                kinds.join(" or ")
                            ),
                        ));
                    }
                    entry.check(task).map_err(|(k, m)| within("task", (k, m)))?;
                }
                debug_assert!(kind != ProblemKind::Data);
                self.check_policy(file, genome)?;
            }
        }
        self.strategy.check().map_err(|e| match e {
            evonet_core::StrategyError::Config { key, message } => {
                err(&format!("strategy.{key}"), &message)
            }
            other => err("strategy", &other.to_string()),
        })?;
        if let Some(n) = &self.novelty {
            self.check_novelty(n, registry).map_err(|(key, message)| {
                ConfigError::new(file, format!("novelty{key}"), message)
            })?;
        }
        match &self.alps {
            Some(a) => self
                .check_alps(a)
                .map_err(|(key, message)| ConfigError::new(file, format!("alps{key}"), message)),
            None => Ok(()),
        }
    }

    /// ALPS needs its settings right and a strategy whose operators it can
    /// use. Keys in errors as [`Self::check_novelty`]'s.
    fn check_alps(&self, a: &AlpsConfig) -> Result<(), (String, String)> {
        a.validate().map_err(below_table)?;
        let kind = self.strategy.kind();
        if crate::registry::ALPS_KINDS.contains(&kind) {
            return Ok(());
        }
        let kinds: Vec<String> = crate::registry::ALPS_KINDS
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect();
        Err((
            String::new(),
            format!(
                "ALPS breeds with a strategy's variation operators; `{kind}` has none it can use: set strategy.kind = {}",
                kinds.join(", ")
            ),
        ))
    }

    /// Novelty search needs its settings right and an environment whose
    /// episodes end with a behaviour characterisation. Keys in errors start
    /// with `.` (below `novelty`) or are empty (the table itself).
    fn check_novelty(
        &self,
        n: &NoveltyConfig,
        registry: &Registry,
    ) -> Result<(), (String, String)> {
        n.validate().map_err(below_table)?;
        let Some(env) = &self.env else {
            return Err((
                String::new(),
                "novelty search compares behaviours in an environment: it needs [env]".into(),
            ));
        };
        let with_behavior = || {
            let ids: Vec<&str> = EnvId::ALL
                .into_iter()
                .filter(|id| id.defines_behavior())
                .map(EnvId::name)
                .collect();
            ids.join(", ")
        };
        match registry.envs().resolve(&env.id).map(|s| s.builtin()) {
            Ok(Some(id)) if !id.defines_behavior() => Err((
                String::new(),
                format!(
                    "`{}` defines no behaviour characterisation; built-in environments that do: {}",
                    env.id,
                    with_behavior()
                ),
            )),
            // A user's or a bridged environment is asked when the run is
            // built (`build::env`).
            _ => Ok(()),
        }
    }

    fn check_run(&self, file: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: &str| ConfigError::new(file, key, message);
        if self.run.max_generations == 0 {
            return Err(err("run.max_generations", "must be at least 1"));
        }
        if self.run.max_env_steps == Some(0) {
            return Err(err("run.max_env_steps", "must be at least 1 (or left out)"));
        }
        if self.run.max_evaluations == Some(0) {
            return Err(err(
                "run.max_evaluations",
                "must be at least 1 (or left out)",
            ));
        }
        if self.run.noise_table_size < 1024 {
            return Err(err("run.noise_table_size", "must be at least 1024 floats"));
        }
        let table = self.run.noise_table_size as u128 * 4;
        let what = format!("a table of {} floats", self.run.noise_table_size);
        crate::memory::check_fits(table, &what).map_err(|m| err("run.noise_table_size", &m))?;
        if self.run.threads > 4096 {
            return Err(err("run.threads", "must be between 0 (all cores) and 4096"));
        }
        Ok(())
    }

    fn check_policy(&self, file: &Path, genome: GenomeKind) -> Result<(), ConfigError> {
        let err = |key: &str, message: &str| ConfigError::new(file, key, message);
        if self.policy.is_some() && genome == GenomeKind::Neat {
            return Err(err(
                "policy",
                "NEAT evolves the network's topology: remove [policy]",
            ));
        }
        if self.policy.is_some() && self.task.is_some() {
            return Err(err(
                "policy",
                "a task's parameters are its own (no network): remove [policy]",
            ));
        }
        self.policy()
            .check()
            .map_err(|(k, m)| ConfigError::new(file, format!("policy.{k}"), m))
    }

    /// An architecture search: `[data]`, `[training]`, `[final_training]`
    /// and a strategy over architectures; no environment and no policy.
    #[cfg(feature = "nas")]
    fn check_search(&self, file: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: &str| ConfigError::new(file, key, message);
        let within = |section: &str, (key, message): (&str, String)| {
            ConfigError::new(file, format!("{section}.{key}"), message)
        };
        if self.strategy.entry().genome != GenomeKind::Architecture {
            return Err(err(
                "strategy.kind",
                &format!(
                    "[data] is for architecture search: use {}",
                    crate::registry::kinds_for(GenomeKind::Architecture).join(", ")
                ),
            ));
        }
        let Some(data) = &self.data else {
            return Err(err(
                "data",
                "missing: architecture search needs [data] (format = \"digits\" is built in)",
            ));
        };
        for (present, key) in [
            (self.env.is_some(), "env"),
            (self.task.is_some(), "task"),
            (self.policy.is_some(), "policy"),
        ] {
            if present {
                return Err(err(
                    key,
                    "architecture search trains networks on [data]: remove it",
                ));
            }
        }
        data.validate().map_err(|e| within("data", e))?;
        let Some(training) = &self.training else {
            return Err(err("training", "missing: give at least `epochs`"));
        };
        training.validate().map_err(|e| within("training", e))?;
        let Some(fin) = &self.final_training else {
            return Err(err("final_training", "missing: give at least `epochs`"));
        };
        fin.validate().map_err(|e| within("final_training", e))?;
        if let Some(space) = &self.search_space {
            space.validate().map_err(|e| within("search_space", e))?;
        }
        if let Some(p) = self.predictor() {
            self.check_predictor(p, file)?;
        }
        match self.halving() {
            Some(h) => self.check_halving(h, file),
            None => Ok(()),
        }
    }

    /// Successive halving needs its settings right, a strategy whose
    /// rounds it can halve, and no predictor beside it.
    #[cfg(feature = "nas")]
    fn check_halving(&self, h: &HalvingConfig, file: &Path) -> Result<(), ConfigError> {
        let key = "estimation.successive_halving";
        let err = |key: &str, message: String| ConfigError::new(file, key, message);
        h.validate().map_err(|e| match e {
            evonet_core::StrategyError::Config { key: k, message } => {
                err(&format!("{key}.{k}"), message)
            }
            other => err(key, other.to_string()),
        })?;
        if self.predictor().is_some() {
            return Err(err(
                key,
                "choose either [estimation.predictor] or successive halving, not both".into(),
            ));
        }
        let kind = self.strategy.kind();
        let kinds = crate::registry::HALVING_KINDS;
        if !kinds.contains(&kind) || self.alps.is_some() {
            return Err(err(
                key,
                format!(
                    "successive halving evaluates the rounds of {}; `{kind}`{} is not one of them",
                    kinds.join(", "),
                    if self.alps.is_some() {
                        " with [alps]"
                    } else {
                        ""
                    }
                ),
            ));
        }
        Ok(())
    }

    /// A predictor needs its settings right and a strategy that proposes
    /// children it can screen.
    #[cfg(feature = "nas")]
    fn check_predictor(&self, p: &PredictorConfig, file: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: String| ConfigError::new(file, key, message);
        p.validate().map_err(|e| match e {
            evonet_core::StrategyError::Config { key, message } => {
                err(&format!("estimation.predictor.{key}"), message)
            }
            other => err("estimation.predictor", other.to_string()),
        })?;
        let kind = self.strategy.kind();
        let kinds = crate::registry::PREDICTOR_KINDS;
        if !kinds.contains(&kind) || self.alps.is_some() {
            let what = match self.alps.is_some() {
                true => format!("`{kind}` with [alps]"),
                false => format!("`{kind}`"),
            };
            return Err(err(
                "estimation.predictor",
                format!(
                    "the predictor screens the children of {}; {what} is not one of them",
                    kinds.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Fills in what a run would otherwise take from defaults, so that the
    /// stored config spells out every setting: NEAT's parameters, the
    /// search space, or the policy of the other strategies.
    pub fn resolve(&mut self, registry: &Registry) {
        self.strategy.resolve();
        match self.problem_kind() {
            #[cfg(feature = "nas")]
            ProblemKind::Data => {
                self.search_space
                    .get_or_insert(SearchSpaceConfig::Chain(ChainSpaceConfig::default()));
            }
            ProblemKind::Env
                if self.policy.is_none() && self.strategy.entry().genome != GenomeKind::Neat =>
            {
                let frames = self.env.as_ref().is_some_and(|e| {
                    registry.envs().resolve(&e.id).is_ok_and(|s| {
                        s.make_with(e.max_steps, &e.minatar_settings())
                            .spec()
                            .frame
                            .is_some()
                    })
                });
                self.policy = Some(PolicyConfig::default_over(frames));
            }
            _ => {}
        }
    }

    /// The run's name: `run.name`, else the file stem.
    pub fn name(&self, file: &Path) -> String {
        self.run.name.clone().unwrap_or_else(|| {
            file.file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("run")
                .to_string()
        })
    }
}

/// A wrapper table's refusal of its settings as (key below the table,
/// message): `.k` for a setting, empty for the table itself.
fn below_table(e: evonet_core::StrategyError) -> (String, String) {
    match e {
        evonet_core::StrategyError::Config { key, message } => (format!(".{key}"), message),
        other => (String::new(), other.to_string()),
    }
}
