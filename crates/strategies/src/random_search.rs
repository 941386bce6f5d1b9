//! Random search baseline of Such et al. 2017: the Deep GA machinery with
//! every individual a fresh random network (`selection_threshold` 0 in
//! Uber's `rs_atari_config.json`). The best individual, chosen on extra
//! validation episodes as in the GA, is kept as the elite.

use serde::{Deserialize, Serialize};

use evonet_core::StrategyError;

use crate::deep_ga::{DeepGa, DeepGaConfig};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSearchConfig {
    pub population: usize,
    #[serde(default = "crate::deep_ga::default_elite_candidates")]
    pub elite_candidates: usize,
    #[serde(default = "crate::deep_ga::default_elite_episodes")]
    pub elite_episodes: u32,
}

impl RandomSearchConfig {
    /// The Deep GA settings that make random search.
    pub fn as_deep_ga(&self) -> DeepGaConfig {
        DeepGaConfig {
            population: self.population,
            truncation: 0,
            sigma: 1.0,
            elite_candidates: self.elite_candidates,
            elite_episodes: self.elite_episodes,
        }
    }

    pub fn validate(&self) -> Result<(), StrategyError> {
        self.as_deep_ga().validate()
    }
}

/// A Deep GA whose offspring are all fresh random networks.
pub fn random_search(cfg: &RandomSearchConfig) -> Result<DeepGa, StrategyError> {
    DeepGa::new(cfg.as_deep_ga())
}
