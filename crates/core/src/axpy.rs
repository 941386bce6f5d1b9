//! The kernels of seed-chain decoding: `θ ← θ + Σₖ sₖ·εₖ` over up to four
//! noise slices in one pass, and a child written from its parent in one
//! pass (`θ = parent + s·ε`), instead of a copy followed by an update.
//!
//! Every element sees the same float operations in the same order whatever
//! the path (one multiply, then one add, per term: never fused), so the
//! AVX2 path (8 lanes, chosen at run time) and the portable one give
//! bit-identical parameters, and workers on different CPUs agree.

/// `theta[i] += Σₖ scales[k]·noise[k][i]`, terms added in order `k`.
pub fn add_scaled(theta: &mut [f32], terms: &[(f32, &[f32])]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { add_scaled_avx2(theta, terms) };
    }
    add_scaled_portable(theta, terms)
}

/// `out = base + scale·noise`, written in one pass.
pub fn scaled_from(out: &mut Vec<f32>, base: &[f32], scale: f32, noise: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { scaled_from_avx2(out, base, scale, noise) };
    }
    scaled_from_portable(out, base, scale, noise)
}

#[inline(always)]
fn add_scaled_portable(theta: &mut [f32], terms: &[(f32, &[f32])]) {
    let n = theta.len();
    match terms {
        [(s0, e0), (s1, e1), (s2, e2), (s3, e3)] => {
            let (e0, e1, e2, e3) = (&e0[..n], &e1[..n], &e2[..n], &e3[..n]);
            for i in 0..n {
                let mut t = theta[i];
                t += s0 * e0[i];
                t += s1 * e1[i];
                t += s2 * e2[i];
                t += s3 * e3[i];
                theta[i] = t;
            }
        }
        [(s0, e0), (s1, e1)] => {
            let (e0, e1) = (&e0[..n], &e1[..n]);
            for i in 0..n {
                let mut t = theta[i];
                t += s0 * e0[i];
                t += s1 * e1[i];
                theta[i] = t;
            }
        }
        _ => {
            for (s, e) in terms {
                for (t, e) in theta.iter_mut().zip(&e[..n]) {
                    *t += s * e;
                }
            }
        }
    }
}

#[inline(always)]
fn scaled_from_portable(out: &mut Vec<f32>, base: &[f32], scale: f32, noise: &[f32]) {
    out.clear();
    out.extend(
        base.iter()
            .zip(&noise[..base.len()])
            .map(|(b, e)| b + scale * e),
    );
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn add_scaled_avx2(theta: &mut [f32], terms: &[(f32, &[f32])]) {
    add_scaled_portable(theta, terms)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scaled_from_avx2(out: &mut Vec<f32>, base: &[f32], scale: f32, noise: &[f32]) {
    scaled_from_portable(out, base, scale, noise)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, k: u32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32 + k as f32) * 0.731).sin())
            .collect()
    }

    #[test]
    fn every_grouping_and_path_gives_the_bits_of_one_term_at_a_time() {
        let n = 1003;
        let es: Vec<Vec<f32>> = (0..7).map(|k| noise(n, k)).collect();
        let scales = [0.01f32, -0.3, 0.7, 1e-3, 2.5, -0.02, 0.11];
        let mut one_by_one = noise(n, 99);
        for (s, e) in scales.iter().zip(&es) {
            for (t, e) in one_by_one.iter_mut().zip(e) {
                *t += s * e;
            }
        }
        let terms: Vec<(f32, &[f32])> = scales.iter().zip(&es).map(|(s, e)| (*s, &e[..])).collect();
        for group in [1, 2, 3, 4] {
            for (fast, portable) in [(true, false), (false, true)] {
                let mut theta = noise(n, 99);
                for chunk in terms.chunks(group) {
                    if fast {
                        add_scaled(&mut theta, chunk);
                    } else {
                        add_scaled_portable(&mut theta, chunk);
                    }
                }
                assert!(
                    theta
                        .iter()
                        .zip(&one_by_one)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "group {group}, portable {portable}"
                );
            }
        }
        let base = noise(n, 5);
        let (mut a, mut b) = (Vec::new(), base.clone());
        scaled_from(&mut a, &base, 0.25, &es[0]);
        for (t, e) in b.iter_mut().zip(&es[0]) {
            *t += 0.25 * e;
        }
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
}
