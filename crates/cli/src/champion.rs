//! `best/champion.json`, format version 1: a self-contained policy that
//! `evonet eval` (or any other program) can replay.
//!
//! ```json
//! { "format_version": 1, "kind": "mlp_policy",
//!   "env": {"id": "CartPole-v1", "max_steps": null, "start_angle_deg": null},
//!   "task": "return", "success_threshold": 475.0,
//!   "policy": {"mlp": {"inputs": 4, "hidden": [64, 64], "outputs": 2,
//!              "activation": "tanh", "output_activation": "identity",
//!              "recurrent": false},
//!              "head": {"kind": "discrete", "actions": 2}},
//!   "params": [...], "obs_norm": null | {"mean": [...], "std": [...]},
//!   "strategy": "deep_ga", "genome": {...},
//!   "generation": 7, "fitness": 500.0, "test_score": 500.0, "test_solved": true }
//! ```
//! `params` follow `evonet_nn::mlp`'s layout; `genome` is the strategy's own
//! genome (a seed chain for Deep GA) for provenance.

use serde::{Deserialize, Serialize};

use evonet_core::genome::ObsNorm;
use evonet_problems::{PolicySpec, TaskKind};

pub const KIND: &str = "mlp_policy";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvRef {
    pub id: String,
    pub max_steps: Option<u64>,
    pub start_angle_deg: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChampionFile {
    pub format_version: u32,
    pub kind: String,
    pub env: EnvRef,
    pub task: TaskKind,
    pub success_threshold: Option<f64>,
    pub policy: PolicySpec,
    pub params: Vec<f32>,
    pub obs_norm: Option<ObsNorm>,
    pub strategy: String,
    pub genome: serde_json::Value,
    /// Written by the runner when it saves the champion.
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// Where a champion came from: the runner adds these fields to every
/// champion file it writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    #[serde(default)]
    pub generation: u64,
    #[serde(default)]
    pub fitness: Option<f64>,
    #[serde(default)]
    pub test_score: Option<f64>,
    #[serde(default)]
    pub test_solved: bool,
}

pub const NEAT_KIND: &str = "neat_network";

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

/// `best/champion.json` of a NEAT run (format version 1, kind
/// `neat_network`): the network as a graph (enabled connections, nodes in
/// `evonet_nn::graph` order) and the genome it came from (all genes, for
/// drawing and provenance).
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
pub struct NeatChampionFile {
    pub format_version: u32,
    pub kind: String,
    pub problem: ProblemRef,
    pub graph: evonet_nn::GraphSpec,
    pub genome: evonet_neat::NeatGenome,
    pub strategy: String,
    /// Written by the runner when it saves the champion.
    #[serde(flatten)]
    pub provenance: Provenance,
}
