//! Double-pole balancing (Wieland 1991) as coded in Stanley's NEAT
//! (`experiments.cpp`, CartPole by F. Gomez): two poles of 1 m and 0.1 m on
//! one cart, hinge friction 2e-6, RK4 with τ = 0.01 and two RK4 steps per
//! action (a control step of 0.02 s), failure at |x| > 2.4 m or either
//! |θ| > 36°, force `a · 10` N for an action `a ∈ [−1, 1]` (Stanley's
//! `(out − 0.5)·20` for a sigmoid output `out`).
//!
//! - DPV (`velocities = true`): observations x/4.8, ẋ/2, θ₁/0.52, θ̇₁/2,
//!   θ₂/0.52, θ̇₂/2; success is balancing 100,000 steps.
//! - DPNV: observations x/4.8, θ₁/0.52, θ₂/0.52 only; fitness is Gruau's
//!   (see [`gruau_fitness`]) over 1,000 steps, and a champion must then pass
//!   the 625-start generalisation test ([`generalization_starts`]).
//!
//! The episode starts from θ₁ = 0.07 rad (≈4°, the value of Stanley's code),
//! everything else 0, whatever the seed: the task is deterministic.

use crate::{Action, ActionSpace, Env, EnvSpec, Step, TimeLimit};

const GRAVITY: f64 = -9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE_1: f64 = 0.1;
const LENGTH_1: f64 = 0.5; // half length
const MASS_POLE_2: f64 = 0.01;
const LENGTH_2: f64 = 0.05;
const FORCE_MAG: f64 = 10.0;
const TAU: f64 = 0.01;
const MUP: f64 = 0.000002;
const FAILURE_ANGLE: f64 = 0.628329; // 36 degrees
const TRACK_LIMIT: f64 = 2.4;

/// Default initial angle of the long pole.
pub const START_ANGLE: f64 = 0.07;

#[derive(Debug, Clone)]
pub struct DoublePole {
    spec: EnvSpec,
    velocities: bool,
    start_angle: f64,
    /// `[x, ẋ, θ₁, θ̇₁, θ₂, θ̇₂]`.
    state: [f64; 6],
    limit: TimeLimit,
    /// Ring of `|x|+|ẋ|+|θ₁|+|θ̇₁|` of the last 100 steps (Gruau's jiggle).
    jiggle: [f64; 100],
}

/// Derivatives of the state under force `force` (Stanley's `step`).
#[inline]
fn derivs(force: f64, st: &[f64; 6]) -> [f64; 6] {
    let costheta_1 = st[2].cos();
    let sintheta_1 = st[2].sin();
    let gsintheta_1 = GRAVITY * sintheta_1;
    let costheta_2 = st[4].cos();
    let sintheta_2 = st[4].sin();
    let gsintheta_2 = GRAVITY * sintheta_2;
    let ml_1 = LENGTH_1 * MASS_POLE_1;
    let ml_2 = LENGTH_2 * MASS_POLE_2;
    let temp_1 = MUP * st[3] / ml_1;
    let temp_2 = MUP * st[5] / ml_2;
    let fi_1 = (ml_1 * st[3] * st[3] * sintheta_1)
        + (0.75 * MASS_POLE_1 * costheta_1 * (temp_1 + gsintheta_1));
    let fi_2 = (ml_2 * st[5] * st[5] * sintheta_2)
        + (0.75 * MASS_POLE_2 * costheta_2 * (temp_2 + gsintheta_2));
    let mi_1 = MASS_POLE_1 * (1.0 - (0.75 * costheta_1 * costheta_1));
    let mi_2 = MASS_POLE_2 * (1.0 - (0.75 * costheta_2 * costheta_2));
    let xacc = (force + fi_1 + fi_2) / (mi_1 + mi_2 + MASS_CART);
    let t1acc = -0.75 * (xacc * costheta_1 + gsintheta_1 + temp_1) / LENGTH_1;
    let t2acc = -0.75 * (xacc * costheta_2 + gsintheta_2 + temp_2) / LENGTH_2;
    [st[1], xacc, st[3], t1acc, st[5], t2acc]
}

/// One RK4 step of τ (Stanley's `rk4`, which takes dydx at `y`).
#[inline]
fn rk4(force: f64, y: &[f64; 6]) -> [f64; 6] {
    let hh = TAU * 0.5;
    let h6 = TAU / 6.0;
    let dydx = derivs(force, y);
    let mut yt = [0.0; 6];
    for i in 0..6 {
        yt[i] = y[i] + hh * dydx[i];
    }
    let dyt = derivs(force, &yt);
    for i in 0..6 {
        yt[i] = y[i] + hh * dyt[i];
    }
    let mut dym = derivs(force, &yt);
    for i in 0..6 {
        yt[i] = y[i] + TAU * dym[i];
        dym[i] += dyt[i];
    }
    let dyt = derivs(force, &yt);
    let mut out = [0.0; 6];
    for i in 0..6 {
        out[i] = y[i] + h6 * (dydx[i] + dyt[i] + 2.0 * dym[i]);
    }
    out
}

impl DoublePole {
    /// `max_steps`: 100,000 for DPV, 1,000 for a DPNV evaluation.
    pub fn new(velocities: bool, max_steps: Option<u64>) -> Self {
        let max = max_steps.unwrap_or(if velocities { 100_000 } else { 1_000 });
        Self {
            spec: EnvSpec {
                id: if velocities {
                    "DoublePole-v0".into()
                } else {
                    "DoublePoleNoVelocities-v0".into()
                },
                obs_dim: if velocities { 6 } else { 3 },
                frame: None,
                action_space: ActionSpace::Box {
                    low: vec![-1.0],
                    high: vec![1.0],
                },
                max_episode_steps: max,
                reward_threshold: None,
            },
            velocities,
            start_angle: START_ANGLE,
            state: [0.0; 6],
            limit: TimeLimit::new(max),
            jiggle: [0.0; 100],
        }
    }

    pub fn set_start_angle(&mut self, rad: f64) {
        self.start_angle = rad;
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let s = self.state;
        if self.velocities {
            obs[0] = (s[0] / 4.8) as f32;
            obs[1] = (s[1] / 2.0) as f32;
            obs[2] = (s[2] / 0.52) as f32;
            obs[3] = (s[3] / 2.0) as f32;
            obs[4] = (s[4] / 0.52) as f32;
            obs[5] = (s[5] / 2.0) as f32;
        } else {
            obs[0] = (s[0] / 4.8) as f32;
            obs[1] = (s[2] / 0.52) as f32;
            obs[2] = (s[4] / 0.52) as f32;
        }
    }

    /// Steps taken in the current episode.
    pub fn steps(&self) -> u64 {
        self.limit.elapsed
    }

    /// Sum of `|x|+|ẋ|+|θ₁|+|θ̇₁|` over the last 100 steps.
    pub fn jiggle_sum(&self) -> f64 {
        let n = (self.limit.elapsed as usize).min(100);
        // The ring holds the last `n` entries; sum them in step order.
        let start = self.limit.elapsed as usize;
        (0..n)
            .map(|k| self.jiggle[(start + 100 - n + k) % 100])
            .sum()
    }
}

/// Gruau et al.'s fitness for DPNV after an episode of at most 1,000 steps
/// that lasted `steps`: `0.1·t/1000 + 0.9·0.75/Σ₁₀₀ jiggle` when `t > 100`,
/// else `0.1·t/1000`.
pub fn gruau_fitness(steps: u64, jiggle_sum: f64) -> f64 {
    let f1 = steps as f64 / 1000.0;
    if steps > 100 {
        0.1 * f1 + 0.9 * (0.75 / jiggle_sum)
    } else {
        0.1 * f1
    }
}

/// The 625 starts of the generalisation test (Gruau et al. 1996; Stanley's
/// code): x, ẋ, θ₁, θ̇₁ each take 5 values, θ₂ = θ̇₂ = 0.
pub fn generalization_starts() -> Vec<[f64; 6]> {
    const V: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];
    let mut out = Vec::with_capacity(625);
    for a in V {
        for b in V {
            for c in V {
                for d in V {
                    out.push([
                        4.32 * a - 2.16,
                        2.70 * b - 1.35,
                        0.12566304 * c - 0.06283152,
                        0.30019504 * d - 0.15009752,
                        0.0,
                        0.0,
                    ]);
                }
            }
        }
    }
    out
}

impl Env for DoublePole {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, _seed: u64, obs: &mut [f32]) {
        let mut s = [0.0; 6];
        s[2] = self.start_angle;
        self.set_state(&s, obs);
    }

    #[inline]
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let a = match action {
            Action::Continuous(a) => a[0].clamp(-1.0, 1.0) as f64,
            Action::Discrete(_) => panic!("double pole takes a continuous action"),
        };
        let force = a * FORCE_MAG;
        self.state = rk4(force, &self.state);
        self.state = rk4(force, &self.state);
        let s = self.state;
        let slot = (self.limit.elapsed % 100) as usize;
        self.jiggle[slot] = s[0].abs() + s[1].abs() + s[2].abs() + s[3].abs();
        let terminated = s[0] < -TRACK_LIMIT
            || s[0] > TRACK_LIMIT
            || s[2] < -FAILURE_ANGLE
            || s[2] > FAILURE_ANGLE
            || s[4] < -FAILURE_ANGLE
            || s[4] > FAILURE_ANGLE;
        let truncated = self.limit.tick();
        self.write_obs(obs);
        // One point per step balanced; the step that fails earns nothing.
        Step {
            reward: if terminated { 0.0 } else { 1.0 },
            terminated,
            truncated,
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state.copy_from_slice(&state[..6]);
        self.limit.elapsed = 0;
        self.jiggle = [0.0; 100];
        self.write_obs(obs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncontrolled_poles_fall_and_zero_force_is_symmetric() {
        let mut env = DoublePole::new(true, None);
        let mut obs = [0.0f32; 6];
        env.reset(0, &mut obs);
        let mut steps = 0;
        loop {
            steps += 1;
            let st = env.step(Action::Continuous(&[0.0]), &mut obs);
            if st.terminated {
                break;
            }
            assert!(steps < 10_000, "a 4 degree pole never fell");
        }
        // With no force the long pole falls in roughly a second.
        assert!((20..200).contains(&steps), "fell after {steps} steps");
        let mut e2 = DoublePole::new(true, None);
        e2.set_state(&[0.0, 0.0, -START_ANGLE, 0.0, 0.0, 0.0], &mut obs);
        let mut s2 = 0;
        while !e2.step(Action::Continuous(&[0.0]), &mut obs).terminated {
            s2 += 1;
        }
        assert_eq!(s2 + 1, steps, "mirror image must fall at the same step");
    }

    #[test]
    fn generalization_grid() {
        let g = generalization_starts();
        assert_eq!(g.len(), 625);
        assert!((g[0][0] - (-1.944)).abs() < 1e-12);
        assert!((g[624][3] - (0.30019504 * 0.95 - 0.15009752)).abs() < 1e-15);
    }

    #[test]
    fn gruau_fitness_formula() {
        assert!((gruau_fitness(50, 1.0) - 0.005).abs() < 1e-15);
        assert!((gruau_fitness(1000, 7.5) - (0.1 + 0.09)).abs() < 1e-12);
    }
}
