//! Genome encodings for weight evolution.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::transport::Transport;
use crate::NoiseTable;

/// A flat parameter vector, optionally with the observation normaliser the
/// policy must use (OpenAI ES).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyParams {
    pub params: Vec<f32>,
    pub obs_norm: Option<ObsNorm>,
}

/// Fixed observation normalisation `clip((o − mean) / std, ±5)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObsNorm {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

/// An OpenAI-ES candidate: θ = centre + `scale`·ε(`seed`), with ε a slice
/// of the shared [`NoiseTable`]; without noise, the centre itself (the
/// champion). Candidates of a generation share their centre (one `Arc`), so
/// a generation holds one parameter vector, and a remote worker receives it
/// once per batch and a task only the noise index and its scale
/// (Salimans et al. 2017).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Perturbed {
    pub centre: Arc<PolicyParams>,
    pub noise: Option<Perturbation>,
}

/// The noise added to a centre: ε(`seed`) scaled by `scale` (±σ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Perturbation {
    pub seed: u64,
    pub scale: f32,
}

impl Perturbed {
    /// The parameters, written into `theta` (its old contents are dropped):
    /// `t + scale·e` per element, rounded twice (no fused multiply-add).
    pub fn params_into(&self, table: &NoiseTable, theta: &mut Vec<f32>) {
        let centre = &self.centre.params;
        theta.clear();
        match self.noise {
            None => theta.extend_from_slice(centre),
            Some(Perturbation { seed, scale }) => {
                let eps = table.perturbation(seed, centre.len());
                theta.extend(centre.iter().zip(eps).map(|(t, e)| t + scale * e));
            }
        }
    }

    /// The observation normaliser of the centre.
    pub fn obs_norm(&self) -> Option<&ObsNorm> {
        self.centre.obs_norm.as_ref()
    }
}

/// A task carries the noise index and its scale; the centre travels once
/// per batch.
impl Transport for Perturbed {
    type Own = Option<Perturbation>;
    type Shared = PolicyParams;

    fn split(&self) -> (Cow<'_, Option<Perturbation>>, Option<&Arc<PolicyParams>>) {
        (Cow::Owned(self.noise), Some(&self.centre))
    }

    fn join(
        noise: Option<Perturbation>,
        centre: Option<Arc<PolicyParams>>,
    ) -> Result<Self, String> {
        let centre = centre.ok_or("an OpenAI-ES task arrived without its centre")?;
        Ok(Self { centre, noise })
    }
}

/// One mutation of a seed chain: `θ ← θ + sigma · ε(seed)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeedMutation {
    pub seed: u64,
    pub sigma: f32,
}

/// Compact Deep GA genome (Such et al. 2017): θ⁰ = φ(init) and
/// θⁿ = θⁿ⁻¹ + σₙ·ε(seedₙ), with ε read from a shared [`crate::NoiseTable`].
/// A genome of generation g is g+1 numbers, whatever the network size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeedChain {
    pub init: u64,
    pub mutations: Vec<(u64, u32)>,
}

impl SeedChain {
    pub fn new(init: u64) -> Self {
        Self {
            init,
            mutations: Vec::new(),
        }
    }
    /// The child that adds one mutation.
    pub fn child(&self, m: SeedMutation) -> Self {
        let mut c = self.clone();
        c.mutations.push((m.seed, m.sigma.to_bits()));
        c
    }
    pub fn iter_mutations(&self) -> impl Iterator<Item = SeedMutation> + '_ {
        self.mutations.iter().map(|&(seed, s)| SeedMutation {
            seed,
            sigma: f32::from_bits(s),
        })
    }
    /// The parent chain (all but the last mutation), if any.
    pub fn parent(&self) -> Option<SeedChain> {
        if self.mutations.is_empty() {
            None
        } else {
            Some(SeedChain {
                init: self.init,
                mutations: self.mutations[..self.mutations.len() - 1].to_vec(),
            })
        }
    }
    /// A 64-bit key of the chain, for decoder caches.
    pub fn key(&self) -> u64 {
        self.prefix_key(self.mutations.len())
    }
    /// The key of the ancestor made of the first `len` mutations.
    pub fn prefix_key(&self, len: usize) -> u64 {
        self.mutations[..len]
            .iter()
            .fold(crate::seed::splitmix64(self.init), Self::extend_key)
    }

    /// The keys of every ancestor, `prefix_key(0..=len)`, in one pass.
    pub fn prefix_keys(&self) -> Vec<u64> {
        let mut keys = Vec::with_capacity(self.mutations.len() + 1);
        keys.push(crate::seed::splitmix64(self.init));
        for m in &self.mutations {
            let next = Self::extend_key(keys[keys.len() - 1], m);
            keys.push(next);
        }
        keys
    }

    fn extend_key(h: u64, &(s, sig): &(u64, u32)) -> u64 {
        let h = crate::seed::splitmix64(h ^ s);
        crate::seed::splitmix64(h ^ sig as u64)
    }
}

/// Decodes a seed chain: θ⁰ = `init_scales` ⊙ ε(init) (zero where the scale is
/// zero, e.g. biases), then θ += σₙ·ε(seedₙ) for each mutation. `start`
/// lets a caller resume from a cached ancestor: `(ancestor θ, number of
/// mutations it already contains)`.
pub fn decode_seed_chain(
    table: &crate::NoiseTable,
    chain: &SeedChain,
    init_scales: &[f32],
    start: Option<(&[f32], usize)>,
    theta: &mut Vec<f32>,
) {
    let n = init_scales.len();
    let done = match start {
        Some((anc, k)) => {
            assert_eq!(anc.len(), n, "cached ancestor of another size");
            match chain.mutations.get(k) {
                // A child of a cached parent: written in one pass.
                Some(&(seed, sigma)) => {
                    let e = table.perturbation(seed, n);
                    crate::axpy::scaled_from(theta, anc, f32::from_bits(sigma), e);
                    k + 1
                }
                None => {
                    theta.clear();
                    theta.extend_from_slice(anc);
                    k
                }
            }
        }
        None => {
            theta.clear();
            let off = table.offset(chain.init, n);
            theta.extend(
                table
                    .slice(off, n)
                    .iter()
                    .zip(init_scales)
                    .map(|(e, s)| e * s),
            );
            0
        }
    };
    // Four mutations per pass over θ: each element still adds its terms in
    // chain order, so the bits are those of one pass per mutation.
    for group in chain.mutations[done..].chunks(4) {
        let mut terms: [(f32, &[f32]); 4] = [(0.0, &[]); 4];
        for (t, &(seed, sigma)) in terms.iter_mut().zip(group) {
            *t = (f32::from_bits(sigma), table.perturbation(seed, n));
        }
        crate::axpy::add_scaled(theta, &terms[..group.len()]);
    }
}
