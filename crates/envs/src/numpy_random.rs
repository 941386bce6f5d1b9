//! numpy's legacy `RandomState`, the generator MinAtar (Young & Tian 2019)
//! draws from: MT19937 seeded as `RandomState(seed)` / `seed(seed)` does
//! for an integer seed, and `rand`, `randint` and `choice` as numpy's legacy
//! code computes them, so a native game replays the Python package's random
//! events exactly. The Mersenne Twister itself is `rand_mt`'s (the same
//! `init_genrand` seeding as numpy's `mt19937_seed`); what lives here is
//! numpy's use of it:
//!
//! - `rand()`: `(a >> 5) · 2²⁶ + (b >> 6)` over 2⁵³, from two 32-bit draws;
//! - `randint(low, high)`: masked rejection (the smallest all-ones mask
//!   covering `high − low − 1`), one 32-bit draw per try when the range
//!   fits 32 bits, else one 64-bit draw (high word first); no draw at all
//!   when the range holds one value;
//! - `choice(n)`: `randint(0, n)` (uniform, with replacement, no weights).
//!
//! `tests/it` checks every function against values recorded from numpy by
//! `scripts/record_numpy_random.py`.

use rand_mt::Mt;

/// numpy's `RandomState` for integer seeds.
#[derive(Clone)]
pub struct RandomState {
    mt: Mt,
}

impl std::fmt::Debug for RandomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RandomState(MT19937)")
    }
}

impl RandomState {
    /// `numpy.random.RandomState(seed)` (numpy takes seeds in `0..2³²`).
    pub fn new(seed: u32) -> Self {
        Self { mt: Mt::new(seed) }
    }

    /// The next 32-bit output of MT19937.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }

    /// numpy's 64-bit draw from MT19937: the first output is the high word.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let hi = u64::from(self.next_u32());
        (hi << 32) | u64::from(self.next_u32())
    }

    /// `rand()`: uniform in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn rand(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// `randint(low, high)`: uniform in `low..high`.
    ///
    /// # Panics
    /// When `low >= high`, where numpy raises `ValueError`.
    pub fn randint(&mut self, low: i64, high: i64) -> i64 {
        assert!(low < high, "randint: low >= high");
        let range = high.wrapping_sub(low).wrapping_sub(1) as u64;
        low.wrapping_add(self.bounded(range) as i64)
    }

    /// `choice(n)` over a sequence of `n` items: the index drawn.
    pub fn choice(&mut self, n: usize) -> usize {
        self.randint(0, n as i64) as usize
    }

    /// Uniform in `0..=range` by numpy's masked rejection.
    fn bounded(&mut self, range: u64) -> u64 {
        if range == 0 {
            return 0;
        }
        if range <= u64::from(u32::MAX) {
            if range == u64::from(u32::MAX) {
                return u64::from(self.next_u32());
            }
            let mask = mask_for(range) as u32;
            loop {
                let v = u64::from(self.next_u32() & mask);
                if v <= range {
                    return v;
                }
            }
        }
        if range == u64::MAX {
            return self.next_u64();
        }
        let mask = mask_for(range);
        loop {
            let v = self.next_u64() & mask;
            if v <= range {
                return v;
            }
        }
    }
}

/// The smallest `2ᵏ − 1` not below `max`.
fn mask_for(max: u64) -> u64 {
    let mut m = max;
    for shift in [1, 2, 4, 8, 16, 32] {
        m |= m >> shift;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference MT19937's first outputs for `init_genrand(5489)`.
    #[test]
    fn mt19937_matches_the_reference_stream() {
        let mut r = RandomState::new(5489);
        let first: Vec<u32> = (0..3).map(|_| r.next_u32()).collect();
        assert_eq!(first, [3_499_211_612, 581_869_302, 3_890_346_734]);
    }

    #[test]
    fn masks_cover_their_range() {
        assert_eq!(mask_for(1), 1);
        assert_eq!(mask_for(5), 7);
        assert_eq!(mask_for(8), 15);
        assert_eq!(mask_for(u64::MAX - 1), u64::MAX);
    }

    #[test]
    fn single_value_ranges_draw_nothing() {
        let (mut a, mut b) = (RandomState::new(3), RandomState::new(3));
        assert_eq!(a.randint(4, 5), 4);
        assert_eq!(a.next_u32(), b.next_u32());
    }
}
