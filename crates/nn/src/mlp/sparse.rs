//! The first layer over mostly-zero inputs: for each row, the weight rows
//! of its non-zero inputs are added to the biases in index order, 64 outputs
//! at a time in registers (8 AVX2 vectors; 128 in 8 AVX-512 vectors where
//! the CPU has them), then 8 at a time. Each output is
//! `b + Σᵢ xᵢ·W[i][j]` over the non-zero `xᵢ`, one fused multiply-add per
//! term in index order: the dense kernel's sum (`super::chunk`) without its
//! zero terms, so the two agree bit for bit except that a dense zero term
//! can turn an exact −0 into +0. Only layers whose width is a multiple of 8
//! take this path (narrower tails use partial sums in the dense kernel).

use super::MlpSpec;
use crate::nonzero::nonzeros;

/// Whether [`layer`] applies to the spec's first layer.
pub(super) fn eligible(spec: &MlpSpec) -> bool {
    !spec.recurrent && spec.hidden.first().is_some_and(|&h| h % 8 == 0)
}

/// `out[r] = b + Σ_{xᵣᵢ ≠ 0} xᵣᵢ·W[i]` for every row `r` (no activation);
/// `nz` holds at least one index per input.
pub(super) fn layer(
    x: &[f32],
    rows: usize,
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
    nz: &mut [u32],
) {
    let n_out = bias.len();
    let n_in = w.len() / n_out;
    assert!(x.len() >= rows * n_in && out.len() >= rows * n_out && n_out.is_multiple_of(8));
    assert!(nz.len() >= n_in);
    for r in 0..rows {
        let (xr, or) = (
            &x[r * n_in..(r + 1) * n_in],
            &mut out[r * n_out..(r + 1) * n_out],
        );
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX-512F and FMA, checked just above.
                unsafe { row_avx512(xr, w, bias, or, nz) };
                continue;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA, checked just above.
                unsafe { row_avx2(xr, w, bias, or, nz) };
                continue;
            }
        }
        row::<64>(xr, w, bias, or, nz);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn row_avx2(x: &[f32], w: &[f32], bias: &[f32], out: &mut [f32], nz: &mut [u32]) {
    row::<64>(x, w, bias, out, nz);
}

/// With AVX-512, 128 outputs fit in registers: one pass over the non-zero
/// inputs reads each weight row whole.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn row_avx512(x: &[f32], w: &[f32], bias: &[f32], out: &mut [f32], nz: &mut [u32]) {
    row::<128>(x, w, bias, out, nz);
}

/// One row: chunks of `WIDE` outputs in registers, then of 8.
#[inline(always)]
fn row<const WIDE: usize>(x: &[f32], w: &[f32], bias: &[f32], out: &mut [f32], nz: &mut [u32]) {
    let n = nonzeros(x, nz);
    let nz = &nz[..n];
    let n_out = out.len();
    let mut j0 = 0;
    while j0 + WIDE <= n_out {
        chunk::<WIDE>(x, nz, w, bias, out, j0);
        j0 += WIDE;
    }
    while j0 + 8 <= n_out {
        chunk::<8>(x, nz, w, bias, out, j0);
        j0 += 8;
    }
}

#[inline(always)]
fn chunk<const W: usize>(
    x: &[f32],
    nz: &[u32],
    w: &[f32],
    bias: &[f32],
    out: &mut [f32],
    j0: usize,
) {
    let n_out = out.len();
    let mut acc: [f32; W] = std::array::from_fn(|k| bias[j0 + k]);
    for &i in nz {
        let (i, xi) = (i as usize, x[i as usize]);
        let row = &w[i * n_out + j0..i * n_out + j0 + W];
        for k in 0..W {
            acc[k] = xi.mul_add(row[k], acc[k]);
        }
    }
    out[j0..j0 + W].copy_from_slice(&acc);
}
