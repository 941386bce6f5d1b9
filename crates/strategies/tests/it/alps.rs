//! ALPS (Hornby 2006) over bit strings: the conformance suite, the layer
//! rules (ages, limits, reseeding, opening) and a climb.

use evonet_core::conformance::{best_after, check_strategy};
use evonet_core::{Evaluated, Outcome, Strategy};
use evonet_strategies::alps::AlpsState;
use evonet_strategies::{AgingScheme, Alps, AlpsConfig};

use crate::{ones, Bits};

fn small() -> AlpsConfig {
    AlpsConfig {
        layers: 4,
        layer_size: 10,
        age_gap: 3,
        aging: AgingScheme::Polynomial,
        elites: 1,
        tournament: 3,
        crossover_rate: None,
    }
}

/// One generation with fitness = the number of ones; returns how many
/// candidates were asked.
fn generation(a: &Alps<Vec<bool>, Bits>, st: &mut AlpsState<Vec<bool>>) -> usize {
    let asked = a.ask(st);
    let n = asked.len();
    let told = asked
        .into_iter()
        .map(|c| Evaluated {
            outcome: Outcome::Done(evonet_core::conformance::unit_evaluation(ones(&c.genome))),
            candidate: c,
        })
        .collect();
    a.tell(st, told).unwrap();
    n
}

#[test]
fn alps_passes_the_conformance_suite_and_climbs_bit_strings() {
    let a = Alps::new(small(), Bits(40), 0.5).unwrap();
    // 14 rounds: four reseedings, every layer opened.
    check_strategy(&a, &ones, 14);
    let start = best_after(&a, 1, &ones, 1);
    let end = best_after(&a, 1, &ones, 60);
    assert!(end >= 36.0 && end > start + 8.0, "{start} -> {end}");
}

#[test]
fn layers_open_reseed_and_hold_their_ages() {
    let cfg = small();
    let a = Alps::new(cfg.clone(), Bits(24), 0.5).unwrap();
    let mut st = a.init(7).unwrap();
    for gen in 0..40u64 {
        let before = st.layers.len();
        let asked = generation(&a, &mut st);
        let open = st.layers.len();
        // A layer opens at every reseeding until all are open.
        let expected = if gen == 0 {
            1
        } else if gen % cfg.age_gap == 0 {
            (before + 1).min(cfg.layers)
        } else {
            before
        };
        assert_eq!(open, expected, "generation {gen}");
        // Every layer is bred to its size, less its carried elite; a
        // reseeded bottom layer is all new.
        if gen > 0 {
            let reseed = gen % cfg.age_gap == 0;
            let carried = open - usize::from(reseed);
            let bred_layers = st.layers.len();
            assert!(asked <= bred_layers * cfg.layer_size, "generation {gen}");
            assert!(
                asked >= bred_layers * cfg.layer_size - carried,
                "generation {gen}"
            );
        }
        for (l, layer) in st.layers.iter().enumerate() {
            assert!(layer.len() <= cfg.layer_size, "layer {l} overfull");
            assert!(
                layer
                    .windows(2)
                    .all(|w| w[0].member.fitness >= w[1].member.fitness),
                "layer {l} is not fittest first"
            );
            if l + 1 < st.layers.len() {
                let limit = cfg.age_limit(l);
                assert!(
                    layer.iter().all(|m| m.age <= limit),
                    "generation {gen}: layer {l} holds an age above {limit}"
                );
            }
        }
        if gen > 0 && gen % cfg.age_gap == 0 {
            assert!(
                st.layers[0].iter().all(|m| m.age == 0),
                "generation {gen}: the bottom layer was not reseeded"
            );
        }
    }
    // The oldest material has climbed above the bottom layers.
    let top = st.layers.last().unwrap();
    assert!(
        top.iter().any(|m| m.age > cfg.age_limit(1)),
        "{:?}",
        top.iter().map(|m| m.age).collect::<Vec<_>>()
    );
}

#[test]
fn a_child_is_one_generation_older_than_its_oldest_parent() {
    let a = Alps::new(small(), Bits(24), 1.0).unwrap();
    let mut st = a.init(3).unwrap();
    for _ in 0..8 {
        generation(&a, &mut st);
    }
    let ages: std::collections::BTreeMap<_, _> = st
        .layers
        .iter()
        .flatten()
        .map(|m| (m.member.id, m.age))
        .collect();
    let asked = a.ask(&mut st);
    let mut checked = 0;
    for (c, &(_, age)) in asked.iter().zip(&st.slots) {
        let parents = &c.origin.as_ref().unwrap().parents;
        if parents.is_empty() {
            assert_eq!(age, 0, "a fresh individual starts at age 0");
            continue;
        }
        let oldest = parents.iter().map(|p| ages[p]).max().unwrap();
        assert_eq!(age, oldest + 1);
        checked += 1;
    }
    assert!(checked > 10);
}
