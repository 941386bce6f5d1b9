//! Innovation numbers (Stanley & Miikkulainen 2002, section 3.2): a global
//! counter, with one list per generation so that the same structural
//! mutation made twice in one generation gets the same numbers.
//!
//! Strategies without a generation-wide tracker (ALPS over NEAT genomes,
//! which mutates through [`crate::variation::NeatVariation`]) use the
//! structural numbering instead ([`InnovationTracker::structural`]), as
//! neat-python keys connections by their end nodes: a link's innovation is
//! a function of its end nodes and a split node's id a function of the link
//! it splits, so the same mutation gets the same numbers in any genome, in
//! any generation, with no state to checkpoint.
//!
//! Ordered maps keep the state serialisable and iteration order fixed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::genome::ConnGene;

/// The genes an add-node mutation of one connection creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSplit {
    pub node: u64,
    /// Innovation of `from → node` (weight 1).
    pub in_innovation: u64,
    /// Innovation of `node → to` (the old weight).
    pub out_innovation: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnovationTracker {
    next_innovation: u64,
    next_node: u64,
    /// This generation's new links, by `(from, to)`. Only alive during
    /// reproduction (cleared before and after), so never part of a
    /// checkpoint.
    #[serde(skip)]
    links: BTreeMap<(u64, u64), u64>,
    /// This generation's node splits, by the innovation of the split link.
    #[serde(skip)]
    splits: BTreeMap<u64, NodeSplit>,
    /// Numbers are functions of the genes' end nodes (no counter).
    #[serde(default)]
    structural: bool,
}

/// Structural ids carry this bit: above every fixed node and every counted
/// innovation (which start at 0), so the two numberings never meet.
const STRUCTURAL: u64 = 1 << 62;

/// SplitMix64's finaliser (Steele, Lea & Flood 2014) over two ids and a
/// tag: a 62-bit id with the [`STRUCTURAL`] bit set (collisions: 2^-62).
fn structural_id(a: u64, b: u64, tag: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.rotate_left(31))
        .wrapping_add(tag.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z & (STRUCTURAL - 1)) | STRUCTURAL
}

impl InnovationTracker {
    /// Starts after the initial genes: `first_innovation` connection genes
    /// and `first_node` fixed nodes.
    pub fn new(first_innovation: u64, first_node: u64) -> Self {
        Self {
            next_innovation: first_innovation,
            next_node: first_node,
            links: BTreeMap::new(),
            splits: BTreeMap::new(),
            structural: false,
        }
    }

    /// Numbers made from the genes themselves (see the module docs): the
    /// link `from → to` is always the same innovation, and splitting it is
    /// always the same node.
    pub fn structural() -> Self {
        Self {
            structural: true,
            ..Self::new(0, 0)
        }
    }

    /// Forgets this generation's list (the counters go on).
    pub fn new_generation(&mut self) {
        self.links.clear();
        self.splits.clear();
    }

    /// The innovation number of a new link `from → to`.
    pub fn link(&mut self, from: u64, to: u64) -> u64 {
        if self.structural {
            return structural_id(from, to, 1);
        }
        let next = &mut self.next_innovation;
        *self.links.entry((from, to)).or_insert_with(|| {
            let i = *next;
            *next += 1;
            i
        })
    }

    /// The node and innovation numbers for splitting `link`.
    pub fn split(&mut self, link: &ConnGene) -> NodeSplit {
        if self.structural {
            let node = structural_id(link.from, link.to, 2);
            return NodeSplit {
                node,
                in_innovation: structural_id(link.from, node, 1),
                out_innovation: structural_id(node, link.to, 1),
            };
        }
        let innovation = link.innovation;
        if let Some(s) = self.splits.get(&innovation) {
            return *s;
        }
        let s = NodeSplit {
            node: self.next_node,
            in_innovation: self.next_innovation,
            out_innovation: self.next_innovation + 1,
        };
        self.next_node += 1;
        self.next_innovation += 2;
        self.splits.insert(innovation, s);
        s
    }

    pub fn next_innovation(&self) -> u64 {
        self.next_innovation
    }
    pub fn next_node(&self) -> u64 {
        self.next_node
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_mutation_same_generation_same_number() {
        let mut t = InnovationTracker::new(3, 4);
        let a = t.link(0, 3);
        assert_eq!(a, 3);
        assert_eq!(t.link(0, 3), a);
        assert_eq!(t.link(1, 3), 4);
        let s = t.split(&gene(0, 0, 3));
        assert_eq!(
            s,
            NodeSplit {
                node: 4,
                in_innovation: 5,
                out_innovation: 6
            }
        );
        assert_eq!(t.split(&gene(0, 0, 3)), s);
        t.new_generation();
        // A new generation: the same mutation is a new innovation.
        assert_eq!(t.link(0, 3), 7);
        assert_eq!(t.split(&gene(0, 0, 3)).node, 5);
    }

    fn gene(innovation: u64, from: u64, to: u64) -> ConnGene {
        ConnGene {
            innovation,
            from,
            to,
            weight: 0.5,
            enabled: true,
        }
    }

    #[test]
    fn structural_numbers_depend_on_the_genes_only() {
        let mut a = InnovationTracker::structural();
        let mut b = InnovationTracker::structural();
        b.new_generation();
        assert_eq!(a.link(0, 3), b.link(0, 3));
        assert_ne!(a.link(0, 3), a.link(3, 0));
        assert_ne!(a.link(0, 3), a.link(1, 3));
        let s = a.split(&gene(7, 0, 3));
        // The innovation of the split link does not matter, its ends do.
        assert_eq!(s, b.split(&gene(99, 0, 3)));
        assert!(s.node >= STRUCTURAL);
        assert_eq!(s.in_innovation, a.link(0, s.node));
        assert_eq!(s.out_innovation, a.link(s.node, 3));
        assert_ne!(s.node, a.split(&gene(7, 1, 3)).node);
        // Serialised and restored, it stays structural.
        let mut back: InnovationTracker =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.link(0, 3), a.link(0, 3));
    }
}
