//! A learned predictor screening the children of aging evolution, the
//! truncation GA and random sampling (Smithson et al. 2016): the strategies
//! still conform, and at the same number of evaluated candidates the
//! screened searches climb bit strings further than the plain ones.

use evonet_core::conformance::{best_after, check_strategy};
use evonet_core::Strategy;
use evonet_strategies::{
    AgingEvolution, AgingEvolutionConfig, PredictorConfig, RandomSampling, RandomSamplingConfig,
    Screenable, TruncationGa, TruncationGaConfig,
};

use super::{ones, Bits};

fn predictor() -> PredictorConfig {
    PredictorConfig {
        pool: 4,
        warmup: 20,
        epochs: 100,
        ..PredictorConfig::default()
    }
}

/// The mean over seeds 1-3 of the best fitness after `rounds` rounds.
fn mean_best<S: Strategy<Genome = Vec<bool>>>(s: &S, rounds: usize) -> f64 {
    (1..=3)
        .map(|seed| best_after(s, seed, &ones, rounds))
        .sum::<f64>()
        / 3.0
}

#[test]
fn screened_aging_evolution_conforms_and_climbs_faster() {
    let cfg = AgingEvolutionConfig {
        population: 20,
        sample: 5,
        batch: 4,
    };
    let plain = AgingEvolution::new(cfg.clone(), Bits(60)).unwrap();
    let screened = AgingEvolution::new(cfg, Bits(60))
        .unwrap()
        .with_predictor(predictor())
        .unwrap();
    check_strategy(&screened, &ones, 10);
    // 20 + 25 × 4 = 120 candidates each.
    let (p, s) = (mean_best(&plain, 26), mean_best(&screened, 26));
    assert!(s > p + 3.0, "plain {p}, screened {s}");
}

#[test]
fn screened_random_sampling_and_ga_conform_and_beat_their_plain_runs() {
    let rs = RandomSamplingConfig { batch: 8 };
    let plain = RandomSampling::new(rs.clone(), Bits(60)).unwrap();
    let wide = PredictorConfig {
        pool: 16,
        ..predictor()
    };
    let screened = RandomSampling::new(rs, Bits(60))
        .unwrap()
        .with_predictor(wide)
        .unwrap();
    check_strategy(&screened, &ones, 6);
    let (p, s) = (mean_best(&plain, 15), mean_best(&screened, 15));
    assert!(s > p + 2.0, "random sampling: plain {p}, screened {s}");

    let ga = TruncationGaConfig {
        population: 16,
        parents: 4,
        elites: 2,
        crossover_rate: 0.5,
    };
    let plain = TruncationGa::new(ga.clone(), Bits(60)).unwrap();
    let screened = TruncationGa::new(ga, Bits(60))
        .unwrap()
        .with_predictor(predictor())
        .unwrap();
    check_strategy(&screened, &ones, 6);
    let (p, s) = (mean_best(&plain, 8), mean_best(&screened, 8));
    assert!(s > p + 2.0, "truncation GA: plain {p}, screened {s}");
}

#[test]
fn the_round_reports_the_rank_correlations_of_its_predictions() {
    let rs = RandomSampling::new(RandomSamplingConfig { batch: 16 }, Bits(30))
        .unwrap()
        .with_predictor(predictor())
        .unwrap();
    let mut st = rs.init(4).unwrap();
    let mut last = Vec::new();
    for _ in 0..4 {
        let cands = rs.ask(&mut st);
        assert_eq!(cands.len(), 16);
        let told = cands
            .into_iter()
            .map(|c| evonet_core::Evaluated::done(c.clone(), ones(&c.genome)))
            .collect();
        last = rs.tell(&mut st, told).unwrap().stats;
    }
    let stat = |k: &str| last.iter().find(|(n, _)| n == k).unwrap().1;
    // The count of ones is what the features add up to: the predictor
    // ranks unseen strings well even among the best-rated quarter.
    assert!(stat("predictor_kendall_all") > 0.3, "{last:?}");
    assert!(stat("predictor_spearman_all") > 0.4, "{last:?}");
    assert!(stat("predictor_kendall").is_finite());
}
