//! Adam (Kingma & Ba 2015) as in OpenAI's `es_distributed/optimizers.py`:
//! the bias correction folded into the step size.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    pub t: u64,
}

pub const BETA1: f32 = 0.9;
pub const BETA2: f32 = 0.999;
pub const EPSILON: f32 = 1e-8;

impl Adam {
    pub fn new(dim: usize) -> Self {
        Self {
            m: vec![0.0; dim],
            v: vec![0.0; dim],
            t: 0,
        }
    }

    /// Applies one step for the gradient `g` of a loss to minimise; returns
    /// the L2 norm of the update.
    pub fn step(&mut self, theta: &mut [f32], g: &[f32], stepsize: f32) -> f32 {
        self.t += 1;
        let t = self.t as i32;
        let a = stepsize * (1.0 - BETA2.powi(t)).sqrt() / (1.0 - BETA1.powi(t));
        let mut norm = 0.0f32;
        for i in 0..theta.len() {
            self.m[i] = BETA1 * self.m[i] + (1.0 - BETA1) * g[i];
            self.v[i] = BETA2 * self.v[i] + (1.0 - BETA2) * (g[i] * g[i]);
            let step = -a * self.m[i] / (self.v[i].sqrt() + EPSILON);
            theta[i] += step;
            norm += step * step;
        }
        norm.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn first_step_moves_by_stepsize_against_the_gradient() {
        let mut a = Adam::new(2);
        let mut th = [0.0f32, 0.0];
        a.step(&mut th, &[1.0, -2.0], 0.01);
        assert!(
            (th[0] + 0.01).abs() < 1e-6 && (th[1] - 0.01).abs() < 1e-6,
            "{th:?}"
        );
    }
}
