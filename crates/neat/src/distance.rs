//! Compatibility distance (Stanley & Miikkulainen 2002, eq. 1):
//! `δ = c1·E/N + c2·D/N + c3·W̄`, with E the excess and D the disjoint
//! connection genes, W̄ the mean absolute weight difference of matching
//! genes, N the gene count of the larger genome (1 when both have fewer
//! than `small_genome` genes).

use crate::genome::NeatGenome;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefficients {
    pub excess: f64,
    pub disjoint: f64,
    pub weight: f64,
    pub small_genome: usize,
}

/// Excess, disjoint and matching gene counts and the summed weight
/// difference of matching genes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Alignment {
    pub excess: usize,
    pub disjoint: usize,
    pub matching: usize,
    pub weight_diff: f64,
}

pub fn align(a: &NeatGenome, b: &NeatGenome) -> Alignment {
    let (x, y) = (&a.conns, &b.conns);
    let mut out = Alignment::default();
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        let (ia, ib) = (x[i].innovation, y[j].innovation);
        if ia == ib {
            out.matching += 1;
            out.weight_diff += (x[i].weight as f64 - y[j].weight as f64).abs();
            i += 1;
            j += 1;
        } else if ia < ib {
            out.disjoint += 1;
            i += 1;
        } else {
            out.disjoint += 1;
            j += 1;
        }
    }
    // Whatever is left lies beyond the other genome's last innovation.
    out.excess = (x.len() - i) + (y.len() - j);
    out
}

/// Whether `distance(a, b, c) < threshold`, stopping as soon as the
/// disjoint genes alone reach it (the other terms are never negative).
pub fn within(a: &NeatGenome, b: &NeatGenome, c: &Coefficients, threshold: f64) -> bool {
    let n = normaliser(a, b, c);
    let limit = threshold * n;
    let (x, y) = (&a.conns, &b.conns);
    let (mut i, mut j) = (0, 0);
    let (mut disjoint, mut matching, mut weight_diff) = (0usize, 0usize, 0.0f64);
    while i < x.len() && j < y.len() {
        let (ia, ib) = (x[i].innovation, y[j].innovation);
        if ia == ib {
            matching += 1;
            weight_diff += (x[i].weight as f64 - y[j].weight as f64).abs();
            i += 1;
            j += 1;
        } else {
            disjoint += 1;
            if ia < ib {
                i += 1;
            } else {
                j += 1;
            }
            if c.disjoint * disjoint as f64 >= limit {
                return false;
            }
        }
    }
    let al = Alignment {
        excess: (x.len() - i) + (y.len() - j),
        disjoint,
        matching,
        weight_diff,
    };
    from_alignment(&al, n, c) < threshold
}

fn normaliser(a: &NeatGenome, b: &NeatGenome, c: &Coefficients) -> f64 {
    if a.conns.len() < c.small_genome && b.conns.len() < c.small_genome {
        1.0
    } else {
        a.conns.len().max(b.conns.len()).max(1) as f64
    }
}

fn from_alignment(al: &Alignment, n: f64, c: &Coefficients) -> f64 {
    let w_bar = if al.matching == 0 {
        0.0
    } else {
        al.weight_diff / al.matching as f64
    };
    c.excess * al.excess as f64 / n + c.disjoint * al.disjoint as f64 / n + c.weight * w_bar
}

pub fn distance(a: &NeatGenome, b: &NeatGenome, c: &Coefficients) -> f64 {
    from_alignment(&align(a, b), normaliser(a, b, c), c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{test_genome, NeatGenome};

    fn genome(genes: &[(u64, f32)]) -> NeatGenome {
        let g: Vec<(u64, f32, bool)> = genes.iter().map(|&(i, w)| (i, w, true)).collect();
        test_genome(0, &g)
    }

    #[test]
    fn counts_excess_disjoint_and_weights_as_in_the_paper() {
        // The paper's figure 4: parent 1 has 1-5 and 8, parent 2 has 1-7, 9, 10.
        let a = genome(&[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (5, 1.0), (8, 1.0)]);
        let b = genome(&[
            (1, 0.5),
            (2, 1.0),
            (3, 1.0),
            (4, 1.0),
            (5, 1.0),
            (6, 1.0),
            (7, 1.0),
            (9, 1.0),
            (10, 1.0),
        ]);
        let al = align(&a, &b);
        assert_eq!((al.matching, al.disjoint, al.excess), (5, 3, 2));
        let c = Coefficients {
            excess: 1.0,
            disjoint: 1.0,
            weight: 0.4,
            small_genome: 20,
        };
        // Small genomes: N = 1.
        assert!((distance(&a, &b, &c) - (2.0 + 3.0 + 0.4 * 0.1)).abs() < 1e-12);
        let c8 = Coefficients {
            small_genome: 0,
            ..c
        };
        assert!((distance(&a, &b, &c8) - (5.0 / 9.0 + 0.4 * 0.1)).abs() < 1e-12);
        assert_eq!(distance(&a, &a, &c), 0.0);
        assert_eq!(distance(&a, &b, &c), distance(&b, &a, &c));
        // The early-exit test agrees with the full distance.
        for t in [0.5, 5.0, 5.04, 5.05, 6.0] {
            assert_eq!(within(&a, &b, &c, t), distance(&a, &b, &c) < t, "{t}");
            assert_eq!(
                within(&a, &b, &c8, t / 8.0),
                distance(&a, &b, &c8) < t / 8.0
            );
        }
    }
}
