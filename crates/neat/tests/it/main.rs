//! Integration tests of the NEAT strategy: the shared strategy contract,
//! and NEAT solving XOR on its own (fitness of the paper).

use evonet_core::conformance::check_strategy;
use evonet_core::{Candidate, Evaluated, Evaluation, Outcome, Strategy};
use evonet_neat::{Neat, NeatGenome, Preset, Representative};
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
                    details: Vec::new(),
                    artifact: Vec::new(),
                    behavior: None,
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

fn constant(cands: Vec<Candidate<NeatGenome>>) -> Vec<Evaluated<NeatGenome>> {
    cands
        .into_iter()
        .map(|c| Evaluated {
            candidate: c,
            outcome: Outcome::Done(Evaluation {
                solved: false,
                fitness: 1.0,
                cost: Default::default(),
                obs_stats: None,
                details: Vec::new(),
                artifact: Vec::new(),
                behavior: None,
            }),
        })
        .collect()
}

#[test]
fn stagnant_species_stop_reproducing_except_the_best() {
    let s = Neat::new(Preset::Paper2002.params(), 2, 1).unwrap();
    let mut st = s.init(9).unwrap();
    let mut checked = 0;
    for _ in 0..40 {
        let cands = s.ask(&mut st);
        let rep = s.tell(&mut st, constant(cands)).unwrap();
        let stagnant: Vec<_> = rep.species.iter().filter(|r| r.staleness >= 15).collect();
        if stagnant.len() > 1 {
            // Equal fitness everywhere: only the first species is protected.
            let breeding = stagnant.iter().filter(|r| r.offspring > 0).count();
            assert!(
                breeding <= 1,
                "stagnant species reproduced: {:?}",
                rep.species
            );
            checked += 1;
        }
        assert!(!st.population.is_empty());
    }
    assert!(checked > 0, "no generation had stagnant species");
}

#[test]
fn species_champions_are_copied_unchanged() {
    let s = Neat::new(Preset::Paper2002.params(), 2, 1).unwrap();
    let mut st = s.init(2).unwrap();
    for _ in 0..15 {
        let old = st.clone();
        let (res, _) = evaluate(s.ask(&mut st));
        let fit = fitnesses(&res);
        let rep = s.tell(&mut st, res).unwrap();
        for (sp, r) in old.species.iter().zip(&rep.species) {
            if sp.members.len() < 6 || r.offspring == 0 {
                continue;
            }
            let best = best_member(&sp.members, &fit);
            let champ = &old.population[best];
            let copy = st
                .population
                .iter()
                .find(|g| g.parents == vec![champ.id])
                .unwrap_or_else(|| panic!("no copy of species {}'s champion", sp.id));
            assert_eq!((&copy.nodes, &copy.conns), (&champ.nodes, &champ.conns));
            assert_ne!(copy.id, champ.id, "copies get fresh ids");
        }
    }
}

#[test]
fn identical_mutations_of_a_generation_share_innovation_numbers() {
    let mut p = Preset::Paper2002.params();
    p.conn_add_prob = 0.5;
    p.node_add_prob = 0.3;
    let s = Neat::new(p, 3, 2).unwrap();
    let mut st = s.init(4).unwrap();
    let mut shared = 0;
    for _ in 0..10 {
        let first_new = st.tracker.next_innovation();
        let (res, _) = evaluate_any(s.ask(&mut st));
        s.tell(&mut st, res).unwrap();
        let mut seen = std::collections::BTreeMap::new();
        for g in &st.population {
            for c in g.conns.iter().filter(|c| c.innovation >= first_new) {
                let prev = seen.insert((c.from, c.to), c.innovation);
                if let Some(i) = prev {
                    assert_eq!(i, c.innovation, "same link, two numbers in one generation");
                    shared += 1;
                }
            }
        }
        // And one number always means one link.
        let mut by_innovation = std::collections::BTreeMap::new();
        for g in &st.population {
            for c in &g.conns {
                let prev = by_innovation.insert(c.innovation, (c.from, c.to));
                assert!(prev.is_none_or(|l| l == (c.from, c.to)));
            }
        }
    }
    assert!(shared > 0, "no shared innovation was exercised");
}

#[test]
fn target_species_steers_the_threshold() {
    let mut p = Preset::Paper2002.params();
    p.target_species = 8;
    let s = Neat::new(p, 2, 1).unwrap();
    let mut st = s.init(1).unwrap();
    let mut counts = Vec::new();
    for _ in 0..60 {
        let (res, _) = evaluate_any(s.ask(&mut st));
        let rep = s.tell(&mut st, res).unwrap();
        counts.push(rep.species.len());
    }
    let late: f64 = counts[40..].iter().sum::<usize>() as f64 / 20.0;
    assert!((4.0..=14.0).contains(&late), "species counts {counts:?}");
    assert_ne!(st.compat_threshold, 3.0, "the threshold never moved");
}

/// XOR fitness for networks of any input count (the extra inputs unused).
fn evaluate_any(cands: Vec<Candidate<NeatGenome>>) -> (Vec<Evaluated<NeatGenome>>, bool) {
    let r = cands
        .into_iter()
        .map(|c| {
            let f = c
                .genome
                .conns
                .iter()
                .map(|g| g.weight.abs() as f64)
                .sum::<f64>();
            Evaluated {
                candidate: c,
                outcome: Outcome::Done(Evaluation {
                    solved: false,
                    fitness: f,
                    cost: Default::default(),
                    obs_stats: None,
                    details: Vec::new(),
                    artifact: Vec::new(),
                    behavior: None,
                }),
            }
        })
        .collect();
    (r, false)
}

#[test]
fn unchecked_species_offer_their_champions_in_turn() {
    let mut p = Preset::Paper2002.params();
    p.check_unchecked_species = true;
    p.pop_size = 60;
    p.compatibility_threshold = 0.5;
    let s = Neat::new(p, 3, 2).unwrap();
    let mut st = s.init(6).unwrap();
    for gen in 0..8 {
        let old = st.clone();
        let (res, _) = evaluate_any(s.ask(&mut st));
        let fit = fitnesses(&res);
        s.tell(&mut st, res).unwrap();
        // One more species was offered, never one offered before...
        let any_unchecked = old
            .species
            .iter()
            .any(|sp| !old.checked_species.contains(&sp.id));
        assert!(
            any_unchecked,
            "generation {gen}: every species was already offered"
        );
        assert_eq!(st.checked_species.len(), old.checked_species.len() + 1);
        let new: Vec<u64> = st
            .checked_species
            .iter()
            .copied()
            .filter(|id| !old.checked_species.contains(id))
            .collect();
        assert_eq!(new.len(), 1);
        // ...and the champion is that species' best member.
        let sp = old.species.iter().find(|sp| sp.id == new[0]).unwrap();
        let best = best_member(&sp.members, &fit);
        assert_eq!(s.champion(&st).unwrap().genome.id, old.population[best].id);
    }
}

#[test]
fn best_representatives_are_the_fittest_of_their_species() {
    let mut p = Preset::Paper2002.params();
    p.species_representative = Representative::Best;
    p.pop_size = 60;
    p.compatibility_threshold = 0.5;
    let s = Neat::new(p, 3, 2).unwrap();
    let mut st = s.init(4).unwrap();
    for _ in 0..5 {
        let old = st.clone();
        let (res, _) = evaluate_any(s.ask(&mut st));
        let fit = fitnesses(&res);
        s.tell(&mut st, res).unwrap();
        let mut compared = 0;
        for sp in &st.species {
            // Species that existed before carry their old best member.
            if let Some(was) = old.species.iter().find(|o| o.id == sp.id) {
                let best = best_member(&was.members, &fit);
                assert_eq!(sp.representative.id, old.population[best].id);
                compared += 1;
            }
        }
        assert!(compared > 0);
    }
}

/// The fitness of each result (failures: −∞).
fn fitnesses(res: &[Evaluated<NeatGenome>]) -> Vec<f64> {
    res.iter()
        .map(|r| match &r.outcome {
            Outcome::Done(e) => e.fitness,
            _ => f64::NEG_INFINITY,
        })
        .collect()
}

/// The fittest of `members` (the earliest among equals).
fn best_member(members: &[usize], fit: &[f64]) -> usize {
    members
        .iter()
        .copied()
        .max_by(|&a, &b| fit[a].total_cmp(&fit[b]).then(b.cmp(&a)))
        .expect("species are never empty")
}
