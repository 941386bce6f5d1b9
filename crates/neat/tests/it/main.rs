//! Integration tests of the NEAT strategy: the shared strategy contract,
//! and NEAT solving XOR on its own (fitness of the paper).

use evonet_core::conformance::check_strategy;
use evonet_core::{Candidate, Evaluated, Evaluation, Outcome, Strategy};
use evonet_neat::{Neat, NeatGenome, Preset};
use evonet_nn::GraphNet;

/// (4 − Σ|out − target|)², and whether all four patterns are right.
fn xor(g: &NeatGenome) -> (f64, bool) {
    let net = GraphNet::new(&g.to_graph().unwrap()).unwrap();
    let mut st = net.state(4);
    let mut out = [0.0f32; 4];
    net.forward(&[0., 0., 0., 1., 1., 0., 1., 1.], 4, &mut st, &mut out);
    let target = [0.0, 1.0, 1.0, 0.0];
    let err: f64 = out
        .iter()
        .zip(target)
        .map(|(o, t)| (*o as f64 - t).abs())
        .sum();
    let ok = out.iter().zip(target).all(|(o, t)| (*o > 0.5) == (t > 0.5));
    ((4.0 - err).powi(2), ok)
}

fn evaluate(cands: Vec<Candidate<NeatGenome>>) -> (Vec<Evaluated<NeatGenome>>, bool) {
    let mut solved = false;
    let r = cands
        .into_iter()
        .map(|c| {
            let (fitness, ok) = xor(&c.genome);
            solved |= ok;
            Evaluated {
                candidate: c,
                outcome: Outcome::Done(Evaluation {
                    solved: ok,
                    fitness,
                    cost: Default::default(),
                    obs_stats: None,
                }),
            }
        })
        .collect();
    (r, solved)
}

#[test]
fn neat_meets_the_strategy_contract() {
    let mut p = Preset::Paper2002.params();
    p.pop_size = 30;
    let s = Neat::new(p, 2, 1).unwrap();
    check_strategy(&s, &|g: &NeatGenome| xor(g).0, 12);
    let mut q = Preset::NeatPython.params();
    q.pop_size = 30;
    let s = Neat::new(q, 2, 1).unwrap();
    check_strategy(&s, &|g: &NeatGenome| xor(g).0, 12);
}

#[test]
fn paper_settings_solve_xor_with_minimal_structure() {
    let s = Neat::new(Preset::Paper2002.params(), 2, 1).unwrap();
    let mut solved_runs = 0;
    for seed in 0..10 {
        let mut st = s.init(seed).unwrap();
        for _gen in 0..150 {
            let (res, solved) = evaluate(s.ask(&mut st));
            let winner_hidden = res
                .iter()
                .filter(|r| xor(&r.candidate.genome).1)
                .map(|r| r.candidate.genome.hidden_nodes())
                .min();
            s.tell(&mut st, res).unwrap();
            if solved {
                // XOR is not linearly separable: a solution needs a hidden node.
                assert!(winner_hidden.unwrap() >= 1);
                solved_runs += 1;
                break;
            }
        }
        // Ids never repeat and species ids only grow.
        let ids: std::collections::BTreeSet<u64> = st.population.iter().map(|g| g.id).collect();
        assert_eq!(ids.len(), st.population.len());
        assert!(st.species.windows(2).all(|w| w[0].id < w[1].id));
    }
    assert!(solved_runs >= 9, "only {solved_runs} of 10 runs solved XOR");
}

#[test]
fn species_report_adds_up_to_the_population() {
    let s = Neat::new(Preset::Paper2002.params(), 2, 1).unwrap();
    let mut st = s.init(5).unwrap();
    for _ in 0..20 {
        let (res, _) = evaluate(s.ask(&mut st));
        let rep = s.tell(&mut st, res).unwrap();
        assert_eq!(rep.species.iter().map(|r| r.size).sum::<usize>(), 150);
        assert_eq!(rep.species.iter().map(|r| r.offspring).sum::<usize>(), 150);
        assert_eq!(st.population.len(), 150);
    }
}
