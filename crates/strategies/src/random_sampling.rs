//! Random search over a search space: every candidate a fresh random
//! genome, `batch` per generation, the best ever kept. The baseline of
//! architecture search (Elsken et al. 2019; Real et al. 2019 compare
//! evolution against it at the same number of trained models). The Deep GA
//! baseline of Such et al. over network weights is
//! [`crate::random_search`].

use serde::{Deserialize, Serialize};

use evonet_core::{Candidate, Champion, Evaluated, Strategy, StrategyError, TellReport, Variation};

use crate::halving::{refuse_both, HalvingConfig};
use crate::members::{Book, Closed};
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
    /// Evaluates each round by successive halving ([`crate::halving`]).
    halving: Option<HalvingConfig>,
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
            halving: None,
            _genome: std::marker::PhantomData,
        })
    }

    /// Each round evaluated by successive halving (with `hyperband`,
    /// Hyperband itself): the best ever is chosen among the candidates
    /// that reached the top rung. Not with a predictor.
    pub fn with_halving(mut self, halving: HalvingConfig) -> Result<Self, StrategyError> {
        halving.validate()?;
        refuse_both(self.predictor.is_some())?;
        self.halving = Some(halving);
        Ok(self)
    }
}
impl<G, V: Variation<G>> Screenable for RandomSampling<G, V> {
    /// Random genomes screened by a learned predictor: each generation
    /// draws `pool × batch` and trains the `batch` it rates highest.
    fn with_predictor(mut self, predictor: PredictorConfig) -> Result<Self, StrategyError> {
        check_features(&predictor, &self.space)?;
        refuse_both(self.halving.is_some())?;
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
        Ok(Book::screened(seed, self.predictor.as_ref()).halved(self.halving.as_ref()))
    }

    fn ask(&self, st: &mut Self::State) -> Vec<Candidate<G>> {
        if let Some(promoted) = st.promotion() {
            return promoted;
        }
        let halving = self.halving.as_ref();
        let n = st.round_size(self.cfg.batch, halving);
        let round = st.random_round(&self.space, n, self.predictor.as_ref());
        st.at_first_rung(round, halving)
    }

    fn tell(
        &self,
        st: &mut Self::State,
        results: Vec<Evaluated<G>>,
    ) -> Result<TellReport, StrategyError> {
        Ok(match st.close_round(results, self.halving.as_ref()) {
            Closed::Promoted(report) | Closed::Done(_, report) => report,
        })
    }

    fn generation(&self, st: &Self::State) -> u64 {
        st.generation
    }

    fn champion(&self, st: &Self::State) -> Option<Champion<G>> {
        st.champion()
    }
}
