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

use crate::genome::NeatGenome;

/// A child of `a` (fitness `fa`) and `b` (fitness `fb`).
pub fn crossover(
    a: &NeatGenome,
    fa: f64,
    b: &NeatGenome,
    fb: f64,
    disabled_inherit: f64,
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
            if rng.bernoulli(0.5) {
                gene.weight = o.weight;
            }
            gene.enabled = !(either_disabled && rng.bernoulli(disabled_inherit));
        } else if !gene.enabled {
            gene.enabled = !rng.bernoulli(disabled_inherit);
        }
    }
    // Matching node genes (biases) from either parent.
    for n in child.nodes.iter_mut() {
        if let Some(o) = other.node(n.id) {
            if rng.bernoulli(0.5) {
                n.bias = o.bias;
            }
        }
    }
    child
}

#[cfg(test)]
mod tests {
    use super::*;
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
            let c = crossover(&a, 5.0, &b, 1.0, 0.75, &mut rng);
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
        let c = crossover(&a, 1.0, &b, 1.0, 0.75, &mut SeededRng::new(0));
        assert_eq!(c.conns.len(), 3);
    }

    #[test]
    fn disabled_genes_stay_disabled_three_times_in_four() {
        let a = genome(1, &[(1, 1.0, false)]);
        let b = genome(2, &[(1, 1.0, true)]);
        let disabled = (0..4000)
            .filter(|&s| {
                !crossover(&a, 2.0, &b, 1.0, 0.75, &mut SeededRng::new(s)).conns[0].enabled
            })
            .count();
        assert!((2850..3150).contains(&disabled), "{disabled}");
    }
}
