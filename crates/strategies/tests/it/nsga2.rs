//! NSGA-II over bit strings with two conflicting objectives: it conforms,
//! finds the whole Pareto front, and its hypervolume grows.

use evonet_core::conformance::{check_strategy_with, unit_evaluation};
use evonet_core::{Evaluated, Evaluation, Outcome, Strategy};
use evonet_strategies::{Nsga2, Nsga2Config};

use super::Bits;

/// Fitness: the ones among the first 10 bits. Cost (minimised): those same
/// ones plus the zeros among the last 10. The Pareto front: the last 10
/// bits all ones, any number k of ones in the first 10 (fitness k, cost k).
// The conformance suite takes an evaluation of `&Genome`, here `&Vec<bool>`.
#[allow(clippy::ptr_arg)]
fn two_objectives(g: &Vec<bool>) -> Evaluation {
    let head = g[..10].iter().filter(|b| **b).count() as f64;
    let tail_zeros = g[10..].iter().filter(|b| !**b).count() as f64;
    Evaluation {
        details: vec![("cost".into(), head + tail_zeros)],
        ..unit_evaluation(head)
    }
}

fn cfg() -> Nsga2Config {
    Nsga2Config {
        population: 24,
        objectives: vec!["cost".into()],
        crossover_rate: 0.9,
        reference: Some(vec![1.0, 21.0]),
    }
}

fn run(
    s: &Nsga2<Vec<bool>, Bits>,
    generations: usize,
) -> (evonet_strategies::nsga2::Nsga2State<Vec<bool>>, Vec<f64>) {
    let mut st = s.init(5).unwrap();
    let mut volumes = Vec::new();
    for _ in 0..generations {
        let results = s
            .ask(&mut st)
            .into_iter()
            .map(|c| Evaluated {
                outcome: Outcome::Done(two_objectives(&c.genome)),
                candidate: c,
            })
            .collect();
        let rep = s.tell(&mut st, results).unwrap();
        volumes.push(
            rep.stats
                .iter()
                .find(|(k, _)| k == "hypervolume")
                .unwrap()
                .1,
        );
    }
    (st, volumes)
}

#[test]
fn nsga2_conforms_and_finds_the_front() {
    let s = Nsga2::new(cfg(), Bits(20)).unwrap();
    check_strategy_with(&s, &two_objectives, 6);
    let (st, volumes) = run(&s, 80);
    let front = s.front(&st);
    let mut ks: Vec<u64> = front.iter().map(|r| r.member.fitness as u64).collect();
    ks.dedup();
    for r in &front {
        // On the true front the cost equals the fitness.
        assert_eq!(r.objectives[1], -r.objectives[0], "{:?}", r.objectives);
    }
    assert!(front.len() >= 9, "{} on the front", front.len());
    // The true front's volume against the reference (1, 21): slabs of
    // height 1 and width k + 1 for k < 10, then 11 × 11: 55 + 121.
    let best = *volumes.last().unwrap();
    assert_eq!(best, 176.0, "{} -> {best}", volumes[0]);
    assert!(volumes[0] < 150.0, "{}", volumes[0]);
    assert!(volumes.windows(2).filter(|w| w[1] < w[0] - 1e-9).count() <= volumes.len() / 10);
}

#[test]
fn a_reference_bounds_the_search_to_what_adds_volume() {
    // Only fitness >= 6 lies within the bound (-6, 21): the population
    // leaves the rest and covers the bounded front (k = 6..=10).
    let bounded = Nsga2Config {
        reference: Some(vec![-6.0, 21.0]),
        ..cfg()
    };
    let s = Nsga2::new(bounded, Bits(20)).unwrap();
    let (st, _) = run(&s, 80);
    assert!(
        st.population.iter().all(|r| r.objectives[0] <= -6.0),
        "{:?}",
        st.population
            .iter()
            .map(|r| r.objectives.clone())
            .collect::<Vec<_>>()
    );
    let mut ks: Vec<u64> = s
        .front(&st)
        .iter()
        .map(|r| r.member.fitness as u64)
        .collect();
    ks.sort();
    ks.dedup();
    assert_eq!(ks, vec![6, 7, 8, 9, 10]);
}

#[test]
fn nsga2_settings_are_checked() {
    for bad in [
        Nsga2Config {
            population: 1,
            ..cfg()
        },
        Nsga2Config {
            crossover_rate: 1.5,
            ..cfg()
        },
        Nsga2Config {
            reference: Some(vec![1.0]),
            ..cfg()
        },
        Nsga2Config {
            objectives: vec!["cost".into(), "cost".into()],
            reference: None,
            ..cfg()
        },
    ] {
        assert!(Nsga2::new(bad, Bits(4)).is_err());
    }
}
