//! Successive halving and Hyperband over aging evolution and random
//! sampling: the rounds' sizes and fidelities, promotion of the best, and
//! the conformance every strategy keeps.

use evonet_core::conformance::check_strategy;
use evonet_core::{Candidate, Evaluated, Strategy};
use evonet_strategies::{
    AgingEvolution, AgingEvolutionConfig, HalvingConfig, PredictorConfig, RandomSampling,
    RandomSamplingConfig, Screenable,
};

use super::{ones, Bits};

fn halving(hyperband: bool) -> HalvingConfig {
    HalvingConfig {
        epochs: vec![1, 3, 9],
        eta: 3,
        hyperband,
    }
}

/// Fitness grows with the epochs: the ones, plus a bonus per epoch.
fn told(cands: Vec<Candidate<Vec<bool>>>) -> Vec<Evaluated<Vec<bool>>> {
    cands
        .into_iter()
        .map(|c| {
            let f = ones(&c.genome) + f64::from(c.request.episodes) / 100.0;
            Evaluated::done(c, f)
        })
        .collect()
}

#[test]
fn successive_halving_promotes_the_best_third_to_more_epochs() {
    let rs = RandomSampling::new(RandomSamplingConfig { batch: 9 }, Bits(20))
        .unwrap()
        .with_halving(halving(false))
        .unwrap();
    check_strategy(&rs, &ones, 9);
    let mut st = rs.init(2).unwrap();
    let first = rs.ask(&mut st);
    assert_eq!(first.len(), 9);
    assert!(first.iter().all(|c| c.request.episodes == 1));
    let mut best: Vec<_> = first.iter().map(|c| (ones(&c.genome), c.id)).collect();
    best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let rep = rs.tell(&mut st, told(first)).unwrap();
    assert!(!rep.generation_done);
    assert_eq!(rs.generation(&st), 0);
    let second = rs.ask(&mut st);
    assert_eq!(second.len(), 3);
    assert!(second.iter().all(|c| c.request.episodes == 3));
    let mut parents: Vec<_> = second
        .iter()
        .map(|c| c.origin.as_ref().unwrap().parents[0])
        .collect();
    parents.sort();
    let mut top3: Vec<_> = best[..3].iter().map(|b| b.1).collect();
    top3.sort();
    assert_eq!(parents, top3, "the best three go on");
    assert!(!rs.tell(&mut st, told(second)).unwrap().generation_done);
    let third = rs.ask(&mut st);
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].request.episodes, 9);
    let id = third[0].id;
    let rep = rs.tell(&mut st, told(third)).unwrap();
    assert!(rep.generation_done);
    assert_eq!(rs.generation(&st), 1);
    // The champion is a candidate of the top rung.
    let champion = rs.champion(&st).unwrap();
    assert_eq!(champion.fitness, best[0].0 + 0.09, "{id}");
}

#[test]
fn hyperband_cycles_through_its_brackets() {
    let rs = RandomSampling::new(RandomSamplingConfig { batch: 9 }, Bits(20))
        .unwrap()
        .with_halving(halving(true))
        .unwrap();
    check_strategy(&rs, &ones, 12);
    let mut st = rs.init(3).unwrap();
    let mut rounds = Vec::new();
    while rs.generation(&st) < 3 {
        let c = rs.ask(&mut st);
        rounds.push((c.len(), c[0].request.episodes));
        rs.tell(&mut st, told(c)).unwrap();
    }
    // Li et al.'s brackets for R = 9, eta = 3: 9-3-1, 5-1, 3.
    assert_eq!(rounds, vec![(9, 1), (3, 3), (1, 9), (5, 3), (1, 9), (3, 9)]);
}

#[test]
fn aging_evolution_with_halving_conforms_and_its_population_holds_the_top_rung() {
    let cfg = AgingEvolutionConfig {
        population: 10,
        sample: 3,
        batch: 9,
    };
    let ae = AgingEvolution::new(cfg.clone(), Bits(20))
        .unwrap()
        .with_halving(halving(false))
        .unwrap();
    check_strategy(&ae, &ones, 12);
    let mut st = ae.init(1).unwrap();
    while ae.generation(&st) < 3 {
        let c = ae.ask(&mut st);
        ae.tell(&mut st, told(c)).unwrap();
    }
    // 10 random → 3 → 1, then 9 children → 3 → 1 twice.
    assert_eq!(st.population.len(), 3);
    for m in &st.population {
        let frac = m.fitness - m.fitness.floor();
        assert!((frac - 0.09).abs() < 1e-9, "{}", m.fitness);
    }
    // Not with a predictor as well.
    let both = AgingEvolution::new(cfg, Bits(20))
        .unwrap()
        .with_halving(halving(false))
        .unwrap()
        .with_predictor(PredictorConfig::default());
    assert!(both.is_err());
}
