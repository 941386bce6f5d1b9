//! The NEAT genome: node genes and connection genes with innovation numbers
//! (Stanley & Miikkulainen 2002, section 3.1), and its decoding into an
//! [`evonet_nn::GraphSpec`].
//!
//! Node ids: `0..inputs` the inputs, then the bias input (when used), then
//! the outputs; hidden nodes get ids from the innovation tracker. Node genes
//! are kept sorted by id, connection genes by innovation number.

use serde::{Deserialize, Serialize};

use evonet_nn::{Activation, GraphEdge, GraphNode, GraphSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Input,
    Bias,
    Output,
    Hidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NodeGene {
    pub id: u64,
    pub kind: NodeKind,
    pub activation: Activation,
    /// Per-node bias (0 and fixed under the paper's settings, which use a
    /// bias input instead).
    pub bias: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConnGene {
    pub innovation: u64,
    pub from: u64,
    pub to: u64,
    pub weight: f32,
    pub enabled: bool,
}

/// How genomes of a run map onto networks; the same for every genome of a
/// run, stored in each so that a genome decodes on its own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    pub inputs: u32,
    pub outputs: u32,
    /// Value of the bias input node, when there is one.
    pub bias_input: Option<f32>,
    pub recurrent: bool,
}

impl Layout {
    /// Ids of the input, bias and output nodes: `0..fixed_nodes()`.
    pub fn fixed_nodes(&self) -> u64 {
        (self.inputs + u32::from(self.bias_input.is_some()) + self.outputs) as u64
    }
    pub fn first_output(&self) -> u64 {
        (self.inputs + u32::from(self.bias_input.is_some())) as u64
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeatGenome {
    /// Unique within a run (never reused, also not after a resume); equal to
    /// the id of the candidate that evaluated it.
    pub id: u64,
    /// Ids of the parents (one for a copy or a mutation-only child, none
    /// for the first generation).
    pub parents: Vec<u64>,
    pub layout: Layout,
    pub nodes: Vec<NodeGene>,
    pub conns: Vec<ConnGene>,
}

// A NEAT genome travels whole to remote workers.
evonet_core::self_contained_transport!(NeatGenome);

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum GenomeError {
    #[error("connection {innovation} names node {node}, which the genome lacks")]
    MissingNode { innovation: u64, node: u64 },
    #[error("genes are not sorted or repeat an id ({0})")]
    Unsorted(&'static str),
    #[error("the genome lacks its fixed node {0}")]
    MissingFixed(u64),
}

impl NeatGenome {
    pub fn hidden_nodes(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Hidden)
            .count()
    }
    /// A copy with other parents and id (no clone of the old parent list),
    /// with room for the genes a mutation adds (a node and two links)
    /// without moving the genes again.
    pub fn child(&self, id: u64, parents: Vec<u64>) -> NeatGenome {
        NeatGenome {
            id,
            parents,
            layout: self.layout,
            nodes: with_room(&self.nodes, 1),
            conns: with_room(&self.conns, 2),
        }
    }

    /// Ids of the hidden nodes, in id order.
    pub fn hidden_ids(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Hidden)
            .map(|n| n.id)
            .collect()
    }
    pub fn enabled_conns(&self) -> usize {
        self.conns.iter().filter(|c| c.enabled).count()
    }
    pub fn node(&self, id: u64) -> Option<&NodeGene> {
        self.nodes
            .binary_search_by_key(&id, |n| n.id)
            .ok()
            .map(|i| &self.nodes[i])
    }
    pub fn has_conn(&self, from: u64, to: u64) -> bool {
        self.conns.iter().any(|c| c.from == from && c.to == to)
    }

    /// Checks the invariants decoding relies on (for genomes read from files).
    pub fn check(&self) -> Result<(), GenomeError> {
        self.check_nodes()?;
        for c in &self.conns {
            self.index_of(c.from, c.innovation)?;
            self.index_of(c.to, c.innovation)?;
        }
        Ok(())
    }

    fn check_nodes(&self) -> Result<(), GenomeError> {
        if !self.nodes.windows(2).all(|w| w[0].id < w[1].id) {
            return Err(GenomeError::Unsorted("node"));
        }
        if !self
            .conns
            .windows(2)
            .all(|w| w[0].innovation < w[1].innovation)
        {
            return Err(GenomeError::Unsorted("innovation"));
        }
        // Sorted and unique: the fixed nodes are exactly the first ones.
        for id in 0..self.layout.fixed_nodes() {
            if self.nodes.get(id as usize).map(|n| n.id) != Some(id) {
                return Err(GenomeError::MissingFixed(id));
            }
        }
        Ok(())
    }

    /// Position of node `id` in `nodes`, which is also its graph index.
    pub(crate) fn position(&self, id: u64) -> Option<usize> {
        // Fixed nodes sit at their own index (checked by `check_nodes`).
        if id < self.layout.fixed_nodes() {
            return Some(id as usize);
        }
        self.nodes.binary_search_by_key(&id, |n| n.id).ok()
    }

    /// [`NeatGenome::position`], or the error naming the gene that needs it.
    fn index_of(&self, id: u64, innovation: u64) -> Result<usize, GenomeError> {
        self.position(id).ok_or(GenomeError::MissingNode {
            innovation,
            node: id,
        })
    }

    /// The network this genome encodes: enabled connections only; computed
    /// nodes are the outputs then the hidden nodes, in id order (node ids
    /// are sorted, fixed ones first, so a node's position in `nodes` is its
    /// graph index).
    pub fn to_graph(&self) -> Result<GraphSpec, GenomeError> {
        let mut spec = GraphSpec::default();
        self.write_graph(&mut spec)?;
        Ok(spec)
    }

    /// [`NeatGenome::to_graph`] into `spec`, reusing its buffers (for
    /// evaluations one after another, see [`evonet_nn::GraphWorkspace`]).
    pub fn write_graph(&self, spec: &mut GraphSpec) -> Result<(), GenomeError> {
        self.check_nodes()?;
        let l = self.layout;
        spec.inputs = l.inputs as usize;
        spec.bias_input = l.bias_input;
        spec.outputs = l.outputs as usize;
        spec.recurrent = l.recurrent;
        spec.nodes.clear();
        spec.nodes.extend(
            self.nodes[l.first_output() as usize..]
                .iter()
                .map(|n| GraphNode {
                    activation: n.activation,
                    bias: n.bias,
                }),
        );
        spec.edges.clear();
        for c in &self.conns {
            let from = self.index_of(c.from, c.innovation)?;
            let to = self.index_of(c.to, c.innovation)?;
            if c.enabled {
                spec.edges.push(GraphEdge {
                    from,
                    to,
                    weight: c.weight,
                });
            }
        }
        Ok(())
    }

    /// Whether `to` can reach `from` over enabled or disabled connections
    /// (adding `from → to` would then close a cycle).
    pub fn reaches(&self, from_node: u64, to_node: u64) -> bool {
        self.reaches_with(from_node, to_node, &mut Vec::new(), &mut Vec::new())
    }

    /// [`NeatGenome::reaches`] with caller-provided buffers (add-link tries
    /// it up to 20 times per mutation).
    pub fn reaches_with(
        &self,
        from_node: u64,
        to_node: u64,
        stack: &mut Vec<u64>,
        seen: &mut Vec<u64>,
    ) -> bool {
        if from_node == to_node {
            return true;
        }
        stack.clear();
        seen.clear();
        stack.push(from_node);
        while let Some(v) = stack.pop() {
            for c in self.conns.iter().filter(|c| c.from == v) {
                if c.to == to_node {
                    return true;
                }
                // Genomes are small: a linear `seen` beats a set.
                if !seen.contains(&c.to) {
                    seen.push(c.to);
                    stack.push(c.to);
                }
            }
        }
        false
    }
}

fn with_room<T: Copy>(genes: &[T], room: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(genes.len() + room);
    v.extend_from_slice(genes);
    v
}

/// The fixed nodes of a layout, with `activation` on the outputs.
pub fn fixed_nodes(layout: &Layout, activation: Activation) -> Vec<NodeGene> {
    let mut nodes = Vec::with_capacity(layout.fixed_nodes() as usize);
    for id in 0..layout.fixed_nodes() {
        let kind = if id < layout.inputs as u64 {
            NodeKind::Input
        } else if layout.bias_input.is_some() && id == layout.inputs as u64 {
            NodeKind::Bias
        } else {
            NodeKind::Output
        };
        nodes.push(NodeGene {
            id,
            kind,
            activation: if kind == NodeKind::Output {
                activation
            } else {
                Activation::Identity
            },
            bias: 0.0,
        });
    }
    nodes
}

/// A genome of one input and one output whose connections carry the given
/// `(innovation, weight, enabled)` (for tests of alignment-based operators).
#[cfg(test)]
pub(crate) fn test_genome(id: u64, genes: &[(u64, f32, bool)]) -> NeatGenome {
    NeatGenome {
        id,
        parents: vec![],
        layout: Layout {
            inputs: 1,
            outputs: 1,
            bias_input: None,
            recurrent: false,
        },
        nodes: vec![],
        conns: genes
            .iter()
            .map(|&(innovation, weight, enabled)| ConnGene {
                innovation,
                from: 0,
                to: 1,
                weight,
                enabled,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn xor_layout() -> Layout {
        Layout {
            inputs: 2,
            outputs: 1,
            bias_input: Some(1.0),
            recurrent: false,
        }
    }

    #[test]
    fn decodes_hidden_nodes_after_outputs() {
        let l = xor_layout();
        let mut nodes = fixed_nodes(&l, Activation::SteepenedSigmoid);
        nodes.push(NodeGene {
            id: 7,
            kind: NodeKind::Hidden,
            activation: Activation::SteepenedSigmoid,
            bias: 0.0,
        });
        let c = |innovation, from, to, enabled| ConnGene {
            innovation,
            from,
            to,
            weight: innovation as f32,
            enabled,
        };
        let g = NeatGenome {
            id: 1,
            parents: vec![],
            layout: l,
            nodes,
            conns: vec![
                c(0, 0, 3, true),
                c(1, 1, 3, false),
                c(4, 0, 7, true),
                c(5, 7, 3, true),
            ],
        };
        let spec = g.to_graph().unwrap();
        assert_eq!((spec.nodes.len(), spec.hidden()), (2, 1));
        let e: Vec<(usize, usize)> = spec.edges.iter().map(|e| (e.from, e.to)).collect();
        assert_eq!(e, vec![(0, 3), (0, 4), (4, 3)]);
        assert!(g.reaches(0, 3) && !g.reaches(3, 0));
        let mut bad = g.clone();
        bad.conns[2].to = 9;
        assert_eq!(
            bad.to_graph(),
            Err(GenomeError::MissingNode {
                innovation: 4,
                node: 9
            })
        );
    }
}
