//! What flows between a strategy and an evaluator.

use serde::{Deserialize, Serialize};

use crate::stats::RunningStats;

/// Unique within a run; never reused, also not after a resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CandidateId(pub u64);

impl std::fmt::Display for CandidateId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How a candidate is to be evaluated. The seed is derived by the strategy
/// from the run seed, the generation and the candidate index, never from the
/// worker, so any thread or worker count gives the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalRequest {
    pub seed: u64,
    /// Episodes to average; 0 means the problem's default.
    pub episodes: u32,
    /// Whether the evaluation should return observation statistics
    /// (OpenAI-ES observation normalisation).
    pub record_obs: bool,
}

impl EvalRequest {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            episodes: 0,
            record_obs: false,
        }
    }
}

/// Where a candidate came from, for lineage in `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// Its parents (none for a fresh random candidate).
    pub parents: Vec<CandidateId>,
    /// The variation applied, in words (`"random"`, `"add_layer 2 conv3x3-16"`).
    pub operator: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Candidate<G> {
    pub id: CandidateId,
    /// Set by strategies that record lineage (architecture search).
    #[serde(default)]
    pub origin: Option<Origin>,
    pub genome: G,
    pub request: EvalRequest,
}

/// Work spent on one evaluation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    pub env_steps: u64,
    pub episodes: u64,
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, o: Cost) {
        self.env_steps += o.env_steps;
        self.episodes += o.episodes;
    }
}

/// A successful evaluation. Fitness is maximised everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub fitness: f64,
    pub cost: Cost,
    /// Observation statistics gathered during the rollouts, when requested.
    pub obs_stats: Option<RunningStats>,
    /// The candidate met the task's success criterion during this very
    /// evaluation (XOR: every pattern classified right). The runner then
    /// counts the run as solved even if the strategy's champion is another
    /// candidate.
    #[serde(default)]
    pub solved: bool,
    /// Problem-specific figures of this evaluation, in a fixed order
    /// (architecture search: validation accuracy, parameters, training
    /// seconds); written to the candidate's line of `metrics.jsonl`.
    #[serde(default)]
    pub details: Vec<(String, f64)>,
    /// Bytes the problem hands back to whoever asked for the evaluation,
    /// carried through Redis like the fitness (an architecture's final
    /// retraining: the trained weights). Strategies ignore them; empty for
    /// most problems.
    #[serde(default)]
    pub artifact: Vec<u8>,
    /// The behaviour characterisation (the maze's final position, averaged
    /// over the episodes), for novelty search; `None` where the problem
    /// defines none.
    #[serde(default)]
    pub behavior: Option<Vec<f32>>,
}

impl Evaluation {
    /// An evaluation that is only a fitness (no cost, no statistics): what
    /// a hand-written ask/tell loop over a function reports.
    pub fn of(fitness: f64) -> Self {
        Self {
            fitness,
            cost: Cost::default(),
            obs_stats: None,
            solved: false,
            details: Vec::new(),
            artifact: Vec::new(),
            behavior: None,
        }
    }

    /// The figure named `key` among the details, if the problem gave it.
    pub fn detail(&self, key: &str) -> Option<f64> {
        self.details.iter().find(|(n, _)| n == key).map(|(_, v)| *v)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Done(Evaluation),
    /// The evaluation failed (panic, non-finite observation or fitness, ...).
    /// Strategies treat it as the worst possible result.
    Failed {
        reason: String,
        cost: Cost,
    },
}

impl Outcome {
    /// Fitness for ranking: failures rank below everything.
    pub fn fitness(&self) -> f64 {
        match self {
            Outcome::Done(e) => e.fitness,
            Outcome::Failed { .. } => f64::NEG_INFINITY,
        }
    }
    pub fn cost(&self) -> Cost {
        match self {
            Outcome::Done(e) => e.cost,
            Outcome::Failed { cost, .. } => *cost,
        }
    }
    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluated<G> {
    pub candidate: Candidate<G>,
    pub outcome: Outcome,
}

impl<G> Evaluated<G> {
    /// A candidate with its fitness.
    pub fn done(candidate: Candidate<G>, fitness: f64) -> Self {
        Self {
            candidate,
            outcome: Outcome::Done(Evaluation::of(fitness)),
        }
    }
}

/// Matches results to the candidates a strategy asked for, by id.
///
/// Results may arrive in any order; duplicates and unknown ids are ignored;
/// a candidate without a result counts as failed. The returned outcomes are in
/// the order of `asked`.
pub fn match_results<G>(asked: &[CandidateId], results: Vec<Evaluated<G>>) -> Vec<Outcome> {
    let mut slots: Vec<Option<Outcome>> = vec![None; asked.len()];
    // `asked` is sorted when ids are handed out in increasing order; fall back
    // to a linear scan otherwise.
    let sorted = asked.windows(2).all(|w| w[0] < w[1]);
    for (i, r) in results.into_iter().enumerate() {
        // Results mostly come back in the order asked: try that first.
        let pos = if asked.get(i) == Some(&r.candidate.id) {
            Some(i)
        } else if sorted {
            asked.binary_search(&r.candidate.id).ok()
        } else {
            asked.iter().position(|id| *id == r.candidate.id)
        };
        if let Some(p) = pos {
            if slots[p].is_none() {
                slots[p] = Some(r.outcome);
            }
        }
    }
    slots
        .into_iter()
        .map(|s| {
            s.unwrap_or(Outcome::Failed {
                reason: "no result was returned".into(),
                cost: Cost::default(),
            })
        })
        .collect()
}

/// The outcomes of one round matched to what was asked
/// ([`match_results`]), with their fitness (failures as −∞) and the number
/// of failures: what every `tell` starts from.
#[derive(Debug, Clone)]
pub struct Scored {
    pub outcomes: Vec<Outcome>,
    pub fitness: Vec<f64>,
    pub failed: u64,
}

pub fn score<G>(asked: &[CandidateId], results: Vec<Evaluated<G>>) -> Scored {
    let outcomes = match_results(asked, results);
    let fitness = outcomes.iter().map(Outcome::fitness).collect();
    let failed = outcomes.iter().filter(|o| o.is_failed()).count() as u64;
    Scored {
        outcomes,
        fitness,
        failed,
    }
}

/// Mean of the finite fitness values, or NaN when there is none.
pub fn mean_fitness(outcomes: &[Outcome]) -> f64 {
    let (s, n) = outcomes
        .iter()
        .filter(|o| !o.is_failed())
        .fold((0.0, 0usize), |(s, n), o| (s + o.fitness(), n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}

/// Best finite value, or NaN when there is none.
pub fn best_finite(values: &[f64]) -> f64 {
    values
        .iter()
        .copied()
        .filter(|f| f.is_finite())
        .fold(f64::NAN, f64::max)
}

/// Mean of the finite values, or NaN when there is none.
pub fn mean_finite(values: &[f64]) -> f64 {
    let (s, n) = values
        .iter()
        .filter(|f| f.is_finite())
        .fold((0.0, 0usize), |(s, n), f| (s + f, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        s / n as f64
    }
}
