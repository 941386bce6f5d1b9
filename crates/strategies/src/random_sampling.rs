//! Random search over a search space: every candidate a fresh random
//! genome, `batch` per generation, the best ever kept. The baseline of
//! architecture search (Elsken et al. 2019; Real et al. 2019 compare
//! evolution against it at the same number of trained models). The Deep GA
//! baseline of Such et al. over network weights is
//! [`crate::random_search`].

use serde::{Deserialize, Serialize};

use evonet_core::{Candidate, Champion, Evaluated, Strategy, StrategyError, TellReport, Variation};

use crate::members::Book;
use crate::predictor::{check_features, PredictorConfig, Screenable};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSamplingConfig {
    /// Candidates per generation.
    pub batch: usize,
}

pub struct RandomSampling<G, V> {
    cfg: RandomSamplingConfig,
    space: V,
    /// Screens `pool × batch` random genomes down to `batch`.
    predictor: Option<PredictorConfig>,
    _genome: std::marker::PhantomData<fn() -> G>,
}

impl RandomSamplingConfig {
    /// Checks the settings on their own (no search space needed).
    pub fn validate(&self) -> Result<(), StrategyError> {
        if self.batch < 1 {
            return Err(StrategyError::Config {
                key: "batch",
                message: "must be at least 1".into(),
            });
        }
        if let Err(message) = evonet_core::limits::check_population(self.batch) {
            return Err(StrategyError::Config {
                key: "batch",
                message,
            });
        }
        Ok(())
    }
}

impl<G, V: Variation<G>> RandomSampling<G, V> {
    pub fn new(cfg: RandomSamplingConfig, space: V) -> Result<Self, StrategyError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            space,
            predictor: None,
            _genome: std::marker::PhantomData,
        })
    }
}
impl<G, V: Variation<G>> Screenable for RandomSampling<G, V> {
    /// Random genomes screened by a learned predictor: each generation
    /// draws `pool × batch` and trains the `batch` it rates highest.
    fn with_predictor(mut self, predictor: PredictorConfig) -> Result<Self, StrategyError> {
        check_features(&predictor, &self.space)?;
        self.predictor = Some(predictor);
        Ok(self)
    }
}

impl<G, V> Strategy for RandomSampling<G, V>
where
    G: Clone + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    V: Variation<G>,
{
    type Genome = G;
    type State = Book<G>;

    fn name(&self) -> &'static str {
        "random_sampling"
    }

    fn init(&self, seed: u64) -> Result<Self::State, StrategyError> {
        Ok(Book::screened(seed, self.predictor.as_ref()))
    }

    fn ask(&self, st: &mut Self::State) -> Vec<Candidate<G>> {
        st.random_round(&self.space, self.cfg.batch, self.predictor.as_ref())
    }

    fn tell(
        &self,
        st: &mut Self::State,
        results: Vec<Evaluated<G>>,
    ) -> Result<TellReport, StrategyError> {
        Ok(st.close(results).1)
    }

    fn generation(&self, st: &Self::State) -> u64 {
        st.generation
    }

    fn champion(&self, st: &Self::State) -> Option<Champion<G>> {
        st.champion()
    }
}
