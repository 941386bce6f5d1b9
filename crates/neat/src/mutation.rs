//! NEAT mutations (Stanley & Miikkulainen 2002, section 3.1): add a node by
//! splitting a connection, add a link between unconnected nodes, perturb or
//! replace weights; plus neat-python's deletions, bias and enable toggles.

use evonet_core::SeededRng;

use crate::config::{MutationScheme, NeatParams, Perturbation};
use crate::genome::{ConnGene, NeatGenome, NodeGene, NodeKind};
use crate::innovation::InnovationTracker;

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
                    for i in 0..g.conns.len() {
                        let w = g.conns[i].weight;
                        g.conns[i].weight = if rng.bernoulli(p.weight_replace_rate) {
                            replacement(w, p, rng)
                        } else {
                            perturbed(w, p, rng)
                        };
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

/// Splits a random enabled connection `a → b` into `a → new` (weight 1) and
/// `new → b` (the old weight), disabling the old one.
pub fn add_node(
    g: &mut NeatGenome,
    p: &NeatParams,
    t: &mut InnovationTracker,
    rng: &mut SeededRng,
) {
    let mut enabled: Vec<usize> = (0..g.conns.len()).filter(|&i| g.conns[i].enabled).collect();
    // Stanley's code: in small genomes (< 15 genes) never split a link from
    // the bias input, which would only add a constant.
    if g.conns.len() < 15 && p.mutation_scheme == MutationScheme::Paper2002 {
        if let Some(bias) = g.layout.bias_input.map(|_| g.layout.inputs as u64) {
            let not_bias: Vec<usize> = enabled
                .iter()
                .copied()
                .filter(|&i| g.conns[i].from != bias)
                .collect();
            if !not_bias.is_empty() {
                enabled = not_bias;
            }
        }
    }
    if enabled.is_empty() {
        return;
    }
    let i = if g.conns.len() < 15 && p.mutation_scheme == MutationScheme::Paper2002 {
        // ...and prefer older links: step from the oldest, stopping at each
        // with probability 0.3 (wrapping around).
        let mut k = 0;
        while !rng.bernoulli(0.3) {
            k = (k + 1) % enabled.len();
        }
        enabled[k]
    } else {
        enabled[rng.below(enabled.len() as u64) as usize]
    };
    let old = g.conns[i];
    let s = t.split(old.innovation);
    if g.node(s.node).is_some() {
        // This genome already split this connection in this generation.
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

/// Links two unconnected nodes with a random weight; in feed-forward mode
/// only where no cycle closes. Gives up after `add_link_tries` draws.
pub fn add_link(
    g: &mut NeatGenome,
    p: &NeatParams,
    t: &mut InnovationTracker,
    rng: &mut SeededRng,
) {
    let targets: Vec<u64> = g
        .nodes
        .iter()
        .filter(|n| matches!(n.kind, NodeKind::Output | NodeKind::Hidden))
        .map(|n| n.id)
        .collect();
    if targets.is_empty() {
        return;
    }
    // Feed-forward genomes never close a loop; recurrent ones look for a
    // loop-closing link with `recurrent_link_prob`, else for one that is not.
    let want_loop = g.layout.recurrent && rng.bernoulli(p.recurrent_link_prob);
    let (mut stack, mut seen) = (Vec::new(), Vec::new());
    for _ in 0..p.add_link_tries {
        let from = g.nodes[rng.below(g.nodes.len() as u64) as usize].id;
        let to = targets[rng.below(targets.len() as u64) as usize];
        if g.has_conn(from, to) {
            continue;
        }
        if g.reaches_with(to, from, &mut stack, &mut seen) != want_loop {
            continue;
        }
        let weight = (rng.normal() * p.weight_init_stdev)
            .clamp(-p.weight_max_value, p.weight_max_value) as f32;
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
        return;
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
            parents: vec![],
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
}
