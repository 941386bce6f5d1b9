//! The MLP forward pass with AVX2 and FMA, for several rows (episodes in
//! lockstep) at once.
//!
//! The portable kernel (`super::forward_impl`) computes one row at a time and
//! reloads every weight of a layer for each row. Here up to six rows share
//! each weight load: a block of `RB` rows × `8·CW` outputs keeps its `RB·CW`
//! accumulator vectors in registers, and for every input reads `CW` weight
//! vectors once and broadcasts one input per row. Four rows × 16 outputs is
//! six loads per eight fused multiply-adds (one row × 64: nine per eight);
//! on the machine of docs/BENCHMARKS.md a C model of the 64 × 64 layer's
//! loop runs at 82–84 % of the FMA units' peak that way. tanh is applied to
//! the accumulators in registers before they are stored, four vectors at a
//! time (same operations as `activation::fast_tanh`), and an output layer of
//! 1, 2 or 4 units packs its four partial sums into one vector, several rows
//! at once.
//!
//! Bit-identical to the portable kernel for every shape, batch size and row
//! position (a test checks it): each output is still `b + Σᵢ xᵢ·W[i][j]
//! (+ Σₖ hₖ·U[k][j])`, one fused multiply-add per term in index order, and
//! a short tail keeps its four partial sums over `i mod 4`, added as
//! `b + ((p₀ + p₁) + (p₂ + p₃))`.

use std::arch::x86_64::*;

use super::{tail, Mlp, MlpBuffers};
use crate::activation::{tanh_coefficients as tc, Activation};

/// Forward pass of `rows` rows; results land in `buf.a`, like the portable
/// kernel. The caller has checked the shapes (`Mlp::forward`).
#[target_feature(enable = "avx2,fma")]
pub(super) fn forward(m: &Mlp<'_>, x: &[f32], rows: usize, buf: &mut MlpBuffers, start: usize) {
    let p = m.params;
    let MlpBuffers {
        layers,
        a,
        b,
        h: hs,
        ..
    } = buf;
    let n_layers = layers.len();
    for (li, l) in layers.iter().enumerate().skip(start) {
        let (n_in, n_out) = (l.n_in, l.n_out);
        let act = if li + 1 == n_layers {
            m.spec.output_activation
        } else {
            m.spec.activation
        };
        let layer = Layer {
            n_in,
            n_out,
            w: &p[l.w..l.w + n_in * n_out],
            u: l.u.map(|u| &p[u..u + n_out * n_out]),
            bias: &p[l.b..l.b + n_out],
            act,
        };
        let hprev = if l.u.is_some() {
            Some(&hs[li][..rows * n_out])
        } else {
            None
        };
        // The first layer reads the caller's rows in place.
        let input = if li == start { x } else { &a[..rows * n_in] };
        let out = &mut b[..rows * n_out];
        // A layer of 1, 2 or 4 units over whole quads of inputs packs its
        // partial sums; any other short layer takes `row_block`'s tail.
        if layer.u.is_none() && matches!(n_out, 1 | 2 | 4) && n_in % 4 == 0 {
            let mut r0 = 0;
            while r0 + 8 <= rows {
                packed_tail::<8>(&layer, input, out, r0);
                r0 += 8;
            }
            match rows - r0 {
                0 => {}
                1 => packed_tail::<1>(&layer, input, out, r0),
                2 => packed_tail::<2>(&layer, input, out, r0),
                3 => packed_tail::<3>(&layer, input, out, r0),
                4 => packed_tail::<4>(&layer, input, out, r0),
                5 => packed_tail::<5>(&layer, input, out, r0),
                6 => packed_tail::<6>(&layer, input, out, r0),
                _ => packed_tail::<7>(&layer, input, out, r0),
            }
        } else {
            // Blocks of RB rows × 8·CW outputs, chosen by measurement on
            // Zen 3 with the variants interleaved in one process
            // (docs/BENCHMARKS.md 1): 8 rows as 4 + 4 beat 5 + 3 and 6 + 2
            // by 12 %, 5 and 6 rows in one block beat 4 + 1 and 4 + 2, and
            // 3 rows × 24 outputs beat 3 × 32 (which spills registers).
            let mut r0 = 0;
            match rows {
                5 => row_block::<5, 2>(&layer, input, hprev, out, 0),
                6 => row_block::<6, 2>(&layer, input, hprev, out, 0),
                _ => {
                    while rows - r0 >= 4 {
                        row_block::<4, 2>(&layer, input, hprev, out, r0);
                        r0 += 4;
                    }
                    match rows - r0 {
                        0 => {}
                        1 => row_block::<1, 8>(&layer, input, hprev, out, r0),
                        2 => row_block::<2, 4>(&layer, input, hprev, out, r0),
                        _ => row_block::<3, 3>(&layer, input, hprev, out, r0),
                    }
                }
            }
        }
        if l.u.is_some() {
            hs[li][..rows * n_out].copy_from_slice(&b[..rows * n_out]);
        }
        std::mem::swap(a, b);
    }
}

/// One layer's parameters.
struct Layer<'p> {
    n_in: usize,
    n_out: usize,
    w: &'p [f32],
    u: Option<&'p [f32]>,
    bias: &'p [f32],
    act: Activation,
}

/// Rows `r0..r0+RB` of one layer: blocks of `8·CW` outputs, then blocks of 8,
/// then the tail of fewer than 8 outputs row by row.
#[target_feature(enable = "avx2,fma")]
fn row_block<const RB: usize, const CW: usize>(
    l: &Layer<'_>,
    input: &[f32],
    hprev: Option<&[f32]>,
    out: &mut [f32],
    r0: usize,
) {
    let n_out = l.n_out;
    // Bounds for the raw reads below: whole rows r0..r0+RB exist.
    assert!((r0 + RB) * l.n_in <= input.len() && (r0 + RB) * n_out <= out.len());
    assert!(hprev.is_none_or(|h| (r0 + RB) * n_out <= h.len()));
    assert!(l.w.len() == l.n_in * n_out && l.bias.len() == n_out);
    assert!(l.u.is_none_or(|u| u.len() == n_out * n_out) && l.u.is_some() == hprev.is_some());
    let mut j0 = 0;
    while j0 + 8 * CW <= n_out {
        // SAFETY: the rows and weights were asserted above; the loop bound
        // keeps j0 + 8·CW ≤ n_out.
        unsafe { block::<RB, CW>(l, input, hprev, out, r0, j0) };
        j0 += 8 * CW;
    }
    if CW > 2 {
        while j0 + 16 <= n_out {
            // SAFETY: the rows and weights were asserted above; the loop bound
            // keeps j0 + 8·2 ≤ n_out.
            unsafe { block::<RB, 2>(l, input, hprev, out, r0, j0) };
            j0 += 16;
        }
    }
    while j0 + 8 <= n_out {
        // SAFETY: the rows and weights were asserted above; the loop bound
        // keeps j0 + 8·1 ≤ n_out.
        unsafe { block::<RB, 1>(l, input, hprev, out, r0, j0) };
        j0 += 8;
    }
    if j0 < n_out {
        for r in r0..r0 + RB {
            let xr = &input[r * l.n_in..(r + 1) * l.n_in];
            let h = match (hprev, l.u) {
                (Some(h), Some(u)) => Some((&h[r * n_out..(r + 1) * n_out], u)),
                _ => None,
            };
            let o = &mut out[r * n_out..(r + 1) * n_out];
            match n_out - j0 {
                1 => tail::<1>(xr, l.w, h, l.bias, o, j0),
                2 => tail::<2>(xr, l.w, h, l.bias, o, j0),
                3 => tail::<3>(xr, l.w, h, l.bias, o, j0),
                4 => tail::<4>(xr, l.w, h, l.bias, o, j0),
                5 => tail::<5>(xr, l.w, h, l.bias, o, j0),
                6 => tail::<6>(xr, l.w, h, l.bias, o, j0),
                7 => tail::<7>(xr, l.w, h, l.bias, o, j0),
                _ => unreachable!("tail is shorter than 8"),
            }
            l.act.apply(&mut o[j0..]);
        }
    }
}

/// `RB` rows × `8·CW` outputs from `j0`: bias, inputs, recurrent inputs,
/// activation, store.
///
/// # Safety
/// Rows `r0..r0+RB` of `input`, `hprev` (when given) and `out` must exist,
/// `l.w`, `l.u` and `l.bias` must hold `n_in × n_out`, `n_out × n_out` and
/// `n_out` values, and `j0 + 8·CW ≤ n_out` (what `row_block` asserts).
#[target_feature(enable = "avx2,fma")]
unsafe fn block<const RB: usize, const CW: usize>(
    l: &Layer<'_>,
    input: &[f32],
    hprev: Option<&[f32]>,
    out: &mut [f32],
    r0: usize,
    j0: usize,
) {
    let n_out = l.n_out;
    debug_assert!(j0 + 8 * CW <= n_out);
    let mut acc = [[_mm256_setzero_ps(); CW]; RB];
    // SAFETY (all raw reads and writes below): this function's contract.
    unsafe {
        for c in 0..CW {
            let bv = _mm256_loadu_ps(l.bias.as_ptr().add(j0 + 8 * c));
            for acc_r in acc.iter_mut() {
                acc_r[c] = bv;
            }
        }
        accumulate::<RB, CW>(
            &mut acc,
            input.as_ptr().add(r0 * l.n_in),
            l.n_in,
            l.n_in,
            l.w.as_ptr().add(j0),
            n_out,
        );
        if let (Some(h), Some(u)) = (hprev, l.u) {
            accumulate::<RB, CW>(
                &mut acc,
                h.as_ptr().add(r0 * n_out),
                n_out,
                n_out,
                u.as_ptr().add(j0),
                n_out,
            );
        }
        if l.act == Activation::Tanh {
            // Every block has at most 12 accumulators (asserted).
            let mut flat = [_mm256_setzero_ps(); 12];
            let n = RB * CW;
            assert!(n <= 12, "a block of {RB} × {CW} vectors");
            for (r, acc_r) in acc.iter().enumerate() {
                for (c, &v) in acc_r.iter().enumerate() {
                    flat[r * CW + c] = v;
                }
            }
            // Four vectors at a time: each coefficient is loaded once for
            // four chains (measured: up to 17 % faster than one at a time).
            let mut i = 0;
            while i + 4 <= n {
                tanh_group::<4>(&mut flat, i);
                i += 4;
            }
            while i < n {
                tanh_group::<1>(&mut flat, i);
                i += 1;
            }
            for r in 0..RB {
                let dst = out.as_mut_ptr().add((r0 + r) * n_out + j0);
                for c in 0..CW {
                    _mm256_storeu_ps(dst.add(8 * c), flat[r * CW + c]);
                }
            }
        } else {
            for (r, acc_r) in acc.iter().enumerate() {
                let dst = out.as_mut_ptr().add((r0 + r) * n_out + j0);
                for (c, &v) in acc_r.iter().enumerate() {
                    _mm256_storeu_ps(dst.add(8 * c), v);
                }
                l.act
                    .apply(&mut out[(r0 + r) * n_out + j0..(r0 + r) * n_out + j0 + 8 * CW]);
            }
        }
    }
}

/// `activation::fast_tanh` on `v[at..at + N]`, eight lanes each, step by
/// step across the N vectors: the same operations in the same order (clamp,
/// Horner with fused multiply-adds, one division, the identity below 4e-4),
/// so the same bits.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn tanh_group<const N: usize>(v: &mut [__m256; 12], at: usize) {
    let s = _mm256_set1_ps;
    let mut x = [_mm256_setzero_ps(); N];
    let mut x2 = [_mm256_setzero_ps(); N];
    let mut p = [_mm256_setzero_ps(); N];
    let mut q = [_mm256_setzero_ps(); N];
    let (lo, hi) = (s(-tc::CLAMP), s(tc::CLAMP));
    for k in 0..N {
        x[k] = _mm256_min_ps(hi, _mm256_max_ps(lo, v[at + k]));
    }
    for k in 0..N {
        x2[k] = _mm256_mul_ps(x[k], x[k]);
    }
    let (a13, a11) = (s(tc::A13), s(tc::A11));
    for k in 0..N {
        p[k] = _mm256_fmadd_ps(x2[k], a13, a11);
    }
    let (b6, b4) = (s(tc::B6), s(tc::B4));
    for k in 0..N {
        q[k] = _mm256_fmadd_ps(x2[k], b6, b4);
    }
    for c in [tc::A9, tc::A7, tc::A5, tc::A3, tc::A1] {
        let cv = s(c);
        for k in 0..N {
            p[k] = _mm256_fmadd_ps(x2[k], p[k], cv);
        }
    }
    for c in [tc::B2, tc::B0] {
        let cv = s(c);
        for k in 0..N {
            q[k] = _mm256_fmadd_ps(x2[k], q[k], cv);
        }
    }
    let mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let small = s(tc::IDENTITY_BELOW);
    for k in 0..N {
        let r = _mm256_div_ps(_mm256_mul_ps(p[k], x[k]), q[k]);
        let a = v[at + k];
        let m = _mm256_cmp_ps::<_CMP_LT_OQ>(_mm256_and_ps(a, mask), small);
        v[at + k] = _mm256_blendv_ps(r, a, m);
    }
}

/// `acc[r][c] += Σᵢ src[r·stride + i] · w[i·n_out + 8c ..+8]` for i in
/// `0..n`, one fused multiply-add per term in index order.
///
/// # Safety
/// `src` must be readable at `r·stride + i` for r < RB, i < n, and `w` at
/// `i·n_out + k` for i < n, k < 8·CW.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn accumulate<const RB: usize, const CW: usize>(
    acc: &mut [[__m256; CW]; RB],
    src: *const f32,
    stride: usize,
    n: usize,
    w: *const f32,
    n_out: usize,
) {
    for i in 0..n {
        // SAFETY: in bounds by this function's contract.
        unsafe {
            let wr = w.add(i * n_out);
            let mut wv = [_mm256_setzero_ps(); CW];
            for (c, v) in wv.iter_mut().enumerate() {
                *v = _mm256_loadu_ps(wr.add(8 * c));
            }
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let xb = _mm256_broadcast_ss(&*src.add(r * stride + i));
                for (a, &wc) in acc_r.iter_mut().zip(&wv) {
                    *a = _mm256_fmadd_ps(xb, wc, *a);
                }
            }
        }
    }
}

/// Rows `r0..r0+RB` of a whole layer of K ∈ {1, 2, 4} units (no
/// recurrence): four rows of `W` are 4K contiguous floats, so the four
/// partial sums over `i mod 4` of all K outputs are the lanes of one vector
/// (K = 4: two), fed by the inputs each repeated K times. The rows' chains
/// are independent, which hides the latency of the fused multiply-adds.
/// Same terms in the same order as `tail` (whose remainder of `n_in mod 4`
/// inputs it leaves to `row_block`: the caller sends only whole quads).
#[target_feature(enable = "avx2,fma")]
fn packed_tail<const RB: usize>(l: &Layer<'_>, input: &[f32], out: &mut [f32], r0: usize) {
    let (n_in, k) = (l.n_in, l.n_out);
    assert!((r0 + RB) * n_in <= input.len() && (r0 + RB) * k <= out.len());
    assert!(l.w.len() == n_in * k && l.bias.len() == k && matches!(k, 1 | 2 | 4));
    assert!(n_in % 4 == 0, "inputs in whole quads");
    let quads = n_in / 4;
    // lanes[r][d·K + j] = Σ_q x_r[4q + d] · W[4q + d][j]
    // SAFETY: every read is within rows r0..r0+RB of `input`, within
    // w[..n_in·K] and bias[..K]; every write within rows r0..r0+RB of `out`
    // (all asserted above).
    unsafe {
        let w = l.w.as_ptr();
        let xp = input.as_ptr().add(r0 * n_in);
        let (rep_lo, rep_hi) = match k {
            2 => (
                _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3),
                _mm256_setzero_si256(),
            ),
            _ => (
                _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1),
                _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
            ),
        };
        let mut acc = [[_mm256_setzero_ps(); 2]; RB];
        for q in 0..quads {
            let wq = w.add(4 * k * q);
            match k {
                1 => {
                    let wv = _mm_loadu_ps(wq);
                    for (r, a) in acc.iter_mut().enumerate() {
                        let xv = _mm_loadu_ps(xp.add(r * n_in + 4 * q));
                        let lo = _mm256_castps256_ps128(a[0]);
                        a[0] = _mm256_castps128_ps256(_mm_fmadd_ps(xv, wv, lo));
                    }
                }
                2 => {
                    let wv = _mm256_loadu_ps(wq);
                    for (r, a) in acc.iter_mut().enumerate() {
                        let xv = _mm256_castps128_ps256(_mm_loadu_ps(xp.add(r * n_in + 4 * q)));
                        a[0] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(xv, rep_lo), wv, a[0]);
                    }
                }
                _ => {
                    let (w01, w23) = (_mm256_loadu_ps(wq), _mm256_loadu_ps(wq.add(8)));
                    for (r, a) in acc.iter_mut().enumerate() {
                        let xv = _mm256_castps128_ps256(_mm_loadu_ps(xp.add(r * n_in + 4 * q)));
                        a[0] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(xv, rep_lo), w01, a[0]);
                        a[1] = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(xv, rep_hi), w23, a[1]);
                    }
                }
            }
        }
        // b + ((p₀ + p₁) + (p₂ + p₃)) in registers.
        for (r, a) in acc.iter().enumerate() {
            let o = out.as_mut_ptr().add((r0 + r) * k);
            let b = l.bias.as_ptr();
            match k {
                1 => {
                    let v = _mm256_castps256_ps128(a[0]);
                    let t = _mm_add_ps(v, _mm_shuffle_ps::<0b10_11_00_01>(v, v));
                    let u = _mm_add_ps(t, _mm_movehl_ps(t, t));
                    _mm_store_ss(o, _mm_add_ss(_mm_load_ss(b), u));
                }
                2 => {
                    let (lo, hi) = (
                        _mm256_castps256_ps128(a[0]),
                        _mm256_extractf128_ps::<1>(a[0]),
                    );
                    let s01 = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
                    let s23 = _mm_add_ps(hi, _mm_movehl_ps(hi, hi));
                    let bv = _mm_castpd_ps(_mm_load_sd(b.cast()));
                    let res = _mm_add_ps(bv, _mm_add_ps(s01, s23));
                    _mm_store_sd(o.cast(), _mm_castps_pd(res));
                }
                _ => {
                    let s01 = _mm_add_ps(
                        _mm256_castps256_ps128(a[0]),
                        _mm256_extractf128_ps::<1>(a[0]),
                    );
                    let s23 = _mm_add_ps(
                        _mm256_castps256_ps128(a[1]),
                        _mm256_extractf128_ps::<1>(a[1]),
                    );
                    _mm_storeu_ps(o, _mm_add_ps(_mm_loadu_ps(b), _mm_add_ps(s01, s23)));
                }
            }
        }
        for r in r0..r0 + RB {
            l.act.apply(&mut out[r * k..(r + 1) * k]);
        }
    }
}
