//! Pareto ranking for multi-objective search, every objective minimised:
//! the fast non-dominated sorting and the crowding distance of Deb,
//! Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective genetic
//! algorithm: NSGA-II" (IEEE Transactions on Evolutionary Computation
//! 6(2), 2002), and the hypervolume indicator of Zitzler & Thiele (1999),
//! computed exactly by slicing one objective at a time (While, Hingston,
//! Barone & Huband 2006, "HSO"): fine for the few objectives and the
//! fronts of tens to hundreds of points of an architecture search.
//!
//! A NaN objective counts as +∞ (the worst), so a failed evaluation sits
//! in the last front and never adds volume.

/// Whether `a` Pareto-dominates `b`: no worse in every objective and
/// better in at least one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (worst_if_nan(*x), worst_if_nan(*y));
        if x > y {
            return false;
        }
        better |= x < y;
    }
    better
}

fn worst_if_nan(x: f64) -> f64 {
    if x.is_nan() {
        f64::INFINITY
    } else {
        x
    }
}

/// The non-dominated fronts of `points`, best first; each front lists its
/// indices in increasing order. O(M·N²) (Deb et al.'s fast sort).
pub fn non_dominated_fronts(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    let n = points.len();
    let mut dominated_by = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in i + 1..n {
            if dominates(&points[i], &points[j]) {
                dominates_list[i].push(j);
                dominated_by[j] += 1;
            } else if dominates(&points[j], &points[i]) {
                dominates_list[j].push(i);
                dominated_by[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominates_list[i] {
                dominated_by[j] -= 1;
                if dominated_by[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(std::mem::replace(&mut current, next));
    }
    fronts
}

/// The crowding distance of each member of `front` (in its order): the
/// sum over objectives of the normalised gap between its two neighbours;
/// the extremes of every objective get +∞.
pub fn crowding_distance(points: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let n = front.len();
    let mut distance = vec![0.0f64; n];
    if n == 0 {
        return distance;
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut column = vec![0.0f64; n];
    let objectives = points[front[0]].len();
    for m in 0..objectives {
        for (c, &i) in column.iter_mut().zip(front) {
            *c = points[i].get(m).map_or(f64::INFINITY, |v| worst_if_nan(*v));
        }
        let value = |k: usize| column[k];
        // Ties broken by position, so the result never depends on the sort.
        order.sort_by(|&a, &b| value(a).total_cmp(&value(b)).then(a.cmp(&b)));
        let (lo, hi) = (value(order[0]), value(order[n - 1]));
        distance[order[0]] = f64::INFINITY;
        distance[order[n - 1]] = f64::INFINITY;
        let span = hi - lo;
        if !(span.is_finite() && span > 0.0) {
            continue;
        }
        for w in 1..n.saturating_sub(1) {
            let gap = value(order[w + 1]) - value(order[w - 1]);
            if gap.is_finite() {
                distance[order[w]] += gap / span;
            }
        }
    }
    distance
}

/// The volume of objective space that `points` dominate and `reference`
/// bounds (points not strictly better than the reference in every
/// objective add nothing).
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let inside: Vec<Vec<f64>> = points
        .iter()
        .filter(|p| p.iter().zip(reference).all(|(x, r)| *x < *r))
        .cloned()
        .collect();
    slice_volume(inside, reference)
}

/// HSO: sweep the last objective from best to worst; each slab between
/// consecutive values is the (d − 1)-dimensional volume of the points seen
/// so far times the slab's height.
fn slice_volume(mut points: Vec<Vec<f64>>, reference: &[f64]) -> f64 {
    let d = reference.len();
    if points.is_empty() || d == 0 {
        return 0.0;
    }
    if d == 1 {
        let best = points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
        return reference[0] - best;
    }
    let last = d - 1;
    points.sort_by(|a, b| a[last].total_cmp(&b[last]));
    let mut volume = 0.0;
    for i in 0..points.len() {
        let top = points.get(i + 1).map_or(reference[last], |p| p[last]);
        let height = top - points[i][last];
        if height > 0.0 {
            let projected: Vec<Vec<f64>> =
                points[..=i].iter().map(|p| p[..last].to_vec()).collect();
            volume += height * slice_volume(projected, &reference[..last]);
        }
    }
    volume
}

#[cfg(test)]
mod tests {
    use super::*;
    use evonet_core::SeededRng;

    fn pts(v: &[[f64; 2]]) -> Vec<Vec<f64>> {
        v.iter().map(|p| p.to_vec()).collect()
    }

    #[test]
    fn dominance_needs_one_strict_improvement() {
        assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
        assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!dominates(&[0.0, 3.0], &[1.0, 2.0]));
        assert!(dominates(&[1.0, 2.0], &[f64::NAN, 2.0]));
    }

    #[test]
    fn fronts_peel_in_order() {
        let p = pts(&[
            [1.0, 4.0],
            [2.0, 2.0],
            [4.0, 1.0],
            [3.0, 3.0],
            [4.0, 4.0],
            [2.0, 2.0],
        ]);
        assert_eq!(
            non_dominated_fronts(&p),
            vec![vec![0, 1, 2, 5], vec![3], vec![4]]
        );
    }

    /// Against the definition: a point is in the first front if and only
    /// if no other dominates it, on random clouds.
    #[test]
    fn the_first_front_is_the_undominated_set() {
        let mut rng = SeededRng::new(4);
        for _ in 0..50 {
            let p: Vec<Vec<f64>> = (0..30)
                .map(|_| (0..3).map(|_| (rng.uniform() * 5.0).floor()).collect())
                .collect();
            let fronts = non_dominated_fronts(&p);
            let undominated: Vec<usize> = (0..p.len())
                .filter(|&i| p.iter().all(|q| !dominates(q, &p[i])))
                .collect();
            assert_eq!(fronts[0], undominated);
            assert_eq!(fronts.iter().map(Vec::len).sum::<usize>(), p.len());
            for w in fronts.windows(2) {
                // Every member of a later front is dominated by one of the
                // front before it.
                assert!(w[1]
                    .iter()
                    .all(|&j| w[0].iter().any(|&i| dominates(&p[i], &p[j]))));
            }
        }
    }

    #[test]
    fn crowding_favours_the_extremes_and_the_isolated() {
        let p = pts(&[[0.0, 4.0], [1.0, 3.0], [1.1, 2.9], [4.0, 0.0]]);
        let d = crowding_distance(&p, &[0, 1, 2, 3]);
        assert!(d[0].is_infinite() && d[3].is_infinite());
        // Member 2's neighbours are 1 and 3 (wide gap), member 1's are 0
        // and 2.
        assert!(d[2] > d[1], "{d:?}");
        assert!((d[1] - (1.1 / 4.0 + 1.1 / 4.0)).abs() < 1e-12, "{d:?}");
    }

    #[test]
    fn hypervolume_of_staircases() {
        let r = [4.0, 4.0];
        assert_eq!(hypervolume(&pts(&[[1.0, 1.0]]), &r), 9.0);
        // Two boxes overlapping in [2,4]×[2,4]: 2·3 + 3·2 − 2·2... as a
        // staircase: 3×2 (x from 1) + 2×1 more (y from 1 to 2 at x ≥ 2).
        assert_eq!(hypervolume(&pts(&[[1.0, 2.0], [2.0, 1.0]]), &r), 8.0);
        // A dominated point and a point beyond the reference add nothing.
        assert_eq!(
            hypervolume(&pts(&[[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [0.5, 5.0]]), &r),
            8.0
        );
        let cube = hypervolume(&[vec![0.0, 0.0, 0.0]], &[1.0, 2.0, 3.0]);
        assert_eq!(cube, 6.0);
        let two = hypervolume(
            &[vec![0.0, 1.0, 1.0], vec![1.0, 0.0, 0.0]],
            &[2.0, 2.0, 2.0],
        );
        // 2·1·1 + 1·2·2 − overlap 1·1·1 = 5.
        assert_eq!(two, 5.0);
    }

    /// Against a Monte Carlo estimate in three objectives.
    #[test]
    fn hypervolume_matches_sampling() {
        let mut rng = SeededRng::new(9);
        let p: Vec<Vec<f64>> = (0..12)
            .map(|_| (0..3).map(|_| rng.uniform()).collect())
            .collect();
        let r = [1.0, 1.0, 1.0];
        let exact = hypervolume(&p, &r);
        let n = 200_000;
        let inside = (0..n)
            .filter(|_| {
                let s: Vec<f64> = (0..3).map(|_| rng.uniform()).collect();
                p.iter().any(|q| q.iter().zip(&s).all(|(a, b)| a <= b))
            })
            .count();
        let estimate = inside as f64 / n as f64;
        assert!((exact - estimate).abs() < 0.01, "{exact} {estimate}");
    }
}
