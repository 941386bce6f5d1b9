//! Regularized (aging) evolution, Real, Aggarwal, Huang & Le 2019,
//! "Regularized Evolution for Image Classifier Architecture Search"
//! (AAAI), Algorithm 1: a population of `population` (P) models, at first
//! random; each child's parent is the fittest of `sample` (S) members drawn
//! uniformly with replacement; the child is trained and joins the
//! population, and the **oldest** member, not the worst, is removed.
//!
//! Real et al. ran it asynchronously on hundreds of workers; here each
//! generation asks `batch` children at once, all chosen from the same
//! population, so a run is the same on any number of threads or machines.
//! `batch = 1` is the sequential algorithm. A failed child (a network that
//! could not be trained) still joins the population with fitness −∞ and
//! ages out like any other. Generic over the genome: the [`Variation`]
//! makes and mutates it.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use evonet_core::{
    Candidate, Champion, Evaluated, Origin, Purpose, SeededRng, Strategy, StrategyError,
    TellReport, Variation,
};

use crate::halving::{refuse_both, HalvingConfig};
use crate::members::{proposals, Book, Closed, Member};
use crate::predictor::{check_features, PredictorConfig, Screenable};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgingEvolutionConfig {
    /// P: the population size (Real et al.: 100).
    pub population: usize,
    /// S: members sampled per tournament (Real et al.: 25).
    pub sample: usize,
    /// Children per generation (1 = Algorithm 1 exactly).
    #[serde(default = "default_batch")]
    pub batch: usize,
}

fn default_batch() -> usize {
    1
}

pub struct AgingEvolution<G, V> {
    cfg: AgingEvolutionConfig,
    space: V,
    /// Screens `pool × batch` children down to `batch` ([`crate::screening`]).
    predictor: Option<PredictorConfig>,
    /// Evaluates each round by successive halving ([`crate::halving`]).
    halving: Option<HalvingConfig>,
    _genome: std::marker::PhantomData<fn() -> G>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgingEvolutionState<G> {
    pub book: Book<G>,
    /// Oldest first.
    pub population: VecDeque<Member<G>>,
}

impl AgingEvolutionConfig {
    /// Checks the settings on their own (no search space needed).
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |key, message: &str| {
            Err(StrategyError::Config {
                key,
                message: message.into(),
            })
        };
        if self.population < 2 {
            return bad("population", "must be at least 2");
        }
        if let Err(m) = evonet_core::limits::check_population(self.population) {
            return bad("population", &m);
        }
        if self.sample < 1 || self.sample > self.population {
            return bad("sample", "must be between 1 and the population size");
        }
        if let Err(m) = evonet_core::limits::check_population(self.batch) {
            return bad("batch", &m);
        }
        if self.batch < 1 {
            return bad("batch", "must be at least 1");
        }
        Ok(())
    }
}

impl<G, V: Variation<G>> AgingEvolution<G, V> {
    pub fn new(cfg: AgingEvolutionConfig, space: V) -> Result<Self, StrategyError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            space,
            predictor: None,
            halving: None,
            _genome: std::marker::PhantomData,
        })
    }

    /// Each round (the first population, then each generation's children)
    /// evaluated by successive halving: only the candidates that reach the
    /// top rung join the population. Not with a predictor.
    pub fn with_halving(mut self, halving: HalvingConfig) -> Result<Self, StrategyError> {
        halving.validate()?;
        refuse_both(self.predictor.is_some())?;
        self.halving = Some(halving);
        Ok(self)
    }
}
impl<G, V: Variation<G>> Screenable for AgingEvolution<G, V> {
    /// Children screened by a learned predictor: each generation proposes
    /// `pool × batch` and trains the `batch` it rates highest.
    fn with_predictor(mut self, predictor: PredictorConfig) -> Result<Self, StrategyError> {
        check_features(&predictor, &self.space)?;
        refuse_both(self.halving.is_some())?;
        self.predictor = Some(predictor);
        Ok(self)
    }
}

/// The fittest of `sample` members drawn uniformly with replacement (the
/// first drawn wins ties).
pub fn tournament<'a, G>(
    population: &'a VecDeque<Member<G>>,
    sample: usize,
    rng: &mut SeededRng,
) -> &'a Member<G> {
    let mut best: Option<&Member<G>> = None;
    for _ in 0..sample {
        let m = &population[rng.below(population.len() as u64) as usize];
        if best.is_none_or(|b| m.fitness > b.fitness) {
            best = Some(m);
        }
    }
    best.expect("sample is at least 1")
}

impl<G, V> Strategy for AgingEvolution<G, V>
where
    G: Clone + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    V: Variation<G>,
{
    type Genome = G;
    type State = AgingEvolutionState<G>;

    fn name(&self) -> &'static str {
        "aging_evolution"
    }

    fn init(&self, seed: u64) -> Result<Self::State, StrategyError> {
        Ok(AgingEvolutionState {
            book: Book::screened(seed, self.predictor.as_ref()).halved(self.halving.as_ref()),
            population: VecDeque::new(),
        })
    }

    fn ask(&self, st: &mut Self::State) -> Vec<Candidate<G>> {
        if let Some(promoted) = st.book.promotion() {
            return promoted;
        }
        let halving = self.halving.as_ref();
        let predictor = self.predictor.as_ref();
        if st.population.is_empty() {
            // The initial population: P random models.
            let n = st.book.round_size(self.cfg.population, halving);
            let round = st.book.random_round(&self.space, n, predictor);
            return st.book.at_first_rung(round, halving);
        }
        let (seed, gen) = (st.book.seed, st.book.generation);
        let n = st.book.round_size(self.cfg.batch, halving);
        let children = (0..proposals(n, predictor) as u64)
            .map(|i| {
                let mut rng = SeededRng::for_stream(seed, gen, i, Purpose::Select);
                let parent = tournament(&st.population, self.cfg.sample, &mut rng);
                let mut rng = SeededRng::for_stream(seed, gen, i, Purpose::Sample);
                let (child, operator) = self.space.mutate(&parent.genome, &mut rng);
                let origin = Origin {
                    parents: vec![parent.id],
                    operator,
                };
                (child, origin)
            })
            .collect();
        let round = st.book.admit(&self.space, children, n, predictor);
        st.book.at_first_rung(round, halving)
    }

    fn tell(
        &self,
        st: &mut Self::State,
        results: Vec<Evaluated<G>>,
    ) -> Result<TellReport, StrategyError> {
        let gen = st.book.generation;
        let (members, mut report) = match st.book.close_round(results, self.halving.as_ref()) {
            Closed::Promoted(report) => return Ok(report),
            Closed::Done(members, report) => (members, report),
        };
        if members.iter().all(|m| !m.fitness.is_finite()) && st.population.is_empty() {
            return Err(StrategyError::AllFailed(gen));
        }
        st.population.extend(members);
        while st.population.len() > self.cfg.population {
            st.population.pop_front();
        }
        let fit: Vec<f64> = st.population.iter().map(|m| m.fitness).collect();
        report.stats.push((
            "population_mean".into(),
            evonet_core::candidate::mean_finite(&fit),
        ));
        Ok(report)
    }

    fn generation(&self, st: &Self::State) -> u64 {
        st.book.generation
    }

    fn champion(&self, st: &Self::State) -> Option<Champion<G>> {
        st.book.champion()
    }
}
