//! Running sums for observation normalisation (OpenAI ES `RunningStat`).

use serde::{Deserialize, Serialize};

/// Per-dimension sum, sum of squares and count. Merging is exact addition, so
/// merging in candidate-id order gives the same statistics for any worker count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningStats {
    pub sum: Vec<f64>,
    pub sumsq: Vec<f64>,
    pub count: f64,
}

impl RunningStats {
    pub fn new(dim: usize) -> Self {
        Self {
            sum: vec![0.0; dim],
            sumsq: vec![0.0; dim],
            count: 0.0,
        }
    }
    /// The prior of OpenAI ES: a tiny count at mean 0 and variance 1, so the
    /// first normalisation is close to the identity.
    pub fn with_prior(dim: usize, eps: f64) -> Self {
        Self {
            sum: vec![0.0; dim],
            sumsq: vec![eps; dim],
            count: eps,
        }
    }
    pub fn dim(&self) -> usize {
        self.sum.len()
    }
    #[inline]
    pub fn push(&mut self, x: &[f32]) {
        for ((s, q), &v) in self.sum.iter_mut().zip(self.sumsq.iter_mut()).zip(x) {
            let v = v as f64;
            *s += v;
            *q += v * v;
        }
        self.count += 1.0;
    }
    pub fn merge(&mut self, o: &RunningStats) {
        assert_eq!(
            self.dim(),
            o.dim(),
            "observation statistics of different sizes"
        );
        for (a, b) in self.sum.iter_mut().zip(&o.sum) {
            *a += b;
        }
        for (a, b) in self.sumsq.iter_mut().zip(&o.sumsq) {
            *a += b;
        }
        self.count += o.count;
    }
    pub fn mean(&self) -> Vec<f32> {
        self.sum.iter().map(|s| (s / self.count) as f32).collect()
    }
    /// `sqrt(max(E[x²] − E[x]², 1e-2))`, as in OpenAI ES.
    pub fn std(&self) -> Vec<f32> {
        self.sum
            .iter()
            .zip(&self.sumsq)
            .map(|(s, q)| {
                let m = s / self.count;
                ((q / self.count - m * m).max(1e-2)).sqrt() as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn mean_and_std() {
        let mut s = RunningStats::new(2);
        s.push(&[1.0, 10.0]);
        s.push(&[3.0, 10.0]);
        assert_eq!(s.mean(), vec![2.0, 10.0]);
        let sd = s.std();
        assert!((sd[0] - 1.0).abs() < 1e-6);
        assert!((sd[1] - 0.1).abs() < 1e-6, "floor at sqrt(1e-2)");
    }
}
