//! Which links a genome has and which nodes reach which, for add-link's
//! tries (up to 20 per mutation, each asking both questions): for genomes
//! of at most 64 nodes, one bit set of successors per node position, built
//! once per mutation and searched a level at a time; larger genomes are
//! asked directly ([`NeatGenome::has_conn`], [`NeatGenome::reaches_with`]).

use crate::genome::NeatGenome;

/// Answers for one genome; node arguments are positions in `nodes`.
// Lives on the stack for one add-link call: boxing the set would allocate.
#[allow(clippy::large_enum_variant)]
pub enum Links<'a> {
    Small {
        /// Bit `b` of `linked[a]`: a connection gene `a → b` exists
        /// (enabled or not: a disabled gene may be enabled again).
        linked: [u64; 64],
    },
    Large {
        genome: &'a NeatGenome,
        stack: Vec<u64>,
        seen: Vec<u64>,
    },
}

impl<'a> Links<'a> {
    // Inlined, so the 512-byte set is built where it is used, not copied.
    #[inline(always)]
    pub fn of(g: &'a NeatGenome) -> Links<'a> {
        Self::small(g).unwrap_or(Links::Large {
            genome: g,
            stack: Vec::new(),
            seen: Vec::new(),
        })
    }

    #[inline(always)]
    fn small(g: &NeatGenome) -> Option<Links<'a>> {
        if g.nodes.len() > 64 {
            return None;
        }
        let mut linked = [0u64; 64];
        for c in &g.conns {
            let (a, b) = (g.position(c.from)?, g.position(c.to)?);
            linked[a] |= 1 << b;
        }
        Some(Links::Small { linked })
    }

    /// Whether a connection gene `from → to` exists.
    pub fn linked(&self, from: usize, to: usize) -> bool {
        match self {
            Links::Small { linked } => linked[from] >> to & 1 == 1,
            Links::Large { genome, .. } => {
                genome.has_conn(genome.nodes[from].id, genome.nodes[to].id)
            }
        }
    }

    /// Whether `from` reaches `to` over connection genes (a node reaches
    /// itself): adding `to → from` would close a loop.
    pub fn reaches(&mut self, from: usize, to: usize) -> bool {
        match self {
            Links::Small { linked } => {
                // Breadth-first, one level of nodes per step, as bit sets.
                let (mut seen, mut level) = (1u64 << from, 1u64 << from);
                while level != 0 {
                    if seen >> to & 1 == 1 {
                        return true;
                    }
                    let mut next = 0;
                    while level != 0 {
                        next |= linked[level.trailing_zeros() as usize];
                        level &= level - 1;
                    }
                    level = next & !seen;
                    seen |= next;
                }
                seen >> to & 1 == 1
            }
            Links::Large {
                genome,
                stack,
                seen,
            } => genome.reaches_with(genome.nodes[from].id, genome.nodes[to].id, stack, seen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{fixed_nodes, ConnGene, Layout, NodeGene, NodeKind};
    use evonet_nn::Activation;

    /// A recurrent genome with a loop (2 → 3 → 2), a disabled gene and an
    /// unconnected hidden node.
    fn genome() -> NeatGenome {
        let layout = Layout {
            inputs: 1,
            outputs: 1,
            bias_input: None,
            recurrent: true,
        };
        let mut nodes = fixed_nodes(&layout, Activation::Identity);
        for id in [2, 3, 7] {
            nodes.push(NodeGene {
                id,
                kind: NodeKind::Hidden,
                activation: Activation::Identity,
                bias: 0.0,
            });
        }
        let link = |innovation, from, to, enabled| ConnGene {
            innovation,
            from,
            to,
            weight: 1.0,
            enabled,
        };
        NeatGenome {
            id: 0,
            parents: Vec::new(),
            layout,
            nodes,
            conns: vec![
                link(0, 0, 2, true),
                link(1, 2, 3, true),
                link(2, 3, 2, true),
                link(3, 3, 1, false),
            ],
        }
    }

    /// Both representations give the genome's own answers.
    #[test]
    fn small_and_large_answers_agree_with_the_genome() {
        let g = genome();
        let mut small = Links::of(&g);
        assert!(matches!(small, Links::Small { .. }));
        let mut large = Links::Large {
            genome: &g,
            stack: Vec::new(),
            seen: Vec::new(),
        };
        let n = g.nodes.len();
        for a in 0..n {
            for b in 0..n {
                let (ia, ib) = (g.nodes[a].id, g.nodes[b].id);
                for links in [&mut small, &mut large] {
                    assert_eq!(links.linked(a, b), g.has_conn(ia, ib), "{ia} -> {ib}");
                    assert_eq!(links.reaches(a, b), g.reaches(ia, ib), "{ia} ~> {ib}");
                }
            }
        }
        assert!(small.reaches(1, 1) && !small.reaches(1, 0));
        assert!(small.reaches(0, 1), "through the disabled gene");
    }
}
