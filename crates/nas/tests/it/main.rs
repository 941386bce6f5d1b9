//! A small architecture search on the built-in digits, driven by hand
//! (the runner and the CLI drive it the same way): aging evolution over the
//! chain and the cell space with low-fidelity training, on 1 and 2 threads.

use std::path::Path;

use evonet_core::{Evaluated, Outcome, Problem, Strategy};
use evonet_nas::{
    CellSpaceConfig, ChainSpaceConfig, DataConfig, Fidelity, FinalTraining, NasProblem,
    SearchSpace, SearchSpaceConfig,
};
use evonet_strategies::{AgingEvolution, AgingEvolutionConfig};
use rayon::prelude::*;

fn problem(fidelity: Fidelity) -> NasProblem {
    let splits = DataConfig::default().load(Path::new("."), 0).unwrap();
    NasProblem::new(
        splits,
        fidelity,
        FinalTraining {
            epochs: 10,
            learning_rate: None,
            lr_schedule: None,
            augment: None,
            top_k: 1,
            ensemble: false,
            ensemble_rounds: 20,
        },
        0,
    )
}

fn fidelity() -> Fidelity {
    Fidelity {
        epochs: 2,
        batch_size: 64,
        learning_rate: 3e-3,
        lr_schedule: Default::default(),
        augment: Default::default(),
        data_fraction: 0.5,
        channel_scale: 0.5,
        time_limit_s: None,
        memory_limit_mb: None,
    }
}

/// Fitness values of every candidate of `rounds` rounds, in id order.
fn search(
    threads: usize,
    p: &NasProblem,
    space: SearchSpaceConfig,
    rounds: usize,
) -> Vec<(u64, Option<u64>, String)> {
    let space = SearchSpace::new(space, p.input(), p.classes());
    let ae = AgingEvolution::new(
        AgingEvolutionConfig {
            population: 4,
            sample: 2,
            batch: 2,
        },
        space,
    )
    .unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let mut st = ae.init(7).unwrap();
    let mut out = Vec::new();
    for _ in 0..rounds {
        let cands = ae.ask(&mut st);
        let results: Vec<Evaluated<_>> = pool.install(|| {
            cands
                .par_iter()
                .map(|c| Evaluated {
                    candidate: c.clone(),
                    outcome: match p.evaluate(&c.genome, &c.request) {
                        Ok(e) => Outcome::Done(e),
                        Err(e) => Outcome::Failed {
                            reason: e.to_string(),
                            cost: Default::default(),
                        },
                    },
                })
                .collect()
        });
        for r in &results {
            let fit = match &r.outcome {
                Outcome::Done(e) => Some(e.fitness.to_bits()),
                Outcome::Failed { .. } => None,
            };
            out.push((r.candidate.id.0, fit, r.candidate.genome.to_string()));
        }
        ae.tell(&mut st, results).unwrap();
    }
    out
}

#[test]
fn a_search_gives_the_same_candidates_and_scores_on_any_thread_count() {
    let p = problem(fidelity());
    let chain = SearchSpaceConfig::Chain(ChainSpaceConfig {
        max_layers: 5,
        ..ChainSpaceConfig::default()
    });
    let cell = SearchSpaceConfig::Cell(CellSpaceConfig {
        blocks: 3,
        filters: 8,
        reductions: 1,
        ..CellSpaceConfig::default()
    });
    for space in [chain, cell] {
        let one = search(1, &p, space.clone(), 3);
        let two = search(2, &p, space, 3);
        assert_eq!(one.len(), 8);
        assert_eq!(one, two);
        assert!(
            one.iter()
                .filter_map(|c| c.1)
                .any(|f| f64::from_bits(f) > 0.5),
            "nothing learned: {one:?}"
        );
    }
}

#[test]
fn failures_are_evaluation_errors_and_retraining_scores_the_test_split() {
    use evonet_train::{Arch, Block, ChainArch};
    let mut f = fidelity();
    f.memory_limit_mb = Some(1);
    let p = problem(f);
    let big = Arch::Chain(ChainArch {
        blocks: vec![Block::Dense { units: 4096 }],
    });
    let e = p
        .evaluate(&big, &evonet_core::EvalRequest::new(1))
        .unwrap_err()
        .to_string();
    assert!(e.contains("over the limit of 1 MiB"), "{e}");
    let p = problem(fidelity());
    let small = Arch::Chain(ChainArch {
        blocks: vec![
            Block::Conv {
                filters: 16,
                kernel: 3,
                stride: 1,
            },
            Block::Act {
                function: evonet_train::Activation::Relu,
            },
            Block::MaxPool {
                kernel: 2,
                stride: 2,
            },
        ],
    });
    let r = p.retrain(&small, 3).unwrap();
    assert!(r.test_accuracy > 0.9, "{}", r.test_accuracy);
    assert_eq!(r.losses.len(), 10);
    let d = p.describe_genome(&small).unwrap();
    assert_eq!(d["summary"], "conv3x3-16 relu max2/2");
}

/// The ensemble of three retrained networks, chosen on their holdout
/// copies' validation probabilities, is at least as accurate on
/// validation as the best of them alone (the first round picks that one,
/// and the best ensemble seen is kept), and travels through the retrain
/// problem's artifact.
#[test]
fn an_ensemble_is_chosen_on_holdout_copies_and_is_never_worse_on_validation() {
    use evonet_core::{EvalRequest, Outcome};
    use evonet_nas::{ensemble, RetrainProblem, RetrainResult};
    use evonet_train::{Activation, Arch, Block, ChainArch};
    let mut p = problem(fidelity());
    let mut fin = p.final_training().clone();
    (fin.epochs, fin.top_k, fin.ensemble) = (3, 3, true);
    p = NasProblem::new(p.splits().clone(), fidelity(), fin, 0);
    let p = std::sync::Arc::new(p);
    let dense = |units| Block::Dense { units };
    let act = Block::Act {
        function: Activation::Tanh,
    };
    let archs = [
        vec![dense(16)],
        vec![dense(32), act.clone()],
        vec![dense(8), act, dense(8)],
    ];
    let retrain = RetrainProblem::new(std::sync::Arc::clone(&p));
    let results: Vec<Result<RetrainResult, String>> = archs
        .iter()
        .enumerate()
        .map(|(i, blocks)| {
            let arch = Arch::Chain(ChainArch {
                blocks: blocks.clone(),
            });
            let e = retrain
                .evaluate(&arch, &EvalRequest::new(i as u64))
                .unwrap();
            RetrainResult::from_outcome(Outcome::Done(e))
        })
        .collect();
    let val = &p.splits().validation;
    let classes = p.classes();
    let single = |r: &RetrainResult| {
        let chosen = ensemble::select(std::slice::from_ref(&r.holdout), &val.labels, classes, 1);
        chosen.unwrap().val_accuracy
    };
    let best_single = results
        .iter()
        .map(|r| single(r.as_ref().unwrap()))
        .fold(0.0, f64::max);
    let e = ensemble::build(&p, &[10, 11, 12], &results).unwrap();
    assert!(
        e.val_accuracy >= best_single,
        "{} < {best_single}",
        e.val_accuracy
    );
    assert!(e.test_accuracy > 0.8, "{}", e.test_accuracy);
    let weights: f64 = e.members.iter().map(|m| m.weight).sum();
    assert!((weights - 1.0).abs() < 1e-12);
    assert!(e.members.iter().all(|m| (10..13).contains(&m.candidate)));
    for r in &results {
        let r = r.as_ref().unwrap();
        assert_eq!(r.holdout.len(), val.len() * classes);
    }
}
