//! Evolved policies as ONNX models (opset 20, written by `evonet-onnx`), so a
//! champion runs anywhere onnxruntime does.
//!
//! An MLP policy (`mlp_policy`) becomes: input `observation` `[batch,
//! obs]`; observation normalisation folded in as `clip((o − mean) / std, −5,
//! 5)`; per layer `MatMul`, the recurrent term, the bias and the activation
//! (tanh as evonet computes it: the same rational approximation, clamped
//! and with the identity near 0, in ONNX operators); outputs `outputs`
//! `[batch, n]` (the network's outputs) and `action` (`[batch]` int64 for a
//! discrete head, the argmax; `[batch, n]` float for a continuous one,
//! scaled to the action bounds). A recurrent policy also takes
//! `state_in_i` and returns `state_out_i` `[batch, width]` for each hidden
//! layer `i`: feed zeros at the start of an episode, then each step's
//! `state_out_i` as the next step's `state_in_i`.
//!
//! A feed-forward NEAT network (`neat_network`) becomes: input
//! `observation`, one value per node in a topological order (bias plus the
//! weighted sources in the genome's order, then the node's activation, with
//! the exact formulas evonet's graph networks use), `outputs` the output
//! nodes and, for an environment, `action` as its head maps them.

use std::collections::BTreeMap;

use evonet_nn::activation::tanh_coefficients as tc;
use evonet_nn::normalize::CLIP;
use evonet_nn::{Activation, ConvSpec, GraphSpec};
use evonet_onnx::{Attr, Elem, Model};
use evonet_problems::Head;

use crate::champion::{MlpChampion, NeatChampion, ProblemRef};

/// A champion that cannot be exported.
#[derive(Debug, thiserror::Error)]
#[error("cannot export to ONNX: {0}")]
pub struct ExportError(pub String);

/// evonet's rational tanh (`evonet_nn::activation::fast_tanh`): the
/// numerator's coefficients from the highest power down, then the
/// denominator's.
const TANH_P: [f32; 7] = [tc::A13, tc::A11, tc::A9, tc::A7, tc::A5, tc::A3, tc::A1];
const TANH_Q: [f32; 4] = [tc::B6, tc::B4, tc::B2, tc::B0];

/// A model under construction with named scalar constants made once.
struct Builder {
    m: Model,
    scalars: BTreeMap<String, String>,
}

impl Builder {
    fn new() -> Self {
        Self {
            m: Model::new(),
            scalars: BTreeMap::new(),
        }
    }

    fn scalar(&mut self, v: f32) -> String {
        let key = format!("{:08x}", v.to_bits());
        if let Some(n) = self.scalars.get(&key) {
            return n.clone();
        }
        let name = self.m.constant(&format!("c_{key}"), &[], &[v]);
        self.scalars.insert(key, name.clone());
        name
    }

    fn op(&mut self, op: &str, inputs: &[&str]) -> String {
        self.m.node(op, inputs, &[])
    }

    fn mul_add(&mut self, x: &str, a: &str, b: &str) -> String {
        let p = self.op("Mul", &[x, a]);
        self.op("Add", &[&p, b])
    }

    /// evonet's rational tanh (`fast_tanh`) of `a`.
    fn fast_tanh(&mut self, a: &str) -> String {
        let (lo, hi) = (self.scalar(-tc::CLAMP), self.scalar(tc::CLAMP));
        let x = self.op("Clip", &[a, &lo, &hi]);
        let x2 = self.op("Mul", &[&x, &x]);
        let mut p = self.scalar(TANH_P[0]);
        for c in &TANH_P[1..] {
            let c = self.scalar(*c);
            p = self.mul_add(&x2, &p, &c);
        }
        let p = self.op("Mul", &[&p, &x]);
        let mut q = self.scalar(TANH_Q[0]);
        for c in &TANH_Q[1..] {
            let c = self.scalar(*c);
            q = self.mul_add(&x2, &q, &c);
        }
        let r = self.op("Div", &[&p, &q]);
        let abs = self.op("Abs", &[a]);
        let limit = self.scalar(tc::IDENTITY_BELOW);
        let small = self.op("Less", &[&abs, &limit]);
        self.op("Where", &[&small, a, &r])
    }

    /// An MLP activation as evonet's vectorised kernels compute it.
    fn mlp_activation(&mut self, f: Activation, x: String) -> String {
        let sigmoid = |b: &mut Self, slope: f32| {
            let s = b.scalar(0.5 * slope);
            let half = b.scalar(0.5);
            let y = b.op("Mul", &[&x, &s]);
            let t = b.fast_tanh(&y);
            b.mul_add(&t, &half, &half)
        };
        match f {
            Activation::Tanh => self.fast_tanh(&x),
            Activation::Relu => self.op("Relu", &[&x]),
            Activation::Sigmoid => sigmoid(self, 1.0),
            Activation::SteepenedSigmoid => {
                sigmoid(self, evonet_nn::activation::NEAT_SIGMOID_SLOPE)
            }
            Activation::Identity => x,
        }
    }

    /// A graph node's activation with the exact formulas.
    fn graph_activation(&mut self, f: Activation, x: String) -> String {
        match f {
            Activation::Tanh => self.op("Tanh", &[&x]),
            Activation::Relu => self.op("Relu", &[&x]),
            Activation::Sigmoid => self.op("Sigmoid", &[&x]),
            Activation::SteepenedSigmoid => {
                let s = self.scalar(evonet_nn::activation::NEAT_SIGMOID_SLOPE);
                let y = self.op("Mul", &[&x, &s]);
                self.op("Sigmoid", &[&y])
            }
            Activation::Identity => x,
        }
    }

    /// The head's action from `[batch, n]` outputs already in the head's
    /// range.
    fn action(&mut self, head: &Head, outputs: &str) {
        match head {
            Head::Discrete { .. } => {
                let attrs = [("axis", Attr::Int(1)), ("keepdims", Attr::Int(0))];
                self.m
                    .named_node("ArgMax", &[outputs], &attrs, "action".into());
                self.m.output("action", Elem::I64, &[]);
            }
            Head::Continuous { low, high } => {
                let n = low.len();
                let half: Vec<f32> = low.iter().zip(high).map(|(l, h)| 0.5 * (h - l)).collect();
                let low = self.m.constant("action_low", &[n], low);
                let half = self.m.constant("action_half_range", &[n], &half);
                let one = self.scalar(1.0);
                let shifted = self.op("Add", &[outputs, &one]);
                let scaled = self.op("Mul", &[&shifted, &half]);
                self.m
                    .named_node("Add", &[&scaled, &low], &[], "action".into());
                self.m.output("action", Elem::F32, &[n]);
            }
        }
    }
}

/// The ONNX model of an MLP policy champion.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use evonet::{Experiment, ExperimentConfig, Registry, StrategyConfig};
/// use evonet::replay::{load, Loaded};
/// use evonet::strategies::DeepGaConfig;
/// let ga = StrategyConfig::DeepGa(DeepGaConfig {
///     population: 8, truncation: 2, sigma: 0.05, elite_candidates: 1, elite_episodes: 1,
/// });
/// let mut cfg = ExperimentConfig::on_env("CartPole-v1", ga, 1);
/// cfg.run.noise_table_size = 1 << 16;
/// let out = std::env::temp_dir().join(format!("evonet-doc-export-{}", std::process::id()));
/// Experiment::new("doc", cfg, &Registry::builtin())?.session(&out).run()?;
/// let Loaded::Mlp(champion) = load(&out.join("best"))? else { unreachable!() };
/// let onnx = evonet::export::mlp_policy(&champion.body)?;
/// assert_eq!(&onnx[..2], &[0x08, 9], "ir_version 9 first");
/// # std::fs::remove_dir_all(&out).ok();
/// # Ok(()) }
/// ```
pub fn mlp_policy(c: &MlpChampion) -> Result<Vec<u8>, ExportError> {
    let spec = &c.policy.mlp;
    if c.params.len() != c.policy.n_params() {
        return Err(ExportError(format!(
            "{} parameters, the policy needs {}",
            c.params.len(),
            c.policy.n_params()
        )));
    }
    let obs_dim = c.policy.obs_dim();
    let mut b = Builder::new();
    b.m.input("observation", &[obs_dim]);
    let mut x = "observation".to_string();
    if let Some(norm) = &c.obs_norm {
        let mean = b.m.constant("obs_mean", &[obs_dim], &norm.mean);
        let std = b.m.constant("obs_std", &[obs_dim], &norm.std);
        let (lo, hi) = (b.scalar(-CLIP), b.scalar(CLIP));
        let centred = b.op("Sub", &[&x, &mean]);
        let scaled = b.op("Div", &[&centred, &std]);
        x = b.op("Clip", &[&scaled, &lo, &hi]);
    }
    let (torso, dense) = c.params.split_at(c.policy.conv_params());
    if let Some(conv) = &c.policy.conv {
        x = conv_torso(&mut b, conv, torso, x);
    }
    let mut sizes = vec![spec.inputs];
    sizes.extend(&spec.hidden);
    sizes.push(spec.outputs);
    let mut off = 0;
    let last = sizes.len() - 2;
    for l in 0..=last {
        let (n_in, n_out) = (sizes[l], sizes[l + 1]);
        let mut take = |n: usize| {
            let s = &dense[off..off + n];
            off += n;
            s
        };
        let w =
            b.m.constant(&format!("layer{l}_w"), &[n_in, n_out], take(n_in * n_out));
        let mut y = b.op("MatMul", &[&x, &w]);
        if spec.recurrent && l < last {
            let u =
                b.m.constant(&format!("layer{l}_u"), &[n_out, n_out], take(n_out * n_out));
            let state = format!("state_in_{l}");
            b.m.input(&state, &[n_out]);
            let r = b.op("MatMul", &[&state, &u]);
            y = b.op("Add", &[&y, &r]);
        }
        let bias = b.m.constant(&format!("layer{l}_b"), &[n_out], take(n_out));
        y = b.op("Add", &[&y, &bias]);
        let f = if l == last {
            spec.output_activation
        } else {
            spec.activation
        };
        x = b.mlp_activation(f, y);
        if spec.recurrent && l < last {
            let out = format!("state_out_{l}");
            b.m.named_node("Identity", &[&x], &[], out.clone());
            b.m.output(&out, Elem::F32, &[n_out]);
        }
    }
    b.m.named_node("Identity", &[&x], &[], "outputs".into());
    b.m.output("outputs", Elem::F32, &[spec.outputs]);
    b.action(&c.policy.head, "outputs");
    Ok(b.m.finish(&format!(
        "evonet policy for {}: {} → {} outputs, {} parameters, strategy {}",
        c.env.id,
        c.policy.summary(),
        spec.outputs,
        c.policy.n_params(),
        c.strategy
    )))
}

/// The convolutional torso on a batch of flat frames `x`: reshaped to NHWC,
/// transposed to ONNX's NCHW for the `Conv`s (kernels rearranged from
/// evonet's `[ky][kx][c][f]` to `[f][c][ky][kx]`), and back to evonet's
/// feature order (`(oy·OW + ox)·F + f`).
fn conv_torso(b: &mut Builder, conv: &ConvSpec, params: &[f32], x: String) -> String {
    let [h, w, ch] = conv.input;
    let shape =
        b.m.constant_i64("frame_shape", &[4], &[-1, h as i64, w as i64, ch as i64]);
    let nhwc = b.op("Reshape", &[&x, &shape]);
    let mut y = b.m.node(
        "Transpose",
        &[&nhwc],
        &[("perm", Attr::Ints(vec![0, 3, 1, 2]))],
    );
    let (mut c_in, mut off) = (ch, 0);
    for (l, layer) in conv.layers.iter().enumerate() {
        let (k, f) = (layer.kernel, layer.filters);
        let kernel = &params[off..off + k * k * c_in * f];
        let bias = &params[off + kernel.len()..off + kernel.len() + f];
        off += kernel.len() + f;
        let mut onnx_kernel = vec![0.0f32; kernel.len()];
        for (i, &v) in kernel.iter().enumerate() {
            let (fi, rest) = (i % f, i / f);
            let (ci, rest) = (rest % c_in, rest / c_in);
            let (kx, ky) = (rest % k, rest / k);
            onnx_kernel[((fi * c_in + ci) * k + ky) * k + kx] = v;
        }
        let wk =
            b.m.constant(&format!("conv{l}_w"), &[f, c_in, k, k], &onnx_kernel);
        let wb = b.m.constant(&format!("conv{l}_b"), &[f], bias);
        y = b.m.node(
            "Conv",
            &[&y, &wk, &wb],
            &evonet_onnx::window(k, layer.stride, 0),
        );
        y = b.mlp_activation(conv.activation, y);
        c_in = f;
    }
    let nhwc = b.m.node(
        "Transpose",
        &[&y],
        &[("perm", Attr::Ints(vec![0, 2, 3, 1]))],
    );
    let flat =
        b.m.constant_i64("features_shape", &[2], &[-1, conv.features() as i64]);
    b.op("Reshape", &[&nhwc, &flat])
}

/// The ONNX model of a feed-forward NEAT champion.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use evonet::{Experiment, ExperimentConfig, Registry, StrategyConfig};
/// use evonet::replay::{load, Loaded};
/// let cfg = ExperimentConfig::on_task("xor", StrategyConfig::Neat(Default::default()), 3);
/// let out = std::env::temp_dir().join(format!("evonet-doc-neat-{}", std::process::id()));
/// Experiment::new("doc", cfg, &Registry::builtin())?.session(&out).run()?;
/// let Loaded::Neat(champion) = load(&out.join("best"))? else { unreachable!() };
/// let onnx = evonet::export::neat_network(&champion.body)?;
/// assert!(onnx.windows(6).any(|w| w == b"Concat"));
/// # std::fs::remove_dir_all(&out).ok();
/// # Ok(()) }
/// ```
pub fn neat_network(c: &NeatChampion) -> Result<Vec<u8>, ExportError> {
    let g = &c.graph;
    if g.recurrent {
        return Err(ExportError(
            "recurrent NEAT networks are not exported yet (feed-forward only)".into(),
        ));
    }
    let order = topological(g)?;
    let mut b = Builder::new();
    b.m.input("observation", &[g.inputs]);
    let mut values: Vec<Option<String>> = vec![None; g.n_nodes()];
    for (i, v) in values.iter_mut().enumerate().take(g.inputs) {
        let index =
            b.m.constant_i64(&format!("input_index_{i}"), &[], &[i as i64]);
        *v = Some(b.m.node(
            "Gather",
            &["observation", &index],
            &[("axis", Attr::Int(1))],
        ));
    }
    if let Some(bias) = g.bias_input {
        values[g.inputs] = Some(b.scalar(bias));
    }
    for node in order {
        let spec = g.nodes[node - g.first_computed()];
        let mut acc = b.scalar(spec.bias);
        for e in g.edges.iter().filter(|e| e.to == node) {
            let src = values[e.from].clone().ok_or_else(|| {
                ExportError(format!("node {} read before it is computed", e.from))
            })?;
            let w = b.scalar(e.weight);
            acc = b.mul_add(&src, &w, &acc);
        }
        values[node] = Some(b.graph_activation(spec.activation, acc));
    }
    let axes = b.m.constant_i64("unsqueeze_axes", &[1], &[1]);
    let mut columns = Vec::new();
    for o in 0..g.outputs {
        let v = values[g.first_computed() + o]
            .clone()
            .ok_or_else(|| ExportError(format!("output {o} is not computed")))?;
        columns.push(b.m.node("Unsqueeze", &[&v, &axes], &[]));
    }
    let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
    b.m.named_node("Concat", &refs, &[("axis", Attr::Int(1))], "outputs".into());
    b.m.output("outputs", Elem::F32, &[g.outputs]);
    if let ProblemRef::Env { head, .. } = &c.problem {
        let output_activation = g
            .nodes
            .first()
            .map_or(Activation::Identity, |n| n.activation);
        let mapped = head_range(&mut b, head, output_activation, "outputs");
        b.action(head, &mapped);
    }
    Ok(b.m.finish(&format!(
        "evonet NEAT network: {} inputs, {} outputs, {} hidden nodes, {} connections",
        g.inputs,
        g.outputs,
        g.hidden(),
        g.edges.len()
    )))
}

/// A graph's outputs mapped into a continuous head's [−1, 1], as evonet's
/// graph controller does (unit-range outputs as `2o − 1`, others clamped).
fn head_range(b: &mut Builder, head: &Head, f: Activation, outputs: &str) -> String {
    if matches!(head, Head::Discrete { .. }) {
        return outputs.to_string();
    }
    match f.range() {
        (lo, hi) if lo == -1.0 && hi == 1.0 => outputs.to_string(),
        (lo, hi) if lo == 0.0 && hi == 1.0 => {
            let (two, one) = (b.scalar(2.0), b.scalar(1.0));
            let y = b.op("Mul", &[outputs, &two]);
            b.op("Sub", &[&y, &one])
        }
        _ => {
            let (lo, hi) = (b.scalar(-1.0), b.scalar(1.0));
            b.op("Clip", &[outputs, &lo, &hi])
        }
    }
}

/// The computed nodes in an order where every node comes after its
/// sources (Kahn's algorithm, lowest index first: deterministic).
fn topological(g: &GraphSpec) -> Result<Vec<usize>, ExportError> {
    let first = g.first_computed();
    let n = g.n_nodes();
    let mut pending = vec![0usize; n];
    for e in &g.edges {
        if e.from >= n || e.to >= n || e.to < first {
            return Err(ExportError(format!(
                "edge {} -> {} is out of range",
                e.from, e.to
            )));
        }
        pending[e.to] += 1;
    }
    // Edges from the inputs (and the bias input) are satisfied from the start.
    for e in g.edges.iter().filter(|e| e.from < first) {
        pending[e.to] -= 1;
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (first..n).filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::new();
    while let Some(node) = ready.pop_first() {
        order.push(node);
        for e in g.edges.iter().filter(|e| e.from == node) {
            pending[e.to] -= 1;
            if pending[e.to] == 0 {
                ready.insert(e.to);
            }
        }
    }
    if order.len() != n - first {
        return Err(ExportError("the network has a cycle".into()));
    }
    Ok(order)
}
