//! The Deep GA's operators (Such et al. 2017) as a [`Variation`] over seed
//! chains, for the generic strategies that choose parents themselves
//! (ALPS): a fresh genome is a new network θ⁰ = φ(seed), a mutation adds
//! θ ← θ + σ·ε(seed'). There is no crossover, as in the paper.

use evonet_core::{SeedChain, SeedMutation, SeededRng, StrategyError, Variation};

/// Seed chains mutated with power `sigma`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedChainSpace {
    sigma: f32,
}

impl SeedChainSpace {
    pub fn new(sigma: f32) -> Result<Self, StrategyError> {
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(StrategyError::Config {
                key: "sigma",
                message: "must be a positive number".into(),
            });
        }
        Ok(Self { sigma })
    }
}

impl Variation<SeedChain> for SeedChainSpace {
    fn random(&self, rng: &mut SeededRng) -> SeedChain {
        SeedChain::new(rng.next_u64())
    }

    fn mutate(&self, parent: &SeedChain, rng: &mut SeededRng) -> (SeedChain, String) {
        let child = parent.child(SeedMutation {
            seed: rng.next_u64(),
            sigma: self.sigma,
        });
        (child, format!("gaussian sigma {}", self.sigma))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutation_adds_one_link_to_the_chain() {
        let s = SeedChainSpace::new(0.002).unwrap();
        let mut rng = SeededRng::new(3);
        let root = s.random(&mut rng);
        let (child, words) = s.mutate(&root, &mut rng);
        assert_eq!(child.parent(), Some(root));
        assert_eq!(child.iter_mutations().next().unwrap().sigma, 0.002);
        assert!(words.contains("0.002"), "{words}");
        assert!(SeedChainSpace::new(0.0).is_err());
        assert!(SeedChainSpace::new(f32::NAN).is_err());
    }
}
