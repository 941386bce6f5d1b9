//! NEAT crossover (Stanley & Miikkulainen 2002, section 3.2): genes are
//! aligned by innovation number; matching genes come from either parent at
//! random, disjoint and excess genes from the fitter parent. A gene disabled
//! in either parent stays disabled with probability
//! `disabled_gene_inherit_prob` (0.75).
//!
//! When both parents are equally fit the paper takes disjoint and excess
//! genes from both; Stanley's code (`mate_multipoint`) instead treats the
//! smaller genome as the fitter one, which keeps feed-forward children
//! acyclic and free of duplicate links. evonet follows the code.

use evonet_core::SeededRng;

use crate::config::DisabledGenes;
use crate::genome::NeatGenome;

/// How genes are inherited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inherit {
    /// A gene disabled in either parent stays disabled with this probability.
    pub disabled: f64,
    /// Which genes that probability applies to.
    pub rule: DisabledGenes,
    /// Matching weights are averaged instead of taken from one parent
    /// (Stanley's `mate_multipoint_avg`).
    pub average: bool,
}

/// A child of `a` (fitness `fa`) and `b` (fitness `fb`).
pub fn crossover(
    a: &NeatGenome,
    fa: f64,
    b: &NeatGenome,
    fb: f64,
    inherit: Inherit,
    rng: &mut SeededRng,
) -> NeatGenome {
    let a_fitter = fa > fb || (fa == fb && a.conns.len() <= b.conns.len());
    let (fit, other) = if a_fitter { (a, b) } else { (b, a) };
    let mut child = fit.child(0, vec![fit.id, other.id]);
    let mut j = 0;
    for gene in child.conns.iter_mut() {
        while j < other.conns.len() && other.conns[j].innovation < gene.innovation {
            j += 1;
        }
        if let Some(o) = other
            .conns
            .get(j)
            .filter(|o| o.innovation == gene.innovation)
        {
            let either_disabled = !gene.enabled || !o.enabled;
            // The gene taken (Stanley's averaged gene is a new, enabled one).
            let taken = if inherit.average {
                gene.weight = (gene.weight + o.weight) / 2.0;
                true
            } else if rng.bernoulli(0.5) {
                gene.weight = o.weight;
                o.enabled
            } else {
                gene.enabled
            };
            let disable = either_disabled && rng.bernoulli(inherit.disabled);
            gene.enabled = match inherit.rule {
                DisabledGenes::EitherParent => !disable,
                DisabledGenes::Stanley => taken && !disable,
            };
        } else if !gene.enabled && inherit.rule == DisabledGenes::EitherParent {
            gene.enabled = !rng.bernoulli(inherit.disabled);
        }
    }
    // Matching node genes (biases) from either parent; both lists are
    // sorted by id, so one merge walk finds them.
    let mut j = 0;
    for n in child.nodes.iter_mut() {
        while j < other.nodes.len() && other.nodes[j].id < n.id {
            j += 1;
        }
        if let Some(o) = other.nodes.get(j).filter(|o| o.id == n.id) {
            if inherit.average {
                n.bias = (n.bias + o.bias) / 2.0;
            } else if rng.bernoulli(0.5) {
                n.bias = o.bias;
            }
        }
    }
    child
}

#[cfg(test)]
mod tests {
    use super::*;

    const PICK: Inherit = Inherit {
        disabled: 0.75,
        rule: DisabledGenes::EitherParent,
        average: false,
    };
    use crate::genome::test_genome as genome;

    #[test]
    fn structure_from_the_fitter_weights_from_either() {
        let a = genome(1, &[(1, 1.0, true), (2, 1.0, true), (5, 1.0, true)]);
        let b = genome(
            2,
            &[
                (1, 2.0, true),
                (3, 2.0, true),
                (4, 2.0, true),
                (6, 2.0, true),
            ],
        );
        let mut from_b = 0;
        for seed in 0..400 {
            let mut rng = SeededRng::new(seed);
            let c = crossover(&a, 5.0, &b, 1.0, PICK, &mut rng);
            let inn: Vec<u64> = c.conns.iter().map(|g| g.innovation).collect();
            assert_eq!(inn, vec![1, 2, 5]);
            assert_eq!(c.conns[1].weight, 1.0);
            if c.conns[0].weight == 2.0 {
                from_b += 1;
            }
            assert_eq!(c.parents, vec![1, 2]);
        }
        assert!((150..250).contains(&from_b), "{from_b}");
        // Equal fitness: the smaller genome's structure.
        let c = crossover(&a, 1.0, &b, 1.0, PICK, &mut SeededRng::new(0));
        assert_eq!(c.conns.len(), 3);
    }

    #[test]
    fn disabled_genes_stay_disabled_three_times_in_four() {
        let a = genome(1, &[(1, 1.0, false)]);
        let b = genome(2, &[(1, 1.0, true)]);
        let disabled = (0..4000)
            .filter(|&s| {
                !crossover(&a, 2.0, &b, 1.0, PICK, &mut SeededRng::new(s)).conns[0].enabled
            })
            .count();
        assert!((2850..3150).contains(&disabled), "{disabled}");
    }

    #[test]
    fn averaging_crossover_takes_the_mean_of_matching_weights() {
        let a = genome(1, &[(1, 1.0, true), (2, 3.0, true)]);
        let b = genome(2, &[(1, 2.0, true), (3, 5.0, true)]);
        let avg = Inherit {
            average: true,
            ..PICK
        };
        let c = crossover(&a, 2.0, &b, 1.0, avg, &mut SeededRng::new(0));
        let w: Vec<(u64, f32)> = c.conns.iter().map(|g| (g.innovation, g.weight)).collect();
        assert_eq!(w, vec![(1, 1.5), (2, 3.0)]);
    }

    #[test]
    fn stanley_rule_keeps_disabled_genes_disabled_unless_chosen_enabled() {
        // Gene 1 disabled in both, gene 2 disabled in the fitter parent
        // only, gene 3 a disabled disjoint gene of the fitter parent.
        let a = genome(1, &[(1, 1.0, false), (2, 1.0, false), (3, 1.0, false)]);
        let b = genome(2, &[(1, 2.0, false), (2, 2.0, true)]);
        let rule = Inherit {
            rule: DisabledGenes::Stanley,
            ..PICK
        };
        let mut gene2_enabled = 0;
        for seed in 0..2000 {
            let c = crossover(&a, 2.0, &b, 1.0, rule, &mut SeededRng::new(seed));
            assert!(!c.conns[0].enabled && !c.conns[2].enabled, "seed {seed}");
            // Enabled only when taken from b (½) and not disabled (¼).
            gene2_enabled += usize::from(c.conns[1].enabled);
        }
        assert!((200..300).contains(&gene2_enabled), "{gene2_enabled}");
    }
}
