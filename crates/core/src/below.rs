//! Many uniform draws below one bound: the values of
//! [`SeededRng::below`](crate::SeededRng::below), from the same stream, with
//! the remainder taken by a precomputed reciprocal instead of a division per
//! draw (Lemire, Kaser & Kurz 2019, "Faster remainder by direct
//! computation", Software: Practice and Experience 49(6)). A 64-bit
//! division takes tens of cycles on many x86 cores; NEAT's add-link draws up
//! to 40 node indices per mutation.

use crate::seed::accepted;
use crate::SeededRng;

/// Draws uniformly from `0..n`.
#[derive(Debug, Clone, Copy)]
pub struct Below {
    n: u64,
    /// ⌈2¹²⁸ / n⌉ (wrapping to 0 for n = 1).
    m: u128,
}

impl Below {
    /// # Panics
    /// When `n` is 0, as [`SeededRng::below`] does.
    pub fn new(n: u64) -> Self {
        assert!(n > 0, "below(0)");
        Self {
            n,
            m: (u128::MAX / n as u128).wrapping_add(1),
        }
    }

    /// The value `rng.below(n)` would return, consuming the same draws.
    #[inline]
    pub fn sample(&self, rng: &mut SeededRng) -> u64 {
        loop {
            let v = rng.next_u64();
            if accepted(v, self.n) {
                return self.rem(v);
            }
        }
    }

    /// `v % n`, exactly, for every `v`.
    #[inline]
    fn rem(&self, v: u64) -> u64 {
        if self.n == 1 {
            return 0;
        }
        // The high 64 bits of the 192-bit product (m · v mod 2¹²⁸) · n.
        let low = self.m.wrapping_mul(v as u128);
        let n = self.n as u128;
        let lo = (low as u64 as u128) * n;
        let hi = (low >> 64) * n;
        ((hi + (lo >> 64)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remainders_are_exact() {
        let mut rng = SeededRng::new(7);
        let mut bounds = vec![1, 2, 3, 5, 7, 10, 64, 1000, 1 << 32, (1 << 32) + 1];
        bounds.extend([u64::MAX / 3, (1 << 63) + 12345, u64::MAX - 1, u64::MAX]);
        bounds.extend(
            (0..200)
                .map(|_| rng.next_u64() >> (rng.next_u64() % 64))
                .filter(|&n| n > 0),
        );
        for n in bounds {
            let b = Below::new(n);
            let edges = [0, 1, n - 1, n, n.wrapping_add(1), u64::MAX, u64::MAX - 1];
            for v in edges.into_iter().chain((0..500).map(|_| rng.next_u64())) {
                assert_eq!(b.rem(v), v % n, "{v} % {n}");
            }
        }
    }

    #[test]
    fn draws_match_seeded_rng_below() {
        for n in [1, 3, 17, 1 << 40, u64::MAX / 2 + 7] {
            let (mut a, mut b) = (SeededRng::new(n), SeededRng::new(n));
            let below = Below::new(n);
            for _ in 0..1000 {
                assert_eq!(below.sample(&mut a), b.below(n));
            }
        }
    }
}
