//! The end of an architecture search (Elsken et al. 2019, section 4: the
//! search ranks candidates by a cheap estimate, so the best are trained
//! again at full fidelity before anything is reported): the best `top_k`
//! distinct architectures by search validation accuracy
//! ([`select_top`]) are retrained on train + validation and scored once on
//! the test split ([`RetrainProblem`], a problem like any other, so the
//! run's evaluator spreads the retrainings over threads or Redis workers);
//! the best by search validation accuracy (never by test accuracy) is the
//! result ([`summarize`]). No files and no threads here: the caller reads
//! the candidates, evaluates, and writes.

use std::sync::Arc;

use serde::Serialize;

use evonet_core::{Cost, EvalError, EvalRequest, Evaluation, Outcome, Problem, TestReport};
use evonet_train::{Arch, Augment};

use crate::ensemble::{self, Ensemble, EnsembleMember};
use crate::problem::NasProblem;

/// Format version of `best/summary.json`.
pub const SUMMARY_FORMAT_VERSION: u32 = 1;

/// The ensemble's ONNX model in `best/`.
pub const ENSEMBLE_ONNX: &str = "ensemble.onnx";

/// A successful candidate of the search.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: u64,
    pub val_accuracy: f64,
    pub arch: Arch,
    pub params: Option<f64>,
    pub flops: Option<f64>,
    /// The epochs it was trained for, where the search varied them
    /// (successive halving's rungs).
    pub epochs: Option<f64>,
}

/// The best `k` distinct architectures of `found`, best first (the
/// earlier candidate first among equal accuracies). Where the search
/// trained candidates for different epochs (successive halving), only
/// those trained the longest compete: accuracies are compared at one
/// fidelity.
pub fn select_top(mut found: Vec<Found>, k: usize) -> Vec<Found> {
    let longest = found.iter().filter_map(|f| f.epochs).reduce(f64::max);
    if let Some(longest) = longest {
        found.retain(|f| f.epochs == Some(longest));
    }
    found.sort_by(|a, b| {
        b.val_accuracy
            .total_cmp(&a.val_accuracy)
            .then(a.id.cmp(&b.id))
    });
    let mut top: Vec<Found> = Vec::new();
    for f in found {
        if top.len() < k && top.iter().all(|t| t.arch != f.arch) {
            top.push(f);
        }
    }
    top
}

/// The retraining of an architecture as a problem: its evaluation trains
/// at full fidelity with the request's seed; the fitness is the test
/// accuracy (reported, never used to choose), the details are
/// `test_accuracy`, `train_s` and the loss of every epoch (`loss_1`, ...),
/// and the artifact is a [`RetrainArtifact`]: the trained network's
/// weights file (`evonet_train::weights`) and, when the final training
/// builds an ensemble, the validation probabilities of a copy trained on
/// the training split alone (seed [`holdout_seed`]).
pub struct RetrainProblem {
    problem: Arc<NasProblem>,
}

impl RetrainProblem {
    pub fn new(problem: Arc<NasProblem>) -> Self {
        Self { problem }
    }

    /// One line per fact a worker must share with the coordinator.
    pub fn fingerprint_lines(&self) -> Vec<String> {
        let mut lines = vec!["stage final retraining".to_string()];
        lines.extend(self.problem.fingerprint_lines());
        lines.push(format!("final config {:?}", self.problem.final_config()));
        lines
    }
}

impl Problem<Arch> for RetrainProblem {
    fn evaluate(&self, arch: &Arch, request: &EvalRequest) -> Result<Evaluation, EvalError> {
        let p = &self.problem;
        let r = p.retrain(arch, request.seed)?;
        let mut details = vec![
            ("test_accuracy".to_string(), r.test_accuracy),
            ("train_s".to_string(), r.train_s),
        ];
        for (epoch, loss) in r.losses.iter().enumerate() {
            details.push((format!("loss_{}", epoch + 1), *loss));
        }
        let holdout = match p.final_training().ensemble {
            true => p.holdout_probabilities(arch, holdout_seed(request.seed))?,
            false => Vec::new(),
        };
        let images = p.splits().train.len() + p.splits().validation.len();
        let epochs = p.final_training().epochs;
        let artifact = RetrainArtifact {
            weights: evonet_train::weights::to_bytes(&r.net, p.input(), p.classes()),
            holdout,
        };
        Ok(Evaluation {
            fitness: r.test_accuracy,
            cost: Cost {
                env_steps: (images * epochs) as u64,
                episodes: epochs as u64,
            },
            obs_stats: None,
            solved: false,
            details,
            artifact: artifact.to_bytes(),
            behavior: None,
        })
    }

    fn test(&self, _arch: &Arch, _seed: u64) -> Result<TestReport, EvalError> {
        Err(EvalError::Other(
            "a retraining is its own test: see its evaluation".into(),
        ))
    }
}

/// The seed of an architecture's training on the training split alone,
/// from the seed of its retraining.
pub fn holdout_seed(seed: u64) -> u64 {
    evonet_core::seed::sub_seed(seed, 0x686F_6C64)
}

/// What a retraining sends back besides its figures: the weights file,
/// then the holdout probabilities (empty without an ensemble), as
/// `u64` LE length + bytes, `u64` LE count + `f32` LE values. A format of
/// the Redis task results between one evonet build's coordinator and
/// workers (the fingerprint makes sure they are the same build).
#[derive(Debug, Clone, PartialEq)]
pub struct RetrainArtifact {
    pub weights: Vec<u8>,
    pub holdout: Vec<f32>,
}

impl RetrainArtifact {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(16 + self.weights.len() + 4 * self.holdout.len());
        b.extend((self.weights.len() as u64).to_le_bytes());
        b.extend(&self.weights);
        b.extend((self.holdout.len() as u64).to_le_bytes());
        b.extend(self.holdout.iter().flat_map(|v| v.to_le_bytes()));
        b
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self, String> {
        let bad = || format!("a retraining's result of {} bytes is cut short", b.len());
        let len = |at: usize| -> Result<usize, String> {
            let raw = b.get(at..at + 8).ok_or_else(bad)?;
            Ok(u64::from_le_bytes(raw.try_into().map_err(|_| bad())?) as usize)
        };
        let n = len(0)?;
        let weights = b.get(8..8 + n).ok_or_else(bad)?.to_vec();
        let count = len(8 + n)?;
        let raw = b
            .get(16 + n..)
            .filter(|r| r.len() == 4 * count)
            .ok_or_else(bad)?;
        let holdout = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(Self { weights, holdout })
    }
}

/// What one retraining gave, read back from its evaluation.
#[derive(Debug, Clone)]
pub struct RetrainResult {
    pub test_accuracy: f64,
    pub train_s: f64,
    pub losses: Vec<f64>,
    /// The trained network's weights file.
    pub weights: Vec<u8>,
    /// Validation probabilities of a copy trained on the training split
    /// alone (empty without an ensemble).
    pub holdout: Vec<f32>,
}

impl RetrainResult {
    /// Reads a [`RetrainProblem`] evaluation's outcome (an error: why the
    /// retraining failed).
    pub fn from_outcome(outcome: Outcome) -> Result<Self, String> {
        let e = match outcome {
            Outcome::Done(e) => e,
            Outcome::Failed { reason, .. } => return Err(reason),
        };
        let losses = (1..)
            .map_while(|epoch| e.detail(&format!("loss_{epoch}")))
            .collect();
        let artifact = RetrainArtifact::from_bytes(&e.artifact)?;
        Ok(Self {
            test_accuracy: e.detail("test_accuracy").unwrap_or(e.fitness),
            train_s: e.detail("train_s").unwrap_or(f64::NAN),
            losses,
            weights: artifact.weights,
            holdout: artifact.holdout,
        })
    }
}

/// One retrained architecture, as listed in `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RetrainedRow {
    pub rank: usize,
    pub candidate: u64,
    pub summary: String,
    pub val_accuracy: f64,
    pub test_accuracy: Option<f64>,
    pub params: Option<f64>,
    pub flops: Option<f64>,
    pub retrain_s: Option<f64>,
    pub error: Option<String>,
}

/// The files of `best/`, relative to it.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryFiles {
    pub architecture: &'static str,
    pub weights: &'static str,
    pub onnx: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ensemble_onnx: Option<&'static str>,
}

/// `best/summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct NasSummary {
    pub format_version: u32,
    pub kind: &'static str,
    pub candidate: u64,
    pub summary: String,
    pub val_accuracy: f64,
    pub test_accuracy: f64,
    pub params: Option<f64>,
    pub flops: Option<f64>,
    pub final_epochs: usize,
    pub final_learning_rate: f64,
    pub final_lr_schedule: &'static str,
    pub final_augment: Augment,
    pub final_losses: Vec<f64>,
    pub candidates_trained: usize,
    pub candidates_failed: usize,
    pub test_images: usize,
    pub files: SummaryFiles,
    pub top_k: Vec<RetrainedRow>,
    /// With `[final_training] ensemble = true`: the ensemble's test
    /// accuracy, its accuracy on validation from the holdout copies, and
    /// its members (`ensemble.onnx` in `files`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ensemble_test_accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ensemble_val_accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ensemble_members: Option<Vec<EnsembleMember>>,
}

/// How many candidates the search trained, and how many of them failed.
#[derive(Debug, Clone, Copy)]
pub struct SearchCounts {
    pub trained: usize,
    pub failed: usize,
}

/// What [`summarize`] gives: the summary, the chosen architecture and
/// its retraining, and the ensemble when one was built.
pub type Summarized<'a> = (NasSummary, &'a Found, RetrainResult, Option<Ensemble>);

/// The summary of the retrainings of `top` (in its order), and the chosen
/// one's result: the first that retrained, so the best by search
/// validation accuracy; with the ensemble of them when the final training
/// builds one. When every retraining failed, the table of their errors.
pub fn summarize<'a>(
    problem: &NasProblem,
    top: &'a [Found],
    results: Vec<Result<RetrainResult, String>>,
    counts: SearchCounts,
) -> Result<Summarized<'a>, Vec<RetrainedRow>> {
    let ids: Vec<u64> = top.iter().map(|f| f.id).collect();
    let ensemble = problem
        .final_training()
        .ensemble
        .then(|| ensemble::build(problem, &ids, &results))
        .flatten();
    let mut table = Vec::new();
    let mut chosen = None;
    for (rank, (f, r)) in top.iter().zip(results).enumerate() {
        table.push(RetrainedRow {
            rank: rank + 1,
            candidate: f.id,
            summary: f.arch.to_string(),
            val_accuracy: f.val_accuracy,
            test_accuracy: r.as_ref().ok().map(|r| r.test_accuracy),
            params: f.params,
            flops: f.flops,
            retrain_s: r.as_ref().ok().map(|r| r.train_s),
            error: r.as_ref().err().cloned(),
        });
        if chosen.is_none() {
            chosen = r.ok().map(|r| (f, r));
        }
    }
    let Some((f, r)) = chosen else {
        return Err(table);
    };
    let cfg = problem.final_config();
    let summary = NasSummary {
        format_version: SUMMARY_FORMAT_VERSION,
        kind: "nas_summary",
        candidate: f.id,
        summary: f.arch.to_string(),
        val_accuracy: f.val_accuracy,
        test_accuracy: r.test_accuracy,
        params: f.params,
        flops: f.flops,
        final_epochs: problem.final_training().epochs,
        final_learning_rate: cfg.learning_rate,
        final_lr_schedule: cfg.schedule.name(),
        final_augment: cfg.augment,
        final_losses: r.losses.clone(),
        candidates_trained: counts.trained,
        candidates_failed: counts.failed,
        test_images: problem.splits().test.len(),
        files: SummaryFiles {
            architecture: "architecture.json",
            weights: "weights.evow",
            onnx: "model.onnx",
            ensemble_onnx: ensemble.as_ref().map(|_| ENSEMBLE_ONNX),
        },
        top_k: table,
        ensemble_test_accuracy: ensemble.as_ref().map(|e| e.test_accuracy),
        ensemble_val_accuracy: ensemble.as_ref().map(|e| e.val_accuracy),
        ensemble_members: ensemble.as_ref().map(|e| e.members.clone()),
    };
    Ok((summary, f, r, ensemble))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(id: u64, acc: f64, arch: &str) -> Found {
        Found {
            id,
            val_accuracy: acc,
            arch: serde_json::from_str(arch).unwrap(),
            params: None,
            flops: None,
            epochs: None,
        }
    }

    #[test]
    fn top_is_distinct_best_first_earlier_among_equals() {
        let a = r#"{"space":"chain","blocks":[{"op":"dense","units":8}]}"#;
        let b = r#"{"space":"chain","blocks":[{"op":"act","function":"relu"}]}"#;
        let top = select_top(
            vec![
                found(3, 0.5, b),
                found(1, 0.9, a),
                found(2, 0.9, a),
                found(4, 0.9, b),
            ],
            3,
        );
        let ids: Vec<u64> = top.iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![1, 4]);
    }

    #[test]
    fn with_rungs_only_the_longest_trained_compete() {
        let a = r#"{"space":"chain","blocks":[{"op":"dense","units":8}]}"#;
        let b = r#"{"space":"chain","blocks":[{"op":"act","function":"relu"}]}"#;
        let at = |id, acc, arch, e| Found {
            epochs: Some(e),
            ..found(id, acc, arch)
        };
        let top = select_top(vec![at(1, 0.99, a, 2.0), at(2, 0.9, b, 18.0)], 2);
        let ids: Vec<u64> = top.iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![2]);
    }

    #[test]
    fn a_failed_retraining_is_read_as_its_reason() {
        let failed = Outcome::Failed {
            reason: "out of memory".into(),
            cost: Cost::default(),
        };
        assert_eq!(
            RetrainResult::from_outcome(failed).unwrap_err(),
            "out of memory"
        );
        let mut e = Evaluation::of(0.75);
        e.details = vec![
            ("test_accuracy".into(), 0.75),
            ("train_s".into(), 2.0),
            ("loss_1".into(), 0.9),
            ("loss_2".into(), 0.4),
        ];
        let artifact = RetrainArtifact {
            weights: vec![7; 3],
            holdout: vec![0.25, 0.75],
        };
        e.artifact = artifact.to_bytes();
        let r = RetrainResult::from_outcome(Outcome::Done(e.clone())).unwrap();
        assert_eq!(r.losses, vec![0.9, 0.4]);
        assert_eq!(r.weights, vec![7; 3]);
        assert_eq!(r.holdout, vec![0.25, 0.75]);
        e.artifact.pop();
        assert!(RetrainResult::from_outcome(Outcome::Done(e))
            .unwrap_err()
            .contains("cut short"));
    }
}
