//! `pareto.json`: the non-dominated architectures of a multi-objective
//! search (NSGA-II), read back from the search's candidates in
//! `metrics.jsonl` like the final stage's choice (no strategy state
//! needed, so a resumed search writes the same file).
//!
//! The front is taken over every candidate the search trained, not only
//! the last population: NSGA-II's truncation by crowding distance can drop
//! a non-dominated architecture, and the user wants all of them. Each
//! member's architecture is written beside it (`pareto/candidate-ID.json`,
//! the format of `best/architecture.json`) so any one can be retrained
//! or drawn.

use std::path::Path;

use serde::{Deserialize, Serialize};

use evonet_runner::CandidateRecord;
use evonet_strategies::pareto::{dominates, hypervolume};
use evonet_train::Arch;

/// Format version of `pareto.json`.
pub const PARETO_FORMAT_VERSION: u32 = 1;

/// The first objective's name: 1 − validation accuracy.
pub const ERROR_OBJECTIVE: &str = "val_error";

/// What a multi-objective search minimises, and against which point its
/// hypervolume is measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoSettings {
    /// The costs minimised beside the validation error (`params`, ...).
    pub costs: Vec<String>,
    /// The strategy's reference point (the negated fitness first), if
    /// the config gives one.
    pub reference: Option<Vec<f64>>,
}

/// `pareto.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParetoFile {
    pub format_version: u32,
    /// The objectives, all minimised: `val_error`, then the costs.
    pub objectives: Vec<String>,
    /// The hypervolume's reference point, in the objectives' units: the
    /// config's, or the worst value of each objective in the first
    /// generation.
    pub reference: Vec<f64>,
    /// The volume the front dominates up to `reference`.
    pub hypervolume: f64,
    /// Candidates trained in the search, and those with every objective.
    pub candidates_trained: usize,
    pub candidates_scored: usize,
    /// Non-dominated architectures, best validation accuracy first.
    pub front: Vec<ParetoMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParetoMember {
    pub candidate: u64,
    pub generation: u64,
    pub val_accuracy: f64,
    /// Its value of each of the file's `objectives`.
    pub objectives: Vec<f64>,
    /// The architecture in words.
    pub summary: String,
    /// Its architecture file, relative to the run folder.
    pub architecture: String,
}

/// A candidate with every objective.
struct Scored<'a> {
    record: &'a CandidateRecord,
    arch: Arch,
    objectives: Vec<f64>,
}

impl ParetoSettings {
    /// The objectives' names, the error first.
    pub fn names(&self) -> Vec<String> {
        std::iter::once(ERROR_OBJECTIVE.to_string())
            .chain(self.costs.iter().cloned())
            .collect()
    }

    /// The settings a `pareto.json` was written with (its reference as
    /// the config's, the error turned back into the negated fitness).
    pub fn of_file(file: &ParetoFile) -> Self {
        let mut reference = file.reference.clone();
        if let Some(r) = reference.first_mut() {
            *r -= 1.0;
        }
        Self {
            costs: file.objectives.iter().skip(1).cloned().collect(),
            reference: Some(reference),
        }
    }

    /// A trained candidate's objectives, if it has all of them.
    pub fn objectives(&self, r: &CandidateRecord) -> Option<Vec<f64>> {
        let mut o = vec![1.0 - r.fitness?];
        for cost in &self.costs {
            o.push(r.details.get(cost)?.as_f64()?);
        }
        o.iter().all(|v| v.is_finite()).then_some(o)
    }

    /// The front of `records` (the search's candidates, in order), with
    /// each member's architecture.
    pub fn front(&self, records: &[CandidateRecord]) -> (ParetoFile, Vec<Arch>) {
        let scored: Vec<Scored<'_>> = records
            .iter()
            .filter_map(|record| {
                let arch = serde_json::from_value(record.genome.get("arch")?.clone()).ok()?;
                let objectives = self.objectives(record)?;
                Some(Scored {
                    record,
                    arch,
                    objectives,
                })
            })
            .collect();
        let reference = self.reference_point(&scored);
        let mut front: Vec<&Scored<'_>> = Vec::new();
        for (i, s) in scored.iter().enumerate() {
            let beaten = scored
                .iter()
                .any(|o| dominates(&o.objectives, &s.objectives));
            // One member per architecture and point: the first trained.
            let repeated = scored[..i]
                .iter()
                .any(|o| o.arch == s.arch && o.objectives == s.objectives);
            if !beaten && !repeated {
                front.push(s);
            }
        }
        let points: Vec<Vec<f64>> = front.iter().map(|s| s.objectives.clone()).collect();
        front.sort_by(|a, b| {
            a.objectives[0]
                .total_cmp(&b.objectives[0])
                .then(a.record.candidate.cmp(&b.record.candidate))
        });
        let file = ParetoFile {
            format_version: PARETO_FORMAT_VERSION,
            objectives: self.names(),
            hypervolume: hypervolume(&points, &reference),
            reference,
            candidates_trained: records.len(),
            candidates_scored: scored.len(),
            front: front.iter().map(|s| member(s)).collect(),
        };
        (file, front.iter().map(|s| s.arch.clone()).collect())
    }

    /// The config's reference (its negated fitness turned into the
    /// error), or the worst of each objective in the first generation.
    fn reference_point(&self, scored: &[Scored<'_>]) -> Vec<f64> {
        if let Some(r) = &self.reference {
            let mut r = r.clone();
            r[0] += 1.0;
            return r;
        }
        let first = scored.iter().map(|s| s.record.generation).min();
        let mut worst = vec![0.0; 1 + self.costs.len()];
        for s in scored.iter().filter(|s| Some(s.record.generation) == first) {
            for (w, v) in worst.iter_mut().zip(&s.objectives) {
                *w = f64::max(*w, *v);
            }
        }
        worst
    }
}

fn member(s: &Scored<'_>) -> ParetoMember {
    ParetoMember {
        candidate: s.record.candidate,
        generation: s.record.generation,
        val_accuracy: 1.0 - s.objectives[0],
        objectives: s.objectives.clone(),
        summary: s.arch.to_string(),
        architecture: architecture_path(s.record.candidate),
    }
}

/// The folder of the front's architecture files, in the run folder.
pub const FOLDER: &str = "pareto";

/// Where a front member's architecture is written, relative to the run.
pub fn architecture_path(candidate: u64) -> String {
    format!("{FOLDER}/candidate-{candidate}.json")
}

/// Reads `pareto.json` of the run in `dir`.
pub fn read(dir: &Path) -> Result<ParetoFile, String> {
    crate::final_stage::read_versioned(
        &dir.join("pareto.json"),
        PARETO_FORMAT_VERSION,
        |f: &ParetoFile| f.format_version,
    )
}
