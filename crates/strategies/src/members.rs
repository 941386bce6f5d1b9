//! Pieces shared by the strategies over [`Variation`] genomes: evaluated
//! members, the best one ever seen, and the round of candidates waiting for
//! their results.

use serde::{Deserialize, Serialize};

use evonet_core::candidate::{best_finite, mean_finite, score};
use evonet_core::{
    derive_seed, Candidate, CandidateId, Champion, EvalRequest, Evaluated, Origin, Purpose,
    SeededRng, TellReport, Variation,
};

use crate::halving::{Halving, HalvingConfig};
use crate::predictor::PredictorConfig;
use crate::screening::Screening;

/// An evaluated genome (fitness −∞ when its evaluation failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member<G> {
    pub id: CandidateId,
    pub genome: G,
    pub fitness: f64,
}

/// What every strategy over variation genomes keeps between rounds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Book<G> {
    pub seed: u64,
    pub generation: u64,
    pub next_id: u64,
    /// The best member ever evaluated (first found wins ties).
    pub best: Option<Member<G>>,
    /// Candidates asked for and not yet told.
    pub pending: Vec<Candidate<G>>,
    /// What a learned predictor screening the proposals knows (`None`
    /// without one).
    pub screening: Option<Screening>,
    /// The successive-halving round in progress (`None` without it).
    pub halving: Option<Halving>,
}

/// What a round's results did: promoted the best to the next fidelity
/// (successive halving; the generation goes on), or closed the generation
/// with its members.
pub enum Closed<G> {
    Promoted(TellReport),
    Done(Vec<Member<G>>, TellReport),
}

impl<G: Clone> Book<G> {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            generation: 0,
            next_id: 0,
            best: None,
            pending: Vec::new(),
            screening: None,
            halving: None,
        }
    }

    /// The book with its rounds evaluated by successive halving when
    /// `halving` is given.
    pub fn halved(mut self, halving: Option<&HalvingConfig>) -> Self {
        self.halving = halving.map(|_| Halving::default());
        self
    }

    /// The promoted candidates waiting for their evaluation at the next
    /// fidelity, when a successive-halving round is past its first rung.
    pub fn promotion(&self) -> Option<Vec<Candidate<G>>> {
        let h = self.halving.as_ref()?;
        (h.rung > h.first && !self.pending.is_empty()).then(|| self.pending.clone())
    }

    /// The size of the next round of a strategy whose rounds hold `n`
    /// (Hyperband's bracket sizes vary).
    pub fn round_size(&self, n: usize, halving: Option<&HalvingConfig>) -> usize {
        match (halving, &self.halving) {
            (Some(cfg), Some(h)) => cfg.start(h.rounds, n).1,
            _ => n,
        }
    }

    /// Starts `round` at its first rung's fidelity (the request's
    /// `episodes` are that rung's epochs); unchanged without halving.
    pub fn at_first_rung(
        &mut self,
        mut round: Vec<Candidate<G>>,
        halving: Option<&HalvingConfig>,
    ) -> Vec<Candidate<G>> {
        if let (Some(cfg), Some(h)) = (halving, self.halving.as_mut()) {
            let first = cfg.start(h.rounds, round.len()).0;
            h.first = first;
            h.rung = first;
            for c in round.iter_mut().chain(self.pending.iter_mut()) {
                c.request.episodes = cfg.epochs[first];
            }
        }
        round
    }

    /// Closes a round: with successive halving below the top rung, the
    /// best `1 / eta` (with a fitness) become the pending round at the
    /// next rung; otherwise [`Self::close`].
    pub fn close_round(
        &mut self,
        results: Vec<Evaluated<G>>,
        halving: Option<&HalvingConfig>,
    ) -> Closed<G> {
        let (Some(cfg), Some(h)) = (halving, self.halving.as_ref()) else {
            let (members, report) = self.close(results);
            return Closed::Done(members, report);
        };
        if cfg.is_top(h.rung) {
            return self.finish_round(results);
        }
        self.promote(results, cfg)
    }

    /// Closes the generation with `results` (the last rung's), counting
    /// the failures of every rung of the round.
    fn finish_round(&mut self, results: Vec<Evaluated<G>>) -> Closed<G> {
        let (members, mut report) = self.close(results);
        if let Some(h) = self.halving.as_mut() {
            report.failed += h.failed;
            h.rounds += 1;
            h.failed = 0;
        }
        Closed::Done(members, report)
    }

    fn promote(&mut self, results: Vec<Evaluated<G>>, cfg: &HalvingConfig) -> Closed<G> {
        let pending = std::mem::take(&mut self.pending);
        let ids: Vec<CandidateId> = pending.iter().map(|c| c.id).collect();
        let scored = score(&ids, results);
        let mut ranked: Vec<usize> = (0..pending.len())
            .filter(|&i| scored.fitness[i].is_finite())
            .collect();
        ranked.sort_by(|&a, &b| {
            scored.fitness[b]
                .total_cmp(&scored.fitness[a])
                .then(a.cmp(&b))
        });
        ranked.truncate(cfg.promoted(pending.len()));
        ranked.sort_unstable();
        let rung = self.halving.as_ref().map_or(0, |h| h.rung) + 1;
        let epochs = cfg.epochs[rung];
        for (i, &k) in ranked.iter().enumerate() {
            let from = &pending[k];
            let origin = Origin {
                parents: vec![from.id],
                operator: format!("promote to rung {rung} ({epochs} epochs)"),
            };
            let index = ((rung as u64) << 32) | i as u64;
            self.candidate(from.genome.clone(), index, origin);
        }
        for c in &mut self.pending {
            c.request.episodes = epochs;
        }
        if let Some(h) = self.halving.as_mut() {
            h.rung = rung;
            h.failed += scored.failed;
        }
        let report = TellReport {
            generation_done: false,
            best_fitness: best_finite(&scored.fitness),
            mean_fitness: mean_finite(&scored.fitness),
            failed: scored.failed,
            stats: Vec::new(),
            species: Vec::new(),
        };
        // Every candidate failed: the round ends here, without members.
        if self.pending.is_empty() {
            return self.finish_round(Vec::new());
        }
        Closed::Promoted(report)
    }

    /// A book whose rounds a learned predictor screens when `predictor`
    /// is given.
    pub fn screened(seed: u64, predictor: Option<&PredictorConfig>) -> Self {
        Self {
            screening: predictor.map(|_| Screening::default()),
            ..Self::new(seed)
        }
    }

    /// A candidate of this generation with the next id; its evaluation seed
    /// comes from (run seed, generation, index in the round).
    pub fn candidate(&mut self, genome: G, index: u64, origin: Origin) -> Candidate<G> {
        let id = CandidateId(self.next_id);
        self.next_id += 1;
        let c = Candidate {
            id,
            origin: Some(origin),
            genome,
            request: EvalRequest::new(derive_seed(
                self.seed,
                self.generation,
                index,
                Purpose::Evaluate,
            )),
        };
        self.pending.push(c.clone());
        c
    }

    /// A round of `n` fresh random genomes of `space` (with a predictor,
    /// the best rated `n` of `pool × n`).
    pub fn random_round<V: Variation<G>>(
        &mut self,
        space: &V,
        n: usize,
        predictor: Option<&PredictorConfig>,
    ) -> Vec<Candidate<G>> {
        let (seed, gen) = (self.seed, self.generation);
        let proposals = (0..proposals(n, predictor) as u64)
            .map(|i| {
                let mut rng = SeededRng::for_stream(seed, gen, i, Purpose::Init);
                (space.random(&mut rng), random_origin())
            })
            .collect();
        self.admit(space, proposals, n, predictor)
    }

    /// The round's candidates from `proposals` (in order): all of them
    /// without a predictor; with one, the `n` its screening chooses
    /// ([`Screening::choose`]). The `i`-th candidate of the round is
    /// evaluated with the seed of index `i`.
    pub fn admit<V: Variation<G>>(
        &mut self,
        space: &V,
        proposals: Vec<(G, Origin)>,
        n: usize,
        predictor: Option<&PredictorConfig>,
    ) -> Vec<Candidate<G>> {
        let (seed, gen) = (self.seed, self.generation);
        let chosen: Vec<(G, Origin)> = match (predictor, self.screening.as_mut()) {
            (Some(cfg), Some(screening)) => {
                let features = proposals
                    .iter()
                    .map(|(g, _)| space.features(g).unwrap_or_default())
                    .collect();
                let keep = screening.choose(cfg, features, n, seed, gen);
                let mut slots: Vec<Option<(G, Origin)>> = proposals.into_iter().map(Some).collect();
                keep.into_iter().filter_map(|i| slots[i].take()).collect()
            }
            _ => proposals,
        };
        chosen
            .into_iter()
            .enumerate()
            .map(|(i, (g, origin))| self.candidate(g, i as u64, origin))
            .collect()
    }

    /// Matches `results` to the pending round (in id order), updates the
    /// best member and closes the generation.
    pub fn close(&mut self, results: Vec<Evaluated<G>>) -> (Vec<Member<G>>, TellReport) {
        let pending = std::mem::take(&mut self.pending);
        let ids: Vec<CandidateId> = pending.iter().map(|c| c.id).collect();
        let scored = score(&ids, results);
        let members: Vec<Member<G>> = pending
            .into_iter()
            .zip(&scored.fitness)
            .map(|(c, f)| Member {
                id: c.id,
                genome: c.genome,
                fitness: *f,
            })
            .collect();
        for m in &members {
            if m.fitness.is_finite() && self.best.as_ref().is_none_or(|b| m.fitness > b.fitness) {
                self.best = Some(m.clone());
            }
        }
        self.generation += 1;
        let mut report = TellReport {
            generation_done: true,
            best_fitness: best_finite(&scored.fitness),
            mean_fitness: mean_finite(&scored.fitness),
            failed: scored.failed,
            stats: vec![(
                "best_ever".into(),
                self.best.as_ref().map_or(f64::NAN, |b| b.fitness),
            )],
            species: Vec::new(),
        };
        if let Some(screening) = &mut self.screening {
            report.stats.extend(screening.close(&scored.fitness));
        }
        (members, report)
    }

    pub fn champion(&self) -> Option<Champion<G>> {
        self.best.as_ref().map(|b| Champion {
            genome: b.genome.clone(),
            fitness: b.fitness,
        })
    }
}

/// Proposals to make for a round of `n`: `pool × n` with a predictor.
pub fn proposals(n: usize, predictor: Option<&PredictorConfig>) -> usize {
    n * predictor.map_or(1, |p| p.pool)
}

/// Origin of a fresh random genome.
pub fn random_origin() -> Origin {
    Origin {
        parents: Vec::new(),
        operator: "random".into(),
    }
}
