//! Novelty search around the Deep GA and OpenAI-ES: the conformance suite
//! with behaviours, the escape from an attractor that fitness cannot
//! leave, and what happens to evaluations without a behaviour.

use evonet_core::conformance::{check_strategy_with, unit_evaluation};
use evonet_core::genome::decode_seed_chain;
use evonet_core::{
    Candidate, Evaluated, Evaluation, NoiseTable, Outcome, Perturbed, SeedChain, Strategy,
};
use evonet_strategies::novelty_archive::{ArchiveRule, NoveltyMix};
use evonet_strategies::{DeepGa, NoveltyConfig, NoveltySearch, OpenEs, OpenEsConfig};

use super::{ga_cfg, space, table, DIM};

/// Behaviour = the first two parameters; fitness pulls them to the origin.
fn attracted(theta: &[f32]) -> Evaluation {
    let b = vec![theta[0], theta[1]];
    let fitness = -f64::from(theta[0].hypot(theta[1]));
    Evaluation {
        behavior: Some(b),
        ..unit_evaluation(fitness)
    }
}

fn chain_eval(t: &NoiseTable) -> impl Fn(&SeedChain) -> Evaluation + Sync + '_ {
    move |c| {
        let mut theta = Vec::new();
        decode_seed_chain(t, c, &[0.3; DIM], None, &mut theta);
        attracted(&theta)
    }
}

/// Each candidate with its evaluation by `f`.
fn evaluated<G>(asked: Vec<Candidate<G>>, f: &dyn Fn(&G) -> Evaluation) -> Vec<Evaluated<G>> {
    asked
        .into_iter()
        .map(|c| {
            let e = f(&c.genome);
            Evaluated {
                candidate: c,
                outcome: Outcome::Done(e),
            }
        })
        .collect()
}

fn ga_novelty(cfg: NoveltyConfig) -> NoveltySearch<DeepGa> {
    NoveltySearch::new(DeepGa::new(ga_cfg()).unwrap(), cfg).unwrap()
}

fn small_archive() -> NoveltyConfig {
    NoveltyConfig {
        k: 5,
        threshold: 0.2,
        threshold_floor: 0.05,
        ..NoveltyConfig::default()
    }
}

#[test]
fn novelty_around_the_deep_ga_conforms() {
    let t = table();
    let f = chain_eval(&t);
    check_strategy_with(&ga_novelty(small_archive()), &f, 8);
    let weighted = NoveltyConfig {
        mix: NoveltyMix::Weighted,
        objective_weight: 0.3,
        distance: evonet_strategies::novelty_archive::BehaviorDistance::MeanAbsolute,
        archive_limit: 10,
        ..small_archive()
    };
    check_strategy_with(&ga_novelty(weighted), &f, 8);
}

#[test]
fn novelty_es_with_the_champion_archive_conforms_and_probes_the_centre() {
    let t = table();
    let f = |g: &Perturbed| {
        let mut theta = Vec::new();
        g.params_into(&t, &mut theta);
        attracted(&theta)
    };
    let cfg = small_es();
    let nsr = NoveltyConfig {
        k: 3,
        archive: ArchiveRule::Champion,
        mix: NoveltyMix::Rank,
        objective_weight: 0.5,
        ..NoveltyConfig::default()
    };
    let s = NoveltySearch::new(OpenEs::new(cfg, space(), table()).unwrap(), nsr).unwrap();
    check_strategy_with(&s, &f, 6);
    // One extra candidate per generation, the centre, whose behaviour is
    // archived.
    let mut st = s.init(3).unwrap();
    for g in 1..=3 {
        let asked = s.ask(&mut st);
        assert_eq!(asked.len(), 7);
        assert!(asked.last().unwrap().genome.noise.is_none());
        s.tell(&mut st, evaluated(asked, &f)).unwrap();
        assert_eq!(st.archive.len(), g);
    }
}

fn small_es() -> OpenEsConfig {
    OpenEsConfig {
        population: 6,
        sigma: 0.05,
        learning_rate: 0.05,
        l2_coeff: 0.0,
        obs_norm: false,
        obs_stats_prob: 0.0,
    }
}

/// NS-ES with a meta-population of three centres: it conforms; the first
/// generation measures every centre, later ones the centre stepped last;
/// each generation steps one centre, chosen by novelty.
#[test]
fn novelty_es_with_three_centres_conforms_and_steps_one_centre_a_generation() {
    let t = table();
    let f = |g: &Perturbed| {
        let mut theta = Vec::new();
        g.params_into(&t, &mut theta);
        attracted(&theta)
    };
    let ns = NoveltyConfig {
        k: 3,
        archive: ArchiveRule::Champion,
        centres: 3,
        ..NoveltyConfig::default()
    };
    let s = NoveltySearch::new(OpenEs::new(small_es(), space(), table()).unwrap(), ns).unwrap();
    check_strategy_with(&s, &f, 6);
    let mut st = s.init(3).unwrap();
    let mut stepped = [0u64; 3];
    for g in 0..12u64 {
        let probes = s.ask(&mut st);
        assert_eq!(probes.len(), if g == 0 { 3 } else { 1 });
        assert!(probes.iter().all(|c| c.genome.noise.is_none()));
        let rep = s.tell(&mut st, evaluated(probes, &f)).unwrap();
        assert!(!rep.generation_done);
        assert_eq!(st.archive.len() as u64, 3 + g);
        let asked = s.ask(&mut st);
        assert_eq!(asked.len(), 6);
        let rep = s.tell(&mut st, evaluated(asked, &f)).unwrap();
        assert!(rep.generation_done);
        let centre = rep.stats.iter().find(|(k, _)| k == "centre").unwrap().1;
        stepped[centre as usize] += 1;
        assert_eq!(s.generation(&st), g + 1);
    }
    assert_eq!(stepped.iter().sum::<u64>(), 12);
    assert!(
        stepped.iter().filter(|n| **n > 0).count() >= 2,
        "{stepped:?}"
    );
    // The centres start apart: distinct seeds.
    let c0 = s.inner().champion(&st.inner).unwrap().genome.centre;
    let c1 = s
        .inner()
        .champion(&st.centres.others[0])
        .unwrap()
        .genome
        .centre;
    assert_ne!(c0.params, c1.params);
}

/// A meta-population needs the champion archive rule.
#[test]
fn centres_need_the_champion_archive() {
    let ns = NoveltyConfig {
        centres: 2,
        ..NoveltyConfig::default()
    };
    let err = NoveltySearch::new(OpenEs::new(small_es(), space(), table()).unwrap(), ns)
        .err()
        .unwrap();
    assert!(err.to_string().contains("centres"), "{err}");
}

/// The farthest any evaluated candidate of generations 50-59 of `s` got
/// from the origin, over seeds 1-3.
fn reach<S: Strategy<Genome = SeedChain>>(s: &S, f: &dyn Fn(&SeedChain) -> Evaluation) -> f64 {
    let mut far = 0.0f64;
    for seed in 1..=3 {
        let mut st = s.init(seed).unwrap();
        for g in 0..60 {
            let res = s
                .ask(&mut st)
                .into_iter()
                .map(|c| {
                    let e = f(&c.genome);
                    if g >= 50 {
                        far = far.max(-e.fitness);
                    }
                    Evaluated {
                        candidate: c,
                        outcome: Outcome::Done(e),
                    }
                })
                .collect();
            s.tell(&mut st, res).unwrap();
        }
    }
    far
}

/// Fitness keeps the Deep GA at the origin; novelty keeps moving away.
#[test]
fn novelty_leaves_the_attractor_that_fitness_cannot() {
    let t = table();
    let f = chain_eval(&t);
    let fit = reach(&DeepGa::new(ga_cfg()).unwrap(), &f);
    let nov = reach(&ga_novelty(small_archive()), &f);
    assert!(nov > 3.0 * fit, "fitness reached {fit}, novelty {nov}");
}

#[test]
fn evaluations_without_behaviour_fail_and_the_champion_is_the_fittest() {
    let t = table();
    let f = chain_eval(&t);
    let s = ga_novelty(small_archive());
    let mut st = s.init(9).unwrap();
    let asked = s.ask(&mut st);
    let n = asked.len();
    let mut best = f64::NEG_INFINITY;
    let res: Vec<_> = asked
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut e = f(&c.genome);
            if i % 2 == 0 {
                e.behavior = None;
            } else {
                best = best.max(e.fitness);
            }
            Evaluated {
                candidate: c,
                outcome: Outcome::Done(e),
            }
        })
        .collect();
    let rep = s.tell(&mut st, res).unwrap();
    assert_eq!(rep.failed as usize, n.div_ceil(2));
    assert_eq!(rep.best_fitness, best);
    assert_eq!(s.champion(&st).unwrap().fitness, best);
    let stat = |k: &str| rep.stats.iter().find(|(n, _)| n == k).unwrap().1;
    assert!(stat("archive_size") >= 1.0);
    assert!(stat("novelty_best") > 0.0);
}

/// NSRA-ES's weight: all on the fitness at first, it moves towards novelty
/// once the fitness stops improving (the attractor's optimum is reached).
#[test]
fn the_adaptive_weight_conforms_and_falls_when_the_fitness_stalls() {
    let t = table();
    let f = chain_eval(&t);
    let nsra = NoveltyConfig {
        mix: NoveltyMix::Adaptive,
        objective_weight: 1.0,
        adapt_patience: 3,
        ..small_archive()
    };
    let s = ga_novelty(nsra);
    check_strategy_with(&s, &f, 8);
    let mut st = s.init(2).unwrap();
    let mut weights = Vec::new();
    for _ in 0..80 {
        let asked = s.ask(&mut st);
        let rep = s.tell(&mut st, evaluated(asked, &f)).unwrap();
        let w = rep
            .stats
            .iter()
            .find(|(k, _)| k == "objective_weight")
            .unwrap()
            .1;
        assert!((0.0..=1.0).contains(&w), "{w}");
        weights.push(w);
    }
    assert_eq!(weights[0], 1.0);
    let lowest = weights.iter().copied().fold(1.0, f64::min);
    assert!(lowest < 0.9, "the weight never fell: {weights:?}");
}
