//! A learned performance predictor: the artificial-neural-network response
//! surface of Smithson, Yang, Gross & Meyer 2016 ("Neural networks
//! designing neural networks: multi-objective hyper-parameter
//! optimization", ICCAD), a small regressor from a genome's encoding
//! ([`evonet_core::Variation::features`]) to its fitness, trained on the
//! candidates evaluated so far.
//!
//! Here: an average of `models` multilayer perceptrons (one hidden layer
//! of `hidden` tanh units, a linear output), each from its own seeded
//! initial weights, trained by full-batch Adam on the mean squared error
//! with standardised inputs and targets. Everything runs on one thread in
//! a fixed order, so a fit is bit-identical for a seed and a training set.
//! (A hand-written loop, as for evonet's MLP policies: the model has a few
//! thousand weights and trains in milliseconds, and the strategies stay
//! free of a tensor backend.)

use serde::{Deserialize, Serialize};

use evonet_core::seed::sub_seed;
use evonet_core::{SeededRng, StrategyError, Variation};

use crate::adam::Adam;

/// `[estimation.predictor]`: screening children by a learned predictor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictorConfig {
    /// Children proposed per child trained: of `pool × batch` proposals
    /// the predictor keeps the `batch` it rates highest. With 1 every
    /// proposal is trained and the predictor is only measured: its rank
    /// correlations are then over unscreened candidates.
    #[serde(default = "default_pool")]
    pub pool: usize,
    /// Trained candidates (with a fitness) before the predictor screens;
    /// until then the first proposals are trained.
    #[serde(default = "default_warmup")]
    pub warmup: usize,
    /// Hidden units of each network.
    #[serde(default = "default_hidden")]
    pub hidden: usize,
    /// Networks averaged (each from its own initial weights).
    #[serde(default = "default_models")]
    pub models: usize,
    /// Full-batch Adam steps per fit.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    #[serde(default = "default_learning_rate")]
    pub learning_rate: f64,
}

fn default_pool() -> usize {
    4
}
fn default_warmup() -> usize {
    20
}
fn default_hidden() -> usize {
    32
}
fn default_models() -> usize {
    3
}
fn default_epochs() -> usize {
    300
}
fn default_learning_rate() -> f64 {
    0.01
}

impl Default for PredictorConfig {
    fn default() -> Self {
        Self {
            pool: default_pool(),
            warmup: default_warmup(),
            hidden: default_hidden(),
            models: default_models(),
            epochs: default_epochs(),
            learning_rate: default_learning_rate(),
        }
    }
}

impl PredictorConfig {
    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |key, message: &str| {
            Err(StrategyError::Config {
                key,
                message: message.into(),
            })
        };
        if !(1..=100).contains(&self.pool) {
            return bad("pool", "must be between 1 (measure only) and 100");
        }
        if !(2..=1_000_000).contains(&self.warmup) {
            return bad("warmup", "must be between 2 and 1000000");
        }
        if !(1..=1024).contains(&self.hidden) {
            return bad("hidden", "must be between 1 and 1024");
        }
        if !(1..=32).contains(&self.models) {
            return bad("models", "must be between 1 and 32");
        }
        if !(1..=100_000).contains(&self.epochs) {
            return bad("epochs", "must be between 1 and 100000");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 1.0) {
            return bad("learning_rate", "must be in (0, 1)");
        }
        Ok(())
    }
}

/// A strategy whose proposals a learned predictor can screen.
pub trait Screenable: Sized {
    /// The strategy with its rounds screened by `predictor` (refused where
    /// the search space describes no features of its genomes).
    fn with_predictor(self, predictor: PredictorConfig) -> Result<Self, StrategyError>;

    /// [`Self::with_predictor`] where a predictor is given.
    fn screened_by(self, predictor: Option<&PredictorConfig>) -> Result<Self, StrategyError> {
        match predictor {
            Some(p) => self.with_predictor(p.clone()),
            None => Ok(self),
        }
    }
}

/// Refuses a predictor over a space whose genomes have no features.
pub fn check_features<G, V: Variation<G>>(
    cfg: &PredictorConfig,
    space: &V,
) -> Result<(), StrategyError> {
    cfg.validate()?;
    let probe = space.random(&mut SeededRng::new(0));
    match space.features(&probe) {
        Some(f) if !f.is_empty() => Ok(()),
        _ => Err(StrategyError::Config {
            key: "predictor",
            message: "this search space describes no features of its genomes to predict from"
                .into(),
        }),
    }
}

/// One perceptron: `hidden` tanh units over `inputs`, a linear output.
/// Parameters in one vector: the input weights input-major (`[inputs][hidden]`,
/// so both passes are vectorisable sweeps over the hidden units), the
/// hidden biases, the output weights, the output bias.
struct Mlp {
    inputs: usize,
    hidden: usize,
    theta: Vec<f32>,
}

impl Mlp {
    fn new(inputs: usize, hidden: usize, rng: &mut SeededRng) -> Self {
        let mut theta = vec![0.0f32; inputs * hidden + 2 * hidden + 1];
        // Glorot-uniform weights, zero biases.
        let a = (6.0 / (inputs + hidden) as f64).sqrt();
        for w in &mut theta[..inputs * hidden] {
            *w = rng.uniform_range(-a, a) as f32;
        }
        let b = (6.0 / (hidden + 1) as f64).sqrt();
        let out = inputs * hidden + hidden;
        for w in &mut theta[out..out + hidden] {
            *w = rng.uniform_range(-b, b) as f32;
        }
        Self {
            inputs,
            hidden,
            theta,
        }
    }

    /// The hidden activations of `x` into `a`; returns the output.
    fn forward(&self, x: &[f32], a: &mut [f32]) -> f32 {
        let (h, d) = (self.hidden, self.inputs);
        a.copy_from_slice(&self.theta[d * h..d * h + h]);
        for (k, &xk) in x.iter().enumerate() {
            if xk != 0.0 {
                let w = &self.theta[k * h..(k + 1) * h];
                for (aj, wj) in a.iter_mut().zip(w) {
                    *aj += xk * wj;
                }
            }
        }
        for aj in a.iter_mut() {
            *aj = aj.tanh();
        }
        let w2 = &self.theta[d * h + h..d * h + 2 * h];
        a.iter().zip(w2).map(|(aj, wj)| aj * wj).sum::<f32>() + self.theta[d * h + 2 * h]
    }

    /// The gradient of the mean squared error / 2 over `(x, y)` into `g`.
    fn gradient(&self, x: &[Vec<f32>], y: &[f32], g: &mut [f32], a: &mut [f32], dz: &mut [f32]) {
        let (h, d) = (self.hidden, self.inputs);
        g.fill(0.0);
        let n = x.len().max(1) as f32;
        for (xi, &yi) in x.iter().zip(y) {
            let err = (self.forward(xi, a) - yi) / n;
            let w2 = &self.theta[d * h + h..d * h + 2 * h];
            for j in 0..h {
                dz[j] = err * w2[j] * (1.0 - a[j] * a[j]);
                g[d * h + h + j] += err * a[j];
                g[d * h + j] += dz[j];
            }
            g[d * h + 2 * h] += err;
            for (k, &xk) in xi.iter().enumerate() {
                if xk != 0.0 {
                    for (gj, dj) in g[k * h..(k + 1) * h].iter_mut().zip(dz.iter()) {
                        *gj += xk * dj;
                    }
                }
            }
        }
    }

    fn train(&mut self, x: &[Vec<f32>], y: &[f32], epochs: usize, rate: f32) {
        let mut adam = Adam::new(self.theta.len());
        let mut g = vec![0.0f32; self.theta.len()];
        let (mut a, mut dz) = (vec![0.0f32; self.hidden], vec![0.0f32; self.hidden]);
        for _ in 0..epochs {
            self.gradient(x, y, &mut g, &mut a, &mut dz);
            adam.step(&mut self.theta, &g, rate);
        }
    }
}

/// A fitted predictor.
pub struct Predictor {
    models: Vec<Mlp>,
    /// Per input: its mean and 1 / its standard deviation (1 where constant).
    x_shift: Vec<f64>,
    x_scale: Vec<f64>,
    y_mean: f64,
    y_std: f64,
}

impl Predictor {
    /// Fits `cfg.models` networks to `(x, y)` (rows of equal length, at
    /// least one), the `m`-th from initial weights seeded by
    /// `sub_seed(seed, m)`.
    pub fn fit(cfg: &PredictorConfig, x: &[Vec<f64>], y: &[f64], seed: u64) -> Self {
        let d = x.first().map_or(0, Vec::len);
        let n = x.len().max(1) as f64;
        let mut x_shift = vec![0.0; d];
        let mut x_scale = vec![1.0; d];
        for k in 0..d {
            let mean = x.iter().map(|r| r[k]).sum::<f64>() / n;
            let var = x.iter().map(|r| (r[k] - mean).powi(2)).sum::<f64>() / n;
            x_shift[k] = mean;
            x_scale[k] = if var > 1e-12 { 1.0 / var.sqrt() } else { 0.0 };
        }
        let y_mean = y.iter().sum::<f64>() / n;
        let y_var = y.iter().map(|v| (v - y_mean).powi(2)).sum::<f64>() / n;
        let y_std = if y_var > 1e-18 { y_var.sqrt() } else { 1.0 };
        let mut fitted = Self {
            models: Vec::new(),
            x_shift,
            x_scale,
            y_mean,
            y_std,
        };
        let xs: Vec<Vec<f32>> = x.iter().map(|r| fitted.standardise(r)).collect();
        let ys: Vec<f32> = y.iter().map(|v| ((v - y_mean) / y_std) as f32).collect();
        // Equal targets: the prediction is their value, no network needed.
        let models = if y_var > 1e-18 { cfg.models } else { 0 };
        for m in 0..models {
            let mut rng = SeededRng::new(sub_seed(seed, m as u64));
            let mut mlp = Mlp::new(d, cfg.hidden, &mut rng);
            mlp.train(&xs, &ys, cfg.epochs, cfg.learning_rate as f32);
            fitted.models.push(mlp);
        }
        fitted
    }

    /// A constant input is zero after standardisation (it tells nothing).
    fn standardise(&self, r: &[f64]) -> Vec<f32> {
        r.iter()
            .zip(self.x_shift.iter().zip(&self.x_scale))
            .map(|(v, (m, s))| ((v - m) * s) as f32)
            .collect()
    }

    /// The predicted fitness of a genome with features `x`.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let xs = self.standardise(x);
        let mut a = vec![0.0f32; self.models.first().map_or(0, |m| m.hidden)];
        let sum: f64 = self
            .models
            .iter()
            .map(|m| m.forward(&xs, &mut a) as f64)
            .sum();
        self.y_mean + self.y_std * sum / self.models.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank_correlation::kendall_tau;

    /// A smooth function of a few inputs, with one-hot parts as the
    /// architecture encodings have.
    fn target(x: &[f64]) -> f64 {
        0.9 - 0.3 * (x[0] - 0.4).powi(2) + 0.1 * x[1] * x[2] + 0.05 * x[3]
    }

    fn sample(rng: &mut SeededRng) -> Vec<f64> {
        let mut x: Vec<f64> = (0..4).map(|_| rng.uniform()).collect();
        let hot = rng.below(3) as usize;
        x.extend((0..3).map(|i| f64::from(i == hot)));
        x
    }

    #[test]
    fn it_learns_a_smooth_surface_and_ranks_unseen_points() {
        let mut rng = SeededRng::new(7);
        let x: Vec<Vec<f64>> = (0..200).map(|_| sample(&mut rng)).collect();
        let y: Vec<f64> = x.iter().map(|r| target(r)).collect();
        let p = Predictor::fit(&PredictorConfig::default(), &x, &y, 1);
        let test: Vec<Vec<f64>> = (0..100).map(|_| sample(&mut rng)).collect();
        let truth: Vec<f64> = test.iter().map(|r| target(r)).collect();
        let guess: Vec<f64> = test.iter().map(|r| p.predict(r)).collect();
        let tau = kendall_tau(&guess, &truth);
        assert!(tau > 0.8, "Kendall tau {tau}");
        let err = guess
            .iter()
            .zip(&truth)
            .map(|(g, t)| (g - t).abs())
            .fold(0.0, f64::max);
        assert!(err < 0.05, "largest error {err}");
    }

    #[test]
    fn a_fit_is_the_same_for_the_same_seed_and_differs_for_another() {
        let mut rng = SeededRng::new(3);
        let x: Vec<Vec<f64>> = (0..30).map(|_| sample(&mut rng)).collect();
        let y: Vec<f64> = x.iter().map(|r| target(r)).collect();
        let cfg = PredictorConfig {
            epochs: 20,
            ..PredictorConfig::default()
        };
        let probe = sample(&mut rng);
        let a = Predictor::fit(&cfg, &x, &y, 5).predict(&probe);
        let b = Predictor::fit(&cfg, &x, &y, 5).predict(&probe);
        let c = Predictor::fit(&cfg, &x, &y, 6).predict(&probe);
        assert_eq!(a.to_bits(), b.to_bits());
        assert_ne!(a.to_bits(), c.to_bits());
    }

    #[test]
    fn constant_targets_and_inputs_give_the_constant() {
        let x = vec![vec![1.0, 0.0]; 5];
        let y = vec![0.7; 5];
        let p = Predictor::fit(&PredictorConfig::default(), &x, &y, 0);
        assert!((p.predict(&[1.0, 0.0]) - 0.7).abs() < 1e-9);
        assert!((p.predict(&[3.0, 2.0]) - 0.7).abs() < 1e-9);
    }

    #[test]
    fn bad_settings_name_their_key() {
        let bad = |c: PredictorConfig| match c.validate() {
            Err(StrategyError::Config { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        let d = PredictorConfig::default;
        assert!(d().validate().is_ok());
        assert_eq!(bad(PredictorConfig { pool: 0, ..d() }), "pool");
        assert_eq!(bad(PredictorConfig { warmup: 1, ..d() }), "warmup");
        assert_eq!(bad(PredictorConfig { hidden: 0, ..d() }), "hidden");
        assert_eq!(bad(PredictorConfig { models: 0, ..d() }), "models");
        assert_eq!(bad(PredictorConfig { epochs: 0, ..d() }), "epochs");
        let lr = PredictorConfig {
            learning_rate: f64::NAN,
            ..d()
        };
        assert_eq!(bad(lr), "learning_rate");
    }
}
