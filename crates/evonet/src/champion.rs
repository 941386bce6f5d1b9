//! `best/champion.json`, format version 1: a self-contained champion that
//! `evonet eval` (or any other program) can replay. The runner writes a
//! [`ChampionRecord`] whose body is one of the kinds below and adds the
//! provenance (`generation`, `fitness`, `test_score`, `test_solved`).
//!
//! An MLP policy (`kind = "mlp_policy"`):
//! ```json
//! { "format_version": 1, "kind": "mlp_policy",
//!   "env": {"id": "CartPole-v1", "max_steps": null, "start_angle_deg": null},
//!   "task": "return", "success_threshold": 475.0,
//!   "policy": {"mlp": {"inputs": 4, "hidden": [64, 64], "outputs": 2,
//!              "activation": "tanh", "output_activation": "identity",
//!              "recurrent": false},
//!              "head": {"kind": "discrete", "actions": 2}},
//!   "params": [...], "obs_norm": null | {"mean": [...], "std": [...]},
//!   "strategy": "deep_ga", "genome": {"seed_chain": ...} | "params",
//!   "generation": 7, "fitness": 500.0, "test_score": 500.0, "test_solved": true }
//! ```
//! `params` follow `evonet_nn::mlp`'s layout; `genome` is the strategy's own
//! genome (a seed chain for Deep GA) for provenance.
//!
//! A NEAT network (`kind = "neat_network"`, see [`NeatChampion`]), a
//! parameter vector of a task (`kind = "parameter_vector"`), or an
//! architecture of a search (`{"architecture": ...}`).

use serde::{Deserialize, Serialize};

use evonet_core::genome::ObsNorm;
use evonet_core::SeedChain;
use evonet_envs::minatar::env::MinAtarSettings;
use evonet_problems::{PolicySpec, TaskKind};

pub use evonet_runner::{ChampionRecord, Provenance};

/// `kind` of an MLP policy champion.
pub const MLP_KIND: &str = "mlp_policy";
/// `kind` of a NEAT champion.
pub const NEAT_KIND: &str = "neat_network";
/// `kind` of a task's parameter vector.
pub const VECTOR_KIND: &str = "parameter_vector";

/// The environment a policy was evolved on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvRef {
    pub id: String,
    pub max_steps: Option<u64>,
    pub start_angle_deg: Option<f64>,
    /// MinAtar games: the settings it was evolved under (absent: the
    /// package's canonical ones).
    #[serde(default, skip_serializing_if = "MinAtarSettings::is_default")]
    pub minatar: MinAtarSettings,
    /// `gym:` environments: how the bridge makes it (Python, kwargs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gym: Option<Box<evonet_gym::GymSettings>>,
}

impl EnvRef {
    /// The same settings on another environment id (`evonet eval --env`):
    /// a policy evolved natively replayed through the Gymnasium bridge
    /// (`gym:CartPole-v1`), or the other way round.
    pub fn on(&self, id: &str) -> EnvRef {
        let gym = id.strip_prefix(evonet_gym::PREFIX).map(|name| {
            let mut g = self
                .gym
                .clone()
                .unwrap_or_else(|| Box::new(evonet_gym::GymSettings::new(name)));
            g.id = name.to_string();
            g.max_steps = self.max_steps;
            g
        });
        EnvRef {
            id: id.to_string(),
            gym,
            ..self.clone()
        }
    }
}

/// The genome a policy's parameters came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GenomeRecord {
    /// Deep GA and random search: the seed chain that decodes to `params`.
    SeedChain { seed_chain: SeedChain },
    /// The parameters are the genome (`"params"`).
    Params(ParamsMarker),
}

/// Serialises as the string `"params"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamsMarker {
    Params,
}

/// An MLP policy over an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpChampion {
    pub kind: String,
    pub env: EnvRef,
    pub task: TaskKind,
    pub success_threshold: Option<f64>,
    pub policy: PolicySpec,
    pub params: Vec<f32>,
    pub obs_norm: Option<ObsNorm>,
    pub strategy: String,
    pub genome: GenomeRecord,
}

/// What a NEAT champion was evolved on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProblemRef {
    Xor,
    Env {
        env: EnvRef,
        task: TaskKind,
        success_threshold: Option<f64>,
        /// How outputs become actions.
        head: evonet_problems::Head,
    },
}

/// A NEAT champion (`kind = "neat_network"`): the network as a graph
/// (enabled connections, nodes in `evonet_nn::graph` order) and the genome
/// it came from (all genes, for drawing and provenance).
///
/// ```json
/// { "format_version": 1, "kind": "neat_network",
///   "problem": {"kind": "xor"},
///   "graph": {"inputs": 2, "bias_input": 1.0, "outputs": 1,
///             "nodes": [{"activation": "steepened_sigmoid", "bias": 0.0}, ...],
///             "edges": [{"from": 0, "to": 3, "weight": -1.2}, ...],
///             "recurrent": false},
///   "genome": {"id": 4711, "parents": [...], "layout": {...},
///              "nodes": [...], "conns": [{"innovation": 0, "from": 0, "to": 3,
///                                         "weight": -1.2, "enabled": true}, ...]},
///   "strategy": "neat", "generation": 31, "fitness": 15.2,
///   "test_score": 15.2, "test_solved": true }
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NeatChampion {
    pub kind: String,
    pub problem: ProblemRef,
    pub graph: evonet_nn::GraphSpec,
    pub genome: evonet_neat::NeatGenome,
    pub strategy: String,
}

/// A task's best parameter vector (`kind = "parameter_vector"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorChampion {
    pub kind: String,
    /// The task's name.
    pub task: String,
    pub params: Vec<f32>,
    pub strategy: String,
    pub genome: GenomeRecord,
}

/// The best architecture of a search so far (its trained network is
/// written after the search, with `summary.json`).
#[cfg(feature = "nas")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchitectureChampion {
    pub architecture: evonet_train::Arch,
}

/// The problem's part of a champion file, of any kind.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ChampionBody {
    Mlp(Box<MlpChampion>),
    Neat(Box<NeatChampion>),
    Vector(VectorChampion),
    #[cfg(feature = "nas")]
    Architecture(ArchitectureChampion),
}
