//! Fitness shaping.

/// Centred ranks of Salimans et al. 2017: rank ∈ [0, n−1] scaled to
/// [−0.5, 0.5]. Ties get distinct ranks by index (stable), as `argsort` does.
/// Non-finite values rank lowest.
pub fn centered_ranks(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 1 {
        return vec![0.0];
    }
    let key = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| key(x[a]).total_cmp(&key(x[b])).then(a.cmp(&b)));
    let mut r = vec![0.0; n];
    for (rank, &i) in idx.iter().enumerate() {
        r[i] = rank as f64 / (n - 1) as f64 - 0.5;
    }
    r
}

/// Indices sorted by descending fitness, ties broken by index; NaN last.
pub fn argsort_desc(x: &[f64]) -> Vec<usize> {
    let key = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| key(x[b]).total_cmp(&key(x[a])).then(a.cmp(&b)));
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ranks_span_half_interval() {
        let r = centered_ranks(&[3.0, 1.0, 2.0, f64::NAN]);
        let want = [0.5, -1.0 / 6.0, 1.0 / 6.0, -0.5];
        assert!(
            r.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12),
            "{r:?}"
        );
        assert_eq!(
            argsort_desc(&[1.0, 3.0, 3.0, f64::NEG_INFINITY]),
            vec![1, 2, 0, 3]
        );
    }
}
