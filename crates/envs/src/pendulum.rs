//! Pendulum-v1, as Gymnasium 1.x codes it: g = 10, m = l = 1, dt = 0.05,
//! torque clipped to ±2, speed to ±8, reward −(θ̂² + 0.1·θ̇² + 0.001·u²) with θ̂
//! the angle normalised to [−π, π), 200-step limit, no reward threshold.

use std::f64::consts::PI;

use crate::numpy_generator::NumpyGenerator;
use crate::{Action, ActionSpace, Env, EnvSpec, Step, TimeLimit};

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const G: f64 = 10.0;
const M: f64 = 1.0;
const L: f64 = 1.0;

#[derive(Debug, Clone)]
pub struct Pendulum {
    spec: EnvSpec,
    state: [f64; 2],
    limit: TimeLimit,
}

/// Python's `((x + π) % 2π) − π` (floored modulo).
fn angle_normalize(x: f64) -> f64 {
    let m = 2.0 * PI;
    let r = (x + PI) % m;
    let r = if r != 0.0 && (r < 0.0) != (m < 0.0) {
        r + m
    } else {
        r
    };
    r - PI
}

impl Pendulum {
    pub fn new(max_steps: Option<u64>) -> Self {
        let max = max_steps.unwrap_or(200);
        Self {
            spec: EnvSpec {
                id: "Pendulum-v1".into(),
                obs_dim: 3,
                frame: None,
                action_space: ActionSpace::Box {
                    low: vec![-MAX_TORQUE],
                    high: vec![MAX_TORQUE],
                },
                max_episode_steps: max,
                reward_threshold: None,
            },
            state: [0.0; 2],
            limit: TimeLimit::new(max),
        }
    }
    fn write_obs(&self, obs: &mut [f32]) {
        let [th, thdot] = self.state;
        obs[0] = th.cos() as f32;
        obs[1] = th.sin() as f32;
        obs[2] = thdot as f32;
    }
}

impl Env for Pendulum {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let mut rng = NumpyGenerator::new(seed);
        self.state = [rng.uniform(-PI, PI), rng.uniform(-1.0, 1.0)];
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let u = match action {
            Action::Continuous(a) => a[0].clamp(-MAX_TORQUE, MAX_TORQUE),
            Action::Discrete(_) => panic!("Pendulum-v1 takes continuous actions"),
        };
        let [th, thdot] = self.state;
        // Terms with the float32 torque are float32 in numpy 2, as here.
        let costs =
            angle_normalize(th).powi(2) + 0.1 * (thdot * thdot) + (0.001f32 * (u * u)) as f64;
        let torque_acc = (3.0f32 * u) as f64;
        let newthdot = (thdot + (3.0 * G / (2.0 * L) * th.sin() + torque_acc / (M * L * L)) * DT)
            .clamp(-MAX_SPEED, MAX_SPEED);
        let newth = th + newthdot * DT;
        self.state = [newth, newthdot];
        let truncated = self.limit.tick();
        self.write_obs(obs);
        Step {
            reward: -costs,
            terminated: false,
            truncated,
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state.copy_from_slice(&state[..2]);
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }
}

#[cfg(test)]
mod tests {
    use super::angle_normalize;
    #[test]
    fn floored_modulo() {
        assert!((angle_normalize(4.0) - (4.0 - 2.0 * std::f64::consts::PI)).abs() < 1e-12);
        assert!((angle_normalize(-4.0) - (-4.0 + 2.0 * std::f64::consts::PI)).abs() < 1e-12);
        assert_eq!(
            angle_normalize(0.5),
            0.5 + std::f64::consts::PI - std::f64::consts::PI
        );
    }
}
