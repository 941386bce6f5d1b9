//! The registry: every strategy, task and environment a run may name, in
//! one place each, with the genome it works on.
//!
//! - Strategies are listed once, in [`STRATEGIES`] (generated with the
//!   [`StrategyConfig`] enum from one line per strategy below): their
//!   `[strategy] kind`, their genome, an example config, and the function in
//!   `crate::build` that builds them.
//! - Environments live in an [`EnvRegistry`]: the built-in ones, plus any a
//!   user registers with [`Registry::register_env`].
//! - Tasks (`[task] kind`) are registered by name with the genomes they
//!   evaluate: NEAT's `xor`, the benchmark functions `rastrigin` and
//!   `sphere`, and a user's fitness functions ([`Registry::register_fitness`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use evonet_core::StrategyError;
use evonet_envs::{DuplicateEnv, Env, EnvRegistry};
use evonet_neat::NeatConfig;
use evonet_strategies::{
    AgingEvolutionConfig, CmaEsConfig, DeepGaConfig, Nsga2Config, OpenEsConfig,
    RandomSamplingConfig, RandomSearchConfig, TruncationGaConfig,
};

use crate::build::{self, BuildContext, BuildError};
use crate::config::TaskConfig;
use crate::search::Search;

/// What a strategy evolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenomeKind {
    /// A flat parameter vector (`PolicyParams`).
    Params,
    /// A Deep GA seed chain, decoded into a flat parameter vector.
    SeedChain,
    /// A NEAT genome (nodes and connections).
    Neat,
    /// A network architecture, trained by backprop.
    Architecture,
}

impl GenomeKind {
    /// Its name in configs and listings (`seed_chain`).
    pub fn name(self) -> &'static str {
        match self {
            GenomeKind::Params => "params",
            GenomeKind::SeedChain => "seed_chain",
            GenomeKind::Neat => "neat",
            GenomeKind::Architecture => "architecture",
        }
    }

    /// A phrase for messages.
    pub fn describe(self) -> &'static str {
        match self {
            GenomeKind::Params => "flat parameter vectors",
            GenomeKind::SeedChain => "seed chains (flat parameter vectors)",
            GenomeKind::Neat => "NEAT topologies",
            GenomeKind::Architecture => "architectures",
        }
    }

    pub(crate) fn list(kinds: &[GenomeKind]) -> String {
        kinds
            .iter()
            .map(|k| k.describe())
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

/// The strategies whose variation operators `[alps]` can breed with (the
/// genomes of a `Variation`: NEAT genomes, seed chains, architectures).
pub const ALPS_KINDS: &[&str] = &["neat", "deep_ga", "truncation_ga", "aging_evolution"];

/// The strategies whose children `[estimation.predictor]` can screen.
#[cfg(feature = "nas")]
pub const PREDICTOR_KINDS: &[&str] = &["aging_evolution", "truncation_ga", "random_sampling"];

/// The strategies whose rounds `[estimation.successive_halving]` can
/// evaluate.
#[cfg(feature = "nas")]
pub const HALVING_KINDS: &[&str] = &["aging_evolution", "random_sampling"];

/// A registered strategy.
#[derive(Debug)]
pub struct StrategyEntry {
    /// Its `[strategy] kind`.
    pub kind: &'static str,
    pub genome: GenomeKind,
    /// One line: the algorithm and its paper.
    pub summary: &'static str,
    /// A documented example config (`evonet config KIND` prints it); every
    /// example runs in the tests.
    pub example: &'static str,
}

/// Each strategy's own check of its settings (no problem needed).
trait CheckSettings {
    fn check_settings(&self) -> Result<(), StrategyError>;
}

macro_rules! check_by_validate {
    ($($t:ty),*) => {$(
        impl CheckSettings for $t {
            fn check_settings(&self) -> Result<(), StrategyError> {
                self.validate()
            }
        }
    )*};
}
check_by_validate!(
    DeepGaConfig,
    RandomSearchConfig,
    OpenEsConfig,
    CmaEsConfig,
    AgingEvolutionConfig,
    TruncationGaConfig,
    RandomSamplingConfig,
    Nsga2Config
);

impl CheckSettings for NeatConfig {
    fn check_settings(&self) -> Result<(), StrategyError> {
        self.resolve().validate()
    }
}

/// Generates [`StrategyConfig`] (the `[strategy]` table, tagged by `kind`)
/// and [`STRATEGIES`] from one line per strategy: variant, settings type,
/// kind, genome, build function, example config, summary.
macro_rules! strategies {
    ($( $(#[$cfg_attr:meta])* $variant:ident($cfg:ty) = $kind:literal, $genome:ident, $build:path, $example:literal, $summary:literal; )*) => {
        /// The `[strategy]` table: `kind` picks the strategy, the other keys
        /// are its settings.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind")]
        pub enum StrategyConfig {
            $( $(#[$cfg_attr])* #[doc = $summary] #[serde(rename = $kind)] $variant($cfg), )*
        }

        /// Every strategy, in the order `evonet config` lists them.
        pub static STRATEGIES: &[StrategyEntry] = &[
            $( $(#[$cfg_attr])* StrategyEntry {
                kind: $kind,
                genome: GenomeKind::$genome,
                summary: $summary,
                example: include_str!(concat!("../../../configs/", $example)),
            }, )*
        ];

        impl StrategyConfig {
            /// Its `[strategy] kind`.
            pub fn kind(&self) -> &'static str {
                match self { $( $(#[$cfg_attr])* StrategyConfig::$variant(_) => $kind, )* }
            }

            /// Its registry entry.
            pub fn entry(&self) -> &'static StrategyEntry {
                let kind = self.kind();
                STRATEGIES.iter().find(|e| e.kind == kind).unwrap_or(&STRATEGIES[0])
            }

            /// The strategy's own check of its settings.
            pub fn check(&self) -> Result<(), StrategyError> {
                match self { $( $(#[$cfg_attr])* StrategyConfig::$variant(c) => c.check_settings(), )* }
            }

            pub(crate) fn build(&self, ctx: &BuildContext<'_>) -> Result<Box<dyn Search>, BuildError> {
                match self { $( $(#[$cfg_attr])* StrategyConfig::$variant(c) => $build(c, ctx), )* }
            }
        }
    };
}

strategies! {
    DeepGa(DeepGaConfig) = "deep_ga", SeedChain, build::flat::deep_ga, "cartpole-ga.toml",
        "Deep GA with seed-chain genomes and elite validation (Such et al. 2017)";
    RandomSearch(RandomSearchConfig) = "random_search", SeedChain, build::flat::random_search, "cartpole-random.toml",
        "random search over network weights, the Deep GA's baseline (Such et al. 2017)";
    OpenEs(OpenEsConfig) = "open_es", Params, build::flat::open_es, "cartpole-es.toml",
        "OpenAI Evolution Strategies (Salimans et al. 2017)";
    CmaEs(CmaEsConfig) = "cma_es", Params, build::flat::cma_es, "dpv-cmaes.toml",
        "CMA-ES, full or separable, with optional IPOP restarts (Hansen 2016)";
    Neat(Box<NeatConfig>) = "neat", Neat, build::neat::neat, "xor-neat.toml",
        "NEAT (Stanley & Miikkulainen 2002)";
    #[cfg(feature = "nas")]
    AgingEvolution(AgingEvolutionConfig) = "aging_evolution", Architecture, build::nas::aging_evolution, "digits-nas.toml",
        "regularized (aging) evolution over architectures (Real et al. 2019)";
    #[cfg(feature = "nas")]
    TruncationGa(TruncationGaConfig) = "truncation_ga", Architecture, build::nas::truncation_ga, "digits-nas-ga.toml",
        "a generational GA with crossover over architectures (after Miller et al. 1989)";
    #[cfg(feature = "nas")]
    RandomSampling(RandomSamplingConfig) = "random_sampling", Architecture, build::nas::random_sampling, "digits-nas-random.toml",
        "random search over architectures at equal budget";
    #[cfg(feature = "nas")]
    Nsga2(Nsga2Config) = "nsga2", Architecture, build::nas::nsga2, "digits-nsga.toml",
        "NSGA-II over validation error and costs: parameters, FLOPs, latency (Deb et al. 2002)";
}

impl StrategyConfig {
    /// Spells out defaults that the strategy would otherwise fill in
    /// (NEAT's preset), so the stored config names every setting.
    pub fn resolve(&mut self) {
        if let StrategyConfig::Neat(c) = self {
            **c = c.filled();
        }
    }
}

/// The registered strategy `kind`.
pub fn strategy(kind: &str) -> Option<&'static StrategyEntry> {
    STRATEGIES.iter().find(|e| e.kind == kind)
}

/// Kinds of the strategies over `genome`.
pub fn kinds_for(genome: GenomeKind) -> Vec<&'static str> {
    STRATEGIES
        .iter()
        .filter(|e| e.genome == genome)
        .map(|e| e.kind)
        .collect()
}

/// What a task evaluates.
#[derive(Clone)]
pub enum TaskProblem {
    /// NEAT's XOR (Stanley & Miikkulainen 2002, section 5.1).
    Xor,
    /// A fitness function over `dim` parameters (maximised).
    Function(evonet_problems::FunctionProblem),
}

type MakeTask = dyn Fn(&TaskConfig) -> Result<TaskProblem, (&'static str, String)> + Send + Sync;

/// A registered task: the genomes it evaluates and how it is built from
/// its `[task]` table.
#[derive(Clone)]
pub struct TaskEntry {
    genomes: Vec<GenomeKind>,
    summary: String,
    make: Arc<MakeTask>,
}

impl TaskEntry {
    pub fn genomes(&self) -> &[GenomeKind] {
        &self.genomes
    }

    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// Checks `[task]` by building it once.
    pub fn check(&self, cfg: &TaskConfig) -> Result<(), (&'static str, String)> {
        (self.make)(cfg).map(|_| ())
    }

    pub fn make(&self, cfg: &TaskConfig) -> Result<TaskProblem, (&'static str, String)> {
        (self.make)(cfg)
    }
}

/// Genomes a fitness function over flat parameters is evaluated on.
const FLAT: [GenomeKind; 2] = [GenomeKind::Params, GenomeKind::SeedChain];
/// The largest dimension of a built-in benchmark function.
const MAX_DIM: usize = 1 << 24;

/// The strategies (fixed), environments and tasks a run may name.
///
/// ```
/// let mut registry = evonet::Registry::builtin();
/// registry.register_fitness("neg_abs", 4, 1.0, |x| -x.iter().map(|v| v.abs() as f64).sum::<f64>())
///     .unwrap();
/// assert!(registry.task("neg_abs").is_ok());
/// assert!(registry.task("xor").is_ok());
/// assert!(registry.envs().resolve("CartPole-v1").is_ok());
/// ```
#[derive(Clone)]
pub struct Registry {
    envs: EnvRegistry,
    tasks: BTreeMap<String, TaskEntry>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("envs", &self.envs.ids())
            .field("tasks", &self.tasks.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

/// A name registered twice.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is already registered")]
pub struct Duplicate(pub String);

impl From<DuplicateEnv> for Duplicate {
    fn from(e: DuplicateEnv) -> Self {
        Duplicate(e.0)
    }
}

impl Registry {
    /// Everything compiled into evonet.
    pub fn builtin() -> Self {
        let mut r = Self {
            envs: EnvRegistry::default(),
            tasks: BTreeMap::new(),
        };
        r.insert_task(
            "xor",
            vec![GenomeKind::Neat],
            "XOR with the NEAT paper's fitness",
            |_| Ok(TaskProblem::Xor),
        );
        r.insert_task(
            "rastrigin",
            FLAT.to_vec(),
            "Rastrigin's function, negated (`dim`, default 10)",
            |t| benchmark(t, "rastrigin", evonet_problems::function::rastrigin),
        );
        r.insert_task(
            "sphere",
            FLAT.to_vec(),
            "the sphere function, negated (`dim`, default 10)",
            |t| benchmark(t, "sphere", evonet_problems::function::sphere),
        );
        r
    }

    fn insert_task(
        &mut self,
        name: &str,
        genomes: Vec<GenomeKind>,
        summary: &str,
        make: impl Fn(&TaskConfig) -> Result<TaskProblem, (&'static str, String)>
            + Send
            + Sync
            + 'static,
    ) {
        self.tasks.insert(
            name.to_string(),
            TaskEntry {
                genomes,
                summary: summary.to_string(),
                make: Arc::new(make),
            },
        );
    }

    /// Registers an environment under `id` (`[env] id = "..."`); `make`
    /// builds one, with an optional override of its time limit.
    pub fn register_env(
        &mut self,
        id: &str,
        make: impl Fn(Option<u64>) -> Box<dyn Env> + Send + Sync + 'static,
    ) -> Result<(), Duplicate> {
        Ok(self.envs.register(id, make)?)
    }

    /// Registers a fitness function over `dim` parameters as the task
    /// `name` (`[task] kind = "name"`), for the strategies over flat
    /// vectors (CMA-ES, OpenAI-ES, Deep GA, random search). Fitness is
    /// maximised; `init_scale` is the spread of initial vectors.
    pub fn register_fitness(
        &mut self,
        name: &str,
        dim: usize,
        init_scale: f32,
        fitness: impl Fn(&[f32]) -> f64 + Send + Sync + 'static,
    ) -> Result<(), Duplicate> {
        if self.tasks.contains_key(name) {
            return Err(Duplicate(name.to_string()));
        }
        let f: Arc<evonet_problems::function::Fitness> = Arc::new(fitness);
        let owned = name.to_string();
        self.insert_task(name, FLAT.to_vec(), "a user's fitness function", move |t| {
            if t.dim.is_some_and(|d| d != dim) {
                return Err(("dim", format!("`{owned}` takes {dim} parameters")));
            }
            Ok(TaskProblem::Function(
                evonet_problems::FunctionProblem::from_arc(&owned, dim, init_scale, f.clone())
                    .with_target(t.target),
            ))
        });
        Ok(())
    }

    pub fn envs(&self) -> &EnvRegistry {
        &self.envs
    }

    /// The environment `id` names, ready for rollouts: a built-in or
    /// registered one, or for `gym:` ids one made in a Python bridge with
    /// `gym` (which starts Python: a missing Python, gymnasium or extra is
    /// an error here, saying what to install).
    pub fn open_env(
        &self,
        id: &str,
        gym: Option<&evonet_gym::GymSettings>,
    ) -> Result<evonet_envs::EnvSource, String> {
        match gym {
            Some(settings) if id.starts_with(evonet_gym::PREFIX) => {
                evonet_gym::GymSource::open(settings.clone())
                    .map(|s| s.env_source())
                    .map_err(|e| e.to_string())
            }
            _ => self.envs.resolve(id).map_err(|e| e.to_string()),
        }
    }

    /// The task `name`, or a message listing the registered ones.
    pub fn task(&self, name: &str) -> Result<&TaskEntry, String> {
        self.tasks.get(name).ok_or_else(|| {
            format!(
                "unknown task `{name}`; available: {}",
                self.tasks.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// Registered task names with their summaries, sorted.
    pub fn tasks(&self) -> impl Iterator<Item = (&str, &TaskEntry)> {
        self.tasks.iter().map(|(k, v)| (k.as_str(), v))
    }
}

fn benchmark(
    t: &TaskConfig,
    name: &str,
    f: fn(&[f32]) -> f64,
) -> Result<TaskProblem, (&'static str, String)> {
    let dim = t.dim.unwrap_or(10);
    if dim == 0 || dim > MAX_DIM {
        return Err(("dim", format!("must be between 1 and {MAX_DIM}")));
    }
    Ok(TaskProblem::Function(
        evonet_problems::FunctionProblem::new(name, dim, 1.0, f).with_target(t.target),
    ))
}
