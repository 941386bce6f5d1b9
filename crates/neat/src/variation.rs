//! NEAT's operators as a [`Variation`], for the generic strategies that
//! choose parents themselves (ALPS, Hornby 2006): a fresh genome is NEAT's
//! minimal one (every input linked to every output, random weights), a
//! mutation is NEAT's ([`crate::mutation::mutate`]) and a crossover aligns
//! genes by innovation and takes disjoint and excess genes from the first
//! (fitter) parent ([`crate::crossover::crossover`]).
//!
//! Without NEAT's generation-wide tracker, innovation numbers are
//! structural ([`InnovationTracker::structural`]): the same link or split
//! gets the same number in every genome, whenever it was made.

use evonet_core::{SeededRng, Variation};

use crate::crossover::{crossover, Inherit};
use crate::genome::NeatGenome;
use crate::innovation::InnovationTracker;
use crate::mutation::mutate;
use crate::neat::Neat;

/// NEAT's variation operators over genomes of one layout.
#[derive(Debug, Clone)]
pub struct NeatVariation {
    neat: Neat,
}

impl NeatVariation {
    /// The operators of `neat`'s settings and layout.
    pub fn new(neat: Neat) -> Self {
        Self { neat }
    }

    /// NEAT's share of children made by crossover (1 − `mutate_only_prob`).
    pub fn crossover_rate(&self) -> f64 {
        1.0 - self.neat.params().mutate_only_prob
    }
}

/// What a mutation changed, in words (`"+1 node, +2 links"`, `"weights"`).
fn describe_change(before: &NeatGenome, after: &NeatGenome) -> String {
    let nodes = after.nodes.len() as i64 - before.nodes.len() as i64;
    let links = after.conns.len() as i64 - before.conns.len() as i64;
    let mut words = Vec::new();
    if nodes != 0 {
        words.push(format!(
            "{nodes:+} node{}",
            if nodes.abs() == 1 { "" } else { "s" }
        ));
    }
    if links != 0 {
        words.push(format!(
            "{links:+} link{}",
            if links.abs() == 1 { "" } else { "s" }
        ));
    }
    if words.is_empty() {
        "neat weights".into()
    } else {
        format!("neat {}", words.join(", "))
    }
}

impl Variation<NeatGenome> for NeatVariation {
    fn random(&self, rng: &mut SeededRng) -> NeatGenome {
        self.neat.initial_genome(0, rng)
    }

    fn mutate(&self, parent: &NeatGenome, rng: &mut SeededRng) -> (NeatGenome, String) {
        let mut child = parent.child(0, Vec::new());
        let mut tracker = InnovationTracker::structural();
        mutate(&mut child, self.neat.params(), &mut tracker, rng);
        let words = describe_change(parent, &child);
        (child, words)
    }

    fn crossover(
        &self,
        a: &NeatGenome,
        b: &NeatGenome,
        rng: &mut SeededRng,
    ) -> Option<(NeatGenome, String)> {
        let p = self.neat.params();
        let inherit = Inherit {
            disabled: p.disabled_gene_inherit_prob,
            rule: p.disabled_gene_rule,
            average: p.crossover_average_prob > 0.0 && rng.bernoulli(p.crossover_average_prob),
        };
        // `a` is the fitter parent (the Variation contract).
        let mut child = crossover(a, 1.0, b, 0.0, inherit, rng);
        child.id = 0;
        child.parents.clear();
        Some((child, "neat crossover".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{NeatConfig, Preset};

    fn variation() -> NeatVariation {
        let cfg = NeatConfig {
            preset: Preset::Paper2002,
            ..NeatConfig::default()
        };
        NeatVariation::new(Neat::new(cfg.resolve(), 3, 2).unwrap())
    }

    #[test]
    fn mutated_and_crossed_genomes_stay_valid_networks() {
        let v = variation();
        let mut rng = SeededRng::new(5);
        let mut pool: Vec<NeatGenome> = (0..8).map(|_| v.random(&mut rng)).collect();
        for round in 0..400 {
            let i = rng.below(pool.len() as u64) as usize;
            let j = rng.below(pool.len() as u64) as usize;
            let child = if round % 3 == 0 {
                v.crossover(&pool[i], &pool[j], &mut rng).unwrap().0
            } else {
                v.mutate(&pool[i], &mut rng).0
            };
            child.check().unwrap();
            child.to_graph().unwrap();
            assert!(child
                .conns
                .windows(2)
                .all(|w| w[0].innovation < w[1].innovation));
            pool[j] = child;
        }
        assert!(
            pool.iter().any(|g| g.hidden_nodes() > 0),
            "no node was ever added"
        );
    }

    #[test]
    fn the_same_split_in_two_lines_gets_the_same_genes() {
        // Two copies mutated apart until both split a link: the genes they
        // share carry the same numbers, so crossover aligns them.
        let v = variation();
        let g = v.random(&mut SeededRng::new(1));
        let mut seen = std::collections::BTreeMap::new();
        for seed in 0..200 {
            let (child, _) = v.mutate(&g, &mut SeededRng::new(seed));
            for c in &child.conns {
                let key = (c.from, c.to);
                assert_eq!(*seen.entry(key).or_insert(c.innovation), c.innovation);
            }
        }
    }
}
