//! Shared noise table (Salimans et al. 2017; Such et al. 2017): one block of
//! N(0,1) floats built from a fixed seed, from which perturbations are read as
//! slices. Every process builds it locally; it is never shipped.

use crate::seed::{derive_seed, Purpose, SeededRng};

pub struct NoiseTable {
    noise: Vec<f32>,
    seed: u64,
}

impl std::fmt::Debug for NoiseTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NoiseTable(len={}, seed={})",
            self.noise.len(),
            self.seed
        )
    }
}

/// Floats per independently seeded block; blocks let the table be built
/// in parallel by a caller while keeping its values fixed.
pub const BLOCK: usize = 1 << 16;

impl NoiseTable {
    /// Builds `len` floats from `seed`. Block `b` is drawn from its own stream,
    /// so the table's values do not depend on how it was built.
    pub fn new(len: usize, seed: u64) -> Self {
        let mut noise = vec![0.0f32; len];
        for (b, chunk) in noise.chunks_mut(BLOCK).enumerate() {
            Self::fill_block(seed, b, chunk);
        }
        Self { noise, seed }
    }

    /// Fills block `b`; exposed so callers with threads can build in parallel.
    pub fn fill_block(seed: u64, b: usize, chunk: &mut [f32]) {
        let mut rng = SeededRng::new(derive_seed(seed, 0, b as u64, Purpose::NoiseTable));
        for v in chunk {
            *v = rng.normal_f32();
        }
    }

    pub fn from_vec(noise: Vec<f32>, seed: u64) -> Self {
        Self { noise, seed }
    }

    pub fn len(&self) -> usize {
        self.noise.len()
    }
    pub fn is_empty(&self) -> bool {
        self.noise.is_empty()
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Bits of 64 values spread over the table, folded into one number:
    /// two processes whose tables differ (another generator, another
    /// version) almost surely disagree on it. Distributed runs compare it.
    pub fn probe(&self) -> u64 {
        let n = self.noise.len();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for k in 0..64usize {
            let Some(v) = self.noise.get(k * n / 64) else {
                break;
            };
            h = (h ^ v.to_bits() as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }

    /// Offset of the slice of length `dim` that a mutation seed selects.
    #[inline]
    pub fn offset(&self, seed: u64, dim: usize) -> usize {
        assert!(
            dim <= self.noise.len(),
            "noise table of {} floats is smaller than {dim} parameters",
            self.noise.len()
        );
        (crate::seed::splitmix64(seed) % (self.noise.len() - dim + 1) as u64) as usize
    }

    #[inline]
    pub fn slice(&self, offset: usize, dim: usize) -> &[f32] {
        &self.noise[offset..offset + dim]
    }

    /// `theta += scale · ε(seed)`.
    #[inline]
    pub fn axpy(&self, seed: u64, scale: f32, theta: &mut [f32]) {
        let n = theta.len();
        let off = self.offset(seed, n);
        crate::axpy::add_scaled(theta, &[(scale, &self.noise[off..off + n])]);
    }

    /// The slice a mutation seed selects for `dim` parameters.
    #[inline]
    pub fn perturbation(&self, seed: u64, dim: usize) -> &[f32] {
        self.slice(self.offset(seed, dim), dim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roughly_standard_normal_and_deterministic() {
        let t = NoiseTable::new(200_000, 123);
        let n = t.len() as f64;
        let m: f64 = t.noise.iter().map(|&v| v as f64).sum::<f64>() / n;
        let v: f64 = t.noise.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n;
        assert!(m.abs() < 0.01 && (v - 1.0).abs() < 0.02, "mean {m} var {v}");
        assert_eq!(t.noise, NoiseTable::new(200_000, 123).noise);
        assert_ne!(t.noise[..10], NoiseTable::new(200_000, 124).noise[..10]);
    }
}
