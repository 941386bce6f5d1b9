//! Deep GA (Such et al. 2017, "Deep Neuroevolution: Genetic Algorithms Are a
//! Competitive Alternative for Training Deep Neural Networks for
//! Reinforcement Learning", arXiv 1712.06567).
//!
//! Truncation selection, mutation only: each generation the top `truncation`
//! individuals are parents and every offspring is θ' = θ + σ·ε. The elite
//! (carried over unmutated) is chosen among the top `elite_candidates` by
//! the mean over `elite_episodes` extra episodes, so that one lucky episode
//! does not make a champion. Genomes are seed chains ([`SeedChain`]) decoded by
//! the problem from the shared noise table; the strategy never sees a
//! parameter vector.
//!
//! With `truncation = 0` every offspring is a fresh random network: the
//! paper's random-search baseline (see [`crate::random_search`]).

use serde::{Deserialize, Serialize};

use evonet_core::candidate::{best_finite, mean_finite, score, Scored};
use evonet_core::shaping::argsort_desc;
use evonet_core::{
    Candidate, CandidateId, Champion, EvalRequest, Evaluated, Purpose, SeedChain, SeedMutation,
    SeededRng, Strategy, StrategyError, TellReport,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeepGaConfig {
    /// Individuals per generation (the elite included).
    pub population: usize,
    /// Parents per generation (top T); 0 = random search.
    pub truncation: usize,
    /// Mutation power σ.
    pub sigma: f32,
    /// How many of the best are re-evaluated to choose the elite.
    #[serde(default = "default_elite_candidates")]
    pub elite_candidates: usize,
    /// Extra episodes per elite candidate (0 = choose by the single
    /// evaluation).
    #[serde(default = "default_elite_episodes")]
    pub elite_episodes: u32,
}

pub(crate) fn default_elite_candidates() -> usize {
    10
}
pub(crate) fn default_elite_episodes() -> u32 {
    30
}

impl DeepGaConfig {
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
        if self.truncation > self.population {
            return bad("truncation", "must not exceed population");
        }
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return bad("sigma", "must be a positive number");
        }
        if self.elite_candidates > self.population {
            return bad("elite_candidates", "must not exceed population");
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct DeepGa {
    cfg: DeepGaConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Evaluating the generation's population.
    Population,
    /// Re-evaluating the best individuals to pick the elite.
    Validation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeepGaState {
    pub seed: u64,
    pub generation: u64,
    pub next_id: u64,
    pub phase: Phase,
    /// The population of the current generation.
    pub population: Vec<SeedChain>,
    /// Ids handed out in the current round, in ask order.
    pub asked: Vec<CandidateId>,
    /// Fitness of each population member this generation (after Population).
    pub fitness: Vec<f64>,
    /// Population indices under validation.
    pub validating: Vec<usize>,
    /// The elite (validated) and its validation score.
    pub elite: Option<(SeedChain, f64)>,
    pub round_failed: u64,
}

impl DeepGa {
    pub fn new(cfg: DeepGaConfig) -> Result<Self, StrategyError> {
        cfg.validate()?;
        Ok(Self { cfg })
    }

    pub fn config(&self) -> &DeepGaConfig {
        &self.cfg
    }

    fn fresh(seed: u64, generation: u64, index: usize) -> SeedChain {
        SeedChain::new(
            SeededRng::for_stream(seed, generation, index as u64, Purpose::Init).next_u64(),
        )
    }

    fn candidates(
        st: &mut DeepGaState,
        genomes: Vec<(SeedChain, EvalRequest)>,
    ) -> Vec<Candidate<SeedChain>> {
        st.asked.clear();
        genomes
            .into_iter()
            .map(|(genome, request)| {
                let id = CandidateId(st.next_id);
                st.next_id += 1;
                st.asked.push(id);
                Candidate {
                    id,
                    origin: None,
                    genome,
                    request,
                }
            })
            .collect()
    }

    /// Builds the next population from this generation's fitness and elite.
    fn reproduce(&self, st: &mut DeepGaState) {
        let order = argsort_desc(&st.fitness);
        let n = self.cfg.population;
        let mut rng = SeededRng::for_stream(st.seed, st.generation, 0, Purpose::Select);
        let mut next = Vec::with_capacity(n);
        let elite = st.elite.as_ref().map(|(g, _)| g.clone());
        if let Some(e) = &elite {
            next.push(e.clone());
        }
        let next_gen = st.generation + 1;
        if self.cfg.truncation == 0 {
            while next.len() < n {
                next.push(Self::fresh(st.seed, next_gen, next.len()));
            }
        } else {
            let mut parents: Vec<SeedChain> = order
                .iter()
                .take(self.cfg.truncation)
                .map(|&i| st.population[i].clone())
                .collect();
            // The elite replaces the T-th parent when it is not among them
            // (Uber's gpu_implementation/ga.py).
            if let Some(e) = &elite {
                if !parents.contains(e) {
                    let last = parents.len() - 1;
                    parents[last] = e.clone();
                }
            }
            while next.len() < n {
                let p = &parents[rng.below(parents.len() as u64) as usize];
                next.push(p.child(SeedMutation {
                    seed: rng.next_u64(),
                    sigma: self.cfg.sigma,
                }));
            }
        }
        st.population = next;
        st.generation = next_gen;
        st.phase = Phase::Population;
        st.fitness.clear();
        st.validating.clear();
    }
}

impl Strategy for DeepGa {
    type Genome = SeedChain;
    type State = DeepGaState;

    fn name(&self) -> &'static str {
        if self.cfg.truncation == 0 {
            "random_search"
        } else {
            "deep_ga"
        }
    }

    fn init(&self, seed: u64) -> Result<DeepGaState, StrategyError> {
        Ok(DeepGaState {
            seed,
            generation: 0,
            next_id: 0,
            phase: Phase::Population,
            population: (0..self.cfg.population)
                .map(|i| Self::fresh(seed, 0, i))
                .collect(),
            asked: Vec::new(),
            fitness: Vec::new(),
            validating: Vec::new(),
            elite: None,
            round_failed: 0,
        })
    }

    fn ask(&self, st: &mut DeepGaState) -> Vec<Candidate<SeedChain>> {
        let (seed, g) = (st.seed, st.generation);
        let genomes: Vec<_> = match st.phase {
            Phase::Population => st
                .population
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    (
                        c.clone(),
                        EvalRequest::new(evonet_core::derive_seed(
                            seed,
                            g,
                            i as u64,
                            Purpose::Evaluate,
                        )),
                    )
                })
                .collect(),
            Phase::Validation => st
                .validating
                .iter()
                .map(|&i| {
                    let mut r = EvalRequest::new(evonet_core::derive_seed(
                        seed,
                        g,
                        i as u64,
                        Purpose::Validate,
                    ));
                    r.episodes = self.cfg.elite_episodes;
                    (st.population[i].clone(), r)
                })
                .collect(),
        };
        Self::candidates(st, genomes)
    }

    fn tell(
        &self,
        st: &mut DeepGaState,
        results: Vec<Evaluated<SeedChain>>,
    ) -> Result<TellReport, StrategyError> {
        let Scored {
            fitness, failed, ..
        } = score(&st.asked, results);
        match st.phase {
            Phase::Population => {
                st.fitness = fitness;
                st.round_failed = failed;
                let order = argsort_desc(&st.fitness);
                let k = self.cfg.elite_candidates.max(1);
                let top: Vec<usize> = order
                    .iter()
                    .copied()
                    .filter(|&i| st.fitness[i].is_finite())
                    .take(k)
                    .collect();
                if self.cfg.elite_episodes > 0 && !top.is_empty() {
                    st.validating = top;
                    st.phase = Phase::Validation;
                    return Ok(self.report(st, false, Vec::new()));
                }
                if let Some(&b) = top.first() {
                    st.elite = Some((st.population[b].clone(), st.fitness[b]));
                }
                let rep = self.report(st, true, Vec::new());
                self.reproduce(st);
                Ok(rep)
            }
            Phase::Validation => {
                st.round_failed += failed;
                let scores = fitness;
                let best = argsort_desc(&scores)[0];
                if scores[best].is_finite() {
                    let chosen = st.validating[best];
                    // The incumbent elite keeps its place unless beaten.
                    st.elite = Some((st.population[chosen].clone(), scores[best]));
                }
                let stats = vec![("elite_validation".to_string(), scores[best])];
                let rep = self.report(st, true, stats);
                self.reproduce(st);
                Ok(rep)
            }
        }
    }

    fn generation(&self, st: &DeepGaState) -> u64 {
        st.generation
    }

    fn champion(&self, st: &DeepGaState) -> Option<Champion<SeedChain>> {
        st.elite.as_ref().map(|(g, f)| Champion {
            genome: g.clone(),
            fitness: *f,
        })
    }
}

impl DeepGa {
    fn report(&self, st: &DeepGaState, done: bool, stats: Vec<(String, f64)>) -> TellReport {
        let best = best_finite(&st.fitness);
        TellReport {
            species: Vec::new(),
            generation_done: done,
            best_fitness: best,
            mean_fitness: mean_finite(&st.fitness),
            failed: st.round_failed,
            stats,
        }
    }
}
