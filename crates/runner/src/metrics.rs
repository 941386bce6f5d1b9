//! `metrics.jsonl`: one JSON object per generation, format version 1.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::observer::{CheckpointEvent, Observed, Observer, ObserverError};

/// One line of `metrics.jsonl`. Non-finite numbers are written as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRecord {
    pub format_version: u32,
    /// Index of the generation this line closes (0-based).
    pub generation: u64,
    /// Candidate evaluations so far (validation re-evaluations included;
    /// champion tests excluded).
    pub evaluations: u64,
    /// Environment steps of those evaluations so far.
    pub env_steps: u64,
    /// Failed evaluations in this generation / so far.
    pub failed: u64,
    pub failed_total: u64,
    /// Best and mean fitness of this generation's candidates.
    pub best_fitness: Option<f64>,
    pub mean_fitness: Option<f64>,
    /// The champion's test score this generation (when tested).
    pub test_score: Option<f64>,
    /// Whether the task's success criterion has been met (by this or an
    /// earlier generation's champion).
    pub solved: bool,
    /// Evaluations when the run was first solved.
    pub solved_at_evaluations: Option<u64>,
    /// Environment steps spent on champion tests so far.
    pub test_env_steps: u64,
    pub elapsed_s: f64,
    pub evals_per_s: f64,
    /// Strategy and test figures (sigma, elite validation, test std, ...).
    pub stats: serde_json::Map<String, serde_json::Value>,
    /// Species of this generation (NEAT): id, size, best fitness,
    /// generations without improvement, offspring granted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub species: Vec<evonet_core::SpeciesRecord>,
    /// The behaviour characterisations of this generation's evaluations,
    /// in candidate order, when the run records them and they have at most
    /// [`MAX_RECORDED_BEHAVIOR`] values (the maze's final positions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub behaviors: Vec<Vec<f32>>,
}

/// Longest behaviour characterisation written to `metrics.jsonl`.
pub const MAX_RECORDED_BEHAVIOR: usize = 4;

/// One line of `metrics.jsonl` per evaluated candidate, written for
/// problems that describe their genomes (architecture search). It carries
/// `"kind": "candidate"`; generation lines have no `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRecord {
    pub kind: String,
    pub format_version: u32,
    /// The generation (ask/tell round) it was evaluated in.
    pub generation: u64,
    pub candidate: u64,
    /// Parent candidate ids and the variation that made it, when the
    /// strategy records lineage.
    pub parents: Vec<u64>,
    pub operator: Option<String>,
    /// Its fitness, `null` when the evaluation failed.
    pub fitness: Option<f64>,
    /// Why the evaluation failed.
    pub failed: Option<String>,
    /// The problem's figures of this evaluation.
    pub details: serde_json::Map<String, serde_json::Value>,
    /// The problem's description of the genome.
    pub genome: serde_json::Value,
}

impl CandidateRecord {
    pub fn new<G>(
        generation: u64,
        r: &evonet_core::Evaluated<G>,
        genome: serde_json::Value,
    ) -> Self {
        let origin = r.candidate.origin.as_ref();
        let (fitness, failed, details) = match &r.outcome {
            evonet_core::Outcome::Done(e) => (
                finite(e.fitness),
                None,
                e.details
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::json!(finite(*v))))
                    .collect(),
            ),
            evonet_core::Outcome::Failed { reason, .. } => {
                (None, Some(reason.clone()), serde_json::Map::new())
            }
        };
        Self {
            kind: "candidate".into(),
            format_version: crate::FORMAT_VERSION,
            generation,
            candidate: r.candidate.id.0,
            parents: origin.map_or(Vec::new(), |o| o.parents.iter().map(|p| p.0).collect()),
            operator: origin.map(|o| o.operator.clone()),
            fitness,
            failed,
            details,
            genome,
        }
    }
}

pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// `metrics.jsonl` as an observer: a line per candidate and per
/// generation, written at once but synced only when a checkpoint is due (a
/// resume drops the lines after its checkpoint anyway, so only the lines up
/// to it must be durable).
pub struct MetricsFile {
    file: File,
    path: PathBuf,
}

impl MetricsFile {
    /// A fresh, empty `metrics.jsonl` at `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        crate::atomic::write_atomic(path, b"")?;
        Self::open(path)
    }

    /// The file of a run resumed at `generation`: the lines of later
    /// generations (written after the checkpoint) are dropped, and so are
    /// damaged lines; both those and any generation without a line are
    /// logged.
    pub fn resume(path: &Path, generation: u64) -> io::Result<Self> {
        let repair = truncate_to(path, generation)?;
        if !repair.is_clean() {
            tracing::warn!(
                "{}: repaired on resume from the checkpoint: {} damaged line(s) dropped; {} generation(s) before it have no line{}",
                path.display(),
                repair.damaged,
                repair.missing.len(),
                listed(&repair.missing)
            );
        }
        Self::open(path)
    }

    fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    fn append(&mut self, rec: &impl Serialize) -> Observed {
        let mut line = serde_json::to_string(rec)
            .map_err(|e| ObserverError::io(&self.path, io::Error::other(e)))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| ObserverError::io(&self.path, e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Observer for MetricsFile {
    fn on_candidate(&mut self, record: &CandidateRecord) -> Observed {
        self.append(record)
    }

    fn on_generation(&mut self, record: &GenerationRecord) -> Observed {
        self.append(record)
    }

    /// Makes every line written so far durable, before the checkpoint.
    fn on_checkpoint(&mut self, _: &CheckpointEvent<'_>) -> Observed {
        self.file
            .sync_data()
            .map_err(|e| ObserverError::io(&self.path, e))
    }
}

/// ` (generations 1, 3)`, shortened to the first and last of many.
fn listed(generations: &[u64]) -> String {
    match generations {
        [] => String::new(),
        [a, .., b] if generations.len() > 8 => format!(" (generations {a} to {b})"),
        all => format!(
            " (generations {})",
            all.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What a resume found wrong in `metrics.jsonl` before the checkpoint's
/// generation, and repaired as far as the checkpoint allows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsRepair {
    /// Lines that did not parse (a torn or damaged line), dropped.
    pub damaged: usize,
    /// Generations before the checkpoint without a line (lost: the
    /// checkpoint holds counters, not the lines).
    pub missing: Vec<u64>,
}

impl MetricsRepair {
    pub fn is_clean(&self) -> bool {
        self.damaged == 0 && self.missing.is_empty()
    }
}

/// Keeps only the lines of generations before `generation` (resume from a
/// checkpoint taken at that boundary), atomically; damaged lines (a torn
/// last line, say) are dropped, and what was dropped or is missing is
/// reported.
pub fn truncate_to(path: &Path, generation: u64) -> io::Result<MetricsRepair> {
    let mut repair = MetricsRepair::default();
    let Ok(f) = File::open(path) else {
        repair.missing = (0..generation).collect();
        return Ok(repair);
    };
    let mut kept = String::new();
    let mut seen = vec![
        false;
        usize::try_from(generation)
            .unwrap_or(usize::MAX)
            .min(1 << 24)
    ];
    for line in BufReader::new(f).lines() {
        let line = line?;
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            repair.damaged += 1;
            continue;
        };
        let Some(g) = v.get("generation").and_then(|g| g.as_u64()) else {
            repair.damaged += 1;
            continue;
        };
        if g < generation {
            if !is_candidate(&line) {
                if let Some(s) = seen.get_mut(g as usize) {
                    *s = true;
                }
            }
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    repair.missing = (0..seen.len() as u64)
        .filter(|&g| !seen[g as usize])
        .collect();
    crate::atomic::write_atomic(path, kept.as_bytes())?;
    Ok(repair)
}

fn is_candidate(line: &str) -> bool {
    line.starts_with(r#"{"kind":"candidate""#)
}

/// Reads every generation line (for reports and tests).
pub fn read_all(path: &Path) -> io::Result<Vec<GenerationRecord>> {
    let f = File::open(path)?;
    BufReader::new(f)
        .lines()
        .filter(|l| l.as_ref().map_or(true, |l| !is_candidate(l)))
        .map(|l| l.and_then(|l| serde_json::from_str(&l).map_err(io::Error::other)))
        .collect()
}

/// Reads every candidate line.
pub fn read_candidates(path: &Path) -> io::Result<Vec<CandidateRecord>> {
    let f = File::open(path)?;
    BufReader::new(f)
        .lines()
        .filter(|l| l.as_ref().map_or(true, |l| is_candidate(l)))
        .map(|l| l.and_then(|l| serde_json::from_str(&l).map_err(io::Error::other)))
        .collect()
}
