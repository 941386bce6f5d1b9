//! MountainCar-v0 (Moore 1990), as Gymnasium 1.x codes it: three actions,
//! force 0.001, gravity 0.0025, speed clipped to ±0.07, position to
//! [−1.2, 0.6] with the velocity zeroed at the left wall, goal at 0.5,
//! reward −1 per step, 200-step limit, reward threshold −110.

use crate::numpy_generator::NumpyGenerator;
use crate::{Action, ActionSpace, Env, EnvSpec, Step, TimeLimit};

pub(crate) const MIN_POSITION: f64 = -1.2;
pub(crate) const MAX_POSITION: f64 = 0.6;
pub(crate) const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.5;
const FORCE: f64 = 0.001;
const GRAVITY: f64 = 0.0025;

#[derive(Debug, Clone)]
pub struct MountainCar {
    spec: EnvSpec,
    state: [f64; 2],
    limit: TimeLimit,
}

impl MountainCar {
    pub fn new(max_steps: Option<u64>) -> Self {
        let max = max_steps.unwrap_or(200);
        Self {
            spec: EnvSpec {
                id: "MountainCar-v0".into(),
                obs_dim: 2,
                frame: None,
                action_space: ActionSpace::Discrete(3),
                max_episode_steps: max,
                reward_threshold: Some(-110.0),
            },
            state: [0.0; 2],
            limit: TimeLimit::new(max),
        }
    }
    fn write_obs(&self, obs: &mut [f32]) {
        obs[0] = self.state[0] as f32;
        obs[1] = self.state[1] as f32;
    }
}

impl Env for MountainCar {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let mut rng = NumpyGenerator::new(seed);
        self.state = [rng.uniform(-0.6, -0.4), 0.0];
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let a = match action {
            Action::Discrete(a) => a as f64,
            Action::Continuous(_) => panic!("MountainCar-v0 takes discrete actions"),
        };
        let [mut position, mut velocity] = self.state;
        velocity += (a - 1.0) * FORCE + (3.0 * position).cos() * (-GRAVITY);
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position += velocity;
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= GOAL_POSITION && velocity >= 0.0;
        self.state = [position, velocity];
        let truncated = self.limit.tick();
        self.write_obs(obs);
        Step {
            reward: -1.0,
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
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }
}
