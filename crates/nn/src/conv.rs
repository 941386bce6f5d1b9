//! A convolutional torso over frames (Mnih et al. 2015's DQN network and
//! MinAtar's smaller one, Young & Tian 2019): convolutions without padding,
//! each followed by the activation, whose output is flattened for the dense
//! layers that follow ([`crate::Mlp`]).
//!
//! Frames are row-major with the channel last (`x[(y·W + x)·C + c]`, the
//! layout of MinAtar's `state()` and of Gymnasium's image spaces). The
//! output keeps that layout (`(oy·OW + ox)·F + f`).
//!
//! Parameters, per layer: the kernel `K[ky][kx][c][f]` (filter index last,
//! so one input value updates a contiguous run of filters), then the `F`
//! biases.
//!
//! # The forward pass scatters non-zero inputs
//!
//! Each non-zero input `v` at `(y, x, c)` adds `v · K[ky][kx][c][·]` to every
//! output position whose window covers it. Inputs are visited in row-major
//! order, so every output's sum runs over its window in `(ky, kx, c)` order:
//! the terms of the dense sum in the dense order, minus the zero ones (one
//! fused multiply-add per term). A MinAtar frame has 20–60 true cells of
//! 400–1,000, so the first convolution costs a few hundred short vector
//! updates instead of 37,000 multiply-adds, and the result does not depend
//! on how many rows are evaluated together.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::nonzero::nonzeros;

/// One convolution: `filters` kernels of `kernel × kernel`, moved by
/// `stride`, no padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvLayer {
    pub filters: usize,
    pub kernel: usize,
    #[serde(default = "one")]
    pub stride: usize,
}

fn one() -> usize {
    1
}

/// Why a torso cannot be built.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ConvError {
    #[error("convolution {layer}: a {kernel}×{kernel} kernel does not fit a {h}×{w} input")]
    TooSmall {
        layer: usize,
        kernel: usize,
        h: usize,
        w: usize,
    },
    #[error("convolution {layer}: filters, kernel and stride must be at least 1")]
    Zero { layer: usize },
    #[error("expected {expected} parameters, got {got}")]
    ParamCount { expected: usize, got: usize },
}

/// The torso's shape. Plain data: part of policy specs and champion files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvSpec {
    /// The frame: height, width, channels.
    pub input: [usize; 3],
    pub layers: Vec<ConvLayer>,
    pub activation: Activation,
}

/// One layer with its shapes resolved and its place in the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Resolved {
    /// Input height, width, channels.
    h: usize,
    w: usize,
    c: usize,
    k: usize,
    s: usize,
    f: usize,
    /// Output height and width.
    oh: usize,
    ow: usize,
    /// Offsets of the kernel and of the biases.
    kernel_at: usize,
    bias_at: usize,
}

impl Resolved {
    fn inputs(&self) -> usize {
        self.h * self.w * self.c
    }
    fn outputs(&self) -> usize {
        self.oh * self.ow * self.f
    }
    fn kernel_len(&self) -> usize {
        self.k * self.k * self.c * self.f
    }
}

const fn conv_layer(filters: usize, kernel: usize, stride: usize) -> ConvLayer {
    ConvLayer {
        filters,
        kernel,
        stride,
    }
}

impl ConvSpec {
    /// The MinAtar DQN torso's layers (Young & Tian 2019): 16 filters of
    /// 3×3, stride 1.
    pub const MINATAR_LAYERS: [ConvLayer; 1] = [conv_layer(16, 3, 1)];
    /// The Nature DQN torso's layers (Mnih et al. 2015): 32 filters 8×8
    /// stride 4, 64 filters 4×4 stride 2, 64 filters 3×3 stride 1.
    pub const NATURE_LAYERS: [ConvLayer; 3] = [
        conv_layer(32, 8, 4),
        conv_layer(64, 4, 2),
        conv_layer(64, 3, 1),
    ];

    /// The MinAtar DQN torso over `input` frames, ReLU.
    pub fn minatar(input: [usize; 3]) -> Self {
        Self {
            input,
            layers: Self::MINATAR_LAYERS.to_vec(),
            activation: Activation::Relu,
        }
    }

    /// The Nature DQN torso over `input` frames, ReLU.
    pub fn nature(input: [usize; 3]) -> Self {
        Self {
            input,
            layers: Self::NATURE_LAYERS.to_vec(),
            activation: Activation::Relu,
        }
    }

    fn resolve(&self) -> Result<Vec<Resolved>, ConvError> {
        let [mut h, mut w, mut c] = self.input;
        let mut at = 0;
        let mut out = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            if l.filters == 0 || l.kernel == 0 || l.stride == 0 || h * w * c == 0 {
                return Err(ConvError::Zero { layer: i + 1 });
            }
            if l.kernel > h || l.kernel > w {
                return Err(ConvError::TooSmall {
                    layer: i + 1,
                    kernel: l.kernel,
                    h,
                    w,
                });
            }
            let (k, s, f) = (l.kernel, l.stride, l.filters);
            let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1);
            let r = Resolved {
                h,
                w,
                c,
                k,
                s,
                f,
                oh,
                ow,
                kernel_at: at,
                bias_at: at + k * k * c * f,
            };
            at = r.bias_at + f;
            out.push(r);
            (h, w, c) = (oh, ow, f);
        }
        Ok(out)
    }

    /// Checks that every kernel fits.
    pub fn validate(&self) -> Result<(), ConvError> {
        self.resolve().map(|_| ())
    }

    fn resolved(&self) -> Vec<Resolved> {
        self.resolve().unwrap_or_default()
    }

    /// Values the torso outputs (the dense layers' inputs); the input size
    /// when there are no layers, 0 for a torso that does not fit.
    pub fn features(&self) -> usize {
        if self.layers.is_empty() {
            return self.input.iter().product();
        }
        self.resolved().last().map_or(0, Resolved::outputs)
    }

    /// The output's height, width and channels.
    pub fn output_shape(&self) -> [usize; 3] {
        self.resolved()
            .last()
            .map_or(self.input, |r| [r.oh, r.ow, r.f])
    }

    pub fn n_params(&self) -> usize {
        self.resolved().last().map_or(0, |r| r.bias_at + r.f)
    }

    /// `1/√fan_in` for kernels (fan-in `k·k·c`), 0 for biases, as for the
    /// dense layers.
    pub fn init_scales(&self) -> Vec<f32> {
        let mut s = vec![0.0; self.n_params()];
        for r in self.resolved() {
            let sc = 1.0 / ((r.k * r.k * r.c) as f32).sqrt();
            s[r.kernel_at..r.kernel_at + r.kernel_len()].fill(sc);
        }
        s
    }

    /// Multiply-adds of one dense forward pass (zeros included).
    pub fn macs(&self) -> usize {
        self.resolved()
            .iter()
            .map(|r| r.oh * r.ow * r.f * r.k * r.k * r.c)
            .sum()
    }
}

/// Which outputs each input reaches, per layer.
#[derive(Debug, Clone)]
struct Covers {
    /// Per input row: output rows `lo..hi`.
    rows: Vec<(usize, usize)>,
    /// Per input column: output columns `lo..hi`.
    cols: Vec<(usize, usize)>,
    /// Per value of an input row (`x·C + c`): its column and channel.
    cells: Vec<(u32, u32)>,
}

/// Scratch space for one row at a time; allocate once per rollout.
#[derive(Debug, Clone)]
pub struct ConvBuffers {
    layers: Vec<Resolved>,
    /// Values of one input frame and of one output row.
    inputs: usize,
    features: usize,
    /// Per layer, per input row and per input column: the output positions
    /// whose window covers it (see [`covering`]).
    covers: Vec<Covers>,
    /// Indices of one input row's non-zero values.
    nz: Vec<u32>,
    a: Vec<f32>,
    b: Vec<f32>,
}

impl ConvBuffers {
    /// Values of the torso's output for one frame.
    pub fn features(&self) -> usize {
        self.features
    }

    pub fn new(spec: &ConvSpec) -> Self {
        let layers = spec.resolved();
        let widest = layers
            .iter()
            .map(|r| r.inputs().max(r.outputs()))
            .max()
            .unwrap_or(0);
        let covers = layers
            .iter()
            .map(|r| Covers {
                rows: (0..r.h).map(|y| covering(y, r.k, r.s, r.oh)).collect(),
                cols: (0..r.w).map(|x| covering(x, r.k, r.s, r.ow)).collect(),
                cells: (0..r.w * r.c)
                    .map(|j| ((j / r.c) as u32, (j % r.c) as u32))
                    .collect(),
            })
            .collect();
        let nz = layers.iter().map(|r| r.w * r.c).max().unwrap_or(0);
        Self {
            inputs: spec.input.iter().product(),
            features: spec.features(),
            layers,
            covers,
            nz: vec![0; nz],
            a: vec![0.0; widest],
            b: vec![0.0; widest],
        }
    }
}

/// A torso: a spec plus a borrowed parameter vector.
#[derive(Debug, Clone, Copy)]
pub struct ConvTorso<'p> {
    spec: &'p ConvSpec,
    params: &'p [f32],
}

impl<'p> ConvTorso<'p> {
    pub fn new(spec: &'p ConvSpec, params: &'p [f32]) -> Result<Self, ConvError> {
        spec.validate()?;
        let expected = spec.n_params();
        if params.len() != expected {
            return Err(ConvError::ParamCount {
                expected,
                got: params.len(),
            });
        }
        Ok(Self { spec, params })
    }

    pub fn spec(&self) -> &ConvSpec {
        self.spec
    }

    /// Runs `rows` frames of `x` (`rows × H·W·C`) through the torso into
    /// `out` (`rows × features`). No allocation.
    ///
    /// # Panics
    /// When the sizes disagree with the spec or `buf` was made for another.
    pub fn forward(&self, x: &[f32], rows: usize, buf: &mut ConvBuffers, out: &mut [f32]) {
        let (n_in, feats) = (buf.inputs, buf.features);
        assert_eq!(x.len(), rows * n_in, "input size");
        assert_eq!(out.len(), rows * feats, "output size");
        assert!(
            buf.layers.len() == self.spec.layers.len()
                && buf.inputs == self.spec.input.iter().product::<usize>()
                && buf
                    .layers
                    .last()
                    .is_none_or(|r| r.bias_at + r.f == self.params.len()),
            "buffers made for another torso"
        );
        for r in 0..rows {
            let (src, dst) = (
                &x[r * n_in..(r + 1) * n_in],
                &mut out[r * feats..(r + 1) * feats],
            );
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports AVX2 and FMA, checked just above.
                    unsafe { row_avx2(self, src, buf, dst) };
                    continue;
                }
            }
            row(self, src, buf, dst);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn row_avx2(t: &ConvTorso<'_>, x: &[f32], buf: &mut ConvBuffers, out: &mut [f32]) {
    row(t, x, buf, out);
}

/// One frame through every layer.
#[inline(always)]
fn row(t: &ConvTorso<'_>, x: &[f32], buf: &mut ConvBuffers, out: &mut [f32]) {
    let ConvBuffers {
        layers,
        covers,
        nz,
        a,
        b,
        ..
    } = buf;
    let n = layers.len();
    if n == 0 {
        out.copy_from_slice(x);
        return;
    }
    for (li, r) in layers.iter().enumerate() {
        let kernel = &t.params[r.kernel_at..r.kernel_at + r.kernel_len()];
        let bias = &t.params[r.bias_at..r.bias_at + r.f];
        let input: &[f32] = if li == 0 { x } else { &a[..r.inputs()] };
        let dst: &mut [f32] = if li + 1 == n {
            &mut *out
        } else {
            &mut b[..r.outputs()]
        };
        layer(r, &covers[li], nz, kernel, bias, input, dst);
        t.spec.activation.apply(dst);
        if li + 1 < n {
            std::mem::swap(a, b);
        }
    }
}

/// One convolution by scattering the non-zero inputs (see the module docs).
#[inline(always)]
fn layer(
    r: &Resolved,
    covers: &Covers,
    nz: &mut [u32],
    kernel: &[f32],
    bias: &[f32],
    x: &[f32],
    out: &mut [f32],
) {
    let f = r.f;
    for o in out.chunks_exact_mut(f) {
        o.copy_from_slice(bias);
    }
    let row_len = r.w * r.c;
    for (y, &(oy_lo, oy_hi)) in covers.rows.iter().enumerate() {
        if oy_lo >= oy_hi {
            continue;
        }
        let row = &x[y * row_len..(y + 1) * row_len];
        let n = nonzeros(row, nz);
        for &j in &nz[..n] {
            let v = row[j as usize];
            let (xx, c) = covers.cells[j as usize];
            let (ox_lo, ox_hi) = covers.cols[xx as usize];
            for oy in oy_lo..oy_hi {
                let ky = y - oy * r.s;
                for ox in ox_lo..ox_hi {
                    let kx = xx as usize - ox * r.s;
                    let w0 = ((ky * r.k + kx) * r.c + c as usize) * f;
                    let o0 = (oy * r.ow + ox) * f;
                    axpy(v, &kernel[w0..w0 + f], &mut out[o0..o0 + f]);
                }
            }
        }
    }
}

/// The output positions `lo..hi` along one axis whose window covers input
/// position `p`.
#[inline(always)]
fn covering(p: usize, k: usize, s: usize, n_out: usize) -> (usize, usize) {
    // oy ≥ (p − k + 1) / s rounded up, oy ≤ p / s.
    let lo = (p + 1).saturating_sub(k).div_ceil(s);
    let hi = (p / s + 1).min(n_out);
    (lo, hi)
}

#[inline(always)]
fn axpy(v: f32, w: &[f32], o: &mut [f32]) {
    let mut oc = o.chunks_exact_mut(8);
    let mut wc = w.chunks_exact(8);
    for (o8, w8) in (&mut oc).zip(&mut wc) {
        let mut acc: [f32; 8] = std::array::from_fn(|k| o8[k]);
        let w8: [f32; 8] = std::array::from_fn(|k| w8[k]);
        for k in 0..8 {
            acc[k] = v.mul_add(w8[k], acc[k]);
        }
        o8.copy_from_slice(&acc);
    }
    for (o, &w) in oc.into_remainder().iter_mut().zip(wc.remainder()) {
        *o = v.mul_add(w, *o);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dense definition, term by term in (ky, kx, c) order.
    fn dense(spec: &ConvSpec, params: &[f32], x: &[f32]) -> Vec<f32> {
        let mut cur = x.to_vec();
        for r in spec.resolved() {
            let mut out = vec![0.0f32; r.outputs()];
            for oy in 0..r.oh {
                for ox in 0..r.ow {
                    for f in 0..r.f {
                        let mut acc = params[r.bias_at + f];
                        for ky in 0..r.k {
                            for kx in 0..r.k {
                                for c in 0..r.c {
                                    let (y, xx) = (oy * r.s + ky, ox * r.s + kx);
                                    let v = cur[(y * r.w + xx) * r.c + c];
                                    let w =
                                        params[r.kernel_at + ((ky * r.k + kx) * r.c + c) * r.f + f];
                                    if v != 0.0 {
                                        acc = v.mul_add(w, acc);
                                    }
                                }
                            }
                        }
                        out[(oy * r.ow + ox) * r.f + f] = acc;
                    }
                }
            }
            spec.activation.apply(&mut out);
            cur = out;
        }
        cur
    }

    fn lcg(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn scatter_equals_the_dense_sum_bit_for_bit() {
        let specs = [
            ConvSpec::minatar([10, 10, 4]),
            ConvSpec {
                input: [13, 11, 3],
                layers: vec![
                    ConvLayer {
                        filters: 5,
                        kernel: 4,
                        stride: 2,
                    },
                    ConvLayer {
                        filters: 7,
                        kernel: 2,
                        stride: 1,
                    },
                ],
                activation: Activation::Tanh,
            },
            ConvSpec::nature([36, 36, 2]),
        ];
        for spec in &specs {
            let params = lcg(spec.n_params(), 1);
            let n_in: usize = spec.input.iter().product();
            // Sparse binary frames and dense real ones.
            let frames: Vec<Vec<f32>> = (0..3)
                .map(|i| {
                    lcg(n_in, 10 + i)
                        .into_iter()
                        .map(|v| {
                            if i == 0 {
                                f32::from(u8::from(v > 0.8))
                            } else {
                                v
                            }
                        })
                        .collect()
                })
                .collect();
            let x: Vec<f32> = frames.concat();
            let t = ConvTorso::new(spec, &params).unwrap();
            let mut buf = ConvBuffers::new(spec);
            let mut out = vec![0.0; 3 * spec.features()];
            t.forward(&x, 3, &mut buf, &mut out);
            for (i, fr) in frames.iter().enumerate() {
                let want = dense(spec, &params, fr);
                let got = &out[i * spec.features()..(i + 1) * spec.features()];
                assert!(
                    want.iter()
                        .zip(got)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{spec:?} frame {i}"
                );
            }
        }
    }

    #[test]
    fn shapes_and_parameter_counts() {
        let m = ConvSpec::minatar([10, 10, 4]);
        assert_eq!(m.output_shape(), [8, 8, 16]);
        assert_eq!(m.features(), 1024);
        assert_eq!(m.n_params(), 3 * 3 * 4 * 16 + 16);
        let n = ConvSpec::nature([84, 84, 4]);
        assert_eq!(n.output_shape(), [7, 7, 64]);
        assert_eq!(
            n.n_params(),
            8 * 8 * 4 * 32 + 32 + 4 * 4 * 32 * 64 + 64 + 3 * 3 * 64 * 64 + 64
        );
        let bad = ConvSpec {
            input: [4, 4, 1],
            layers: vec![ConvLayer {
                filters: 2,
                kernel: 5,
                stride: 1,
            }],
            activation: Activation::Relu,
        };
        assert!(matches!(bad.validate(), Err(ConvError::TooSmall { .. })));
    }
}
