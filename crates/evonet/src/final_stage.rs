//! The end of an architecture search: the best distinct architectures of
//! the search (by validation accuracy, read back from `metrics.jsonl`) are
//! retrained at full fidelity on train + validation and scored once on the
//! test split; the best by search validation accuracy (never by test
//! accuracy) goes to `best/` with its weights, an ONNX export and
//! `summary.json`. Reading the candidates back from `metrics.jsonl` needs
//! no strategy state, so a resumed search ends the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use evonet_core::{derive_seed, Purpose};
use evonet_nas::NasProblem;
use evonet_runner::atomic::write_atomic;
use evonet_train::{onnx, weights, Arch, Augment, Net};

/// Format version of `best/summary.json`.
pub const SUMMARY_FORMAT_VERSION: u32 = 1;
/// Format version of `best/architecture.json` (2: the architecture is
/// tagged by its `space`, chain or cell).
pub const ARCH_FORMAT_VERSION: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum FinalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no candidate of the search trained successfully: nothing to retrain")]
    NothingTrained,
    #[error("retraining failed for every one of the best architectures: {0}")]
    AllFailed(String),
    #[error("exporting ONNX: {0}")]
    Onnx(String),
    #[error("a thread pool could not start: {0}")]
    Threads(String),
}

/// A successful candidate of the search.
#[derive(Debug, Clone)]
pub struct Found {
    pub id: u64,
    pub val_accuracy: f64,
    pub arch: Arch,
    pub params: Option<f64>,
    pub flops: Option<f64>,
}

/// What the final stage will retrain.
#[derive(Debug, Clone)]
pub struct FinalPlan {
    /// Best first, distinct architectures.
    pub top: Vec<Found>,
    pub candidates_trained: usize,
    pub candidates_failed: usize,
}

/// A retraining that ended (`test_accuracy` is `None` when it failed).
#[derive(Debug, Clone, Copy)]
pub struct RetrainProgress<'a> {
    pub done: usize,
    pub total: usize,
    pub candidate: &'a Found,
    pub test_accuracy: Option<f64>,
    pub seconds: Option<f64>,
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
}

/// `best/architecture.json`.
#[derive(Serialize)]
struct ArchitectureFile<'a> {
    format_version: u32,
    kind: &'static str,
    input: [usize; 3],
    classes: usize,
    architecture: &'a Arch,
}

/// The retraining of a search's best architectures.
pub struct FinalStage {
    problem: Arc<NasProblem>,
    seed: u64,
    threads: usize,
}

impl FinalStage {
    pub(crate) fn new(problem: Arc<NasProblem>, seed: u64, threads: usize) -> Self {
        Self {
            problem,
            seed,
            threads,
        }
    }

    /// How many architectures are retrained (0: none).
    pub fn top_k(&self) -> usize {
        self.problem.final_training().top_k
    }

    pub fn epochs(&self) -> usize {
        self.problem.final_training().epochs
    }

    /// Reads the search's candidates from `out/metrics.jsonl` and picks the
    /// best `top_k` distinct architectures.
    pub fn plan(&self, out: &Path) -> Result<FinalPlan, FinalError> {
        let metrics = out.join("metrics.jsonl");
        let records =
            evonet_runner::read_candidates(&metrics).map_err(|source| FinalError::Io {
                path: metrics.clone(),
                source,
            })?;
        let candidates_trained = records.len();
        let candidates_failed = records.iter().filter(|r| r.failed.is_some()).count();
        let number = |d: &serde_json::Map<String, serde_json::Value>, k: &str| {
            d.get(k).and_then(serde_json::Value::as_f64)
        };
        let mut found: Vec<Found> = records
            .into_iter()
            .filter_map(|r| {
                let arch = serde_json::from_value(r.genome.get("arch")?.clone()).ok()?;
                Some(Found {
                    id: r.candidate,
                    val_accuracy: r.fitness?,
                    arch,
                    params: number(&r.details, "params"),
                    flops: number(&r.details, "flops"),
                })
            })
            .collect();
        // Best first; the earlier candidate first among equals.
        found.sort_by(|a, b| {
            b.val_accuracy
                .total_cmp(&a.val_accuracy)
                .then(a.id.cmp(&b.id))
        });
        let mut top: Vec<Found> = Vec::new();
        for f in found {
            if top.len() < self.top_k() && top.iter().all(|t| t.arch != f.arch) {
                top.push(f);
            }
        }
        if top.is_empty() {
            return Err(FinalError::NothingTrained);
        }
        Ok(FinalPlan {
            top,
            candidates_trained,
            candidates_failed,
        })
    }

    /// Retrains the plan's architectures in parallel, tests them once, and
    /// writes `best/` (architecture, weights, ONNX, summary).
    /// `progress` hears of each retraining as it ends (from its thread),
    /// with how many have ended.
    pub fn execute(
        &self,
        out: &Path,
        plan: &FinalPlan,
        progress: &(dyn Fn(RetrainProgress<'_>) + Sync),
    ) -> Result<NasSummary, FinalError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .map_err(|e| FinalError::Threads(e.to_string()))?;
        let p = &self.problem;
        let done = std::sync::atomic::AtomicUsize::new(0);
        let retrained: Vec<_> = pool.install(|| {
            plan.top
                .par_iter()
                .map(|f| {
                    let r = p.retrain(&f.arch, derive_seed(self.seed, 0, f.id, Purpose::Test));
                    progress(RetrainProgress {
                        done: done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1,
                        total: plan.top.len(),
                        candidate: f,
                        test_accuracy: r.as_ref().ok().map(|r| r.test_accuracy),
                        seconds: r.as_ref().ok().map(|r| r.train_s),
                    });
                    r
                })
                .collect()
        });
        let mut table = Vec::new();
        let mut chosen = None;
        for (rank, (f, r)) in plan.top.iter().zip(retrained).enumerate() {
            table.push(RetrainedRow {
                rank: rank + 1,
                candidate: f.id,
                summary: f.arch.to_string(),
                val_accuracy: f.val_accuracy,
                test_accuracy: r.as_ref().ok().map(|r| r.test_accuracy),
                params: f.params,
                flops: f.flops,
                retrain_s: r.as_ref().ok().map(|r| r.train_s),
                error: r.as_ref().err().map(|e| e.to_string()),
            });
            if chosen.is_none() {
                if let Ok(r) = r {
                    chosen = Some((f, r));
                }
            }
        }
        let Some((f, r)) = chosen else {
            return Err(FinalError::AllFailed(format!("{table:?}")));
        };
        let best = out.join("best");
        self.write_network(&best, &f.arch, &r.net)?;
        let final_cfg = p.final_config();
        let summary = NasSummary {
            format_version: SUMMARY_FORMAT_VERSION,
            kind: "nas_summary",
            candidate: f.id,
            summary: f.arch.to_string(),
            val_accuracy: f.val_accuracy,
            test_accuracy: r.test_accuracy,
            params: f.params,
            flops: f.flops,
            final_epochs: self.epochs(),
            final_learning_rate: final_cfg.learning_rate,
            final_lr_schedule: final_cfg.schedule.name(),
            final_augment: final_cfg.augment,
            final_losses: r.losses,
            candidates_trained: plan.candidates_trained,
            candidates_failed: plan.candidates_failed,
            test_images: p.splits().test.len(),
            files: SummaryFiles {
                architecture: "architecture.json",
                weights: "weights.evow",
                onnx: "model.onnx",
            },
            top_k: table,
        };
        write(&best.join("summary.json"), &pretty(&summary))?;
        Ok(summary)
    }

    /// `architecture.json`, `weights.evow` and `model.onnx` of the chosen
    /// network.
    fn write_network(&self, best: &Path, arch: &Arch, net: &Net) -> Result<(), FinalError> {
        let (input, classes) = (self.problem.input(), self.problem.classes());
        let arch_file = ArchitectureFile {
            format_version: ARCH_FORMAT_VERSION,
            kind: arch.space(),
            input,
            classes,
            architecture: arch,
        };
        write(&best.join("architecture.json"), &pretty(&arch_file))?;
        write(
            &best.join("weights.evow"),
            &weights::to_bytes(net, input, classes),
        )?;
        let model =
            onnx::export(net, input, classes).map_err(|e| FinalError::Onnx(e.to_string()))?;
        write(&best.join("model.onnx"), &model)
    }
}

fn pretty<T: Serialize>(v: &T) -> Vec<u8> {
    // Plain structs of numbers and strings: serialising cannot fail.
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s.into_bytes()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), FinalError> {
    write_atomic(path, bytes).map_err(|source| FinalError::Io {
        path: path.to_path_buf(),
        source,
    })
}
