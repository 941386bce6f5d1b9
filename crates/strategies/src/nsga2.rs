//! NSGA-II (Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist
//! multiobjective genetic algorithm: NSGA-II", IEEE Transactions on
//! Evolutionary Computation 6(2), 2002) over the genomes of any
//! [`Variation`]:
//!
//! - a population of N, at first random;
//! - each generation N children, each from parents chosen by binary
//!   tournaments on the crowded comparison (lower front first, then the
//!   larger crowding distance), by crossover with probability
//!   `crossover_rate` where the space has one, then mutation;
//! - parents and children together (2N) are sorted into non-dominated
//!   fronts ([`crate::pareto`]), and the next population takes whole
//!   fronts, best first, and the least crowded of the front that does not
//!   fit.
//!
//! Objectives, all minimised: the fitness negated (an architecture's
//! validation error, up to a constant), then each figure the problem
//! reports under the names in `objectives` (`params`, `flops`,
//! `latency_ms`, ...). A failed evaluation, or one without a named figure,
//! is the worst value there ([`WORST`]; the state holds no infinities, so
//! it stays plain data in any format). The champion is the candidate of the best fitness; the
//! report adds the size of the population's first front and its
//! hypervolume against `reference` (given, or the worst value of each
//! objective in the first generation). A given `reference` also bounds the
//! search by Deb et al.'s constrained domination (section VI of the
//! paper): a candidate beyond it ranks behind every candidate within it,
//! so the population is not spent on networks too poor or too costly to
//! add any volume.

use std::collections::BTreeMap;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use evonet_core::{
    Candidate, CandidateId, Champion, Evaluated, Origin, Outcome, Purpose, SeededRng, Strategy,
    StrategyError, TellReport, Variation,
};

use crate::members::{Book, Member};
use crate::pareto::{crowding_distance, hypervolume, non_dominated_fronts};

/// The value of a missing objective, and the crowding distance of a
/// front's extremes.
pub const WORST: f64 = f64::MAX;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nsga2Config {
    /// N: the population, and the children per generation.
    pub population: usize,
    /// Figures of the evaluation's details minimised beside the error.
    #[serde(default)]
    pub objectives: Vec<String>,
    /// Probability that a child comes from crossover (where the space has
    /// one) before its mutation (Deb et al.: 0.9).
    #[serde(default = "default_crossover")]
    pub crossover_rate: f64,
    /// The hypervolume's reference point, one value per objective (the
    /// negated fitness first); by default the worst of the first
    /// generation. Given, it also bounds the search: a candidate beyond
    /// it in any objective ranks behind every candidate within it
    /// (constrained domination, Deb et al. section VI).
    #[serde(default)]
    pub reference: Option<Vec<f64>>,
}

fn default_crossover() -> f64 {
    0.9
}

impl Nsga2Config {
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
        if !(0.0..=1.0).contains(&self.crossover_rate) {
            return bad("crossover_rate", "must lie in [0, 1]");
        }
        for (i, o) in self.objectives.iter().enumerate() {
            if o.is_empty() || self.objectives[..i].contains(o) {
                return bad("objectives", "names must be distinct and not empty");
            }
        }
        if let Some(r) = &self.reference {
            if r.len() != 1 + self.objectives.len() {
                return bad(
                    "reference",
                    "needs one value per objective: the negated fitness, then each of `objectives`",
                );
            }
            if r.iter().any(|x| !x.is_finite()) {
                return bad("reference", "values must be finite");
            }
        }
        Ok(())
    }
}

/// An evaluated member with its objectives (minimised) and its place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked<G> {
    pub member: Member<G>,
    pub objectives: Vec<f64>,
    /// 0 for the first (non-dominated) front.
    pub front: usize,
    pub crowding: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "G: Serialize", deserialize = "G: DeserializeOwned"))]
pub struct Nsga2State<G> {
    pub book: Book<G>,
    pub population: Vec<Ranked<G>>,
    pub reference: Option<Vec<f64>>,
}

pub struct Nsga2<G, V> {
    cfg: Nsga2Config,
    space: V,
    _genome: std::marker::PhantomData<fn() -> G>,
}

impl<G, V: Variation<G>> Nsga2<G, V> {
    pub fn new(cfg: Nsga2Config, space: V) -> Result<Self, StrategyError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            space,
            _genome: std::marker::PhantomData,
        })
    }

    /// The objectives of one result: the negated fitness, then the named
    /// figures; +∞ where missing or failed.
    fn objectives(&self, outcome: Option<&Outcome>) -> Vec<f64> {
        let mut o = vec![WORST; 1 + self.cfg.objectives.len()];
        if let Some(Outcome::Done(e)) = outcome {
            if e.fitness.is_finite() {
                o[0] = -e.fitness;
            }
            for (slot, key) in o[1..].iter_mut().zip(&self.cfg.objectives) {
                if let Some(v) = e.detail(key).filter(|v| v.is_finite()) {
                    *slot = v;
                }
            }
        }
        o
    }

    /// One parent by a binary tournament on the crowded comparison (the
    /// first drawn wins ties).
    fn tournament<'a>(&self, pop: &'a [Ranked<G>], rng: &mut SeededRng) -> &'a Ranked<G> {
        let a = &pop[rng.below(pop.len() as u64) as usize];
        let b = &pop[rng.below(pop.len() as u64) as usize];
        let b_better = b.front < a.front || (b.front == a.front && b.crowding > a.crowding);
        if b_better {
            b
        } else {
            a
        }
    }

    /// Child `i` of this generation and how it was made.
    fn child(&self, pop: &[Ranked<G>], seed: u64, gen: u64, i: u64) -> (G, Origin) {
        let mut rng = SeededRng::for_stream(seed, gen, i, Purpose::Select);
        let a = self.tournament(pop, &mut rng);
        let b = self.tournament(pop, &mut rng);
        let mut rng = SeededRng::for_stream(seed, gen, i, Purpose::Sample);
        let crossed = if rng.bernoulli(self.cfg.crossover_rate) {
            self.space
                .crossover(&a.member.genome, &b.member.genome, &mut rng)
        } else {
            None
        };
        let (genome, parents, operator) = match crossed {
            Some((g, how)) => {
                let (g, change) = self.space.mutate(&g, &mut rng);
                (
                    g,
                    vec![a.member.id, b.member.id],
                    format!("{how}; {change}"),
                )
            }
            None => {
                let (g, change) = self.space.mutate(&a.member.genome, &mut rng);
                (g, vec![a.member.id], change)
            }
        };
        (genome, Origin { parents, operator })
    }
}

/// The best `n` of `all` by front, then crowding distance (ties by id),
/// with every kept member's front and crowding distance among `all`.
///
/// With a `bound` (the config's reference point), Deb et al.'s
/// constrained domination (section VI): a member beyond the bound in any
/// objective is infeasible and ranks behind every feasible one, the
/// feasible sorted into non-dominated fronts as usual, the infeasible into
/// fronts of equal violation (the summed excess over the bound, each
/// objective's in units of the bound's magnitude), least first.
fn select<G>(mut all: Vec<Ranked<G>>, n: usize, bound: Option<&[f64]>) -> Vec<Ranked<G>> {
    let violation: Vec<f64> = all
        .iter()
        .map(|r| bound.map_or(0.0, |b| excess(&r.objectives, b)))
        .collect();
    let (feasible, mut infeasible): (Vec<usize>, Vec<usize>) =
        (0..all.len()).partition(|&i| violation[i] == 0.0);
    let points: Vec<Vec<f64>> = feasible
        .iter()
        .map(|&i| all[i].objectives.clone())
        .collect();
    let mut fronts: Vec<Vec<usize>> = non_dominated_fronts(&points)
        .into_iter()
        .map(|f| f.into_iter().map(|j| feasible[j]).collect())
        .collect();
    infeasible.sort_by(|&a, &b| violation[a].total_cmp(&violation[b]));
    for chunk in infeasible.chunk_by(|&a, &b| violation[a] == violation[b]) {
        fronts.push(chunk.to_vec());
    }
    let points: Vec<Vec<f64>> = all.iter().map(|r| r.objectives.clone()).collect();
    for (f, front) in fronts.iter().enumerate() {
        for (&i, d) in front.iter().zip(crowding_distance(&points, front)) {
            all[i].front = f;
            all[i].crowding = d.min(WORST);
        }
    }
    all.sort_by(|a, b| {
        a.front
            .cmp(&b.front)
            .then(b.crowding.total_cmp(&a.crowding))
            .then(a.member.id.cmp(&b.member.id))
    });
    all.truncate(n);
    all
}

/// How far `o` lies beyond `bound`: the sum over objectives of the excess,
/// each divided by the bound's magnitude (1 where the bound is 0).
fn excess(o: &[f64], bound: &[f64]) -> f64 {
    o.iter()
        .zip(bound)
        .map(|(v, b)| {
            let scale = if *b == 0.0 { 1.0 } else { b.abs() };
            ((v - b) / scale).max(0.0)
        })
        .sum()
}

impl<G, V> Strategy for Nsga2<G, V>
where
    G: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    V: Variation<G>,
{
    type Genome = G;
    type State = Nsga2State<G>;

    fn name(&self) -> &'static str {
        "nsga2"
    }

    fn init(&self, seed: u64) -> Result<Self::State, StrategyError> {
        Ok(Nsga2State {
            book: Book::new(seed),
            population: Vec::new(),
            reference: self.cfg.reference.clone(),
        })
    }

    fn ask(&self, st: &mut Self::State) -> Vec<Candidate<G>> {
        if st.population.is_empty() {
            return st.book.random_round(&self.space, self.cfg.population, None);
        }
        let (seed, gen) = (st.book.seed, st.book.generation);
        (0..self.cfg.population as u64)
            .map(|i| {
                let (genome, origin) = self.child(&st.population, seed, gen, i);
                st.book.candidate(genome, i, origin)
            })
            .collect()
    }

    fn tell(
        &self,
        st: &mut Self::State,
        results: Vec<Evaluated<G>>,
    ) -> Result<TellReport, StrategyError> {
        let gen = st.book.generation;
        let mut objectives: BTreeMap<CandidateId, Vec<f64>> = results
            .iter()
            .map(|r| (r.candidate.id, self.objectives(Some(&r.outcome))))
            .collect();
        let (members, mut report) = st.book.close(results);
        if members.iter().all(|m| !m.fitness.is_finite()) && st.population.is_empty() {
            return Err(StrategyError::AllFailed(gen));
        }
        let ranked: Vec<Ranked<G>> = members
            .into_iter()
            .map(|m| {
                let o = objectives
                    .remove(&m.id)
                    .unwrap_or_else(|| self.objectives(None));
                Ranked {
                    member: m,
                    objectives: o,
                    front: 0,
                    crowding: 0.0,
                }
            })
            .collect();
        if st.reference.is_none() {
            st.reference = Some(nadir(&ranked));
        }
        let mut all = std::mem::take(&mut st.population);
        all.extend(ranked);
        st.population = select(all, self.cfg.population, self.cfg.reference.as_deref());
        let first: Vec<Vec<f64>> = self
            .front(st)
            .iter()
            .map(|r| r.objectives.clone())
            .collect();
        let volume = st
            .reference
            .as_ref()
            .map_or(f64::NAN, |r| hypervolume(&first, r));
        report.stats.extend([
            ("front_size".to_string(), first.len() as f64),
            ("hypervolume".to_string(), volume),
        ]);
        Ok(report)
    }

    fn generation(&self, st: &Self::State) -> u64 {
        st.book.generation
    }

    fn champion(&self, st: &Self::State) -> Option<Champion<G>> {
        st.book.champion()
    }
}

impl<G, V> Nsga2<G, V> {
    /// The population's non-dominated members (front 0), in id order.
    pub fn front<'a>(&self, st: &'a Nsga2State<G>) -> Vec<&'a Ranked<G>> {
        let mut f: Vec<&Ranked<G>> = st.population.iter().filter(|r| r.front == 0).collect();
        f.sort_by_key(|r| r.member.id);
        f
    }
}

/// The worst value of each objective among those evaluated (0 where
/// none was).
fn nadir<G>(members: &[Ranked<G>]) -> Vec<f64> {
    let m = members.first().map_or(0, |r| r.objectives.len());
    (0..m)
        .map(|k| {
            members
                .iter()
                .map(|r| r.objectives[k])
                .filter(|v| *v < WORST)
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .map(|v| if v.is_finite() { v } else { 0.0 })
        .collect()
}
