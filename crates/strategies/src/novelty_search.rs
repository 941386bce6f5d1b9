//! Novelty search (Lehman & Stanley, Evolutionary Computation 19(2), 2011)
//! as a wrapper over any strategy: the wrapped strategy selects on a score
//! made from each candidate's novelty (its behaviour's sparseness against
//! the archive and the population, [`crate::novelty_archive`]) and,
//! optionally, its fitness; it never sees the objective otherwise.
//!
//! - NEAT inside gives Lehman & Stanley's novelty search, the Deep GA gives
//!   Such et al.'s GA-NS (arXiv 1712.06567), OpenAI-ES with
//!   `archive = "champion"` gives the archive of Conti et al.'s NS-ES
//!   (NeurIPS 2018), `mix = "rank"` with weight 0.5 their NSR-ES scores,
//!   and `mix = "adaptive"` their NSRA-ES weight (up while the fitness
//!   improves, down after it stalls).
//! - The problem must return a behaviour characterisation with every
//!   evaluation ([`evonet_core::Evaluation::behavior`]); one without it
//!   counts as failed.
//! - The champion is the candidate of the best *objective* fitness seen so
//!   far, and the generation's best and mean fitness reported are the
//!   objective's: novelty search is judged on the task, not on novelty.
//! - With `archive = "champion"`, each generation asks for one more
//!   evaluation, of the wrapped strategy's champion (an ES centre), whose
//!   behaviour then enters the archive; its id has the top bit set, so it
//!   never collides with the wrapped strategy's ids.
//!
//! - With `centres = M` above 1, the wrapped strategy runs as Conti et
//!   al.'s meta-population of M centres, one chosen per generation by its
//!   novelty ([`crate::novelty_centres`]).
//!
//! The archive is part of the state, so a checkpoint resumes exactly.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use evonet_core::shaping::centered_ranks;
use evonet_core::{
    derive_seed, Candidate, CandidateId, Champion, EvalRequest, Evaluated, Evaluation, Outcome,
    Purpose, Strategy, StrategyError, TellReport,
};

use crate::novelty_archive::{sparseness, Archive, ArchiveRule, NoveltyConfig, NoveltyMix};
use crate::novelty_centres::Centres;

/// Ids of the champion's behaviour evaluations.
pub(crate) const PROBE_BIT: u64 = 1 << 63;

pub struct NoveltySearch<S> {
    inner: S,
    cfg: NoveltyConfig,
}

impl<S: Strategy> NoveltySearch<S> {
    pub fn new(inner: S, cfg: NoveltyConfig) -> Result<Self, StrategyError> {
        cfg.validate()?;
        Ok(Self { inner, cfg })
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn config(&self) -> &NoveltyConfig {
        &self.cfg
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "St: Serialize, G: Serialize",
    deserialize = "St: DeserializeOwned, G: DeserializeOwned"
))]
pub struct NoveltyState<St, G> {
    pub inner: St,
    pub archive: Archive,
    /// The best candidate by objective fitness.
    pub best: Option<Champion<G>>,
    pub(crate) seed: u64,
    /// The champion evaluation asked for this generation, if any.
    probe: Option<CandidateId>,
    pub(crate) probes: u64,
    /// Whether the next `ask` opens a generation.
    pub(crate) opening: bool,
    /// This generation so far: archive additions, and the objective's
    /// best, sum and count over its successful evaluations.
    pub(crate) added: usize,
    pub(crate) best_fitness: Option<f64>,
    fitness_sum: f64,
    fitness_count: u64,
    /// The objective's weight in the score (adapted with `adaptive`), the
    /// best generation fitness so far and the generations since it rose.
    weight: f64,
    best_ever: Option<f64>,
    weight_stall: u32,
    /// The meta-population (empty with one centre).
    #[serde(default)]
    pub centres: Centres<St>,
}

/// One round's successful evaluations with a usable behaviour, in id order.
struct Scored {
    /// Index into the round's results.
    index: usize,
    fitness: f64,
    novelty: f64,
}

impl<S: Strategy> Strategy for NoveltySearch<S> {
    type Genome = S::Genome;
    type State = NoveltyState<S::State, S::Genome>;

    fn name(&self) -> &'static str {
        "novelty_search"
    }

    fn init(&self, seed: u64) -> Result<Self::State, StrategyError> {
        let centres = if self.cfg.centres > 1 {
            let others = (1..self.cfg.centres as u64)
                .map(|m| self.inner.init(derive_seed(seed, 0, m, Purpose::Init)))
                .collect::<Result<Vec<_>, _>>()?;
            Centres::new(others)
        } else {
            Centres::default()
        };
        Ok(NoveltyState {
            inner: self.inner.init(seed)?,
            archive: Archive::new(self.cfg.threshold),
            best: None,
            seed,
            probe: None,
            probes: 0,
            opening: true,
            added: 0,
            best_fitness: None,
            fitness_sum: 0.0,
            fitness_count: 0,
            weight: self.cfg.objective_weight,
            best_ever: None,
            weight_stall: 0,
            centres,
        })
    }

    fn ask(&self, st: &mut Self::State) -> Vec<Candidate<S::Genome>> {
        if self.cfg.centres > 1 {
            return self.ask_centres(st);
        }
        let mut asked = self.inner.ask(&mut st.inner);
        if std::mem::take(&mut st.opening) && self.cfg.archive == ArchiveRule::Champion {
            if let Some(ch) = self.inner.champion(&st.inner) {
                let g = self.inner.generation(&st.inner);
                let id = CandidateId(PROBE_BIT | st.probes);
                st.probes += 1;
                st.probe = Some(id);
                asked.push(Candidate {
                    id,
                    origin: None,
                    genome: ch.genome,
                    request: EvalRequest::new(derive_seed(st.seed, g, 0, Purpose::Behavior)),
                });
            }
        }
        asked
    }

    fn tell(
        &self,
        st: &mut Self::State,
        mut results: Vec<Evaluated<S::Genome>>,
    ) -> Result<TellReport, StrategyError> {
        if self.cfg.centres > 1 {
            if !st.centres.probes.is_empty() {
                return self.tell_probes(st, results);
            }
            results = self.own_results(st, results);
        }
        if let Some(probe) = st.probe.take() {
            if let Some(i) = results.iter().position(|r| r.candidate.id == probe) {
                let r = results.swap_remove(i);
                if let Some(b) = behavior_of(&r.outcome) {
                    st.archive.push(b, self.cfg.archive_limit)?;
                    st.added += 1;
                }
            }
        }
        results.sort_by_key(|r| r.candidate.id);
        let scored = self.score(st, &results);
        self.track_objective(st, &results, &scored);
        if self.cfg.archive == ArchiveRule::Threshold {
            let behaviors: Vec<&[f32]> = scored
                .iter()
                .filter_map(|s| behavior_of(&results[s.index].outcome))
                .collect();
            st.added += st.archive.admit(&behaviors, &self.cfg)?;
        }
        let (novelty_best, novelty_mean) = best_and_mean(scored.iter().map(|s| s.novelty));
        let results = self.substitute_scores(results, &scored, st.weight);
        let active = st.centres.active;
        let mut report = self
            .inner
            .tell(st.centres.state_mut(&mut st.inner, active), results)?;
        report.best_fitness = st.best_fitness.unwrap_or(f64::NAN);
        report.mean_fitness = if st.fitness_count > 0 {
            st.fitness_sum / st.fitness_count as f64
        } else {
            f64::NAN
        };
        report.stats.extend([
            ("novelty_best".to_string(), novelty_best),
            ("novelty_mean".to_string(), novelty_mean),
            ("archive_size".to_string(), st.archive.len() as f64),
            ("archive_threshold".to_string(), st.archive.threshold),
            ("objective_weight".to_string(), st.weight),
        ]);
        if self.cfg.centres > 1 {
            self.report_centre(st, &mut report);
        }
        if report.generation_done {
            self.close_generation(st);
        }
        Ok(report)
    }

    /// With M centres, the generations of all of them: each generation
    /// steps one.
    fn generation(&self, st: &Self::State) -> u64 {
        self.inner.generation(&st.inner)
            + st.centres
                .others
                .iter()
                .map(|o| self.inner.generation(o))
                .sum::<u64>()
    }

    fn champion(&self, st: &Self::State) -> Option<Champion<S::Genome>> {
        st.best.clone().or_else(|| {
            self.inner
                .champion(st.centres.state(&st.inner, st.centres.active))
        })
    }
}

impl<S: Strategy> NoveltySearch<S> {
    /// The novelty of every evaluation that has a usable behaviour.
    fn score(
        &self,
        st: &NoveltyState<S::State, S::Genome>,
        results: &[Evaluated<S::Genome>],
    ) -> Vec<Scored> {
        let dim = st.archive.dim;
        let usable: Vec<(usize, f64, &[f32])> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match &r.outcome {
                Outcome::Done(e) => behavior_of(&r.outcome)
                    .filter(|b| dim == 0 || b.len() == dim)
                    .map(|b| (i, e.fitness, b)),
                Outcome::Failed { .. } => None,
            })
            .collect();
        let behaviors: Vec<&[f32]> = usable.iter().map(|u| u.2).collect();
        let among_population = self.cfg.archive == ArchiveRule::Threshold;
        let novelty = sparseness(
            &behaviors,
            &st.archive,
            among_population,
            self.cfg.k,
            self.cfg.distance,
        );
        usable
            .iter()
            .zip(novelty)
            .map(|(u, novelty)| Scored {
                index: u.0,
                fitness: u.1,
                novelty,
            })
            .collect()
    }

    /// Keeps the best candidate by objective and the generation's figures.
    fn track_objective(
        &self,
        st: &mut NoveltyState<S::State, S::Genome>,
        results: &[Evaluated<S::Genome>],
        scored: &[Scored],
    ) {
        for s in scored {
            note_fitness(st, s.fitness, &results[s.index].candidate.genome);
        }
    }

    /// The results as the wrapped strategy sees them: the score in place of
    /// the fitness; evaluations without a usable behaviour failed.
    fn substitute_scores(
        &self,
        results: Vec<Evaluated<S::Genome>>,
        scored: &[Scored],
        weight: f64,
    ) -> Vec<Evaluated<S::Genome>> {
        let scores = self.mix(scored, weight);
        let mut by_index = vec![None; results.len()];
        for (s, score) in scored.iter().zip(scores) {
            by_index[s.index] = Some(score);
        }
        results
            .into_iter()
            .zip(by_index)
            .map(|(r, score)| {
                let outcome = match (r.outcome, score) {
                    (Outcome::Done(e), Some(score)) => Outcome::Done(Evaluation {
                        fitness: score,
                        ..e
                    }),
                    (Outcome::Done(e), None) => Outcome::Failed {
                        reason: "the evaluation gave no usable behaviour characterisation".into(),
                        cost: e.cost,
                    },
                    (failed, _) => failed,
                };
                Evaluated {
                    candidate: r.candidate,
                    outcome,
                }
            })
            .collect()
    }

    fn mix(&self, scored: &[Scored], w: f64) -> Vec<f64> {
        match self.cfg.mix {
            NoveltyMix::Novelty => scored.iter().map(|s| s.novelty).collect(),
            NoveltyMix::Weighted => scored
                .iter()
                .map(|s| (1.0 - w) * s.novelty + w * s.fitness)
                .collect(),
            NoveltyMix::Rank | NoveltyMix::Adaptive => {
                let n: Vec<f64> = scored.iter().map(|s| s.novelty).collect();
                let f: Vec<f64> = scored.iter().map(|s| s.fitness).collect();
                centered_ranks(&n)
                    .into_iter()
                    .zip(centered_ranks(&f))
                    .map(|(rn, rf)| (1.0 - w) * rn + w * rf)
                    .collect()
            }
        }
    }

    /// Adapts the threshold to the generation's additions and starts the
    /// next generation's figures.
    fn close_generation(&self, st: &mut NoveltyState<S::State, S::Genome>) {
        if self.cfg.archive == ArchiveRule::Threshold {
            st.archive.end_generation(st.added, &self.cfg);
        }
        if self.cfg.mix == NoveltyMix::Adaptive {
            adapt_weight(st, &self.cfg);
        }
        st.opening = true;
        st.added = 0;
        st.best_fitness = None;
        st.fitness_sum = 0.0;
        st.fitness_count = 0;
    }
}

/// Counts one successful evaluation in the generation's objective figures
/// and keeps it when it is the best so far.
pub(crate) fn note_fitness<St, G: Clone>(st: &mut NoveltyState<St, G>, fitness: f64, genome: &G) {
    st.fitness_sum += fitness;
    st.fitness_count += 1;
    st.best_fitness = Some(st.best_fitness.map_or(fitness, |b| b.max(fitness)));
    if st.best.as_ref().is_none_or(|b| fitness > b.fitness) {
        st.best = Some(Champion {
            genome: genome.clone(),
            fitness,
        });
    }
}

/// NSRA-ES: more weight on the fitness while it improves, less when it
/// stalls.
fn adapt_weight<St, G>(st: &mut NoveltyState<St, G>, cfg: &NoveltyConfig) {
    let improved = match (st.best_fitness, st.best_ever) {
        (Some(now), Some(before)) => now > before,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if improved {
        st.best_ever = st.best_fitness;
        st.weight = (st.weight + cfg.adapt_step).min(1.0);
        st.weight_stall = 0;
    } else {
        st.weight_stall += 1;
        if st.weight_stall >= cfg.adapt_patience {
            st.weight = (st.weight - cfg.adapt_step).max(0.0);
            st.weight_stall = 0;
        }
    }
}

/// A successful evaluation's behaviour, if it has one with finite values.
pub(crate) fn behavior_of(o: &Outcome) -> Option<&[f32]> {
    match o {
        Outcome::Done(e) => e
            .behavior
            .as_deref()
            .filter(|b| !b.is_empty() && b.iter().all(|v| v.is_finite())),
        Outcome::Failed { .. } => None,
    }
}

fn best_and_mean(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut best, mut sum, mut n) = (f64::NAN, 0.0, 0usize);
    for x in xs {
        best = if best.is_nan() { x } else { best.max(x) };
        sum += x;
        n += 1;
    }
    (best, if n > 0 { sum / n as f64 } else { f64::NAN })
}
