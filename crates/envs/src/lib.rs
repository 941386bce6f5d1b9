//! Native RL environments with Gymnasium semantics (`reset(seed)`,
//! `step(action) → reward, terminated, truncated`) and Gymnasium numerics
//! (internal state in f64, observations in f32, the time limit of the
//! registered environment, termination distinct from truncation).
//!
//! Parity with Gymnasium 1.x is proven by `tests/it`, which replays recorded
//! Gymnasium trajectories (see `scripts/record_gym_fixtures.py`); the five
//! MinAtar games ([`minatar`], `MinAtar/<Game>-v1`) replay the Python
//! package's trajectories bit for bit, its numpy random streams included
//! ([`numpy_random`]).
//!
//! The step functions never allocate: observations are written into a
//! caller's buffer.

pub mod acrobot;
pub mod cartpole;
pub mod double_pole;
pub mod maze;
pub mod minatar;
pub mod mountain_car;
pub mod mountain_car_continuous;
pub mod numpy_generator;
pub mod numpy_random;
pub mod pendulum;
mod registry;

pub use registry::{
    AnyEnv, CustomEnv, DuplicateEnv, EnvId, EnvRegistry, EnvSource, MakeEnv, UnknownEnv,
};

use serde::{Deserialize, Serialize};

/// What actions an environment takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ActionSpace {
    /// `n` actions, `0..n`.
    Discrete(usize),
    /// A box of continuous actions.
    Box { low: Vec<f32>, high: Vec<f32> },
}

impl ActionSpace {
    /// Number of policy outputs this space needs.
    pub fn policy_outputs(&self) -> usize {
        match self {
            ActionSpace::Discrete(n) => *n,
            ActionSpace::Box { low, .. } => low.len(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvSpec {
    pub id: String,
    pub obs_dim: usize,
    /// Observations that are frames: height, width and channels, the values
    /// row-major with the channel last (`obs_dim` is their product).
    /// Convolutional policies need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<[usize; 3]>,
    pub action_space: ActionSpace,
    /// Episodes are truncated after this many steps (Gymnasium's TimeLimit).
    pub max_episode_steps: u64,
    /// Gymnasium's `reward_threshold` (the "solved" return), if any.
    pub reward_threshold: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action<'a> {
    Discrete(usize),
    Continuous(&'a [f32]),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub reward: f64,
    pub terminated: bool,
    pub truncated: bool,
}

impl Step {
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// A Gymnasium-style environment.
pub trait Env: Send {
    fn spec(&self) -> &EnvSpec;
    /// Starts an episode from a state drawn with `seed`; writes the first
    /// observation.
    fn reset(&mut self, seed: u64, obs: &mut [f32]);
    /// Advances one step. After `terminated` or `truncated`, call `reset`.
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step;
    /// Computes ahead what the next `step` needs that does not depend on the
    /// action (CartPole: the sine and cosine of the pole angle). Calling it
    /// for every environment of a lockstep batch before stepping any of them
    /// puts their libm calls and their dependency chains side by side, which
    /// the CPU overlaps; the results are the same bits as without it.
    /// Optional: `step` computes whatever was not prepared.
    #[inline]
    fn prepare_step(&mut self) {}
    /// Queues the action of the next `step`, for environments that step
    /// together elsewhere (a Python bridge hosting every lockstep episode
    /// of a rollout): lockstep rollouts queue the actions of all live
    /// episodes, then call `step` on each with the same action, and the
    /// first of those sends every queued action in one message. Optional:
    /// an environment that queues nothing steps in `step`.
    #[inline]
    fn queue_step(&mut self, _action: Action<'_>) {}
    /// The internal state, as Gymnasium's `env.unwrapped.state`.
    fn state(&self) -> Vec<f64>;
    /// Starts an episode from the given internal state (step counter at 0).
    /// Only the double pole's generalisation test calls it; environments
    /// whose episodes can only start from a seed (MinAtar, whose state is
    /// the game's objects and random stream) panic.
    fn set_state(&mut self, state: &[f64], obs: &mut [f32]);
    /// The behaviour characterisation of the episode so far, read when it
    /// ends (novelty search compares them): the maze's final position, a
    /// classic-control task's final state. Empty for environments that
    /// define none.
    fn behavior(&self) -> Vec<f32> {
        Vec::new()
    }
}

/// Gymnasium's TimeLimit: `truncated` once the step counter reaches the limit
/// (even on the terminating step, as Gymnasium does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TimeLimit {
    pub elapsed: u64,
    pub max: u64,
}

impl TimeLimit {
    pub fn new(max: u64) -> Self {
        Self { elapsed: 0, max }
    }
    #[inline]
    pub fn tick(&mut self) -> bool {
        self.elapsed += 1;
        self.elapsed >= self.max
    }
}
