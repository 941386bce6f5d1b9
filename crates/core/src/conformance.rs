//! The conformance suite every strategy passes (`check_strategy`).
//!
//! It drives a strategy against a cheap fitness function and checks the
//! `Strategy` contract: unique ids, order-independent and failure-tolerant
//! `tell`, exact continuation from a serialised state, and determinism.

use crate::candidate::{Candidate, Cost, Evaluated, Evaluation, Outcome};
use crate::seed::SeededRng;
use crate::strategy::Strategy;

/// How the suite evaluates a genome: its fitness...
pub type FitnessFn<'a, G> = &'a (dyn Fn(&G) -> f64 + Sync);
/// ...or its whole evaluation (a behaviour for novelty search).
pub type EvaluationFn<'a, G> = &'a (dyn Fn(&G) -> Evaluation + Sync);

/// An evaluation of one environment step that is only `fitness`.
pub fn unit_evaluation(fitness: f64) -> Evaluation {
    Evaluation {
        cost: Cost {
            env_steps: 1,
            episodes: 1,
        },
        ..Evaluation::of(fitness)
    }
}

fn evaluate<G: Clone>(cands: &[Candidate<G>], f: EvaluationFn<'_, G>) -> Vec<Evaluated<G>> {
    cands
        .iter()
        .map(|c| Evaluated {
            candidate: c.clone(),
            outcome: Outcome::Done(f(&c.genome)),
        })
        .collect()
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("strategy data must serialise")
}

/// Runs `rounds` ask/tell rounds and returns a transcript of everything asked
/// and reported, for comparisons.
fn transcript<S: Strategy>(
    s: &S,
    state: &mut S::State,
    rounds: usize,
    f: EvaluationFn<'_, S::Genome>,
    shuffle: Option<u64>,
) -> Vec<String> {
    let mut out = Vec::new();
    for r in 0..rounds {
        let cands = s.ask(state);
        out.push(json(&cands));
        let mut res = evaluate(&cands, f);
        if let Some(seed) = shuffle {
            let mut rng = SeededRng::new(seed ^ r as u64);
            for i in (1..res.len()).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                res.swap(i, j);
            }
        }
        let rep = s.tell(state, res).expect("tell");
        out.push(json(&rep));
    }
    out
}

/// Checks the contract. Panics with a message naming the broken rule.
pub fn check_strategy<S: Strategy>(s: &S, f: FitnessFn<'_, S::Genome>, rounds: usize) {
    check_strategy_with(s, &|g| unit_evaluation(f(g)), rounds)
}

/// [`check_strategy`] with evaluations made by `f` (strategies that read
/// more than the fitness: novelty search reads behaviours).
pub fn check_strategy_with<S: Strategy>(s: &S, f: EvaluationFn<'_, S::Genome>, rounds: usize) {
    let name = s.name();
    // Same seed, same run; another seed, another run.
    let mut a = s.init(11).expect("init");
    let mut b = s.init(11).expect("init");
    let ta = transcript(s, &mut a, rounds, f, None);
    assert_eq!(
        ta,
        transcript(s, &mut b, rounds, f, None),
        "{name}: same seed gave different runs"
    );
    let mut c = s.init(12).expect("init");
    assert_ne!(
        ta,
        transcript(s, &mut c, rounds, f, None),
        "{name}: different seeds gave the same run"
    );

    // Results in any order give the same continuation.
    let mut d = s.init(11).expect("init");
    let td = transcript(s, &mut d, rounds, f, Some(5));
    assert_eq!(ta, td, "{name}: shuffled results changed the run");

    // Unique ids over the whole run.
    let mut e = s.init(13).expect("init");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..rounds {
        let cands = s.ask(&mut e);
        assert!(!cands.is_empty(), "{name}: ask returned no candidates");
        for c in &cands {
            assert!(seen.insert(c.id), "{name}: candidate id {} repeated", c.id);
        }
        s.tell(&mut e, evaluate(&cands, f)).expect("tell");
    }

    // Serialised mid-run and restored: the same continuation.
    let mut g = s.init(14).expect("init");
    transcript(s, &mut g, rounds / 2, f, None);
    let saved = serde_json::to_string(&g).expect("serialise state");
    let mut restored: S::State = serde_json::from_str(&saved).expect("deserialise state");
    let cont_a = transcript(s, &mut g, rounds - rounds / 2, f, None);
    let cont_b = transcript(s, &mut restored, rounds - rounds / 2, f, None);
    assert_eq!(
        cont_a, cont_b,
        "{name}: restored state continued differently"
    );

    // Failures and missing results are tolerated; a failed candidate never
    // becomes the champion while a successful one exists.
    let mut h = s.init(15).expect("init");
    for r in 0..rounds {
        let cands = s.ask(&mut h);
        let mut res = evaluate(&cands, f);
        let mut injected = 0;
        for (i, e) in res.iter_mut().enumerate() {
            if (i + r) % 3 == 0 {
                e.outcome = Outcome::Failed {
                    reason: "injected".into(),
                    cost: Cost::default(),
                };
                injected += 1;
            }
        }
        if res.len() > 2 {
            res.pop(); // a missing result
            injected += 1;
        }
        let rep = s.tell(&mut h, res).expect("tell with failures");
        // A round of one or two candidates (a probe round) may have none.
        assert!(
            injected == 0 || rep.failed > 0,
            "{name}: failures were not counted"
        );
    }
    if let Some(ch) = s.champion(&h) {
        assert!(
            !ch.fitness.is_infinite(),
            "{name}: a failed candidate became the champion"
        );
    }
}

/// Runs a strategy for `rounds` rounds and returns the best fitness seen.
pub fn best_after<S: Strategy>(
    s: &S,
    seed: u64,
    f: FitnessFn<'_, S::Genome>,
    rounds: usize,
) -> f64 {
    let mut st = s.init(seed).expect("init");
    let mut best = f64::NEG_INFINITY;
    let f = |g: &S::Genome| unit_evaluation(f(g));
    for _ in 0..rounds {
        let cands = s.ask(&mut st);
        let rep = s.tell(&mut st, evaluate(&cands, &f)).expect("tell");
        if rep.best_fitness > best {
            best = rep.best_fitness;
        }
    }
    best
}
