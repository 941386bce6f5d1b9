//! The meta-population of Conti et al.'s NS-ES family (Conti, Madhavan,
//! Such, Lehman, Stanley & Clune, "Improving Exploration in Evolution
//! Strategies for Deep Reinforcement Learning via a Population of
//! Novelty-Seeking Agents", NeurIPS 2018; `es_distributed/nses.py` of
//! `uber-research/deep-neuroevolution`):
//!
//! - M independent copies of the wrapped strategy (M centres θ₁…θ_M, each
//!   with its own optimiser state), started from distinct seeds;
//! - the behaviour of every centre is measured once at the start and enters
//!   the archive;
//! - each generation one centre is chosen with probability proportional to
//!   its novelty against the archive; it alone takes a step, scored by
//!   novelty (and fitness, for NSR-ES and NSRA-ES);
//! - the updated centre's behaviour is measured and enters the archive
//!   before the next choice.
//!
//! Measuring a behaviour is an evaluation of its own (a *probe*), asked in a
//! round before the chosen centre's candidates, so a generation with M > 1
//! takes two rounds: the probe of the centre updated last (all M in the
//! first generation), then the step. Centre m's candidates carry m in bits
//! 48..63 of their ids, so the copies' ids never collide; centre 0's ids are
//! the wrapped strategy's own, and with M = 1 nothing here is used.

use serde::{Deserialize, Serialize};

use evonet_core::{
    derive_seed, Candidate, CandidateId, EvalRequest, Evaluated, Outcome, Purpose, SeededRng,
    Strategy, StrategyError, TellReport,
};

use crate::novelty_archive::{sparseness, Archive, BehaviorDistance};
use crate::novelty_search::{behavior_of, note_fitness, NoveltySearch, NoveltyState, PROBE_BIT};

/// Bit position of the centre's index in candidate ids.
const CENTRE_SHIFT: u32 = 48;
/// The bits of an id that the wrapped strategy chose.
const INNER_MASK: u64 = (1 << CENTRE_SHIFT) - 1;
/// The most centres: their index fits in bits 48..63 (bit 63 marks probes).
pub const MAX_CENTRES: usize = 1 << 15;

/// The meta-population's part of the wrapper's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "St: Serialize",
    deserialize = "St: serde::de::DeserializeOwned"
))]
pub struct Centres<St> {
    /// The states of centres 1..M (centre 0 is the wrapper's `inner`).
    pub others: Vec<St>,
    /// Each centre's latest measured behaviour; `None` until measured and
    /// again after it was updated.
    pub behaviors: Vec<Option<Vec<f32>>>,
    /// The centre stepping in the current generation.
    pub active: usize,
    /// The novelty each centre had when the current generation chose.
    pub novelty: Vec<f64>,
    /// Whether this generation's probe round has been asked.
    pub probed: bool,
    /// The probes asked and the centre each measures.
    pub probes: Vec<(CandidateId, usize)>,
    /// Probes of this generation that gave no usable behaviour.
    pub probe_failed: u64,
}

impl<St> Default for Centres<St> {
    fn default() -> Self {
        Self {
            others: Vec::new(),
            behaviors: Vec::new(),
            active: 0,
            novelty: Vec::new(),
            probed: false,
            probes: Vec::new(),
            probe_failed: 0,
        }
    }
}

impl<St> Centres<St> {
    /// `others` are the states of centres 1..M.
    pub fn new(others: Vec<St>) -> Self {
        let m = others.len() + 1;
        Self {
            others,
            behaviors: vec![None; m],
            novelty: vec![0.0; m],
            ..Self::default()
        }
    }

    pub fn count(&self) -> usize {
        self.others.len() + 1
    }

    /// The state of centre `m`, given centre 0's.
    pub fn state_mut<'a>(&'a mut self, first: &'a mut St, m: usize) -> &'a mut St {
        match m {
            0 => first,
            m => &mut self.others[m - 1],
        }
    }

    pub fn state<'a>(&'a self, first: &'a St, m: usize) -> &'a St {
        match m {
            0 => first,
            m => &self.others[m - 1],
        }
    }

    /// The centres whose behaviour is to be measured now.
    pub fn unmeasured(&self) -> Vec<usize> {
        (0..self.count())
            .filter(|&m| self.behaviors[m].is_none())
            .collect()
    }

    /// Chooses the centre of `generation` with probability proportional to
    /// its novelty against the archive (uniformly when none has any), as
    /// `nses.py`'s `novelty_prob` selection.
    pub fn choose(
        &mut self,
        archive: &Archive,
        k: usize,
        distance: BehaviorDistance,
        seed: u64,
        generation: u64,
    ) {
        self.novelty = self
            .behaviors
            .iter()
            .map(|b| match b {
                Some(b) if b.len() == archive.dim => {
                    sparseness(&[b.as_slice()], archive, false, k, distance)[0]
                }
                _ => 0.0,
            })
            .collect();
        let total: f64 = self.novelty.iter().sum();
        let mut rng = SeededRng::for_stream(seed, generation, 0, Purpose::Select);
        self.active = if total > 0.0 && total.is_finite() {
            let mut left = rng.uniform() * total;
            let last = self.novelty.iter().rposition(|n| *n > 0.0).unwrap_or(0);
            self.novelty
                .iter()
                .position(|n| {
                    left -= n;
                    left < 0.0
                })
                .unwrap_or(last)
        } else {
            rng.below(self.count() as u64) as usize
        };
    }
}

type State<S> = NoveltyState<<S as Strategy>::State, <S as Strategy>::Genome>;

/// The wrapper's rounds with more than one centre.
impl<S: Strategy> NoveltySearch<S> {
    /// A generation opens with the probes of the centres not yet measured,
    /// then asks the chosen centre's candidates.
    pub(crate) fn ask_centres(&self, st: &mut State<S>) -> Vec<Candidate<S::Genome>> {
        if st.opening {
            if !st.centres.probed {
                st.centres.probed = true;
                let probes = self.probe_centres(st);
                if !probes.is_empty() {
                    return probes;
                }
            }
            let g = self.generation(st);
            let cfg = self.config();
            st.centres
                .choose(&st.archive, cfg.k, cfg.distance, st.seed, g);
            st.opening = false;
        }
        let m = st.centres.active;
        let inner = st.centres.state_mut(&mut st.inner, m);
        let mut asked = self.inner().ask(inner);
        for c in &mut asked {
            map_ids(c, |id| outer_id(id, m));
        }
        asked
    }

    /// One evaluation of each unmeasured centre's champion (its θ).
    fn probe_centres(&self, st: &mut State<S>) -> Vec<Candidate<S::Genome>> {
        let g = self.generation(st);
        let mut asked = Vec::new();
        for m in st.centres.unmeasured() {
            let Some(ch) = self.inner().champion(st.centres.state(&st.inner, m)) else {
                continue;
            };
            let id = CandidateId(PROBE_BIT | st.probes);
            st.probes += 1;
            st.centres.probes.push((id, m));
            asked.push(Candidate {
                id,
                origin: None,
                genome: ch.genome,
                request: EvalRequest::new(derive_seed(st.seed, g, m as u64, Purpose::Behavior)),
            });
        }
        asked
    }

    /// The probe round: each measured behaviour enters the archive and
    /// becomes its centre's; the centres' fitness counts for the champion.
    pub(crate) fn tell_probes(
        &self,
        st: &mut State<S>,
        results: Vec<Evaluated<S::Genome>>,
    ) -> Result<TellReport, StrategyError> {
        let probes = std::mem::take(&mut st.centres.probes);
        let limit = self.config().archive_limit;
        let mut measured = vec![false; probes.len()];
        for (i, &(id, m)) in probes.iter().enumerate() {
            let Some(r) = results.iter().find(|r| r.candidate.id == id) else {
                continue;
            };
            if let Outcome::Done(e) = &r.outcome {
                note_fitness(st, e.fitness, &r.candidate.genome);
            }
            let dim = st.archive.dim;
            if let Some(b) = behavior_of(&r.outcome).filter(|b| dim == 0 || b.len() == dim) {
                st.archive.push(b, limit)?;
                st.added += 1;
                st.centres.behaviors[m] = Some(b.to_vec());
                measured[i] = true;
            }
        }
        let failed = measured.iter().filter(|m| !**m).count() as u64;
        st.centres.probe_failed += failed;
        Ok(TellReport {
            generation_done: false,
            best_fitness: st.best_fitness.unwrap_or(f64::NAN),
            mean_fitness: f64::NAN,
            failed,
            stats: Vec::new(),
            species: Vec::new(),
        })
    }

    /// The step round's results that belong to the chosen centre, with the
    /// wrapped strategy's ids.
    pub(crate) fn own_results(
        &self,
        st: &State<S>,
        results: Vec<Evaluated<S::Genome>>,
    ) -> Vec<Evaluated<S::Genome>> {
        let m = st.centres.active;
        results
            .into_iter()
            .filter(|r| r.candidate.id.0 & PROBE_BIT == 0 && centre_of(r.candidate.id) == m)
            .map(|mut r| {
                map_ids(&mut r.candidate, inner_id);
                r
            })
            .collect()
    }

    /// The chosen centre in the generation's figures; once its step is
    /// done, it is measured again at the next generation's opening.
    pub(crate) fn report_centre(&self, st: &mut State<S>, report: &mut TellReport) {
        let m = st.centres.active;
        report.stats.extend([
            ("centre".to_string(), m as f64),
            ("centre_novelty".to_string(), st.centres.novelty[m]),
        ]);
        if report.generation_done {
            report.failed += std::mem::take(&mut st.centres.probe_failed);
            st.centres.behaviors[m] = None;
            st.centres.probed = false;
        }
    }
}

/// Maps a candidate's id and its parents' ids.
fn map_ids<G>(c: &mut Candidate<G>, f: impl Fn(CandidateId) -> CandidateId) {
    c.id = f(c.id);
    for p in c.origin.iter_mut().flat_map(|o| &mut o.parents) {
        *p = f(*p);
    }
}

/// The id the run sees for centre `m`'s candidate `id`. The wrapped
/// strategy's ids stay below 2^48 (at a million evaluations a second, nine
/// years of one run).
pub fn outer_id(id: CandidateId, m: usize) -> CandidateId {
    debug_assert!(id.0 <= INNER_MASK && m < MAX_CENTRES);
    CandidateId((id.0 & INNER_MASK) | ((m as u64) << CENTRE_SHIFT))
}

/// The centre whose candidate the run saw as `id`.
pub fn centre_of(id: CandidateId) -> usize {
    ((id.0 >> CENTRE_SHIFT) as usize) & (MAX_CENTRES - 1)
}

/// The wrapped strategy's id of a candidate the run saw.
pub fn inner_id(id: CandidateId) -> CandidateId {
    CandidateId(id.0 & INNER_MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive_of(points: &[[f32; 2]]) -> Archive {
        let mut a = Archive::new(1.0);
        for p in points {
            a.push(p, 0).unwrap();
        }
        a
    }

    #[test]
    fn ids_round_trip_and_keep_centres_apart() {
        let a = outer_id(CandidateId(7), 0);
        let b = outer_id(CandidateId(7), 3);
        assert_eq!(a, CandidateId(7));
        assert_ne!(a, b);
        assert_eq!(inner_id(b), CandidateId(7));
        assert_eq!((centre_of(a), centre_of(b)), (0, 3));
        assert_eq!(centre_of(CandidateId(1 << 63 | 5)), 0);
    }

    #[test]
    fn choice_follows_novelty() {
        let archive = archive_of(&[[0.0, 0.0], [0.1, 0.0], [100.0, 0.0]]);
        let mut c = Centres::new(vec![(), ()]);
        c.behaviors = vec![
            Some(vec![0.0, 0.0]),
            Some(vec![0.05, 0.0]),
            Some(vec![100.0, 0.0]),
        ];
        let mut picks = [0usize; 3];
        for g in 0..2000 {
            c.choose(&archive, 1, BehaviorDistance::Euclidean, 5, g);
            picks[c.active] += 1;
        }
        // Novelty with k = 1 against an archive holding the centres' own
        // points: 0, 0.05 and 0; only centre 1 has any.
        assert_eq!(picks, [0, 2000, 0]);
        let archive = archive_of(&[[0.0, 0.0]]);
        c.behaviors = vec![
            Some(vec![1.0, 0.0]),
            Some(vec![3.0, 0.0]),
            Some(vec![0.0, 0.0]),
        ];
        let mut picks = [0usize; 3];
        for g in 0..4000 {
            c.choose(&archive, 1, BehaviorDistance::Euclidean, 5, g);
            picks[c.active] += 1;
        }
        assert_eq!(picks[2], 0);
        let ratio = picks[1] as f64 / picks[0] as f64;
        assert!((ratio - 3.0).abs() < 0.4, "{picks:?}");
    }

    #[test]
    fn without_novelty_the_choice_is_uniform() {
        let mut c: Centres<()> = Centres::new(vec![(), (), ()]);
        let mut seen = [false; 4];
        for g in 0..200 {
            c.choose(&Archive::new(1.0), 3, BehaviorDistance::Euclidean, 1, g);
            seen[c.active] = true;
        }
        assert_eq!(seen, [true; 4]);
    }
}
