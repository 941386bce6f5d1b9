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
    #[serde(default)]
    pub generation: u64,
    #[serde(default)]
    pub fitness: Option<f64>,
    #[serde(default)]
    pub test_score: Option<f64>,
    #[serde(default)]
    pub test_solved: bool,
}
