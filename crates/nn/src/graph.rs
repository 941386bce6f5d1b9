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

use crate::compile;
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default)]
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

/// A computed node: its index, the end of its edges, bias and activation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit {
    pub node: u32,
    pub end: u32,
    pub bias: f32,
    pub act: Activation,
}

/// Node values of each row, node-major (`values[node · rows + row]`, so one
/// edge updates every row with one contiguous pass); for recurrent graphs,
/// the previous tick's values too.
#[derive(Debug, Clone, Default)]
pub struct GraphState {
    rows: usize,
    values: Vec<f32>,
    prev: Vec<f32>,
    /// One partial sum per row.
    sums: Vec<f32>,
}

/// What evaluating graphs one after another allocates, kept for the next:
/// a spec to write a genome into, the compiled network, its state and the
/// compiler's scratch. Hold one per thread.
#[derive(Debug, Clone, Default)]
pub struct GraphWorkspace {
    pub spec: GraphSpec,
    pub net: GraphNet,
    pub state: GraphState,
    scratch: Vec<u32>,
}

impl GraphWorkspace {
    /// Compiles `self.spec` into `self.net` and gives it a zeroed state of
    /// `rows` rows, reusing every buffer.
    pub fn compile(&mut self, rows: usize) -> Result<(), GraphError> {
        self.net.compile(&self.spec, &mut self.scratch)?;
        self.net.prepare(&mut self.state, rows);
        Ok(())
    }
}

impl GraphNet {
    /// Compiles `spec`: checks its edges, orders the computed nodes (a
    /// topological order unless recurrent) and groups the edges by target.
    pub fn new(spec: &GraphSpec) -> Result<Self, GraphError> {
        let mut net = GraphNet::default();
        net.compile(spec, &mut Vec::new())?;
        Ok(net)
    }

    /// [`GraphNet::new`] into this network's buffers, with `scratch` for the
    /// temporary ones: nothing is allocated once the buffers are large
    /// enough. On error the network is left empty (no inputs, no outputs).
    pub fn compile(&mut self, spec: &GraphSpec, scratch: &mut Vec<u32>) -> Result<(), GraphError> {
        let (first, n) = (spec.first_computed(), spec.n_nodes());
        let checked = compile::check_edges(spec, first, n).and_then(|()| {
            compile::order_and_group(spec, first, n, scratch, &mut self.units, &mut self.edges)
        });
        if let Err(e) = checked {
            self.units.clear();
            self.edges.clear();
            (self.inputs, self.outputs, self.n, self.first) = (0, 0, 0, 0);
            return Err(e);
        }
        self.inputs = spec.inputs;
        self.bias_input = spec.bias_input;
        self.outputs = spec.outputs;
        self.n = n;
        self.first = first;
        self.recurrent = spec.recurrent;
        Ok(())
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
    /// Enabled connections.
    pub fn n_edges(&self) -> usize {
        self.edges.len()
    }

    /// A zeroed state for up to `rows` rows.
    pub fn state(&self, rows: usize) -> GraphState {
        let mut state = GraphState::default();
        self.prepare(&mut state, rows);
        state
    }

    /// Makes `state` a zeroed state of this network for up to `rows` rows,
    /// reusing its memory.
    pub fn prepare(&self, state: &mut GraphState, rows: usize) {
        let len = rows * self.n;
        state.rows = rows;
        for (buf, len) in [
            (&mut state.values, len),
            (&mut state.prev, if self.recurrent { len } else { 0 }),
            (&mut state.sums, rows),
        ] {
            buf.clear();
            buf.resize(len, 0.0);
        }
    }

    /// Forgets every row's recurrent memory.
    pub fn reset(&self, state: &mut GraphState) {
        state.values.fill(0.0);
        state.prev.fill(0.0);
    }

    /// Copies row `from`'s values (and memory) to row `to`.
    pub fn move_row(&self, state: &mut GraphState, from: usize, to: usize) {
        let s = state.rows;
        for v in 0..self.n {
            state.values[v * s + to] = state.values[v * s + from];
            if self.recurrent {
                state.prev[v * s + to] = state.prev[v * s + from];
            }
        }
    }

    /// Evaluates rows `0..rows` of `x` (`rows × inputs`, row-major) into
    /// `out` (`rows × outputs`). Feed-forward: one pass; recurrent: one tick.
    pub fn forward(&self, x: &[f32], rows: usize, state: &mut GraphState, out: &mut [f32]) {
        assert!(rows <= state.rows, "state holds {} rows", state.rows);
        assert_eq!(x.len(), rows * self.inputs, "input length");
        assert!(out.len() >= rows * self.outputs, "output length");
        let s = state.rows;
        let GraphState {
            values, prev, sums, ..
        } = state;
        if self.recurrent {
            // This tick reads the previous tick's values.
            prev.copy_from_slice(values);
            self.set_inputs(x, rows, s, prev);
            values[..self.first * s].copy_from_slice(&prev[..self.first * s]);
            self.sweep(Some(prev), values, &mut sums[..rows], s);
        } else {
            self.set_inputs(x, rows, s, values);
            self.sweep(None, values, &mut sums[..rows], s);
        }
        for o in 0..self.outputs {
            let v = &values[(self.first + o) * s..][..rows];
            for (r, &y) in v.iter().enumerate() {
                out[r * self.outputs + o] = y;
            }
        }
    }

    fn set_inputs(&self, x: &[f32], rows: usize, s: usize, vals: &mut [f32]) {
        for i in 0..self.inputs {
            for r in 0..rows {
                vals[i * s + r] = x[r * self.inputs + i];
            }
        }
        if let Some(b) = self.bias_input {
            vals[self.inputs * s..][..rows].fill(b);
        }
    }

    /// Each unit's sum over its edges in edge order, for every row at once
    /// (the same additions, in the same order, as one row at a time).
    fn sweep(&self, prev: Option<&[f32]>, vals: &mut [f32], sums: &mut [f32], s: usize) {
        let rows = sums.len();
        let mut begin = 0;
        for u in &self.units {
            sums.fill(u.bias);
            for &(src, w) in &self.edges[begin..u.end as usize] {
                let from = src as usize * s;
                let x = match prev {
                    Some(p) => &p[from..from + rows],
                    None => &vals[from..from + rows],
                };
                for (acc, &x) in sums.iter_mut().zip(x) {
                    *acc += w * x;
                }
            }
            begin = u.end as usize;
            let to = &mut vals[u.node as usize * s..][..rows];
            for (y, &acc) in to.iter_mut().zip(sums.iter()) {
                *y = u.act.scalar(acc);
            }
        }
    }
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

    /// A workspace compiled again and again (larger, smaller, failing,
    /// recurrent) computes what a fresh network computes, and rows
    /// evaluated together what they give one at a time.
    #[test]
    fn reused_workspaces_and_batches_match_fresh_single_rows() {
        let mut specs = vec![xor_spec()];
        let mut bigger = xor_spec();
        bigger.nodes.push(node(Activation::Tanh));
        bigger.edges.push(GraphEdge {
            from: 4,
            to: 5,
            weight: 0.7,
        });
        bigger.edges.push(GraphEdge {
            from: 5,
            to: 3,
            weight: -1.3,
        });
        specs.push(bigger.clone());
        let mut cyclic = bigger.clone();
        cyclic.edges.push(GraphEdge {
            from: 3,
            to: 4,
            weight: 1.0,
        });
        specs.push(cyclic.clone());
        cyclic.recurrent = true;
        specs.push(cyclic);
        specs.push(xor_spec());
        let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let mut w = GraphWorkspace::default();
        for spec in specs {
            w.spec.clone_from(&spec);
            let Ok(fresh) = GraphNet::new(&spec) else {
                assert!(w.compile(4).is_err());
                continue;
            };
            w.compile(4).unwrap();
            let mut batch = [0.0f32; 4];
            let mut single = [0.0f32; 4];
            let mut states: Vec<GraphState> = (0..4).map(|_| fresh.state(1)).collect();
            for _ in 0..3 {
                w.net.forward(&x, 4, &mut w.state, &mut batch);
                for (r, st) in states.iter_mut().enumerate() {
                    fresh.forward(&x[2 * r..2 * r + 2], 1, st, &mut single[r..r + 1]);
                }
                assert_eq!(batch, single);
            }
        }
    }
}
