//! The TOML run config: parsing with unknown keys rejected, validation with
//! errors that name the file, the key and what is allowed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use evonet_envs::EnvId;
use evonet_nas::{ChainSpaceConfig, DataConfig, Fidelity, FinalTraining, SearchSpaceConfig};
use evonet_neat::NeatConfig;
use evonet_nn::Activation;
use evonet_problems::Faults;
use evonet_strategies::{
    AgingEvolutionConfig, CmaEsConfig, DeepGaConfig, OpenEsConfig, RandomSamplingConfig,
    RandomSearchConfig, TruncationGaConfig,
};

/// `[task]`: a problem that is not an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub kind: TaskName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskName {
    /// XOR with the paper's fitness (NEAT only).
    Xor,
}

/// A user error in a config: printed as one line, exit status 2.
#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}: `{}`: {}",
                self.file.display(),
                self.key,
                self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub run: RunConfig,
    /// An environment to act in...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<EnvConfig>,
    /// ...or a task without an environment (XOR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskConfig>,
    /// The MLP policy of weight-evolving strategies (defaults apply when
    /// left out; NEAT evolves its own topology and refuses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyConfig>,
    /// Architecture search: the images to classify...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataConfig>,
    /// ...the space of networks...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_space: Option<SearchSpaceConfig>,
    /// ...how candidates are trained during the search...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Fidelity>,
    /// ...and how the best are retrained and tested after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_training: Option<FinalTraining>,
    pub strategy: StrategyConfig,
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
    /// Gymnasium id: CartPole-v1, Acrobot-v1, MountainCar-v0,
    /// MountainCarContinuous-v0, Pendulum-v1, DoublePole-v0 (DPV),
    /// DoublePoleNoVelocities-v0 (DPNV).
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
    /// Fault injection, for testing failure handling.
    #[serde(default, skip_serializing_if = "Faults::is_default")]
    pub faults: Faults,
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
            hidden: default_hidden(),
            activation: default_activation(),
            recurrent: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StrategyConfig {
    DeepGa(DeepGaConfig),
    RandomSearch(RandomSearchConfig),
    OpenEs(OpenEsConfig),
    CmaEs(CmaEsConfig),
    Neat(Box<NeatConfig>),
    /// Architecture search strategies.
    AgingEvolution(AgingEvolutionConfig),
    TruncationGa(TruncationGaConfig),
    RandomSampling(RandomSamplingConfig),
}

impl StrategyConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            StrategyConfig::DeepGa(_) => "deep_ga",
            StrategyConfig::RandomSearch(_) => "random_search",
            StrategyConfig::OpenEs(_) => "open_es",
            StrategyConfig::CmaEs(_) => "cma_es",
            StrategyConfig::Neat(_) => "neat",
            StrategyConfig::AgingEvolution(_) => "aging_evolution",
            StrategyConfig::TruncationGa(_) => "truncation_ga",
            StrategyConfig::RandomSampling(_) => "random_sampling",
        }
    }

    /// Whether this strategy searches architectures (over `[data]`).
    pub fn is_nas(&self) -> bool {
        matches!(
            self,
            StrategyConfig::AgingEvolution(_)
                | StrategyConfig::TruncationGa(_)
                | StrategyConfig::RandomSampling(_)
        )
    }
}

impl Config {
    /// Parses and validates a config file's text.
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let de = toml::Deserializer::parse(text).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            key: String::new(),
            message: one_line(e.message()),
        })?;
        let cfg: Config = serde_path_to_error::deserialize(de).map_err(|e| {
            let mut key = e.path().to_string();
            if key == "." {
                key.clear();
            }
            let message = one_line(e.inner().message());
            // serde names the table of an unknown key; name the key itself.
            if let Some(field) = message
                .strip_prefix("unknown field `")
                .and_then(|m| m.split('`').next())
            {
                key = if key.is_empty() {
                    field.to_string()
                } else {
                    format!("{key}.{field}")
                };
            }
            ConfigError {
                file: file.to_path_buf(),
                key,
                message,
            }
        })?;
        let mut cfg = cfg;
        cfg.validate(file)?;
        // The resolved config spells out every setting: NEAT's, or the
        // policy of the other strategies.
        if let StrategyConfig::Neat(c) = &cfg.strategy {
            cfg.strategy = StrategyConfig::Neat(Box::new(c.filled()));
        } else if cfg.strategy.is_nas() {
            cfg.search_space
                .get_or_insert(SearchSpaceConfig::Chain(ChainSpaceConfig::default()));
        } else if cfg.policy.is_none() {
            cfg.policy = Some(PolicyConfig::default());
        }
        Ok(cfg)
    }

    /// The `[policy]` section, or its defaults.
    pub fn policy(&self) -> PolicyConfig {
        self.policy.clone().unwrap_or_default()
    }

    /// The `[env]` section; present unless there is a `[task]` (validated).
    pub fn env(&self) -> &EnvConfig {
        self.env.as_ref().expect("validated: [env] or [task]")
    }

    pub fn env_id(&self) -> EnvId {
        EnvId::parse(&self.env().id).expect("validated")
    }

    fn validate(&self, file: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: &str| ConfigError {
            file: file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        };
        if self.run.max_generations == 0 {
            return Err(err("run.max_generations", "must be at least 1"));
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
        if self.run.threads > 4096 {
            return Err(err("run.threads", "must be between 0 (all cores) and 4096"));
        }
        if self.strategy.is_nas() || self.data.is_some() {
            return self.validate_nas(file);
        }
        for (present, key) in [
            (self.search_space.is_some(), "search_space"),
            (self.training.is_some(), "training"),
            (self.final_training.is_some(), "final_training"),
        ] {
            if present {
                return Err(err(key, "belongs to architecture search (with [data])"));
            }
        }
        match (&self.env, &self.task) {
            (Some(_), Some(_)) => return Err(err("task", "give either [env] or [task], not both")),
            (None, None) => {
                return Err(err(
                    "env",
                    "missing: give [env] (an environment id) or [task] (kind = \"xor\")",
                ))
            }
            (None, Some(_)) if !matches!(self.strategy, StrategyConfig::Neat(_)) => {
                return Err(err(
                    "task.kind",
                    "the XOR task evolves topologies: use strategy.kind = \"neat\"",
                ))
            }
            _ => {}
        }
        if let Some(env) = &self.env {
            self.validate_env(env, file)?;
        }
        if self.policy.is_some() && matches!(self.strategy, StrategyConfig::Neat(_)) {
            return Err(err(
                "policy",
                "NEAT evolves the network's topology: remove [policy]",
            ));
        }
        let policy = self.policy();
        if policy.hidden.iter().any(|&h| h == 0 || h > 65_536) {
            return Err(err(
                "policy.hidden",
                "layer sizes must be between 1 and 65536",
            ));
        }
        if policy.recurrent && policy.hidden.is_empty() {
            return Err(err("policy.recurrent", "needs at least one hidden layer"));
        }
        let strategy_check = match &self.strategy {
            StrategyConfig::DeepGa(c) => c.validate(),
            StrategyConfig::RandomSearch(c) => evonet_strategies::random_search(c).map(|_| ()),
            StrategyConfig::OpenEs(c) => c.validate(),
            StrategyConfig::CmaEs(c) => c.validate(),
            StrategyConfig::Neat(c) => c.resolve().validate(),
            _ => unreachable!("architecture search is validated above"),
        };
        strategy_check.map_err(|e| match e {
            evonet_core::StrategyError::Config { key, message } => {
                err(&format!("strategy.{key}"), &message)
            }
            other => err("strategy", &other.to_string()),
        })
    }

    /// An architecture search: `[data]`, `[training]`, `[final_training]`
    /// and a NAS strategy; no environment and no policy.
    fn validate_nas(&self, file: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: &str| ConfigError {
            file: file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        };
        let within = |section: &str, (key, message): (&str, String)| {
            err(&format!("{section}.{key}"), &message)
        };
        if !self.strategy.is_nas() {
            return Err(err(
                "strategy.kind",
                "[data] is for architecture search: use aging_evolution, truncation_ga or random_sampling",
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
        if fin.epochs == 0 || fin.epochs > 10_000 {
            return Err(err("final_training.epochs", "must be between 1 and 10000"));
        }
        if fin.learning_rate.is_some_and(|l| !(l > 0.0 && l < 10.0)) {
            return Err(err("final_training.learning_rate", "must be in (0, 10)"));
        }
        if fin
            .augment
            .is_some_and(|a| a.shift > evonet_nas::problem::MAX_SHIFT)
        {
            return Err(err(
                "final_training.augment.shift",
                &format!("must be at most {} pixels", evonet_nas::problem::MAX_SHIFT),
            ));
        }
        if fin.top_k > 100 {
            return Err(err(
                "final_training.top_k",
                "must be between 0 (no final training) and 100",
            ));
        }
        if let Some(space) = &self.search_space {
            space.validate().map_err(|e| within("search_space", e))?;
        }
        let check = match &self.strategy {
            StrategyConfig::AgingEvolution(c) => {
                evonet_strategies::AgingEvolution::new(c.clone(), NoSpace).map(|_| ())
            }
            StrategyConfig::TruncationGa(c) => {
                evonet_strategies::TruncationGa::new(c.clone(), NoSpace).map(|_| ())
            }
            StrategyConfig::RandomSampling(c) => {
                evonet_strategies::RandomSampling::new(c.clone(), NoSpace).map(|_| ())
            }
            _ => unreachable!("checked above"),
        };
        check.map_err(|e| match e {
            evonet_core::StrategyError::Config { key, message } => {
                err(&format!("strategy.{key}"), &message)
            }
            other => err("strategy", &other.to_string()),
        })
    }

    fn validate_env(&self, env: &EnvConfig, file: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: &str| ConfigError {
            file: file.to_path_buf(),
            key: key.into(),
            message: message.into(),
        };
        if let Err(e) = EnvId::parse(&env.id) {
            return Err(err("env.id", &e.to_string()));
        }
        if env.episodes == 0 || env.episodes > 100_000 {
            return Err(err("env.episodes", "must be between 1 and 100000"));
        }
        if env.test_episodes == 0 || env.test_episodes > 100_000 {
            return Err(err("env.test_episodes", "must be between 1 and 100000"));
        }
        if env.max_steps == Some(0) {
            return Err(err("env.max_steps", "must be at least 1 (or left out)"));
        }
        if let Some(a) = env.start_angle_deg {
            if !(a.is_finite() && a.abs() < 36.0) {
                return Err(err(
                    "env.start_angle_deg",
                    "must be a finite angle below the 36 degree failure angle",
                ));
            }
        }
        for (k, p) in [
            ("env.faults.panic_prob", env.faults.panic_prob),
            ("env.faults.nan_obs_prob", env.faults.nan_obs_prob),
            ("env.faults.nan_fitness_prob", env.faults.nan_fitness_prob),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(err(k, "must be a probability in [0, 1]"));
            }
        }
        Ok(())
    }

    /// The resolved config as TOML (defaults filled in).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
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

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A space that is never used: the strategies check their settings on
/// construction, before any genome exists.
struct NoSpace;

impl evonet_core::Variation<()> for NoSpace {
    fn random(&self, _: &mut evonet_core::SeededRng) {}
    fn mutate(&self, _: &(), _: &mut evonet_core::SeededRng) -> ((), String) {
        ((), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[run]
seed = 3
max_generations = 10
[env]
id = "CartPole-v1"
[strategy]
kind = "deep_ga"
population = 50
truncation = 10
sigma = 0.05
"#;

    fn parse(t: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("x.toml"), t)
    }

    #[test]
    fn parses_and_round_trips() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.run.seed, 3);
        assert_eq!(c.policy().hidden, vec![64, 64]);
        let again = parse(&c.to_toml()).unwrap();
        assert_eq!(c, again);
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse(&GOOD.replace("sigma = 0.05", "sigma = 0.05\nsigmaa = 1")).unwrap_err();
        assert_eq!(e.key, "strategy.sigmaa", "{e}");
        assert!(e.message.contains("sigmaa"), "{e}");
        let e = parse(&GOOD.replace("seed = 3", "seed = \"three\"")).unwrap_err();
        assert_eq!(e.key, "run.seed", "{e}");
        let e = parse(&GOOD.replace("sigma = 0.05", "sigma = -1.0")).unwrap_err();
        assert_eq!(e.key, "strategy.sigma", "{e}");
        let e = parse(&GOOD.replace("CartPole-v1", "CartPole-v9")).unwrap_err();
        assert_eq!(e.key, "env.id");
        assert!(
            e.message.contains("CartPole-v1"),
            "lists the available ids: {e}"
        );
        let e = parse(&GOOD.replace("[env]", "[env]\nfoo = 1")).unwrap_err();
        assert!(e.to_string().starts_with("x.toml: `env"), "{e}");
    }
}
