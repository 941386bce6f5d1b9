//! The end of an architecture search, as files: reads the search's
//! candidates back from `metrics.jsonl` (no strategy state needed, so a
//! resumed search ends the same way), has the nas crate pick the best
//! distinct architectures, retrains them through the run's evaluator (local
//! threads or the Redis workers: the retraining is a problem like the
//! search's, [`evonet_nas::RetrainProblem`]), and writes `best/`: the
//! chosen network's architecture, weights, ONNX export and `summary.json`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use evonet_core::{
    derive_seed, Candidate, CandidateId, EvalError, EvalRequest, Evaluation, Problem, Purpose,
    TestReport,
};
use evonet_nas::ensemble::Ensemble;
use evonet_nas::{select_top, summarize, NasProblem, RetrainProblem, SearchCounts};
use evonet_runner::atomic::write_atomic;
use evonet_runner::Evaluator;
use evonet_train::{onnx, weights, Arch};

use crate::pareto_file::{ParetoFile, ParetoSettings};
use crate::search::Backend;

pub use evonet_nas::final_stage::SUMMARY_FORMAT_VERSION;
pub use evonet_nas::{Found, NasSummary, RetrainedRow};

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
    #[error("the retrained weights do not load: {0}")]
    Weights(String),
    #[error("exporting ONNX: {0}")]
    Onnx(String),
    #[error(transparent)]
    Evaluator(#[from] evonet_runner::EvaluatorError),
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

/// Hears of each retraining as it ends (from an evaluation thread; through
/// Redis, when the workers' results are back).
pub type Progress<'p> = dyn Fn(RetrainProgress<'_>) + Sync + 'p;

/// The retraining of a search's best architectures (and, after a
/// multi-objective search, its Pareto front).
pub struct FinalStage {
    problem: Arc<NasProblem>,
    seed: u64,
    pareto: Option<ParetoSettings>,
}

impl FinalStage {
    pub(crate) fn new(problem: Arc<NasProblem>, seed: u64) -> Self {
        Self {
            problem,
            seed,
            pareto: None,
        }
    }

    /// The search minimises the validation error and `costs`: the stage
    /// writes `pareto.json` ([`FinalStage::write_pareto`]).
    pub(crate) fn set_pareto(&mut self, costs: Vec<String>, reference: Option<Vec<f64>>) {
        self.pareto = Some(ParetoSettings { costs, reference });
    }

    /// Writes `out/pareto.json` and each member's architecture under
    /// `out/pareto/`, from the search's candidates in `out/metrics.jsonl`,
    /// when the search had several objectives (`None` otherwise).
    pub fn write_pareto(&self, out: &Path) -> Result<Option<ParetoFile>, FinalError> {
        let Some(settings) = &self.pareto else {
            return Ok(None);
        };
        let records = self.records(out)?;
        let (file, archs) = settings.front(&records);
        for (m, arch) in file.front.iter().zip(&archs) {
            self.write_architecture(&out.join(&m.architecture), arch)?;
        }
        write(&out.join("pareto.json"), &pretty(&file))?;
        let kept: Vec<PathBuf> = file
            .front
            .iter()
            .map(|m| out.join(&m.architecture))
            .collect();
        remove_stale(&out.join(crate::pareto_file::FOLDER), &kept);
        Ok(Some(file))
    }

    fn records(&self, out: &Path) -> Result<Vec<evonet_runner::CandidateRecord>, FinalError> {
        let metrics = out.join("metrics.jsonl");
        evonet_runner::read_candidates(&metrics).map_err(|source| FinalError::Io {
            path: metrics.clone(),
            source,
        })
    }

    /// How many architectures are retrained (0: none).
    pub fn top_k(&self) -> usize {
        self.problem.final_training().top_k
    }

    pub fn epochs(&self) -> usize {
        self.problem.final_training().epochs
    }

    /// The retraining as a problem (what a Redis worker evaluates).
    pub fn problem(&self) -> RetrainProblem {
        RetrainProblem::new(Arc::clone(&self.problem))
    }

    /// Reads the search's candidates from `out/metrics.jsonl` and picks the
    /// best `top_k` distinct architectures.
    pub fn plan(&self, out: &Path) -> Result<FinalPlan, FinalError> {
        let records = self.records(out)?;
        let candidates_trained = records.len();
        let candidates_failed = records.iter().filter(|r| r.failed.is_some()).count();
        let number = |d: &serde_json::Map<String, serde_json::Value>, k: &str| {
            d.get(k).and_then(serde_json::Value::as_f64)
        };
        let found: Vec<Found> = records
            .into_iter()
            .filter_map(|r| {
                let arch = serde_json::from_value(r.genome.get("arch")?.clone()).ok()?;
                Some(Found {
                    id: r.candidate,
                    val_accuracy: r.fitness?,
                    arch,
                    params: number(&r.details, "params"),
                    flops: number(&r.details, "flops"),
                    epochs: number(&r.details, "epochs"),
                })
            })
            .collect();
        let top = select_top(found, self.top_k());
        if top.is_empty() {
            return Err(FinalError::NothingTrained);
        }
        Ok(FinalPlan {
            top,
            candidates_trained,
            candidates_failed,
        })
    }

    /// Retrains the plan's architectures through `evaluator` (each with a
    /// seed of its own, so neither the thread nor the worker count changes
    /// a number), and writes `best/` (architecture, weights, ONNX,
    /// summary).
    pub fn execute(
        &self,
        out: &Path,
        plan: &FinalPlan,
        evaluator: &mut dyn Evaluator<Arch>,
        progress: &Progress<'_>,
    ) -> Result<NasSummary, FinalError> {
        let candidates = plan
            .top
            .iter()
            .map(|f| Candidate {
                id: CandidateId(f.id),
                origin: None,
                genome: f.arch.clone(),
                request: EvalRequest::new(derive_seed(self.seed, 0, f.id, Purpose::Test)),
            })
            .collect();
        let told = Told::new(self.problem(), plan, progress);
        let mut evaluated = evaluator.evaluate(&told, candidates)?;
        evaluated.sort_by_key(|e| plan.top.iter().position(|f| f.id == e.candidate.id.0));
        let results: Vec<_> = evaluated
            .into_iter()
            .map(|e| evonet_nas::RetrainResult::from_outcome(e.outcome))
            .collect();
        told.catch_up(&results);
        let counts = SearchCounts {
            trained: plan.candidates_trained,
            failed: plan.candidates_failed,
        };
        let (summary, f, r, ensemble) = summarize(&self.problem, &plan.top, results, counts)
            .map_err(|table| FinalError::AllFailed(format!("{table:?}")))?;
        let best = out.join("best");
        self.write_network(&best, &f.arch, &r.weights)?;
        match ensemble {
            Some(e) => self.write_ensemble(&best, &e)?,
            // An earlier final training's ensemble is not this one's.
            None => remove_if_present(&best.join(evonet_nas::final_stage::ENSEMBLE_ONNX))?,
        }
        write(&best.join("summary.json"), &pretty(&summary))?;
        Ok(summary)
    }

    /// `architecture.json`, `weights.evow` and `model.onnx` of the chosen
    /// network.
    fn write_network(&self, best: &Path, arch: &Arch, weights: &[u8]) -> Result<(), FinalError> {
        let (input, classes) = (self.problem.input(), self.problem.classes());
        self.write_architecture(&best.join("architecture.json"), arch)?;
        let path = best.join("weights.evow");
        let net = weights::parse(weights, &path).map_err(|e| FinalError::Weights(e.to_string()))?;
        write(&path, weights)?;
        let model =
            onnx::export(&net, input, classes).map_err(|e| FinalError::Onnx(e.to_string()))?;
        write(&best.join("model.onnx"), &model)
    }
}

#[cfg(feature = "redis")]
impl FinalStage {
    /// The retraining as a Redis worker's job.
    pub fn job(&self) -> Box<dyn evonet_distributed::Job> {
        Box::new(evonet_distributed::ProblemJob::<Arch, _>::new(
            self.problem(),
        ))
    }

    /// What a worker must build identically to retrain for this run.
    pub fn fingerprint(&self) -> evonet_distributed::Fingerprint {
        crate::search::versioned(self.problem().fingerprint_lines())
    }
}

impl FinalStage {
    /// [`FinalStage::execute`] on a backend: the run's thread pool, or the
    /// Redis workers of the run's final stage (retired afterwards).
    pub fn execute_on(
        &self,
        out: &Path,
        plan: &FinalPlan,
        backend: Backend<'_>,
        progress: &Progress<'_>,
    ) -> Result<NasSummary, FinalError> {
        match backend {
            Backend::Threads(evaluator) => self.execute(out, plan, evaluator, progress),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => {
                let failed = |e: evonet_distributed::DistError| {
                    FinalError::Evaluator(evonet_runner::EvaluatorError(e.to_string()))
                };
                let mut evaluator = redis.evaluator::<Arch>().map_err(failed)?;
                let summary = self.execute(out, plan, &mut evaluator, progress);
                evaluator.retire().map_err(failed)?;
                summary
            }
        }
    }
}

/// The retraining problem, telling `progress` of each retraining that
/// ends here (local threads); [`Told::catch_up`] tells of those that ended
/// elsewhere (Redis workers).
struct Told<'a, 'p> {
    problem: RetrainProblem,
    plan: &'a FinalPlan,
    progress: &'a Progress<'p>,
    /// Indices into the plan of the retrainings told of so far.
    told: Mutex<Vec<usize>>,
}

impl<'a, 'p> Told<'a, 'p> {
    fn new(problem: RetrainProblem, plan: &'a FinalPlan, progress: &'a Progress<'p>) -> Self {
        Self {
            problem,
            plan,
            progress,
            told: Mutex::new(Vec::new()),
        }
    }

    fn tell(&self, index: usize, test_accuracy: Option<f64>, seconds: Option<f64>) {
        let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
        if told.contains(&index) {
            return;
        }
        told.push(index);
        (self.progress)(RetrainProgress {
            done: told.len(),
            total: self.plan.top.len(),
            candidate: &self.plan.top[index],
            test_accuracy,
            seconds,
        });
    }

    fn catch_up(&self, results: &[Result<evonet_nas::RetrainResult, String>]) {
        for (i, r) in results.iter().enumerate() {
            let r = r.as_ref().ok();
            self.tell(i, r.map(|r| r.test_accuracy), r.map(|r| r.train_s));
        }
    }
}

impl Problem<Arch> for Told<'_, '_> {
    fn evaluate(&self, arch: &Arch, request: &EvalRequest) -> Result<Evaluation, EvalError> {
        let result = self.problem.evaluate(arch, request);
        if let Some(i) = self.plan.top.iter().position(|f| &f.arch == arch) {
            let figure = |k: &str| result.as_ref().ok()?.detail(k);
            self.tell(i, figure("test_accuracy"), figure("train_s"));
        }
        result
    }

    fn test(&self, arch: &Arch, seed: u64) -> Result<TestReport, EvalError> {
        self.problem.test(arch, seed)
    }
}

impl FinalStage {
    /// `ensemble.onnx`: the members' networks (trained on train +
    /// validation) averaged as one model.
    fn write_ensemble(&self, best: &Path, e: &Ensemble) -> Result<(), FinalError> {
        let members: Vec<(&evonet_train::Net, f64)> = e
            .nets
            .iter()
            .zip(&e.members)
            .map(|(n, m)| (n, m.weight))
            .collect();
        let model = onnx::export_ensemble(&members, self.problem.input(), self.problem.classes())
            .map_err(|e| FinalError::Onnx(e.to_string()))?;
        write(&best.join(evonet_nas::final_stage::ENSEMBLE_ONNX), &model)
    }

    /// An architecture file (`best/architecture.json`, `pareto/...`).
    fn write_architecture(&self, path: &Path, arch: &Arch) -> Result<(), FinalError> {
        let file = ArchitectureFile {
            format_version: ARCH_FORMAT_VERSION,
            kind: arch.space(),
            input: self.problem.input(),
            classes: self.problem.classes(),
            architecture: arch,
        };
        write(path, &pretty(&file))
    }
}

/// An architecture file read back: `best/architecture.json` or a front
/// member's `pareto/candidate-ID.json`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ArchitectureRead {
    pub format_version: u32,
    pub kind: String,
    pub input: [usize; 3],
    pub classes: usize,
    pub architecture: Arch,
}

/// Reads an architecture file (format version [`ARCH_FORMAT_VERSION`]).
pub fn read_architecture(path: &Path) -> Result<ArchitectureRead, String> {
    read_versioned(path, ARCH_FORMAT_VERSION, |f: &ArchitectureRead| {
        f.format_version
    })
}

/// A JSON file of this evonet's whose `format_version` (read by
/// `version`) must be `expected`; errors name the file.
pub(crate) fn read_versioned<T: serde::de::DeserializeOwned>(
    path: &Path,
    expected: u32,
    version: impl Fn(&T) -> u32,
) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: T = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    match version(&file) {
        v if v == expected => Ok(file),
        v => Err(format!(
            "{}: format_version {v} (this evonet reads {expected})",
            path.display()
        )),
    }
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

fn remove_if_present(path: &Path) -> Result<(), FinalError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(FinalError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Removes the architecture files of an earlier front (a resumed search
/// that went further) from `dir`, all but `kept`.
fn remove_stale(dir: &Path, kept: &[PathBuf]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        let ours = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("candidate-") && n.ends_with(".json"));
        if ours && !kept.contains(&path) {
            let _ = std::fs::remove_file(&path);
        }
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
