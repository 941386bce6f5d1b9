//! Rank correlations between predictions and outcomes: Kendall's τ-b
//! (Kendall 1945, ties in either list corrected for) and Spearman's ρ
//! (Pearson's correlation of the ranks, tied values sharing their mean
//! rank). Both are NaN for fewer than two pairs or a constant list.

/// Kendall's τ-b of the pairs `(a[i], b[i])`, in O(n²).
pub fn kendall_tau(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (mut concordant, mut discordant) = (0i64, 0i64);
    let (mut ties_a, mut ties_b) = (0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let da = a[i] - a[j];
            let db = b[i] - b[j];
            match (da == 0.0, db == 0.0) {
                (true, true) => {}
                (true, false) => ties_a += 1,
                (false, true) => ties_b += 1,
                (false, false) if (da > 0.0) == (db > 0.0) => concordant += 1,
                (false, false) => discordant += 1,
            }
        }
    }
    let n_a = (concordant + discordant + ties_a) as f64;
    let n_b = (concordant + discordant + ties_b) as f64;
    if n_a == 0.0 || n_b == 0.0 {
        return f64::NAN;
    }
    (concordant - discordant) as f64 / (n_a * n_b).sqrt()
}

/// Spearman's ρ of the pairs `(a[i], b[i])`.
pub fn spearman_rho(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    pearson(&ranks(&a[..n]), &ranks(&b[..n]))
}

/// 1-based ranks, tied values sharing their mean rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut r = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        let mean = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            r[i] = mean;
        }
        start = end;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return f64::NAN;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        return f64::NAN;
    }
    sab / (saa * sbb).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreeing_and_reversed_orders_give_one_and_minus_one() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [10.0, 20.0, 25.0, 100.0];
        let r: Vec<f64> = b.iter().map(|x| -x).collect();
        assert_eq!(kendall_tau(&a, &b), 1.0);
        assert_eq!(spearman_rho(&a, &b), 1.0);
        assert_eq!(kendall_tau(&a, &r), -1.0);
        assert_eq!(spearman_rho(&a, &r), -1.0);
    }

    #[test]
    fn known_values_with_ties() {
        // scipy.stats.kendalltau([1,2,2,3,4],[1,3,2,2,5]) = 0.6666666666666666
        // scipy.stats.spearmanr(same) = 0.7631578947368421
        let a = [1.0, 2.0, 2.0, 3.0, 4.0];
        let b = [1.0, 3.0, 2.0, 2.0, 5.0];
        assert!((kendall_tau(&a, &b) - 0.666_666_666_666_666_6).abs() < 1e-12);
        assert!((spearman_rho(&a, &b) - 0.763_157_894_736_842_1).abs() < 1e-12);
    }

    #[test]
    fn too_few_or_constant_lists_give_nan() {
        assert!(kendall_tau(&[1.0], &[2.0]).is_nan());
        assert!(spearman_rho(&[1.0, 1.0], &[2.0, 3.0]).is_nan());
        assert!(kendall_tau(&[1.0, 1.0], &[2.0, 3.0]).is_nan());
    }
}
