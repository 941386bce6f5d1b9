//! The dense linear algebra of full-covariance CMA-ES, on faer (blocked,
//! SIMD kernels; sequential, so a run's numbers never depend on a thread
//! count): sampling `y = B·D·z` for a whole generation at once, `C^{-1/2}·y`,
//! the rank-one and rank-μ covariance update as one matrix product, and the
//! symmetric eigendecomposition `C = B·D²·Bᵀ`.
//!
//! Matrices are stored row-major in `Vec<f64>` (the strategy state, part of
//! checkpoints) and viewed in place. Hansen's tutorial (arXiv 1604.00772,
//! section B.2) decomposes `C` only every `1/((c1+cμ)·n·10)` generations,
//! which keeps the O(n³) decomposition below the O(n²) per-generation work;
//! [`decomposition_interval`] says how often.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};

/// Generations between eigendecompositions (at least 1).
pub fn decomposition_interval(c1: f64, cmu: f64, n: usize) -> u64 {
    let every = 1.0 / ((c1 + cmu) * n as f64 * 10.0);
    if every.is_finite() && every >= 1.0 {
        every.floor().min(1e9) as u64
    } else {
        1
    }
}

/// `B·D·z` for every column `z` of the `n × λ` sample (each `zs[k]` of
/// length `n`): one matrix product.
pub fn transform_all(basis: &[f64], axes: &[f64], zs: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = axes.len();
    let b = MatRef::from_row_major_slice(basis, n, n);
    let dz = Mat::from_fn(n, zs.len(), |i, k| axes[i] * zs[k][i]);
    let mut y = Mat::<f64>::zeros(n, zs.len());
    matmul(y.as_mut(), Accum::Replace, b, dz.as_ref(), 1.0, Par::Seq);
    (0..zs.len())
        .map(|k| (0..n).map(|i| y[(i, k)]).collect())
        .collect()
}

/// `C^{-1/2}·y = B·D⁻¹·Bᵀ·y`.
pub fn inv_sqrt(basis: &[f64], axes: &[f64], y: &[f64]) -> Vec<f64> {
    let n = axes.len();
    let b = MatRef::from_row_major_slice(basis, n, n);
    let y = MatRef::from_column_major_slice(y, n, 1);
    let mut bty = Mat::<f64>::zeros(n, 1);
    matmul(
        bty.as_mut(),
        Accum::Replace,
        b.transpose(),
        y,
        1.0,
        Par::Seq,
    );
    for (k, d) in axes.iter().enumerate() {
        bty[(k, 0)] /= d;
    }
    let mut out = Mat::<f64>::zeros(n, 1);
    matmul(out.as_mut(), Accum::Replace, b, bty.as_ref(), 1.0, Par::Seq);
    (0..n).map(|i| out[(i, 0)]).collect()
}

/// `C ← keep·C + Σ_j s_j·v_j·v_jᵀ` for the scaled vectors `(s_j, v_j)` (the
/// rank-one path and the rank-μ steps): one product `V·S·Vᵀ`, all weights
/// non-negative.
pub fn update_covariance(cov: &mut [f64], n: usize, keep: f64, terms: &[(f64, &[f64])]) {
    for c in cov.iter_mut() {
        *c *= keep;
    }
    let v = Mat::from_fn(n, terms.len(), |i, j| terms[j].0.sqrt() * terms[j].1[i]);
    let c = MatMut::from_row_major_slice_mut(cov, n, n);
    matmul(c, Accum::Add, v.as_ref(), v.transpose(), 1.0, Par::Seq);
}

/// The eigendecomposition of the symmetric row-major `cov` (symmetrised
/// first): the square roots of its eigenvalues (floored at 1e-300) and its
/// eigenvectors as the columns of a row-major matrix. `None` when the
/// solver does not converge (the caller keeps its last decomposition).
pub fn decompose(cov: &mut [f64], n: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * (cov[i * n + j] + cov[j * n + i]);
            cov[i * n + j] = v;
            cov[j * n + i] = v;
        }
    }
    let c = MatRef::from_row_major_slice(cov, n, n);
    let evd = c.self_adjoint_eigen(Side::Lower).ok()?;
    let values = evd.S().column_vector();
    let axes = (0..n).map(|k| values[k].max(1e-300).sqrt()).collect();
    let u = evd.U();
    let mut basis = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            basis[i * n + k] = u[(i, k)];
        }
    }
    Some((axes, basis))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A symmetric positive definite test matrix.
    fn spd(n: usize) -> Vec<f64> {
        let mut c = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                c[i * n + j] =
                    1.0 / (1.0 + (i as f64 - j as f64).abs()) + if i == j { 2.0 } else { 0.0 };
            }
        }
        c
    }

    #[test]
    fn the_decomposition_rebuilds_the_matrix_and_inverts_its_root() {
        let n = 37;
        let c = spd(n);
        let (axes, basis) = decompose(&mut c.clone(), n).unwrap();
        for i in 0..n {
            for j in 0..n {
                let rebuilt: f64 = (0..n)
                    .map(|k| basis[i * n + k] * axes[k] * axes[k] * basis[j * n + k])
                    .sum();
                assert!((rebuilt - c[i * n + j]).abs() < 1e-10, "{i},{j}");
            }
        }
        // C^{-1/2} of B·D·z is B·z: its norm is z's.
        let z: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        let y = &transform_all(&basis, &axes, std::slice::from_ref(&z))[0];
        let back = inv_sqrt(&basis, &axes, y);
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm(&back) - norm(&z)).abs() < 1e-10);
    }

    #[test]
    fn the_update_is_the_weighted_sum_of_outer_products() {
        let n = 5;
        let mut c = spd(n);
        let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..n).map(|i| 1.0 - i as f64).collect();
        let before = c.clone();
        update_covariance(&mut c, n, 0.5, &[(0.25, &a), (2.0, &b)]);
        for i in 0..n {
            for j in 0..n {
                let want = 0.5 * before[i * n + j] + 0.25 * a[i] * a[j] + 2.0 * b[i] * b[j];
                assert!((c[i * n + j] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn large_problems_decompose_rarely() {
        // n = 4,610, λ = 8 (μ = 4): Hansen's rule gives about a hundred.
        assert!(decomposition_interval(9.4e-8, 9.2e-8, 4610) > 100);
        assert_eq!(decomposition_interval(0.1, 0.1, 7), 1);
    }
}
