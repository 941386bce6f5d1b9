//! Screening proposals by a learned performance predictor before they are
//! trained (Smithson et al. 2016): a strategy proposes `pool` times the
//! children it will evaluate, the [`Predictor`] fitted to every candidate
//! evaluated so far rates them, and only the `n` rated highest are
//! evaluated. The predictor is refitted from scratch each round from this
//! plain data (seeded by the run seed and the generation), so a resumed
//! run screens exactly as the uninterrupted one.
//!
//! Each closed round reports how well the predictions made before training
//! ranked the outcomes: Kendall's τ and Spearman's ρ over the round's
//! candidates (`predictor_kendall`, `predictor_spearman`) and over every
//! screened candidate so far (`predictor_kendall_all`,
//! `predictor_spearman_all`). These candidates were held out of the fit
//! that rated them; being the best-rated of their pool, they cover a
//! narrower range than the proposals, which lowers both figures.

use serde::{Deserialize, Serialize};

use evonet_core::{derive_seed, Purpose};

use crate::predictor::{Predictor, PredictorConfig};
use crate::rank_correlation::{kendall_tau, spearman_rho};

/// What screening keeps between rounds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    /// Every evaluated candidate's features, in the order evaluated...
    pub features: Vec<Vec<f64>>,
    /// ...its fitness (`None` when its evaluation failed)...
    pub fitness: Vec<Option<f64>>,
    /// ...and the fitness predicted for it before it was evaluated (`None`
    /// during the warm-up).
    pub predicted: Vec<Option<f64>>,
    /// The round waiting for its results: features and prediction of each
    /// candidate, in the round's order.
    pub pending: Vec<(Vec<f64>, Option<f64>)>,
}

impl Screening {
    /// Chooses `n` of the proposals with `features` (in proposal order):
    /// the first `n` while fewer than `cfg.warmup` candidates have a
    /// fitness (failed ones are left out of the fit), else the `n` the predictor rates highest (the earlier
    /// proposal wins ties). Remembers the chosen as the pending round and
    /// returns their indices, ascending.
    pub fn choose(
        &mut self,
        cfg: &PredictorConfig,
        features: Vec<Vec<f64>>,
        n: usize,
        seed: u64,
        generation: u64,
    ) -> Vec<usize> {
        let n = n.min(features.len());
        let (x, y): (Vec<Vec<f64>>, Vec<f64>) = self
            .features
            .iter()
            .zip(&self.fitness)
            .filter_map(|(f, y)| y.map(|y| (f.clone(), y)))
            .unzip();
        let mut chosen: Vec<(usize, Option<f64>)> = if y.len() < cfg.warmup {
            (0..n).map(|i| (i, None)).collect()
        } else {
            let fit_seed = derive_seed(seed, generation, 0, Purpose::Predict);
            let predictor = Predictor::fit(cfg, &x, &y, fit_seed);
            let mut rated: Vec<(usize, f64)> = features
                .iter()
                .enumerate()
                .map(|(i, f)| (i, predictor.predict(f)))
                .collect();
            rated.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            rated.truncate(n);
            rated.sort_by_key(|r| r.0);
            rated.into_iter().map(|(i, p)| (i, Some(p))).collect()
        };
        let mut features: Vec<Option<Vec<f64>>> = features.into_iter().map(Some).collect();
        self.pending = chosen
            .iter_mut()
            .map(|(i, p)| (features[*i].take().unwrap_or_default(), *p))
            .collect();
        chosen.into_iter().map(|(i, _)| i).collect()
    }

    /// Records the pending round's `fitness` (in the round's order) and
    /// returns the rank correlations of its predictions, as report stats.
    pub fn close(&mut self, fitness: &[f64]) -> Vec<(String, f64)> {
        let pending = std::mem::take(&mut self.pending);
        let start = self.predicted.len();
        for ((f, p), y) in pending.into_iter().zip(fitness) {
            self.features.push(f);
            self.predicted.push(p);
            self.fitness.push(Some(*y).filter(|y| y.is_finite()));
        }
        let (round_p, round_y) = scored_pairs(&self.predicted[start..], &self.fitness[start..]);
        let (all_p, all_y) = scored_pairs(&self.predicted, &self.fitness);
        vec![
            ("predictor_kendall".into(), kendall_tau(&round_p, &round_y)),
            (
                "predictor_spearman".into(),
                spearman_rho(&round_p, &round_y),
            ),
            ("predictor_kendall_all".into(), kendall_tau(&all_p, &all_y)),
            (
                "predictor_spearman_all".into(),
                spearman_rho(&all_p, &all_y),
            ),
        ]
    }
}

/// The (prediction, fitness) pairs where both are known.
fn scored_pairs(predicted: &[Option<f64>], fitness: &[Option<f64>]) -> (Vec<f64>, Vec<f64>) {
    predicted
        .iter()
        .zip(fitness)
        .filter_map(|(p, y)| Some(((*p)?, (*y)?)))
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> PredictorConfig {
        PredictorConfig {
            warmup: 10,
            epochs: 200,
            ..PredictorConfig::default()
        }
    }

    #[test]
    fn before_the_warm_up_the_first_proposals_pass_and_after_it_the_best_rated() {
        let mut s = Screening::default();
        let f = |x: f64| vec![x, 1.0 - x];
        // Fitness rises with the first feature.
        for round in 0..3 {
            let props: Vec<Vec<f64>> = (0..8).map(|i| f((round * 8 + i) as f64 / 24.0)).collect();
            let chosen = s.choose(&cfg(), props.clone(), 4, 1, round);
            assert_eq!(chosen, vec![0, 1, 2, 3], "round {round}: warm-up");
            let y: Vec<f64> = chosen.iter().map(|&i| props[i][0]).collect();
            let stats = s.close(&y);
            assert!(stats.iter().all(|(_, v)| v.is_nan()), "{stats:?}");
        }
        // 12 known now: the predictor picks the highest first features.
        let props: Vec<Vec<f64>> = [0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.05, 0.95]
            .iter()
            .map(|&x| f(x))
            .collect();
        let chosen = s.choose(&cfg(), props.clone(), 4, 1, 3);
        assert_eq!(chosen, vec![1, 3, 5, 7]);
        assert!(s.pending.iter().all(|(_, p)| p.is_some()));
        let y: Vec<f64> = chosen.iter().map(|&i| props[i][0]).collect();
        let stats = s.close(&y);
        assert_eq!(stats[0], ("predictor_kendall".to_string(), 1.0));
        assert_eq!(stats[1].1, 1.0);
        assert_eq!(s.fitness.len(), 16);
    }

    #[test]
    fn failed_candidates_are_kept_out_of_the_fit_and_the_figures() {
        let mut s = Screening::default();
        let props: Vec<Vec<f64>> = (0..12).map(|i| vec![i as f64]).collect();
        let chosen = s.choose(&cfg(), props, 12, 0, 0);
        let mut y: Vec<f64> = chosen.iter().map(|&i| i as f64).collect();
        y[3] = f64::NEG_INFINITY;
        s.close(&y);
        // 11 with a fitness: past the warm-up of 10.
        let chosen = s.choose(&cfg(), vec![vec![0.0], vec![11.0], vec![5.0]], 1, 0, 1);
        assert_eq!(chosen, vec![1]);
        let stats = s.close(&[f64::NEG_INFINITY]);
        assert!(stats[0].1.is_nan(), "{stats:?}");
    }
}
