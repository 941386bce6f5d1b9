//! Search strategies, one file per algorithm, each citing its paper. All pass
//! `evonet_core::conformance::check_strategy`.
//!
//! Strategies never evaluate, print or do IO; their state is serde data.

pub mod adam;
pub mod aging_evolution;
pub mod alps;
pub mod cma_es;
mod cma_linalg;
pub mod deep_ga;
pub mod halving;
pub mod members;
pub mod novelty_archive;
pub mod novelty_centres;
pub mod novelty_search;
pub mod nsga2;
pub mod open_es;
pub mod pareto;
pub mod predictor;
pub mod random_sampling;
pub mod random_search;
pub mod rank_correlation;
pub mod screening;
pub mod seed_chain_space;
pub mod truncation_ga;

pub use aging_evolution::{AgingEvolution, AgingEvolutionConfig};
pub use alps::{AgingScheme, Alps, AlpsConfig};
pub use cma_es::{CmaEs, CmaEsConfig};
pub use deep_ga::{DeepGa, DeepGaConfig};
pub use halving::HalvingConfig;
pub use novelty_archive::NoveltyConfig;
pub use novelty_search::NoveltySearch;
pub use nsga2::{Nsga2, Nsga2Config};
pub use open_es::{OpenEs, OpenEsConfig};
pub use predictor::{PredictorConfig, Screenable};
pub use random_sampling::{RandomSampling, RandomSamplingConfig};
pub use random_search::{random_search, RandomSearchConfig};
pub use seed_chain_space::SeedChainSpace;
pub use truncation_ga::{TruncationGa, TruncationGaConfig};

/// What a strategy over flat parameter vectors needs to know of the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpace {
    /// Scale of each parameter in a fresh network (0 for biases).
    pub init_scales: Vec<f32>,
    /// Observation size (for normalisation statistics).
    pub obs_dim: usize,
}
