//! Integration tests of evonet-strategies: every strategy passes the shared
//! conformance suite and improves a simple objective within a budget.

use std::sync::Arc;

use evonet_core::conformance::{best_after, check_strategy};
use evonet_core::genome::decode_seed_chain;
use evonet_core::{NoiseTable, PolicyParams, SeedChain};
use evonet_strategies::{
    random_search, CmaEs, CmaEsConfig, DeepGa, DeepGaConfig, OpenEs, OpenEsConfig, ParamSpace,
    RandomSearchConfig,
};

const DIM: usize = 10;

/// Maximise −Σ (x − 0.5)²: the optimum is 0.
fn sphere(x: &[f32]) -> f64 {
    -x.iter().map(|v| (*v as f64 - 0.5).powi(2)).sum::<f64>()
}

fn params_fitness(g: &PolicyParams) -> f64 {
    sphere(&g.params)
}

fn table() -> Arc<NoiseTable> {
    Arc::new(NoiseTable::new(1 << 16, 7))
}

fn space() -> ParamSpace {
    ParamSpace {
        init_scales: vec![0.3; DIM],
        obs_dim: 3,
    }
}

fn chain_fitness(t: &NoiseTable) -> impl Fn(&SeedChain) -> f64 + Sync + '_ {
    move |c| {
        let mut theta = Vec::new();
        decode_seed_chain(t, c, &[0.3; DIM], None, &mut theta);
        sphere(&theta)
    }
}

fn ga_cfg() -> DeepGaConfig {
    DeepGaConfig {
        population: 20,
        truncation: 5,
        sigma: 0.05,
        elite_candidates: 3,
        elite_episodes: 2,
    }
}

#[test]
fn deep_ga_conforms_and_improves() {
    let t = table();
    let f = chain_fitness(&t);
    let ga = DeepGa::new(ga_cfg()).unwrap();
    check_strategy(&ga, &f, 8);
    let start = best_after(&ga, 1, &f, 2);
    let end = best_after(&ga, 1, &f, 80);
    assert!(end > start + 0.3 && end > -0.3, "deep GA: {start} -> {end}");
}

#[test]
fn deep_ga_without_validation_conforms() {
    let t = table();
    let f = chain_fitness(&t);
    let ga = DeepGa::new(DeepGaConfig {
        elite_episodes: 0,
        ..ga_cfg()
    })
    .unwrap();
    check_strategy(&ga, &f, 6);
}

#[test]
fn random_search_conforms_and_keeps_fresh_genomes() {
    let t = table();
    let f = chain_fitness(&t);
    let rs = random_search(&RandomSearchConfig {
        population: 10,
        elite_candidates: 2,
        elite_episodes: 2,
    })
    .unwrap();
    check_strategy(&rs, &f, 6);
    use evonet_core::Strategy;
    let mut st = rs.init(3).unwrap();
    for _ in 0..4 {
        let c = rs.ask(&mut st);
        assert!(
            c.iter().all(|c| c.genome.mutations.is_empty()),
            "random search mutated a genome"
        );
        let res = c
            .into_iter()
            .map(|c| {
                let fit = f(&c.genome);
                evonet_core::Evaluated {
                    candidate: c,
                    outcome: evonet_core::Outcome::Done(evonet_core::Evaluation {
                        solved: false,
                        fitness: fit,
                        cost: Default::default(),
                        obs_stats: None,
                    }),
                }
            })
            .collect();
        rs.tell(&mut st, res).unwrap();
    }
}

#[test]
fn open_es_conforms_and_improves() {
    let cfg = OpenEsConfig {
        population: 20,
        sigma: 0.05,
        learning_rate: 0.05,
        l2_coeff: 0.0,
        obs_norm: true,
        obs_stats_prob: 0.5,
    };
    let es = OpenEs::new(cfg, space(), table()).unwrap();
    check_strategy(&es, &params_fitness, 8);
    let start = best_after(&es, 1, &params_fitness, 1);
    let end = best_after(&es, 1, &params_fitness, 150);
    assert!(end > start + 0.5 && end > -0.1, "open ES: {start} -> {end}");
}

#[test]
fn cma_es_conforms_and_converges() {
    for separable in [false, true] {
        let cfg = CmaEsConfig {
            population: 0,
            sigma: 0.3,
            separable,
            init_scale: 0.0,
            restarts: 0,
        };
        let es = CmaEs::new(cfg, space()).unwrap();
        check_strategy(&es, &params_fitness, 8);
        let end = best_after(&es, 1, &params_fitness, 150);
        assert!(
            end > -1e-6,
            "cma-es (separable={separable}) reached only {end}"
        );
    }
}

#[test]
fn configs_are_validated() {
    assert!(DeepGa::new(DeepGaConfig {
        truncation: 30,
        ..ga_cfg()
    })
    .is_err());
    assert!(DeepGa::new(DeepGaConfig {
        sigma: f32::NAN,
        ..ga_cfg()
    })
    .is_err());
    let bad = OpenEsConfig {
        population: 7,
        sigma: 0.1,
        learning_rate: 0.01,
        l2_coeff: 0.0,
        obs_norm: false,
        obs_stats_prob: 0.0,
    };
    assert!(OpenEs::new(bad, space(), table()).is_err());
    assert!(CmaEs::new(
        CmaEsConfig {
            population: 0,
            sigma: -1.0,
            separable: false,
            init_scale: 0.0,
            restarts: 0,
        },
        space()
    )
    .is_err());
}

/// IPOP: a search on a flat landscape stalls, restarts with twice the
/// population, keeps its best, and still passes the conformance suite.
#[test]
fn cma_es_restarts_with_doubled_population_when_stalled() {
    use evonet_core::Strategy;
    let cfg = CmaEsConfig {
        population: 6,
        sigma: 0.3,
        separable: false,
        init_scale: 1.0,
        restarts: 2,
    };
    let es = CmaEs::new(cfg, space()).unwrap();
    let flat = |_: &PolicyParams| 1.0;
    check_strategy(&es, &flat, 8);
    let mut st = es.init(4).unwrap();
    let mut sizes = Vec::new();
    for _ in 0..200 {
        let c = es.ask(&mut st);
        sizes.push(c.len());
        let res = c
            .into_iter()
            .map(|c| evonet_core::Evaluated {
                candidate: c,
                outcome: evonet_core::Outcome::Done(evonet_core::Evaluation {
                    solved: false,
                    fitness: 1.0,
                    cost: Default::default(),
                    obs_stats: None,
                }),
            })
            .collect();
        es.tell(&mut st, res).unwrap();
    }
    assert_eq!(st.restarts, 2, "two restarts allowed, both used");
    assert_eq!(sizes[0], 6);
    assert_eq!(
        *sizes.last().unwrap(),
        24,
        "population doubles at each restart"
    );
    assert!(es.champion(&st).is_some());
}
