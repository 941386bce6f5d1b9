//! NEAT mutations (Stanley & Miikkulainen 2002, section 3.1): add a node by
//! splitting a connection, add a link between unconnected nodes, perturb or
//! replace weights; plus neat-python's deletions, bias and enable toggles.

use evonet_core::{Below, SeededRng};

use crate::config::{MutationScheme, NeatParams, Perturbation, WeightInit, WeightMutation};
use crate::genome::{ConnGene, NeatGenome, NodeGene, NodeKind};
use crate::innovation::InnovationTracker;
use crate::links::Links;

/// Mutates `g` in place according to the configured scheme.
pub fn mutate(g: &mut NeatGenome, p: &NeatParams, t: &mut InnovationTracker, rng: &mut SeededRng) {
    match p.mutation_scheme {
        MutationScheme::Paper2002 => {
            // Stanley's `reproduce`: one structural mutation, or else weights.
            if rng.bernoulli(p.node_add_prob) {
                add_node(g, p, t, rng);
            } else if rng.bernoulli(p.conn_add_prob) {
                add_link(g, p, t, rng);
            } else {
                if rng.bernoulli(p.weight_mutate_rate) {
                    match p.weight_mutation {
                        WeightMutation::PerGene => {
                            for i in 0..g.conns.len() {
                                let w = g.conns[i].weight;
                                g.conns[i].weight = if rng.bernoulli(p.weight_replace_rate) {
                                    replacement(w, p, rng)
                                } else {
                                    perturbed(w, p, rng)
                                };
                            }
                        }
                        WeightMutation::SevereTail => severe_or_tail(g, p, rng),
                    }
                    mutate_biases(g, p, rng);
                }
                if rng.bernoulli(p.enabled_mutate_rate) && !g.conns.is_empty() {
                    let i = rng.below(g.conns.len() as u64) as usize;
                    g.conns[i].enabled = !g.conns[i].enabled;
                }
                if rng.bernoulli(p.conn_delete_prob) {
                    delete_conn(g, rng);
                }
                if rng.bernoulli(p.node_delete_prob) {
                    delete_node(g, rng);
                }
            }
        }
        MutationScheme::NeatPython => {
            if rng.bernoulli(p.node_add_prob) {
                add_node(g, p, t, rng);
            }
            if rng.bernoulli(p.node_delete_prob) {
                delete_node(g, rng);
            }
            if rng.bernoulli(p.conn_add_prob) {
                add_link(g, p, t, rng);
            }
            if rng.bernoulli(p.conn_delete_prob) {
                delete_conn(g, rng);
            }
            for i in 0..g.conns.len() {
                let r = rng.uniform();
                let w = g.conns[i].weight;
                if r < p.weight_mutate_rate {
                    g.conns[i].weight = perturbed(w, p, rng);
                } else if r < p.weight_mutate_rate + p.weight_replace_rate {
                    g.conns[i].weight = replacement(w, p, rng);
                }
                if rng.bernoulli(p.enabled_mutate_rate) {
                    g.conns[i].enabled = !g.conns[i].enabled;
                }
            }
            mutate_biases(g, p, rng);
        }
    }
}

/// Stanley's `Genome::mutate_link_weights` (rate 1): half the genomes are
/// shaken severely; otherwise only the newest fifth of a genome of ten or
/// more genes risks replacement, the older genes being better tried.
fn severe_or_tail(g: &mut NeatGenome, p: &NeatParams, rng: &mut SeededRng) {
    let severe = rng.bernoulli(0.5);
    let total = g.conns.len();
    let tail_from = total as f64 * 0.8;
    for (i, c) in g.conns.iter_mut().enumerate() {
        // A draw above `perturb` perturbs, else one above `replace` replaces.
        let (perturb, replace) = if severe {
            (0.3, 0.1)
        } else if total >= 10 && i as f64 > tail_from {
            (0.5, 0.3)
        } else {
            (0.0, 0.0)
        };
        let delta = draw(p, rng, p.weight_mutate_power);
        let choice = rng.uniform();
        let w = if choice >= perturb {
            c.weight as f64 + delta
        } else if choice >= replace {
            delta
        } else {
            continue;
        };
        c.weight = w.clamp(-p.weight_max_value, p.weight_max_value) as f32;
    }
}

/// A new weight (first genomes, new links), within the cap.
pub fn initial_weight(p: &NeatParams, rng: &mut SeededRng) -> f32 {
    let w = match p.weight_init_type {
        WeightInit::Gaussian => rng.normal() * p.weight_init_stdev,
        WeightInit::Uniform => {
            let r = 2.0 * p.weight_init_stdev;
            rng.uniform_range(-r, r)
        }
    };
    w.clamp(-p.weight_max_value, p.weight_max_value) as f32
}

fn draw(p: &NeatParams, rng: &mut SeededRng, power: f64) -> f64 {
    match p.weight_perturbation {
        Perturbation::Uniform => rng.uniform_range(-power, power),
        Perturbation::Gaussian => rng.normal() * power,
    }
}

fn perturbed(w: f32, p: &NeatParams, rng: &mut SeededRng) -> f32 {
    let v = w as f64 + draw(p, rng, p.weight_mutate_power);
    v.clamp(-p.weight_max_value, p.weight_max_value) as f32
}

fn replacement(_w: f32, p: &NeatParams, rng: &mut SeededRng) -> f32 {
    let v = match p.weight_perturbation {
        Perturbation::Uniform => rng.uniform_range(-p.weight_mutate_power, p.weight_mutate_power),
        Perturbation::Gaussian => rng.normal() * p.weight_init_stdev,
    };
    v.clamp(-p.weight_max_value, p.weight_max_value) as f32
}

fn mutate_biases(g: &mut NeatGenome, p: &NeatParams, rng: &mut SeededRng) {
    if p.bias_mutate_rate == 0.0 && p.bias_replace_rate == 0.0 {
        return;
    }
    for n in g.nodes.iter_mut() {
        if !matches!(n.kind, NodeKind::Hidden | NodeKind::Output) {
            continue;
        }
        let r = rng.uniform();
        let v = if r < p.bias_mutate_rate {
            n.bias as f64 + draw(p, rng, p.bias_mutate_power)
        } else if r < p.bias_mutate_rate + p.bias_replace_rate {
            rng.normal() * p.bias_init_stdev
        } else {
            continue;
        };
        n.bias = v.clamp(-p.bias_max_value, p.bias_max_value) as f32;
    }
}

/// Splits a connection `a → b` into `a → new` (weight 1) and `new → b` (the
/// old weight), disabling the old one. The paper scheme chooses the
/// connection as Stanley's code does ([`stanley_split`]), the neat-python
/// scheme uniformly among the enabled ones.
pub fn add_node(
    g: &mut NeatGenome,
    p: &NeatParams,
    t: &mut InnovationTracker,
    rng: &mut SeededRng,
) {
    let chosen = match p.mutation_scheme {
        MutationScheme::Paper2002 => stanley_split(g, rng),
        MutationScheme::NeatPython => {
            let enabled: Vec<usize> = (0..g.conns.len()).filter(|&i| g.conns[i].enabled).collect();
            (!enabled.is_empty()).then(|| enabled[rng.below(enabled.len() as u64) as usize])
        }
    };
    let Some(i) = chosen else {
        return;
    };
    let old = g.conns[i];
    let s = t.split(&old);
    if g.node(s.node).is_some() {
        // This genome already split this connection (in this generation,
        // or ever with structural numbers).
        return;
    }
    g.conns[i].enabled = false;
    insert_node(
        g,
        NodeGene {
            id: s.node,
            kind: NodeKind::Hidden,
            activation: p.activation_default,
            bias: 0.0,
        },
    );
    insert_conn(
        g,
        ConnGene {
            innovation: s.in_innovation,
            from: old.from,
            to: s.node,
            weight: 1.0,
            enabled: true,
        },
    );
    insert_conn(
        g,
        ConnGene {
            innovation: s.out_innovation,
            from: s.node,
            to: old.to,
            weight: old.weight,
            enabled: true,
        },
    );
}

/// The gene Stanley's `Genome::mutate_add_node` splits, if any. Genes from
/// the bias input are never split (that only adds a constant). In a genome
/// of fewer than 15 genes, older genes are preferred, to spread splits
/// instead of chaining them on the newest link: from the oldest enabled
/// gene, move on to the next with probability 0.3 (and past bias genes);
/// running off the end or stopping on a disabled gene gives up. Larger
/// genomes draw up to 20 genes uniformly until one is enabled.
fn stanley_split(g: &NeatGenome, rng: &mut SeededRng) -> Option<usize> {
    let bias = g.layout.bias_input.map(|_| g.layout.inputs as u64);
    let from_bias = |i: usize| Some(g.conns[i].from) == bias;
    let n = g.conns.len();
    if n < 15 {
        let mut i = (0..n).find(|&i| g.conns[i].enabled && !from_bias(i))?;
        while i < n && (rng.uniform() < 0.3 || from_bias(i)) {
            i += 1;
        }
        (i < n && g.conns[i].enabled).then_some(i)
    } else {
        (0..20)
            .map(|_| rng.below(n as u64) as usize)
            .find(|&i| g.conns[i].enabled && !from_bias(i))
    }
}

/// Links two unconnected nodes with a random weight; in feed-forward mode
/// only where no cycle closes. Gives up after `add_link_tries` draws.
pub fn add_link(
    g: &mut NeatGenome,
    p: &NeatParams,
    t: &mut InnovationTracker,
    rng: &mut SeededRng,
) {
    // Node genes are sorted by id with the fixed ones first: the outputs
    // and hidden nodes (the possible targets) are one contiguous run.
    let first_target = g.layout.first_output() as usize;
    debug_assert!(g.nodes[first_target..]
        .iter()
        .all(|n| matches!(n.kind, NodeKind::Output | NodeKind::Hidden)));
    let targets = g.nodes.len().saturating_sub(first_target) as u64;
    if targets == 0 {
        return;
    }
    // Feed-forward genomes never close a loop; recurrent ones look for a
    // loop-closing link with `recurrent_link_prob`, else for one that is not.
    let want_loop = g.layout.recurrent && rng.bernoulli(p.recurrent_link_prob);
    let mut links = Links::of(g);
    let mut found = None;
    let (pick_from, pick_to) = (Below::new(g.nodes.len() as u64), Below::new(targets));
    for _ in 0..p.add_link_tries {
        let from = pick_from.sample(rng) as usize;
        let to = first_target + pick_to.sample(rng) as usize;
        if links.linked(from, to) || links.reaches(to, from) != want_loop {
            continue;
        }
        found = Some((g.nodes[from].id, g.nodes[to].id));
        break;
    }
    if let Some((from, to)) = found {
        let weight = initial_weight(p, rng);
        let innovation = t.link(from, to);
        insert_conn(
            g,
            ConnGene {
                innovation,
                from,
                to,
                weight,
                enabled: true,
            },
        );
    }
}

/// Removes a random connection gene.
pub fn delete_conn(g: &mut NeatGenome, rng: &mut SeededRng) {
    if !g.conns.is_empty() {
        let i = rng.below(g.conns.len() as u64) as usize;
        g.conns.remove(i);
    }
}

/// Removes a random hidden node with every connection touching it.
pub fn delete_node(g: &mut NeatGenome, rng: &mut SeededRng) {
    let hidden = g.hidden_ids();
    if hidden.is_empty() {
        return;
    }
    let id = hidden[rng.below(hidden.len() as u64) as usize];
    g.nodes.retain(|n| n.id != id);
    g.conns.retain(|c| c.from != id && c.to != id);
}

fn insert_node(g: &mut NeatGenome, n: NodeGene) {
    let pos = g.nodes.partition_point(|x| x.id < n.id);
    g.nodes.insert(pos, n);
}

fn insert_conn(g: &mut NeatGenome, c: ConnGene) {
    let pos = g.conns.partition_point(|x| x.innovation < c.innovation);
    if g.conns
        .get(pos)
        .is_some_and(|x| x.innovation == c.innovation)
    {
        return;
    }
    g.conns.insert(pos, c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Preset;
    use crate::genome::{fixed_nodes, Layout};
    use evonet_nn::Activation;

    fn start() -> (NeatGenome, InnovationTracker) {
        let layout = Layout {
            inputs: 2,
            outputs: 1,
            bias_input: Some(1.0),
            recurrent: false,
        };
        let conns = (0..3)
            .map(|i| ConnGene {
                innovation: i,
                from: i,
                to: 3,
                weight: 0.5,
                enabled: true,
            })
            .collect();
        let g = NeatGenome {
            id: 0,
            parents: Vec::new(),
            layout,
            nodes: fixed_nodes(&layout, Activation::SteepenedSigmoid),
            conns,
        };
        (g, InnovationTracker::new(3, 4))
    }

    #[test]
    fn add_node_splits_a_link_preserving_the_function_shape() {
        let (mut g, mut t) = start();
        let p = Preset::Paper2002.params();
        let mut rng = SeededRng::new(1);
        add_node(&mut g, &p, &mut t, &mut rng);
        assert_eq!(g.hidden_nodes(), 1);
        assert_eq!(g.conns.len(), 5);
        assert_eq!(g.enabled_conns(), 4);
        let old = g.conns.iter().find(|c| !c.enabled).unwrap();
        let into = g.conns.iter().find(|c| c.to == 4).unwrap();
        let out = g.conns.iter().find(|c| c.from == 4).unwrap();
        assert_eq!((into.from, into.weight), (old.from, 1.0));
        assert_eq!((out.to, out.weight), (old.to, old.weight));
        g.check().unwrap();
    }

    #[test]
    fn add_link_never_closes_a_cycle_in_feed_forward_mode() {
        let p = Preset::Paper2002.params();
        for seed in 0..200 {
            let (mut g, mut t) = start();
            let mut rng = SeededRng::new(seed);
            for _ in 0..6 {
                add_node(&mut g, &p, &mut t, &mut rng);
                add_link(&mut g, &p, &mut t, &mut rng);
            }
            g.check().unwrap();
            let spec = g.to_graph().unwrap();
            evonet_nn::GraphNet::new(&spec).expect("acyclic");
            // No duplicate links.
            for (i, a) in g.conns.iter().enumerate() {
                for b in &g.conns[i + 1..] {
                    assert!((a.from, a.to) != (b.from, b.to), "seed {seed}");
                }
            }
        }
    }

    #[test]
    fn weights_stay_within_their_cap_and_deletions_keep_the_genome_valid() {
        let mut p = Preset::NeatPython.params();
        p.weight_mutate_power = 100.0;
        let (mut g, mut t) = start();
        let mut rng = SeededRng::new(3);
        for _ in 0..300 {
            mutate(&mut g, &p, &mut t, &mut rng);
            g.check().unwrap();
        }
        assert!(g
            .conns
            .iter()
            .all(|c| c.weight.abs() <= p.weight_max_value as f32));
    }

    #[test]
    fn stanley_splits_prefer_the_oldest_gene_and_may_give_up() {
        // Genes 0 and 1 come from the inputs, gene 2 from the bias.
        let (g, _) = start();
        let mut counts = [0usize; 4];
        for seed in 0..10_000 {
            let i = stanley_split(&g, &mut SeededRng::new(seed));
            counts[i.unwrap_or(3)] += 1;
        }
        assert_eq!(counts[2], 0, "never the bias gene");
        // 0.7 the oldest, 0.3 · 0.7 the next, 0.3² nothing.
        for (got, want) in [(counts[0], 7000.0), (counts[1], 2100.0), (counts[3], 900.0)] {
            assert!((got as f64 - want).abs() < 150.0, "{counts:?}");
        }
        // Stopping on a disabled gene gives up.
        let (mut g, _) = start();
        g.conns[1].enabled = false;
        let gave_up = (0..1000)
            .filter(|&s| stanley_split(&g, &mut SeededRng::new(s)).is_none())
            .count();
        assert!((250..350).contains(&gave_up), "{gave_up}");
    }

    #[test]
    fn severe_and_tail_modes_spare_older_genes() {
        let (mut g, _) = start();
        g.conns = (0..20)
            .map(|i| ConnGene {
                innovation: i,
                from: 0,
                to: 3,
                weight: 0.5,
                enabled: true,
            })
            .collect();
        let p = Preset::Paper2002.params();
        let (mut head_kept, mut tail_kept) = (0, 0);
        for seed in 0..2000 {
            let mut c = g.clone();
            severe_or_tail(&mut c, &p, &mut SeededRng::new(seed));
            let kept = |r: std::ops::Range<usize>| r.filter(|&i| c.conns[i].weight == 0.5).count();
            head_kept += kept(0..16);
            tail_kept += kept(17..20);
            assert!(c.conns.iter().all(|c| c.weight.abs() <= 8.0));
        }
        // Kept: 10% in severe genomes (half of them); in the tail also 30%
        // of the others. Gene 16 is neither (the tail starts above 80%).
        let head = head_kept as f64 / (2000.0 * 16.0);
        let tail = tail_kept as f64 / (2000.0 * 3.0);
        assert!((head - 0.05).abs() < 0.01, "{head}");
        assert!((tail - 0.20).abs() < 0.02, "{tail}");
    }

    #[test]
    fn uniform_initial_weights_span_two_deviations() {
        let mut p = Preset::Paper2002.params();
        p.weight_init_type = WeightInit::Uniform;
        p.weight_init_stdev = 0.5;
        let w: Vec<f32> = (0..2000)
            .map(|s| initial_weight(&p, &mut SeededRng::new(s)))
            .collect();
        assert!(w.iter().all(|w| w.abs() < 1.0));
        assert!(w.iter().any(|&w| w > 0.95) && w.iter().any(|&w| w < -0.95));
    }
}
