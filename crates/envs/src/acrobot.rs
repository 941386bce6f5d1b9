//! Acrobot-v1 (Sutton 1996; Sutton & Barto's "book" dynamics), as Gymnasium
//! 1.x codes it: RK4 over dt = 0.2, torques {−1, 0, +1}, velocities bounded
//! to 4π and 9π, reward −1 per step and 0 on the terminal step, terminal when
//! −cos θ₁ − cos(θ₁+θ₂) > 1, 500-step limit, reward threshold −100.

use std::f64::consts::PI;

use crate::numpy_generator::NumpyGenerator;
use crate::{Action, ActionSpace, Env, EnvSpec, Step, TimeLimit};

const DT: f64 = 0.2;
const L1: f64 = 1.0;
const M1: f64 = 1.0;
const M2: f64 = 1.0;
const LC1: f64 = 0.5;
const LC2: f64 = 0.5;
const I1: f64 = 1.0;
const I2: f64 = 1.0;
const G: f64 = 9.8;
const MAX_VEL_1: f64 = 4.0 * PI;
const MAX_VEL_2: f64 = 9.0 * PI;
const TORQUES: [f64; 3] = [-1.0, 0.0, 1.0];

#[derive(Debug, Clone)]
pub struct Acrobot {
    spec: EnvSpec,
    state: [f64; 4],
    limit: TimeLimit,
}

/// Time derivative of `(θ₁, θ₂, θ̇₁, θ̇₂)` under torque `a` ("book" variant).
#[inline]
fn dsdt(s: [f64; 4], a: f64) -> [f64; 4] {
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let d1 = M1 * LC1 * LC1 + M2 * (L1 * L1 + LC2 * LC2 + 2.0 * L1 * LC2 * theta2.cos()) + I1 + I2;
    let d2 = M2 * (LC2 * LC2 + L1 * LC2 * theta2.cos()) + I2;
    let phi2 = M2 * LC2 * G * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -M2 * L1 * LC2 * dtheta2 * dtheta2 * theta2.sin()
        - 2.0 * M2 * L1 * LC2 * dtheta2 * dtheta1 * theta2.sin()
        + (M1 * LC1 + M2 * L1) * G * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 = (a + d2 / d1 * phi1 - M2 * L1 * LC2 * dtheta1 * dtheta1 * theta2.sin() - phi2)
        / (M2 * LC2 * LC2 + I2 - d2 * d2 / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

#[inline]
fn add(y: [f64; 4], h: f64, k: [f64; 4]) -> [f64; 4] {
    [
        y[0] + h * k[0],
        y[1] + h * k[1],
        y[2] + h * k[2],
        y[3] + h * k[3],
    ]
}

/// Gymnasium's `wrap`: shift by the range until inside `[m, M]`.
fn wrap(mut x: f64, m: f64, big_m: f64) -> f64 {
    let diff = big_m - m;
    while x > big_m {
        x -= diff;
    }
    while x < m {
        x += diff;
    }
    x
}

impl Acrobot {
    pub fn new(max_steps: Option<u64>) -> Self {
        let max = max_steps.unwrap_or(500);
        Self {
            spec: EnvSpec {
                id: "Acrobot-v1".into(),
                obs_dim: 6,
                frame: None,
                action_space: ActionSpace::Discrete(3),
                max_episode_steps: max,
                reward_threshold: Some(-100.0),
            },
            state: [0.0; 4],
            limit: TimeLimit::new(max),
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let s = self.state;
        obs[0] = s[0].cos() as f32;
        obs[1] = s[0].sin() as f32;
        obs[2] = s[1].cos() as f32;
        obs[3] = s[1].sin() as f32;
        obs[4] = s[2] as f32;
        obs[5] = s[3] as f32;
    }
}

impl Env for Acrobot {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let mut rng = NumpyGenerator::new(seed);
        for s in &mut self.state {
            // Gymnasium draws the start state in float32.
            *s = rng.uniform(-0.1, 0.1) as f32 as f64;
        }
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let a = match action {
            Action::Discrete(a) => TORQUES[a],
            Action::Continuous(_) => panic!("Acrobot-v1 takes discrete actions"),
        };
        // rk4(dsdt, s, [0, dt]) as in Gymnasium.
        let y0 = self.state;
        let dt2 = DT / 2.0;
        let k1 = dsdt(y0, a);
        let k2 = dsdt(add(y0, dt2, k1), a);
        let k3 = dsdt(add(y0, dt2, k2), a);
        let k4 = dsdt(add(y0, DT, k3), a);
        let mut ns = [0.0; 4];
        for i in 0..4 {
            ns[i] = y0[i] + DT / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
        ns[0] = wrap(ns[0], -PI, PI);
        ns[1] = wrap(ns[1], -PI, PI);
        ns[2] = ns[2].clamp(-MAX_VEL_1, MAX_VEL_1);
        ns[3] = ns[3].clamp(-MAX_VEL_2, MAX_VEL_2);
        self.state = ns;
        let terminated = -ns[0].cos() - (ns[1] + ns[0]).cos() > 1.0;
        let reward = if terminated { 0.0 } else { -1.0 };
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

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state.copy_from_slice(&state[..4]);
        self.limit.elapsed = 0;
        self.write_obs(obs);
    }
}
