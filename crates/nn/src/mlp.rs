//! Multilayer perceptron over a flat f32 parameter vector.
//!
//! Layout, per layer `l` with `n_in → n_out`: the weights `W` input-major
//! (`W[i][j]` at `i·n_out + j`, so the forward pass is a sequence of axpys
//! that vectorise over outputs), then for a recurrent hidden layer the
//! recurrent weights `U` (`n_out × n_out`, same layout), then the biases.
//! Each output is accumulated with fused multiply-adds as `b + Σᵢ xᵢ·W[i] (+ Σₖ hₖ·U[k])` in a fixed
//! order that depends only on the layer's shape, so results do not depend on
//! batch size, on the SIMD width or on the CPU.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;

#[cfg(target_arch = "x86_64")]
mod avx2;
mod sparse;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum MlpError {
    #[error("expected {expected} parameters, got {got}")]
    ParamCount { expected: usize, got: usize },
    #[error("a network needs at least one input and one output")]
    Empty,
}

/// Shape of an MLP. Plain data: part of configs and champion files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpSpec {
    pub inputs: usize,
    pub hidden: Vec<usize>,
    pub outputs: usize,
    pub activation: Activation,
    pub output_activation: Activation,
    /// Elman recurrence: every hidden layer also sees its own previous output.
    #[serde(default)]
    pub recurrent: bool,
}

/// Where one layer's parameters sit in the flat vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LayerLayout {
    n_in: usize,
    n_out: usize,
    w: usize,
    u: Option<usize>,
    b: usize,
}

impl MlpSpec {
    fn layers(&self) -> Vec<LayerLayout> {
        let mut sizes = vec![self.inputs];
        sizes.extend(&self.hidden);
        sizes.push(self.outputs);
        let mut off = 0;
        let mut out = Vec::new();
        for l in 0..sizes.len() - 1 {
            let (n_in, n_out) = (sizes[l], sizes[l + 1]);
            let w = off;
            off += n_in * n_out;
            let is_hidden = l + 1 < sizes.len() - 1;
            let u = if self.recurrent && is_hidden {
                let u = off;
                off += n_out * n_out;
                Some(u)
            } else {
                None
            };
            let b = off;
            off += n_out;
            out.push(LayerLayout {
                n_in,
                n_out,
                w,
                u,
                b,
            });
        }
        out
    }

    pub fn n_params(&self) -> usize {
        self.layers().last().map(|l| l.b + l.n_out).unwrap_or(0)
    }

    /// Scale of each parameter in a fresh network: `1/√fan_in` for weights
    /// (a unit-variance draw times this is LeCun initialisation), 0 for biases.
    pub fn init_scales(&self) -> Vec<f32> {
        let mut s = vec![0.0; self.n_params()];
        for l in self.layers() {
            let fan_in = l.n_in + l.u.map_or(0, |_| l.n_out);
            let sc = 1.0 / (fan_in as f32).sqrt();
            s[l.w..l.w + l.n_in * l.n_out].fill(sc);
            if let Some(u) = l.u {
                s[u..u + l.n_out * l.n_out].fill(sc);
            }
        }
        s
    }

    fn widest(&self) -> usize {
        self.hidden
            .iter()
            .copied()
            .chain([self.inputs, self.outputs])
            .max()
            .unwrap_or(0)
    }

    /// Multiply-accumulates of one forward pass.
    pub fn macs(&self) -> usize {
        self.layers()
            .iter()
            .map(|l| l.n_in * l.n_out + l.u.map_or(0, |_| l.n_out * l.n_out))
            .sum()
    }
}

/// Scratch space for up to `batch` rows; allocate once per rollout, reuse for
/// every step.
#[derive(Debug, Clone)]
pub struct MlpBuffers {
    batch: usize,
    /// Layer layouts, computed once so the forward pass never allocates.
    layers: Vec<LayerLayout>,
    a: Vec<f32>,
    b: Vec<f32>,
    /// Recurrent state per hidden layer, `batch × n_out`.
    h: Vec<Vec<f32>>,
    /// The first hidden layer's outputs when it is computed from sparse
    /// inputs (`Mlp::forward_sparse`), `batch × hidden[0]`.
    first: Vec<f32>,
    /// Indices of a row's non-zero inputs, for the same path.
    nonzero: Vec<u32>,
}

impl MlpBuffers {
    pub fn new(spec: &MlpSpec, batch: usize) -> Self {
        let w = spec.widest();
        let h = if spec.recurrent {
            spec.hidden.iter().map(|&n| vec![0.0; n * batch]).collect()
        } else {
            Vec::new()
        };
        let (first, nonzero) = if sparse::eligible(spec) {
            (vec![0.0; spec.hidden[0] * batch], vec![0; spec.inputs])
        } else {
            (Vec::new(), Vec::new())
        };
        Self {
            batch,
            layers: spec.layers(),
            a: vec![0.0; w * batch],
            b: vec![0.0; w * batch],
            h,
            first,
            nonzero,
        }
    }
    /// Clears the recurrent state of row `r` (a new episode).
    pub fn reset_row(&mut self, spec: &MlpSpec, r: usize) {
        for (h, &n) in self.h.iter_mut().zip(&spec.hidden) {
            h[r * n..(r + 1) * n].fill(0.0);
        }
    }
    /// Moves row `from`'s recurrent state to row `to` (compaction of lockstep
    /// episodes when some end early).
    pub fn move_row(&mut self, spec: &MlpSpec, from: usize, to: usize) {
        for (h, &n) in self.h.iter_mut().zip(&spec.hidden) {
            h.copy_within(from * n..(from + 1) * n, to * n);
        }
    }
    pub fn batch(&self) -> usize {
        self.batch
    }
}

/// A network: a spec plus a borrowed parameter vector.
#[derive(Debug, Clone, Copy)]
pub struct Mlp<'p> {
    spec: &'p MlpSpec,
    params: &'p [f32],
}

impl<'p> Mlp<'p> {
    pub fn new(spec: &'p MlpSpec, params: &'p [f32]) -> Result<Self, MlpError> {
        if spec.inputs == 0 || spec.outputs == 0 {
            return Err(MlpError::Empty);
        }
        let expected = spec.n_params();
        if params.len() != expected {
            return Err(MlpError::ParamCount {
                expected,
                got: params.len(),
            });
        }
        Ok(Self { spec, params })
    }

    pub fn spec(&self) -> &MlpSpec {
        self.spec
    }

    /// Forward pass of `rows` inputs (`rows × inputs`, row-major); returns
    /// `rows × outputs`. No allocation.
    pub fn forward<'b>(&self, x: &[f32], rows: usize, buf: &'b mut MlpBuffers) -> &'b [f32] {
        self.check(x, rows, buf);
        self.forward_from(x, rows, buf, 0)
    }

    /// [`Mlp::forward`] for inputs that are mostly zero (frames, a
    /// convolution's ReLU outputs): the first layer adds the weight rows of
    /// the non-zero inputs only, in index order, which is the dense sum
    /// without its zero terms; the other layers run as in `forward`. Same
    /// results as `forward` (up to the sign of an exact zero), faster when
    /// fewer than about half the inputs are non-zero. Falls back to
    /// `forward` for a recurrent network, one without hidden layers, or a
    /// first hidden layer that is not a multiple of 8 wide.
    pub fn forward_sparse<'b>(&self, x: &[f32], rows: usize, buf: &'b mut MlpBuffers) -> &'b [f32] {
        self.check(x, rows, buf);
        if !sparse::eligible(self.spec) {
            return self.forward_from(x, rows, buf, 0);
        }
        let l0 = buf.layers[0];
        let w = &self.params[l0.w..l0.w + l0.n_in * l0.n_out];
        let bias = &self.params[l0.b..l0.b + l0.n_out];
        let mut first = std::mem::take(&mut buf.first);
        let h = &mut first[..rows * l0.n_out];
        sparse::layer(x, rows, w, bias, h, &mut buf.nonzero);
        self.spec.activation.apply(h);
        let out = self.forward_from(h, rows, buf, 1);
        let n = out.len();
        buf.first = first;
        &buf.a[..n]
    }

    fn check(&self, x: &[f32], rows: usize, buf: &MlpBuffers) {
        assert!(
            rows <= buf.batch,
            "batch of {rows} rows exceeds buffers for {}",
            buf.batch
        );
        assert_eq!(x.len(), rows * self.spec.inputs, "input size");
        assert!(
            buf.layers.len() == self.spec.hidden.len() + 1
                && buf.layers[0].n_in == self.spec.inputs
                && buf
                    .layers
                    .last()
                    .is_some_and(|l| l.b + l.n_out == self.params.len()),
            "buffers made for another network shape"
        );
    }

    /// Layers `start..` on `x`, the input of layer `start`.
    fn forward_from<'b>(
        &self,
        x: &[f32],
        rows: usize,
        buf: &'b mut MlpBuffers,
        start: usize,
    ) -> &'b [f32] {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA, checked just above.
                unsafe { avx2::forward(self, x, rows, buf, start) };
                return &buf.a[..rows * self.spec.outputs];
            }
        }
        forward_impl(self, x, rows, buf, start);
        &buf.a[..rows * self.spec.outputs]
    }
}

/// Adds `Σᵢ x[i]·W[i][j0..j0+W]` to `acc`, in index order, with the `W`
/// accumulators in registers.
#[inline(always)]
fn accumulate<const W: usize>(acc: &mut [f32; W], x: &[f32], w: &[f32], n_out: usize, j0: usize) {
    for (i, &xi) in x.iter().enumerate() {
        let row: &[f32; W] = w[i * n_out + j0..i * n_out + j0 + W]
            .try_into()
            .expect("chunk");
        for k in 0..W {
            acc[k] = xi.mul_add(row[k], acc[k]);
        }
    }
}

#[inline(always)]
fn chunk<const W: usize>(
    x: &[f32],
    w: &[f32],
    h: Option<(&[f32], &[f32])>,
    bias: &[f32],
    out: &mut [f32],
    j0: usize,
) {
    let n_out = out.len();
    let mut acc: [f32; W] = bias[j0..j0 + W].try_into().expect("chunk");
    accumulate(&mut acc, x, w, n_out, j0);
    if let Some((hv, u)) = h {
        accumulate(&mut acc, hv, u, n_out, j0);
    }
    out[j0..j0 + W].copy_from_slice(&acc);
}

/// Four partial sums (over i mod 4) of `Σᵢ v[i]·M[i][j0..j0+K]`.
#[inline(always)]
fn tail_sums<const K: usize>(
    parts: &mut [[f32; K]; 4],
    v: &[f32],
    m: &[f32],
    n_out: usize,
    j0: usize,
) {
    let quads = v.len() / 4;
    if n_out == K && j0 == 0 {
        // The whole layer is the tail (e.g. the action outputs): four rows
        // of W are contiguous, so the four partial sums of all K outputs
        // fill one vector. Same operations per lane as the general path.
        let mut acc = *parts;
        for q in 0..quads {
            let i = 4 * q;
            let block = &m[i * K..(i + 4) * K];
            let xs = [v[i], v[i + 1], v[i + 2], v[i + 3]];
            for d in 0..4 {
                for k in 0..K {
                    acc[d][k] = xs[d].mul_add(block[d * K + k], acc[d][k]);
                }
            }
        }
        *parts = acc;
    } else {
        for q in 0..quads {
            let i = 4 * q;
            for (d, part) in parts.iter_mut().enumerate() {
                let row: &[f32; K] = m[(i + d) * n_out + j0..(i + d) * n_out + j0 + K]
                    .try_into()
                    .expect("tail");
                for k in 0..K {
                    part[k] = v[i + d].mul_add(row[k], part[k]);
                }
            }
        }
    }
    for i in 4 * quads..v.len() {
        let row: &[f32; K] = m[i * n_out + j0..i * n_out + j0 + K]
            .try_into()
            .expect("tail");
        for k in 0..K {
            parts[0][k] = v[i].mul_add(row[k], parts[0][k]);
        }
    }
}

/// The last `K < 8` outputs (e.g. the action outputs): four partial sums per
/// output, added in a fixed order, so the dependency chains are short.
#[inline(always)]
fn tail<const K: usize>(
    x: &[f32],
    w: &[f32],
    h: Option<(&[f32], &[f32])>,
    bias: &[f32],
    out: &mut [f32],
    j0: usize,
) {
    let n_out = out.len();
    let mut parts = [[0.0f32; K]; 4];
    tail_sums(&mut parts, x, w, n_out, j0);
    if let Some((hv, u)) = h {
        tail_sums(&mut parts, hv, u, n_out, j0);
    }
    for k in 0..K {
        out[j0 + k] = bias[j0 + k] + ((parts[0][k] + parts[1][k]) + (parts[2][k] + parts[3][k]));
    }
}

/// One row of `out = b + x·W (+ h·U)`: chunks of 64 outputs (8 AVX2
/// vectors of accumulators), then of 8, then a short tail. Each output's sum
/// has a fixed order that depends only on the layer's shape.
#[inline(always)]
fn affine_row(x: &[f32], w: &[f32], h: Option<(&[f32], &[f32])>, bias: &[f32], out: &mut [f32]) {
    let n_out = out.len();
    let mut j0 = 0;
    while j0 + 64 <= n_out {
        chunk::<64>(x, w, h, bias, out, j0);
        j0 += 64;
    }
    while j0 + 8 <= n_out {
        chunk::<8>(x, w, h, bias, out, j0);
        j0 += 8;
    }
    match n_out - j0 {
        0 => {}
        1 => tail::<1>(x, w, h, bias, out, j0),
        2 => tail::<2>(x, w, h, bias, out, j0),
        3 => tail::<3>(x, w, h, bias, out, j0),
        4 => tail::<4>(x, w, h, bias, out, j0),
        5 => tail::<5>(x, w, h, bias, out, j0),
        6 => tail::<6>(x, w, h, bias, out, j0),
        7 => tail::<7>(x, w, h, bias, out, j0),
        _ => unreachable!("tail is shorter than 8"),
    }
}

/// The kernel. Results land in `buf.a`. Every multiply-add is a fused
/// `mul_add` (one rounding, IEEE 754 fusedMultiplyAdd): an FMA instruction
/// where the CPU has one, a correctly rounded software FMA where it has not,
/// so every CPU gives the same bits.
#[inline(always)]
fn forward_impl(m: &Mlp<'_>, x: &[f32], rows: usize, buf: &mut MlpBuffers, start: usize) {
    let p = m.params;
    let MlpBuffers {
        layers,
        a,
        b,
        h: hs,
        ..
    } = buf;
    a[..x.len()].copy_from_slice(x);
    let n_layers = layers.len();
    for (li, l) in layers.iter().enumerate().skip(start) {
        let (n_in, n_out) = (l.n_in, l.n_out);
        let w = &p[l.w..l.w + n_in * n_out];
        let bias = &p[l.b..l.b + n_out];
        let u = l.u.map(|u| &p[u..u + n_out * n_out]);
        for r in 0..rows {
            let xr = &a[r * n_in..(r + 1) * n_in];
            let out = &mut b[r * n_out..(r + 1) * n_out];
            match u {
                Some(u) => {
                    let hr = &hs[li][r * n_out..(r + 1) * n_out];
                    affine_row(xr, w, Some((hr, u)), bias, out);
                }
                None => affine_row(xr, w, None, bias, out),
            }
        }
        let act = if li + 1 == n_layers {
            m.spec.output_activation
        } else {
            m.spec.activation
        };
        act.apply(&mut b[..rows * n_out]);
        if l.u.is_some() {
            hs[li][..rows * n_out].copy_from_slice(&b[..rows * n_out]);
        }
        std::mem::swap(a, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sparse-input path equals the dense kernel on frames with many
    /// zeros, for one row and for a batch, bit for bit (the outputs carry no
    /// exact zeros here, so not even a zero's sign can differ).
    #[test]
    fn sparse_first_layer_equals_the_dense_kernel() {
        let spec = MlpSpec {
            inputs: 100,
            hidden: vec![24, 8],
            outputs: 3,
            activation: Activation::Tanh,
            output_activation: Activation::Identity,
            recurrent: false,
        };
        assert!(sparse::eligible(&spec));
        let p = params(spec.n_params());
        let net = Mlp::new(&spec, &p).unwrap();
        let rows = 5;
        let x: Vec<f32> = (0..rows * spec.inputs)
            .map(|i| {
                if i * 7919 % 13 < 3 {
                    (i % 5) as f32 * 0.5 - 1.0
                } else {
                    0.0
                }
            })
            .collect();
        let mut a = MlpBuffers::new(&spec, rows);
        let mut b = MlpBuffers::new(&spec, rows);
        for r in [1, rows] {
            let dense = net.forward(&x[..r * spec.inputs], r, &mut a).to_vec();
            let sparse = net
                .forward_sparse(&x[..r * spec.inputs], r, &mut b)
                .to_vec();
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&dense), bits(&sparse), "{r} rows");
        }
    }

    fn spec(recurrent: bool) -> MlpSpec {
        MlpSpec {
            inputs: 3,
            hidden: vec![5, 4],
            outputs: 2,
            activation: Activation::Tanh,
            output_activation: Activation::Identity,
            recurrent,
        }
    }

    fn params(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 % 101) as f32 / 50.0 - 1.0) * 0.7)
            .collect()
    }

    /// Straightforward reference implementation in f64 with libm tanh.
    fn reference(s: &MlpSpec, p: &[f32], x: &[f32], h: &mut [Vec<f64>]) -> Vec<f64> {
        let mut a: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        for (li, l) in s.layers().iter().enumerate() {
            let mut o = vec![0.0; l.n_out];
            for j in 0..l.n_out {
                let mut acc = p[l.b + j] as f64;
                for i in 0..l.n_in {
                    acc += a[i] * p[l.w + i * l.n_out + j] as f64;
                }
                if let Some(u) = l.u {
                    for k in 0..l.n_out {
                        acc += h[li][k] * p[u + k * l.n_out + j] as f64;
                    }
                }
                o[j] = if li + 1 == s.layers().len() {
                    acc
                } else {
                    acc.tanh()
                };
            }
            if l.u.is_some() {
                h[li] = o.clone();
            }
            a = o;
        }
        a
    }

    #[test]
    fn matches_reference_and_batch_size_does_not_matter() {
        for recurrent in [false, true] {
            let s = spec(recurrent);
            let p = params(s.n_params());
            let m = Mlp::new(&s, &p).unwrap();
            let xs = [0.3f32, -1.2, 0.8, 1.0, 0.0, -0.5, 0.1, 0.2, 0.3];
            let mut b3 = MlpBuffers::new(&s, 3);
            let mut refs: Vec<Vec<Vec<f64>>> = (0..3)
                .map(|_| s.hidden.iter().map(|&n| vec![0.0; n]).collect())
                .collect();
            for _step in 0..3 {
                let batched = m.forward(&xs, 3, &mut b3).to_vec();
                for r in 0..3 {
                    let want = reference(&s, &p, &xs[r * 3..r * 3 + 3], &mut refs[r]);
                    for j in 0..2 {
                        assert!(
                            (batched[r * 2 + j] as f64 - want[j]).abs() < 1e-4,
                            "recurrent={recurrent}"
                        );
                    }
                }
            }
            // Row-by-row gives the same bits as the batch (non-recurrent case).
            if !recurrent {
                let mut b1 = MlpBuffers::new(&s, 1);
                let batched = m.forward(&xs, 3, &mut b3).to_vec();
                for r in 0..3 {
                    let one = m.forward(&xs[r * 3..r * 3 + 3], 1, &mut b1).to_vec();
                    assert_eq!(one, batched[r * 2..r * 2 + 2]);
                }
            }
        }
    }

    /// The AVX2 kernel gives the portable kernel's bits for every shape, row
    /// count, activation and recurrent state (rows are blocked by 4 there,
    /// so each row count exercises other block paths).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernel_matches_portable_bit_for_bit() {
        if !(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")) {
            eprintln!("no AVX2+FMA on this CPU: only the portable kernel runs here");
            return;
        }
        let shapes: [(usize, &[usize], usize); 12] = [
            (4, &[64, 64], 2),
            (3, &[5, 4], 2),
            (6, &[16], 3),
            (2, &[7, 9, 33], 1),
            (11, &[24, 8], 4),
            (1, &[1], 1),
            (5, &[17, 65], 7),
            (8, &[130], 9),
            (3, &[4], 2),
            (4, &[6], 2),
            (4, &[6, 4], 2),
            (2, &[10], 1),
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        };
        let mut checked = 0;
        for (inputs, hidden, outputs) in shapes {
            for recurrent in [false, true] {
                for act in Activation::ALL {
                    let s = MlpSpec {
                        inputs,
                        hidden: hidden.to_vec(),
                        outputs,
                        activation: act,
                        output_activation: if outputs == 2 {
                            Activation::Identity
                        } else {
                            act
                        },
                        recurrent,
                    };
                    // Weights large enough to saturate tanh, inputs from 1e-5 to 10.
                    let p: Vec<f32> = (0..s.n_params()).map(|_| 1.5 * next()).collect();
                    let m = Mlp::new(&s, &p).unwrap();
                    for rows in 1..=9 {
                        let mut fast = MlpBuffers::new(&s, rows);
                        let mut slow = MlpBuffers::new(&s, rows);
                        for step in 0..3 {
                            let x: Vec<f32> = (0..rows * inputs)
                                .map(|i| next() * [1e-5, 1.0, 10.0][(i + step) % 3])
                                .collect();
                            let want = {
                                forward_impl(&m, &x, rows, &mut slow, 0);
                                slow.a[..rows * outputs].to_vec()
                            };
                            // SAFETY: AVX2 and FMA were detected above.
                            unsafe { avx2::forward(&m, &x, rows, &mut fast, 0) };
                            let got = &fast.a[..rows * outputs];
                            for (g, w) in got.iter().zip(&want) {
                                assert_eq!(
                                    g.to_bits(),
                                    w.to_bits(),
                                    "{inputs}-{hidden:?}-{outputs} {act:?} recurrent={recurrent} rows={rows} step={step}: {got:?} vs {want:?}"
                                );
                            }
                            checked += got.len();
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000);
    }

    #[test]
    fn rejects_wrong_param_count() {
        let s = spec(false);
        assert_eq!(
            Mlp::new(&s, &[0.0; 3]).unwrap_err(),
            MlpError::ParamCount {
                expected: s.n_params(),
                got: 3
            }
        );
        assert_eq!(s.n_params(), 3 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2);
        assert_eq!(spec(true).n_params(), s.n_params() + 25 + 16);
    }

    #[test]
    fn cartpole_policy_size() {
        let s = MlpSpec {
            inputs: 4,
            hidden: vec![64, 64],
            outputs: 2,
            activation: Activation::Tanh,
            output_activation: Activation::Identity,
            recurrent: false,
        };
        assert_eq!(s.n_params(), 4610);
    }
}
