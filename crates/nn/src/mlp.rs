//! Multilayer perceptron over a flat f32 parameter vector.
//!
//! Layout, per layer `l` with `n_in → n_out`: the weights `W` input-major
//! (`W[i][j]` at `i·n_out + j`, so the forward pass is a sequence of axpys
//! that vectorise over outputs), then for a recurrent hidden layer the
//! recurrent weights `U` (`n_out × n_out`, same layout), then the biases.
//! Each output is accumulated as `b + Σᵢ xᵢ·W[i] (+ Σₖ hₖ·U[k])` in index
//! order, so results do not depend on batch size or on the SIMD width.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;

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
            out.push(LayerLayout { n_in, n_out, w, u, b });
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
        self.hidden.iter().copied().chain([self.inputs, self.outputs]).max().unwrap_or(0)
    }

    /// Multiply-accumulates of one forward pass.
    pub fn macs(&self) -> usize {
        self.layers().iter().map(|l| l.n_in * l.n_out + l.u.map_or(0, |_| l.n_out * l.n_out)).sum()
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
}

impl MlpBuffers {
    pub fn new(spec: &MlpSpec, batch: usize) -> Self {
        let w = spec.widest();
        let h = if spec.recurrent { spec.hidden.iter().map(|&n| vec![0.0; n * batch]).collect() } else { Vec::new() };
        Self { batch, layers: spec.layers(), a: vec![0.0; w * batch], b: vec![0.0; w * batch], h }
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
            return Err(MlpError::ParamCount { expected, got: params.len() });
        }
        Ok(Self { spec, params })
    }

    pub fn spec(&self) -> &MlpSpec {
        self.spec
    }

    /// Forward pass of `rows` inputs (`rows × inputs`, row-major); returns
    /// `rows × outputs`. No allocation.
    pub fn forward<'b>(&self, x: &[f32], rows: usize, buf: &'b mut MlpBuffers) -> &'b [f32] {
        assert!(rows <= buf.batch, "batch of {rows} rows exceeds buffers for {}", buf.batch);
        assert_eq!(x.len(), rows * self.spec.inputs, "input size");
        debug_assert_eq!(buf.layers, self.spec.layers(), "buffers made for another spec");
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { forward_avx2(self, x, rows, buf) };
                return &buf.a[..rows * self.spec.outputs];
            }
        }
        forward_impl(self, x, rows, buf);
        &buf.a[..rows * self.spec.outputs]
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn forward_avx2(m: &Mlp<'_>, x: &[f32], rows: usize, buf: &mut MlpBuffers) {
    forward_impl(m, x, rows, buf)
}

/// The kernel. Results land in `buf.a`. Multiplications and additions are
/// never fused, so every CPU gives the same bits.
#[inline(always)]
fn forward_impl(m: &Mlp<'_>, x: &[f32], rows: usize, buf: &mut MlpBuffers) {
    let p = m.params;
    let MlpBuffers { layers, a, b, h: hs, .. } = buf;
    a[..x.len()].copy_from_slice(x);
    for (li, l) in layers.iter().enumerate() {
        let (inp, out) = (&*a, &mut *b);
        let bias = &p[l.b..l.b + l.n_out];
        for r in 0..rows {
            out[r * l.n_out..(r + 1) * l.n_out].copy_from_slice(bias);
        }
        for i in 0..l.n_in {
            let w = &p[l.w + i * l.n_out..l.w + (i + 1) * l.n_out];
            for r in 0..rows {
                let xi = inp[r * l.n_in + i];
                let o = &mut out[r * l.n_out..(r + 1) * l.n_out];
                for (o, w) in o.iter_mut().zip(w) {
                    *o += xi * w;
                }
            }
        }
        let last = li + 1 == layers.len();
        if let Some(u) = l.u {
            let h = &mut hs[li];
            for k in 0..l.n_out {
                let w = &p[u + k * l.n_out..u + (k + 1) * l.n_out];
                for r in 0..rows {
                    let hk = h[r * l.n_out + k];
                    let o = &mut out[r * l.n_out..(r + 1) * l.n_out];
                    for (o, w) in o.iter_mut().zip(w) {
                        *o += hk * w;
                    }
                }
            }
            m.spec.activation.apply(&mut out[..rows * l.n_out]);
            h[..rows * l.n_out].copy_from_slice(&out[..rows * l.n_out]);
        } else {
            let act = if last { m.spec.output_activation } else { m.spec.activation };
            act.apply(&mut out[..rows * l.n_out]);
        }
        std::mem::swap(a, b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        (0..n).map(|i| ((i * 7919 % 101) as f32 / 50.0 - 1.0) * 0.7).collect()
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
                o[j] = if li + 1 == s.layers().len() { acc } else { acc.tanh() };
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
            let mut refs: Vec<Vec<Vec<f64>>> = (0..3).map(|_| s.hidden.iter().map(|&n| vec![0.0; n]).collect()).collect();
            for _step in 0..3 {
                let batched = m.forward(&xs, 3, &mut b3).to_vec();
                for r in 0..3 {
                    let want = reference(&s, &p, &xs[r * 3..r * 3 + 3], &mut refs[r]);
                    for j in 0..2 {
                        assert!((batched[r * 2 + j] as f64 - want[j]).abs() < 1e-4, "recurrent={recurrent}");
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

    #[test]
    fn rejects_wrong_param_count() {
        let s = spec(false);
        assert_eq!(Mlp::new(&s, &[0.0; 3]).unwrap_err(), MlpError::ParamCount { expected: s.n_params(), got: 3 });
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
