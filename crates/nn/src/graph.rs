//! Graph networks of arbitrary topology (NEAT phenotypes).
//!
//! Node indices: `0..inputs` are the inputs, then the bias input when there
//! is one, then the computed nodes of [`GraphSpec::nodes`] (outputs first,
//! then hidden nodes). Each computed node outputs
//! `activation(bias + Σ weight · source)`.
//!
//! - Feed-forward (`recurrent = false`): nodes are evaluated once per call in
//!   a topological order (which one does not matter: each node sums its
//!   incoming edges in spec order); a cycle is an error.
//! - Recurrent: one synchronous activation step per call ("tick"): every
//!   computed node reads the values of the previous tick (and this tick's
//!   inputs), as in neat-python's `RecurrentNetwork`. The state persists
//!   between calls until [`GraphNet::reset`].
//!
//! Several rows (episodes in lockstep) are evaluated at once, each with its
//! own state; nothing is allocated per call.

use serde::{Deserialize, Serialize};

use crate::Activation;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    pub activation: Activation,
    #[serde(default)]
    pub bias: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    pub weight: f32,
}

/// A network's topology and weights: plain data (JSON in champion files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphSpec {
    pub inputs: usize,
    /// Value of the bias input (node `inputs`); `None`: no bias input.
    pub bias_input: Option<f32>,
    pub outputs: usize,
    /// Computed nodes: the outputs, then the hidden nodes.
    pub nodes: Vec<GraphNode>,
    /// Enabled connections only.
    pub edges: Vec<GraphEdge>,
    pub recurrent: bool,
}

impl GraphSpec {
    /// Index of the first computed node (the first output).
    pub fn first_computed(&self) -> usize {
        self.inputs + usize::from(self.bias_input.is_some())
    }
    pub fn n_nodes(&self) -> usize {
        self.first_computed() + self.nodes.len()
    }
    pub fn hidden(&self) -> usize {
        self.nodes.len().saturating_sub(self.outputs)
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum GraphError {
    #[error("the graph has {nodes} computed nodes but {outputs} outputs")]
    TooFewNodes { nodes: usize, outputs: usize },
    #[error("edge {index} ({from} -> {to}) names a node outside 0..{n}")]
    BadNode {
        index: usize,
        from: usize,
        to: usize,
        n: usize,
    },
    #[error("edge {index} ({from} -> {to}) ends in an input node")]
    IntoInput {
        index: usize,
        from: usize,
        to: usize,
    },
    #[error("edge {index} has a non-finite weight")]
    NonFinite { index: usize },
    #[error("a feed-forward graph has a cycle through node {0}")]
    Cycle(usize),
}

/// A compiled graph network.
#[derive(Debug, Clone)]
pub struct GraphNet {
    inputs: usize,
    bias_input: Option<f32>,
    outputs: usize,
    n: usize,
    first: usize,
    recurrent: bool,
    /// Computed nodes in evaluation order; unit `i` reads
    /// `edges[units[i-1].end..units[i].end]`.
    units: Vec<Unit>,
    /// `(source node, weight)`, grouped by unit, in spec order within one.
    edges: Vec<(u32, f32)>,
}

#[derive(Debug, Clone, Copy)]
struct Unit {
    node: u32,
    end: u32,
    bias: f32,
    act: Activation,
}

/// Node values of each row; for recurrent graphs, the previous tick's too.
#[derive(Debug, Clone)]
pub struct GraphState {
    rows: usize,
    values: Vec<f32>,
    prev: Vec<f32>,
}

impl GraphNet {
    pub fn new(spec: &GraphSpec) -> Result<Self, GraphError> {
        if spec.nodes.len() < spec.outputs {
            return Err(GraphError::TooFewNodes {
                nodes: spec.nodes.len(),
                outputs: spec.outputs,
            });
        }
        let first = spec.first_computed();
        let n = spec.n_nodes();
        for (index, e) in spec.edges.iter().enumerate() {
            if e.from >= n || e.to >= n {
                return Err(GraphError::BadNode {
                    index,
                    from: e.from,
                    to: e.to,
                    n,
                });
            }
            if e.to < first {
                return Err(GraphError::IntoInput {
                    index,
                    from: e.from,
                    to: e.to,
                });
            }
            if !e.weight.is_finite() {
                return Err(GraphError::NonFinite { index });
            }
        }
        // One scratch buffer for everything temporary: in-degrees, outgoing
        // edge offsets and targets (topological sort), then each node's
        // position in the order and the edge offsets per unit.
        let k = n - first;
        let m = spec.edges.len();
        let mut scratch = zeroed::<u32>(n + (n + 1) + m + n + (k + 1));
        let (sort, rest) = scratch.split_at_mut(n + (n + 1) + m);
        let (slot, cursor) = rest.split_at_mut(n);
        let unit = |v: usize| {
            let node = &spec.nodes[v - first];
            Unit {
                node: v as u32,
                end: 0,
                bias: node.bias,
                act: node.activation,
            }
        };
        let mut units: Vec<Unit> = Vec::with_capacity(k);
        if spec.recurrent {
            units.extend((first..n).map(unit));
        } else {
            topological_order(spec, first, n, sort, |v| units.push(unit(v)))?;
        }
        // Counting sort of the edges by the position of their target,
        // stable: spec order within a node, a fixed summation order.
        for (i, u) in units.iter().enumerate() {
            slot[u.node as usize] = i as u32;
        }
        for e in &spec.edges {
            cursor[slot[e.to] as usize + 1] += 1;
        }
        for i in 0..k {
            cursor[i + 1] += cursor[i];
        }
        for (i, u) in units.iter_mut().enumerate() {
            u.end = cursor[i + 1];
        }
        let mut edges = zeroed::<(u32, f32)>(m);
        for e in &spec.edges {
            let c = &mut cursor[slot[e.to] as usize];
            edges[*c as usize] = (e.from as u32, e.weight);
            *c += 1;
        }
        Ok(Self {
            inputs: spec.inputs,
            bias_input: spec.bias_input,
            outputs: spec.outputs,
            n,
            first,
            recurrent: spec.recurrent,
            units,
            edges,
        })
    }

    pub fn inputs(&self) -> usize {
        self.inputs
    }
    pub fn outputs(&self) -> usize {
        self.outputs
    }
    pub fn is_recurrent(&self) -> bool {
        self.recurrent
    }
    /// Connections evaluated per forward pass of one row.
    pub fn n_edges(&self) -> usize {
        self.edges.len()
    }

    /// A zeroed state for `rows` rows.
    pub fn state(&self, rows: usize) -> GraphState {
        GraphState {
            rows,
            values: zeroed(rows * self.n),
            prev: if self.recurrent {
                zeroed(rows * self.n)
            } else {
                Vec::new()
            },
        }
    }

    /// Zeroes the recurrent state of every row.
    pub fn reset(&self, state: &mut GraphState) {
        state.values.fill(0.0);
        state.prev.fill(0.0);
    }

    /// Copies row `from`'s state to row `to` (batch compaction).
    pub fn move_row(&self, state: &mut GraphState, from: usize, to: usize) {
        let n = self.n;
        state.values.copy_within(from * n..(from + 1) * n, to * n);
        if self.recurrent {
            state.prev.copy_within(from * n..(from + 1) * n, to * n);
        }
    }

    /// Evaluates `rows` rows of inputs `x` (row-major, `inputs` per row) and
    /// writes `outputs` values per row into `out`.
    pub fn forward(&self, x: &[f32], rows: usize, state: &mut GraphState, out: &mut [f32]) {
        assert!(rows <= state.rows, "state holds {} rows", state.rows);
        assert_eq!(x.len(), rows * self.inputs, "input length");
        assert!(out.len() >= rows * self.outputs, "output length");
        let n = self.n;
        for r in 0..rows {
            let xr = &x[r * self.inputs..(r + 1) * self.inputs];
            if self.recurrent {
                // This tick reads the previous tick's values.
                let (vals, prev) = (
                    &mut state.values[r * n..(r + 1) * n],
                    &mut state.prev[r * n..(r + 1) * n],
                );
                prev.copy_from_slice(vals);
                prev[..self.inputs].copy_from_slice(xr);
                if let Some(b) = self.bias_input {
                    prev[self.inputs] = b;
                }
                vals[..self.first].copy_from_slice(&prev[..self.first]);
                self.sweep(Some(prev), vals);
            } else {
                let vals = &mut state.values[r * n..(r + 1) * n];
                vals[..self.inputs].copy_from_slice(xr);
                if let Some(b) = self.bias_input {
                    vals[self.inputs] = b;
                }
                self.sweep(None, vals);
            }
            let o = &state.values[r * n + self.first..r * n + self.first + self.outputs];
            out[r * self.outputs..(r + 1) * self.outputs].copy_from_slice(o);
        }
    }

    /// One pass over the computed nodes, reading sources from `prev` (a
    /// recurrent tick) or from `vals` itself (feed-forward, in order).
    fn sweep(&self, prev: Option<&[f32]>, vals: &mut [f32]) {
        let mut begin = 0;
        for u in &self.units {
            let mut sum = u.bias;
            for &(src, w) in &self.edges[begin..u.end as usize] {
                let x = match prev {
                    Some(p) => p[src as usize],
                    None => vals[src as usize],
                };
                sum += w * x;
            }
            begin = u.end as usize;
            vals[u.node as usize] = u.act.scalar(sum);
        }
    }
}

/// A vector of `len` default values, filled by a plain store loop: the
/// allocator's zeroing path (`rep stosb`) costs more than the whole fill for
/// the small buffers of a NEAT network.
fn zeroed<T: Copy + Default>(len: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    v.resize(len, T::default());
    v
}

/// Kahn's algorithm; calls `visit` with each computed node in a topological
/// order. `scratch` holds `n + (n + 1) + edges` zeroed entries.
fn topological_order(
    spec: &GraphSpec,
    first: usize,
    n: usize,
    scratch: &mut [u32],
    mut visit: impl FnMut(usize),
) -> Result<(), GraphError> {
    let (indegree, rest) = scratch.split_at_mut(n);
    let (offset, out) = rest.split_at_mut(n + 1);
    let inner = || spec.edges.iter().filter(|e| e.from >= first);
    for e in inner() {
        indegree[e.to] += 1;
        offset[e.from] += 1;
    }
    // Inclusive prefix sums give each node's end; filling backwards moves
    // each offset to its start.
    for i in 1..=n {
        offset[i] += offset[i - 1];
    }
    for e in spec.edges.iter().rev().filter(|e| e.from >= first) {
        offset[e.from] -= 1;
        out[offset[e.from] as usize] = e.to as u32;
    }
    // Any topological order gives the same values: a node's sum runs over
    // its incoming edges in spec order, whatever order its independent
    // neighbours were computed in. A stack is the cheapest.
    let mut ready: Vec<u32> = (first..n)
        .rev()
        .filter(|&v| indegree[v] == 0)
        .map(|v| v as u32)
        .collect();
    let mut visited = 0;
    while let Some(v) = ready.pop() {
        visit(v as usize);
        visited += 1;
        let v = v as usize;
        for &t in &out[offset[v] as usize..offset[v + 1] as usize] {
            indegree[t as usize] -= 1;
            if indegree[t as usize] == 0 {
                ready.push(t);
            }
        }
    }
    if visited != n - first {
        let stuck = (first..n).find(|&v| indegree[v] > 0).unwrap_or(first);
        return Err(GraphError::Cycle(stuck));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(a: Activation) -> GraphNode {
        GraphNode {
            activation: a,
            bias: 0.0,
        }
    }

    /// XOR by hand: inputs 0,1, bias 2, output 3, hidden 4 (AND-like).
    fn xor_spec() -> GraphSpec {
        let e = |from, to, weight| GraphEdge { from, to, weight };
        GraphSpec {
            inputs: 2,
            bias_input: Some(1.0),
            outputs: 1,
            nodes: vec![
                node(Activation::SteepenedSigmoid),
                node(Activation::SteepenedSigmoid),
            ],
            edges: vec![
                e(0, 3, 2.0),
                e(1, 3, 2.0),
                e(2, 3, -1.0),
                e(4, 3, -4.0),
                e(0, 4, 2.0),
                e(1, 4, 2.0),
                e(2, 4, -3.0),
            ],
            recurrent: false,
        }
    }

    #[test]
    fn feed_forward_computes_xor() {
        let net = GraphNet::new(&xor_spec()).unwrap();
        let mut st = net.state(4);
        let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let mut out = [0.0f32; 4];
        net.forward(&x, 4, &mut st, &mut out);
        let expect = [false, true, true, false];
        for (o, e) in out.iter().zip(expect) {
            assert_eq!(*o > 0.5, e, "{out:?}");
        }
        // By hand for (1, 0): hidden = s(2-3) = s(-1), out = s(2-1-4 s(-1)).
        let s = |x: f32| Activation::SteepenedSigmoid.scalar(x);
        assert!((out[2] - s(2.0 - 1.0 - 4.0 * s(-1.0))).abs() < 1e-6);
    }

    #[test]
    fn cycles_are_rejected_in_feed_forward_mode_only() {
        let mut spec = xor_spec();
        spec.edges.push(GraphEdge {
            from: 3,
            to: 4,
            weight: 1.0,
        });
        assert!(matches!(GraphNet::new(&spec), Err(GraphError::Cycle(_))));
        spec.recurrent = true;
        assert!(GraphNet::new(&spec).is_ok());
        spec.edges.push(GraphEdge {
            from: 3,
            to: 1,
            weight: 1.0,
        });
        assert!(matches!(
            GraphNet::new(&spec),
            Err(GraphError::IntoInput { .. })
        ));
    }

    #[test]
    fn recurrent_graph_takes_one_step_per_tick() {
        // in 0 -> hidden 2 -> out 1, self-loop on out: identity activations.
        let spec = GraphSpec {
            inputs: 1,
            bias_input: None,
            outputs: 1,
            nodes: vec![node(Activation::Identity), node(Activation::Identity)],
            edges: vec![
                GraphEdge {
                    from: 0,
                    to: 2,
                    weight: 2.0,
                },
                GraphEdge {
                    from: 2,
                    to: 1,
                    weight: 1.0,
                },
                GraphEdge {
                    from: 1,
                    to: 1,
                    weight: 0.5,
                },
            ],
            recurrent: true,
        };
        let net = GraphNet::new(&spec).unwrap();
        let mut st = net.state(2);
        let mut out = [0.0f32; 2];
        // Tick 1: hidden = 2; out reads old hidden (0).
        net.forward(&[1.0, 3.0], 2, &mut st, &mut out);
        assert_eq!(out, [0.0, 0.0]);
        // Tick 2: out = old hidden + 0.5·old out.
        net.forward(&[1.0, 3.0], 2, &mut st, &mut out);
        assert_eq!(out, [2.0, 6.0]);
        net.forward(&[0.0, 0.0], 2, &mut st, &mut out);
        assert_eq!(out, [3.0, 9.0]);
        // Compaction keeps a row's memory; reset forgets it.
        net.move_row(&mut st, 1, 0);
        net.forward(&[0.0], 1, &mut st, &mut out);
        assert_eq!(out[0], 4.5);
        net.reset(&mut st);
        net.forward(&[0.0], 1, &mut st, &mut out);
        assert_eq!(out[0], 0.0);
    }

    #[test]
    fn bad_edges_are_named() {
        let mut spec = xor_spec();
        spec.edges[1].to = 99;
        assert!(matches!(
            GraphNet::new(&spec),
            Err(GraphError::BadNode { index: 1, .. })
        ));
        let mut spec = xor_spec();
        spec.edges[0].weight = f32::NAN;
        assert_eq!(
            GraphNet::new(&spec).unwrap_err(),
            GraphError::NonFinite { index: 0 }
        );
    }
}
