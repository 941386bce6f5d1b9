//! Symmetric eigendecomposition by cyclic Jacobi rotations: deterministic,
//! dependency-free and accurate; O(n³) per sweep, fine for the full
//! covariance of small networks (use separable CMA-ES for large ones).

/// Decomposes the symmetric `n × n` row-major matrix `a` into eigenvalues `d`
/// and column eigenvectors `v` (`a = v · diag(d) · vᵀ`).
pub fn jacobi_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j].powi(2))
            .sum();
        let scale: f64 = (0..n)
            .map(|i| m[i * n + i].powi(2))
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let app = m[p * n + p];
                let aqq = m[q * n + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let mkp = m[k * n + p];
                    let mkq = m[k * n + q];
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let mpk = m[p * n + k];
                    let mqk = m[q * n + k];
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let d = (0..n).map(|i| m[i * n + i]).collect();
    (d, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn reconstructs_the_matrix() {
        let n = 4;
        let a = [
            4.0, 1.0, 0.5, 0.0, 1.0, 3.0, 0.2, 0.1, 0.5, 0.2, 2.0, 0.3, 0.0, 0.1, 0.3, 1.0,
        ];
        let (d, v) = jacobi_eigen(&a, n);
        for i in 0..n {
            for j in 0..n {
                let r: f64 = (0..n).map(|k| v[i * n + k] * d[k] * v[j * n + k]).sum();
                assert!(
                    (r - a[i * n + j]).abs() < 1e-10,
                    "({i},{j}) {r} vs {}",
                    a[i * n + j]
                );
            }
        }
    }
}
