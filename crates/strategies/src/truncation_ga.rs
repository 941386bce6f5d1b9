//! A generational GA over genomes of a search space, in the line of Miller,
//! Todd & Hegde 1989 ("Designing neural networks using genetic
//! algorithms", ICGA): each network is trained by backprop, its score is
//! its fitness, and the next generation is bred from the best. Selection is
//! truncation: the `parents` fittest of a generation breed; each child is,
//! with probability `crossover_rate`, a crossover of two parents drawn
//! uniformly, else a copy of one, and is then mutated. The `elites` fittest
//! pass unchanged (with the fitness they already have, so they are not
//! trained again); the first generation is random.

use serde::{Deserialize, Serialize};

use evonet_core::{
    Candidate, Champion, Evaluated, Origin, Purpose, SeededRng, Strategy, StrategyError,
    TellReport, Variation,
};

use crate::members::{proposals, Book, Member};
use crate::predictor::{check_features, PredictorConfig, Screenable};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruncationGaConfig {
    pub population: usize,
    /// How many of the fittest breed.
    pub parents: usize,
    /// How many of the fittest pass unchanged.
    #[serde(default = "default_elites")]
    pub elites: usize,
    #[serde(default = "default_crossover_rate")]
    pub crossover_rate: f64,
}

fn default_elites() -> usize {
    1
}

fn default_crossover_rate() -> f64 {
    0.5
}

pub struct TruncationGa<G, V> {
    cfg: TruncationGaConfig,
    space: V,
    /// Screens `pool` times the children down to those trained.
    predictor: Option<PredictorConfig>,
    _genome: std::marker::PhantomData<fn() -> G>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TruncationGaState<G> {
    pub book: Book<G>,
    /// The last generation with the elites, fittest first.
    pub ranked: Vec<Member<G>>,
}

impl TruncationGaConfig {
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
        if self.parents < 1 || self.parents > self.population {
            return bad("parents", "must be between 1 and the population size");
        }
        if self.elites >= self.population {
            return bad("elites", "must be below the population size");
        }
        if !(0.0..=1.0).contains(&self.crossover_rate) {
            return bad("crossover_rate", "must be in [0, 1]");
        }
        Ok(())
    }
}

impl<G, V: Variation<G>> TruncationGa<G, V> {
    pub fn new(cfg: TruncationGaConfig, space: V) -> Result<Self, StrategyError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            space,
            predictor: None,
            _genome: std::marker::PhantomData,
        })
    }
}
impl<G, V: Variation<G>> Screenable for TruncationGa<G, V> {
    /// Children screened by a learned predictor: each generation proposes
    /// `pool` times the children it trains and keeps those it rates
    /// highest.
    fn with_predictor(mut self, predictor: PredictorConfig) -> Result<Self, StrategyError> {
        check_features(&predictor, &self.space)?;
        self.predictor = Some(predictor);
        Ok(self)
    }
}

impl<G, V> Strategy for TruncationGa<G, V>
where
    G: Clone + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    V: Variation<G>,
{
    type Genome = G;
    type State = TruncationGaState<G>;

    fn name(&self) -> &'static str {
        "truncation_ga"
    }

    fn init(&self, seed: u64) -> Result<Self::State, StrategyError> {
        Ok(TruncationGaState {
            book: Book::screened(seed, self.predictor.as_ref()),
            ranked: Vec::new(),
        })
    }

    fn ask(&self, st: &mut Self::State) -> Vec<Candidate<G>> {
        if st.ranked.is_empty() {
            let predictor = self.predictor.as_ref();
            return st
                .book
                .random_round(&self.space, self.cfg.population, predictor);
        }
        let (seed, gen) = (st.book.seed, st.book.generation);
        let parents = self.cfg.parents.min(st.ranked.len());
        let children = self.cfg.population - self.cfg.elites.min(st.ranked.len());
        let predictor = self.predictor.as_ref();
        let proposed = (0..proposals(children, predictor) as u64)
            .map(|i| {
                let mut pick = SeededRng::for_stream(seed, gen, i, Purpose::Select);
                let mut rng = SeededRng::for_stream(seed, gen, i, Purpose::Sample);
                let a = &st.ranked[pick.below(parents as u64) as usize];
                let mut ids = vec![a.id];
                let mut words = Vec::new();
                let mut genome = a.genome.clone();
                if rng.bernoulli(self.cfg.crossover_rate) {
                    let b = &st.ranked[pick.below(parents as u64) as usize];
                    if let Some((g, w)) = self.space.crossover(&a.genome, &b.genome, &mut rng) {
                        genome = g;
                        ids.push(b.id);
                        words.push(w);
                    }
                }
                let (genome, w) = self.space.mutate(&genome, &mut rng);
                words.push(w);
                let origin = Origin {
                    parents: ids,
                    operator: words.join("; "),
                };
                (genome, origin)
            })
            .collect();
        st.book.admit(&self.space, proposed, children, predictor)
    }

    fn tell(
        &self,
        st: &mut Self::State,
        results: Vec<Evaluated<G>>,
    ) -> Result<TellReport, StrategyError> {
        let gen = st.book.generation;
        let (members, report) = st.book.close(results);
        if members.iter().all(|m| !m.fitness.is_finite()) && st.ranked.is_empty() {
            return Err(StrategyError::AllFailed(gen));
        }
        let elites = self.cfg.elites.min(st.ranked.len());
        let mut next: Vec<Member<G>> = st.ranked.drain(..elites).collect();
        next.extend(members);
        // Fittest first; a stable sort keeps elites ahead of equal children
        // and lower ids ahead of higher ones.
        next.sort_by(|a, b| b.fitness.total_cmp(&a.fitness));
        st.ranked = next;
        Ok(report)
    }

    fn generation(&self, st: &Self::State) -> u64 {
        st.book.generation
    }

    fn champion(&self, st: &Self::State) -> Option<Champion<G>> {
        st.book.champion()
    }
}
