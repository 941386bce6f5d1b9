//! The ask/tell `Strategy` trait.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::candidate::{Candidate, Evaluated};

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum StrategyError {
    #[error("invalid setting `{key}`: {message}")]
    Config { key: &'static str, message: String },
    #[error("state does not fit this strategy: {0}")]
    State(String),
    #[error("every candidate of generation {0} failed")]
    AllFailed(u64),
}

/// The figures of one ask/tell round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TellReport {
    /// True when this round closed a generation (Deep GA spends a second round
    /// per generation on validating elite candidates).
    pub generation_done: bool,
    /// Best fitness among this generation's candidates (NaN when all failed).
    pub best_fitness: f64,
    /// Mean fitness of the successful candidates.
    pub mean_fitness: f64,
    pub failed: u64,
    /// Strategy-specific figures (sigma, grad norm, ...), in a fixed order.
    pub stats: Vec<(String, f64)>,
    /// The species (niches) of the generation just evaluated, for
    /// strategies that speciate (NEAT); empty otherwise.
    #[serde(default)]
    pub species: Vec<SpeciesRecord>,
}

/// One species of a generation, as reported in `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeciesRecord {
    pub id: u64,
    pub size: usize,
    /// Best fitness of its members this generation (`None` if all failed).
    pub best_fitness: Option<f64>,
    /// Generations since its best fitness last improved.
    pub staleness: u64,
    /// Offspring it was given for the next generation.
    pub offspring: usize,
}

/// The strategy's current best estimate, to be tested and saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Champion<G> {
    pub genome: G,
    /// Its fitness as the strategy knows it (NaN for an ES centre that was
    /// never evaluated).
    pub fitness: f64,
}

/// A search strategy. `&self` holds the immutable configuration; everything
/// that changes lives in `State`, which is plain serde data so that a
/// checkpoint restores the run exactly.
///
/// Contract (checked by [`crate::conformance::check_strategy`]):
/// - candidate ids are unique within a run;
/// - `tell` matches results by id, accepts them in any order, treats a
///   failed or missing result as the worst;
/// - the same seed gives the same run; a state serialised and restored
///   continues exactly as the original.
pub trait Strategy: Send + Sync {
    type Genome: Clone + Serialize + DeserializeOwned + Send + Sync + 'static;
    type State: Clone + Serialize + DeserializeOwned + Send + 'static;

    fn name(&self) -> &'static str;
    fn init(&self, seed: u64) -> Result<Self::State, StrategyError>;
    fn ask(&self, state: &mut Self::State) -> Vec<Candidate<Self::Genome>>;
    fn tell(
        &self,
        state: &mut Self::State,
        results: Vec<Evaluated<Self::Genome>>,
    ) -> Result<TellReport, StrategyError>;
    /// Completed generations.
    fn generation(&self, state: &Self::State) -> u64;
    fn champion(&self, state: &Self::State) -> Option<Champion<Self::Genome>>;
}
