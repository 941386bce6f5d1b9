//! MountainCarContinuous-v0 (Moore 1990), as Gymnasium 1.x codes it: force in
//! [−1, 1] times power 0.0015, goal at 0.45, reward −0.1·a² per step plus 100
//! at the goal, 999-step limit, reward threshold 90.
//!
//! Gymnasium keeps this environment's state in float32 between steps (and
//! numpy 2 then computes parts of the step in float32); the step below rounds
//! where Gymnasium does, so long episodes stay within 1e-4 of it.

use crate::mountain_car::{MAX_POSITION, MAX_SPEED, MIN_POSITION};
use crate::numpy_generator::NumpyGenerator;
use crate::{Action, ActionSpace, Env, EnvSpec, Step, TimeLimit};

const GOAL_POSITION: f64 = 0.45;
const POWER: f64 = 0.0015;

#[derive(Debug, Clone)]
pub struct MountainCarContinuous {
    spec: EnvSpec,
    state: [f64; 2],
    /// True once the state went through Gymnasium's float32 storage (every
    /// step); false right after a reset, whose state is float64.
    state_is_f32: bool,
    limit: TimeLimit,
}

impl MountainCarContinuous {
    pub fn new(max_steps: Option<u64>) -> Self {
        let max = max_steps.unwrap_or(999);
        Self {
            spec: EnvSpec {
                id: "MountainCarContinuous-v0".into(),
                obs_dim: 2,
                frame: None,
                action_space: ActionSpace::Box {
                    low: vec![-1.0],
                    high: vec![1.0],
                },
                max_episode_steps: max,
                reward_threshold: Some(90.0),
            },
            state: [0.0; 2],
            state_is_f32: false,
            limit: TimeLimit::new(max),
        }
    }
    fn write_obs(&self, obs: &mut [f32]) {
        obs[0] = self.state[0] as f32;
        obs[1] = self.state[1] as f32;
    }
}

impl Env for MountainCarContinuous {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let mut rng = NumpyGenerator::new(seed);
        self.state = [rng.uniform(-0.6, -0.4), 0.0];
        self.state_is_f32 = false;
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let a = match action {
            Action::Continuous(a) => a[0],
            Action::Discrete(_) => panic!("MountainCarContinuous-v0 takes continuous actions"),
        };
        let [mut position, mut velocity] = self.state;
        let f32_state = self.state_is_f32;
        // `3 * position` is a float32 product once the state is float32.
        let three_p = if f32_state {
            (3.0f32 * position as f32) as f64
        } else {
            3.0 * position
        };
        let gravity = 0.0025 * three_p.cos();
        // `force * power - gravity`: float32 when the action was inside the
        // bounds (numpy 2 keeps float32 with Python floats), else float64.
        let dv = if (-1.0..=1.0).contains(&a) {
            (a * POWER as f32 - gravity as f32) as f64
        } else {
            a.clamp(-1.0, 1.0) as f64 * POWER - gravity
        };
        velocity = if f32_state {
            (velocity as f32 + dv as f32) as f64
        } else {
            velocity + dv
        };
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position = if f32_state {
            (position as f32 + velocity as f32) as f64
        } else {
            position + velocity
        };
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= GOAL_POSITION && velocity >= 0.0;
        let mut reward = if terminated { 100.0 } else { 0.0 };
        reward -= (a as f64).powi(2) * 0.1;
        self.state = [position as f32 as f64, velocity as f32 as f64];
        self.state_is_f32 = true;
        let truncated = self.limit.tick();
        self.write_obs(obs);
        Step {
            reward,
            terminated,
            truncated,
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    /// The final position and velocity.
    fn behavior(&self) -> Vec<f32> {
        vec![self.state[0] as f32, self.state[1] as f32]
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state.copy_from_slice(&state[..2]);
        self.state_is_f32 = false;
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }
}
