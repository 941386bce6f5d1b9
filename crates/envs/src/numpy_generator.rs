//! numpy's `default_rng(seed)` as Gymnasium seeds its environments
//! (`reset(seed=s)` → `np.random.Generator(np.random.PCG64(SeedSequence(s)))`),
//! for the draws the classic-control resets make: so that a native
//! environment reset with seed `s` starts where Gymnasium's does, and a
//! policy's returns on given seeds are the same natively and through the
//! Gymnasium bridge.
//!
//! - `SeedSequence` (O'Neill's seed_seq hash, as numpy's `bit_generator.pyx`
//!   implements it): the seed's 32-bit words mixed into a pool of four,
//!   then expanded into the generator's state;
//! - `PCG64` (permuted congruential generator, 128-bit LCG with the XSL-RR
//!   output, O'Neill 2014), seeded as numpy's `pcg64_set_seed` does;
//! - `uniform(low, high)` = `low + (high − low)·(next_u64 >> 11)·2⁻⁵³`.

const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
const POOL: usize = 4;
const PCG_MULT: u128 = 0x2360_ed05_1fc6_5da4_4385_df64_9fcc_f645;

/// numpy's `SeedSequence(seed)` without spawn keys: its entropy pool.
struct SeedSequence {
    pool: [u32; POOL],
}

fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut v = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    v = v.wrapping_mul(*hash_const);
    v ^ (v >> XSHIFT)
}

fn mix(x: u32, y: u32) -> u32 {
    let r = MIX_MULT_L
        .wrapping_mul(x)
        .wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^ (r >> XSHIFT)
}

impl SeedSequence {
    fn new(seed: u64) -> Self {
        // The integer as 32-bit words, least significant first (0 is [0]).
        let entropy: Vec<u32> = if seed >> 32 == 0 {
            vec![seed as u32]
        } else {
            vec![seed as u32, (seed >> 32) as u32]
        };
        let mut hash_const = INIT_A;
        let mut pool = [0u32; POOL];
        for (i, p) in pool.iter_mut().enumerate() {
            *p = hashmix(entropy.get(i).copied().unwrap_or(0), &mut hash_const);
        }
        for src in 0..POOL {
            for dst in 0..POOL {
                if src != dst {
                    let h = hashmix(pool[src], &mut hash_const);
                    pool[dst] = mix(pool[dst], h);
                }
            }
        }
        // (Entropy beyond the pool's four words cannot occur for a u64.)
        Self { pool }
    }

    /// `generate_state(n, np.uint64)`.
    fn generate_u64(&self, n: usize) -> Vec<u64> {
        let mut hash_const = INIT_B;
        let words: Vec<u32> = (0..2 * n)
            .map(|i| {
                let mut v = self.pool[i % POOL] ^ hash_const;
                hash_const = hash_const.wrapping_mul(MULT_B);
                v = v.wrapping_mul(hash_const);
                v ^ (v >> XSHIFT)
            })
            .collect();
        words
            .chunks_exact(2)
            .map(|w| w[0] as u64 | (w[1] as u64) << 32)
            .collect()
    }
}

/// numpy's `default_rng(seed)`: PCG64 seeded through `SeedSequence`.
#[derive(Debug, Clone)]
pub struct NumpyGenerator {
    state: u128,
    inc: u128,
}

impl NumpyGenerator {
    pub fn new(seed: u64) -> Self {
        let v = SeedSequence::new(seed).generate_u64(4);
        let init_state = (v[0] as u128) << 64 | v[1] as u128;
        let init_seq = (v[2] as u128) << 64 | v[3] as u128;
        let mut g = Self {
            state: 0,
            inc: (init_seq << 1) | 1,
        };
        g.step();
        g.state = g.state.wrapping_add(init_state);
        g.step();
        g
    }

    fn step(&mut self) {
        self.state = self.state.wrapping_mul(PCG_MULT).wrapping_add(self.inc);
    }

    /// `bit_generator.random_raw()`.
    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let rot = (self.state >> 122) as u32;
        let x = ((self.state >> 64) as u64) ^ (self.state as u64);
        x.rotate_right(rot)
    }

    /// `random()`: a double in [0, 1) from the top 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `uniform(low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by numpy 2.4.6: `SeedSequence(s).generate_state(4,
    /// np.uint64)`, `PCG64(s).random_raw()` and
    /// `default_rng(s).uniform(-0.05, 0.05, size=4)`.
    #[test]
    fn matches_numpy() {
        let cases: [(u64, [u64; 4], u64, [f64; 4]); 3] = [
            (
                0,
                [
                    0xdb2cd7e7b0f478be,
                    0xabf4641a2c71ba49,
                    0x20c6ed6d9d7b8d41,
                    0x2c4099de223c39d4,
                ],
                0xa30febcfd9c2825f,
                [
                    0.013696168732145436,
                    -0.02302132862361297,
                    -0.045902647606380534,
                    -0.04834723644714709,
                ],
            ),
            (
                4294967301,
                [
                    0xf9c15bd6e249d9ac,
                    0xb2021b4036320ed7,
                    0x9388b47fe6dcf739,
                    0x5eeba8d9ad6439e1,
                ],
                0xc6323ec321deb8d1,
                [
                    0.027420418037388122,
                    -0.00292773168119069,
                    0.01958803443421149,
                    0.03165376458429718,
                ],
            ),
            (
                u64::MAX,
                [
                    0xaebca151928cad0d,
                    0x119c30448638dc7a,
                    0x1bbb155659e642a7,
                    0xa76b11e3e8c4a8f6,
                ],
                0xae163a7a8c47568f,
                [
                    0.018002667896169305,
                    0.03453117585624743,
                    -0.049259691840074,
                    0.039456812643914735,
                ],
            ),
        ];
        for (seed, state, raw, uniform) in cases {
            assert_eq!(SeedSequence::new(seed).generate_u64(4), state, "{seed}");
            assert_eq!(NumpyGenerator::new(seed).next_u64(), raw, "{seed}");
            let mut g = NumpyGenerator::new(seed);
            let u: Vec<f64> = (0..4).map(|_| g.uniform(-0.05, 0.05)).collect();
            assert_eq!(u, uniform, "{seed}");
        }
    }
}
