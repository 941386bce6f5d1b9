//! Innovation numbers (Stanley & Miikkulainen 2002, section 3.2): a global
//! counter, with one list per generation so that the same structural
//! mutation made twice in one generation gets the same numbers.
//!
//! Ordered maps keep the state serialisable and iteration order fixed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
        }
    }

    /// Forgets this generation's list (the counters go on).
    pub fn new_generation(&mut self) {
        self.links.clear();
        self.splits.clear();
    }

    /// The innovation number of a new link `from → to`.
    pub fn link(&mut self, from: u64, to: u64) -> u64 {
        let next = &mut self.next_innovation;
        *self.links.entry((from, to)).or_insert_with(|| {
            let i = *next;
            *next += 1;
            i
        })
    }

    /// The node and innovation numbers for splitting link `innovation`.
    pub fn split(&mut self, innovation: u64) -> NodeSplit {
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
        let s = t.split(0);
        assert_eq!(
            s,
            NodeSplit {
                node: 4,
                in_innovation: 5,
                out_innovation: 6
            }
        );
        assert_eq!(t.split(0), s);
        t.new_generation();
        // A new generation: the same mutation is a new innovation.
        assert_eq!(t.link(0, 3), 7);
        assert_eq!(t.split(0).node, 5);
    }
}
