//! CartPole-v1 (Barto, Sutton & Anderson 1983), as Gymnasium 1.x codes it:
//! explicit Euler with τ = 0.02, ±10 N, failure at |θ| > 12° or |x| > 2.4,
//! reward 1 per step including the terminating one, 500-step limit,
//! reward threshold 475.

use crate::numpy_generator::NumpyGenerator;
use crate::{Action, ActionSpace, Env, EnvSpec, Step, TimeLimit};

const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
const LENGTH: f64 = 0.5;
const POLEMASS_LENGTH: f64 = MASS_POLE * LENGTH;
const FORCE_MAG: f64 = 10.0;
const TAU: f64 = 0.02;
const THETA_THRESHOLD: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_THRESHOLD: f64 = 2.4;

#[derive(Debug, Clone)]
pub struct CartPole {
    spec: EnvSpec,
    state: [f64; 4],
    limit: TimeLimit,
    terminated_before: bool,
    /// (sin θ, cos θ) of the current state, from `prepare_step`.
    trig: Option<(f64, f64)>,
}

impl CartPole {
    pub fn new(max_steps: Option<u64>) -> Self {
        let max = max_steps.unwrap_or(500);
        Self {
            spec: EnvSpec {
                id: "CartPole-v1".into(),
                obs_dim: 4,
                frame: None,
                action_space: ActionSpace::Discrete(2),
                max_episode_steps: max,
                reward_threshold: Some(475.0),
            },
            state: [0.0; 4],
            limit: TimeLimit::new(max),
            terminated_before: false,
            trig: None,
        }
    }

    /// Gymnasium's `math.sin(theta)`, `math.cos(theta)`.
    #[inline]
    fn trig_of(theta: f64) -> (f64, f64) {
        (theta.sin(), theta.cos())
    }

    #[inline]
    fn write_obs(&self, obs: &mut [f32]) {
        for (o, s) in obs.iter_mut().zip(&self.state) {
            *o = *s as f32;
        }
    }
}

impl Env for CartPole {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let mut rng = NumpyGenerator::new(seed);
        for s in &mut self.state {
            *s = rng.uniform(-0.05, 0.05);
        }
        self.limit.elapsed = 0;
        self.terminated_before = false;
        self.trig = None;
        self.write_obs(obs);
    }

    #[inline]
    #[expect(
        clippy::manual_range_contains,
        reason = "Gymnasium's comparisons, which are false for NaN"
    )]
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let a = match action {
            Action::Discrete(a) => a,
            Action::Continuous(_) => panic!("CartPole-v1 takes discrete actions"),
        };
        let [x, x_dot, theta, theta_dot] = self.state;
        let force = if a == 1 { FORCE_MAG } else { -FORCE_MAG };
        let (sintheta, costheta) = self.trig.take().unwrap_or_else(|| Self::trig_of(theta));
        let temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
        let thetaacc = (GRAVITY * sintheta - costheta * temp)
            / (LENGTH * (4.0 / 3.0 - MASS_POLE * (costheta * costheta) / TOTAL_MASS));
        let xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;
        self.state = [
            x + TAU * x_dot,
            x_dot + TAU * xacc,
            theta + TAU * theta_dot,
            theta_dot + TAU * thetaacc,
        ];
        let [x, _, theta, _] = self.state;
        let terminated = x < -X_THRESHOLD
            || x > X_THRESHOLD
            || theta < -THETA_THRESHOLD
            || theta > THETA_THRESHOLD;
        // Gymnasium gives 1.0 on the terminating step and 0.0 on any step after it.
        let reward = if self.terminated_before { 0.0 } else { 1.0 };
        self.terminated_before |= terminated;
        let truncated = self.limit.tick();
        self.write_obs(obs);
        Step {
            reward,
            terminated,
            truncated,
        }
    }

    #[inline]
    fn prepare_step(&mut self) {
        self.trig = Some(Self::trig_of(self.state[2]));
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    /// The final cart position and pole angle.
    fn behavior(&self) -> Vec<f32> {
        vec![self.state[0] as f32, self.state[2] as f32]
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state.copy_from_slice(&state[..4]);
        self.limit.elapsed = 0;
        self.terminated_before = false;
        self.trig = None;
        self.write_obs(obs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `prepare_step` changes no bit of a trajectory, and a reset between it
    /// and `step` discards what it prepared.
    #[test]
    fn prepared_steps_are_the_same_bits() {
        let (mut plain, mut prepared) = (CartPole::new(None), CartPole::new(None));
        let (mut o1, mut o2) = ([0.0f32; 4], [0.0f32; 4]);
        for seed in 0..20u64 {
            plain.reset(seed, &mut o1);
            if seed % 3 == 0 {
                // Prepared for the old state, then reset: must not be used.
                prepared.reset(seed + 1000, &mut o2);
                prepared.prepare_step();
            }
            prepared.reset(seed, &mut o2);
            for t in 0..600u64 {
                let a = Action::Discrete(((seed + t * 7) % 3 % 2) as usize);
                // Prepared on odd steps only; never on the first step after
                // the stale preparation above.
                if t % 2 == 1 || (t == 0 && seed % 3 != 0) {
                    prepared.prepare_step();
                }
                let (s1, s2) = (plain.step(a, &mut o1), prepared.step(a, &mut o2));
                assert_eq!(s1, s2);
                assert_eq!(o1.map(f32::to_bits), o2.map(f32::to_bits));
                assert_eq!(
                    plain
                        .state()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>(),
                    prepared
                        .state()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>()
                );
                if s1.terminated || s1.truncated {
                    break;
                }
            }
        }
    }
}
