//! The generation loop.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use evonet_core::{derive_seed, Champion, Problem, Purpose, Strategy, StrategyError, TestReport};

use crate::atomic::write_atomic;
use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::evaluator::Evaluator;
use crate::metrics::{finite, truncate_to, CandidateRecord, GenerationRecord, MetricsWriter};
use crate::FORMAT_VERSION;

/// How a run is driven. Plain data, filled by the CLI from the config.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub out_dir: PathBuf,
    pub seed: u64,
    pub max_generations: u64,
    /// Stop once this many evaluations were spent (checked per generation).
    pub max_evaluations: Option<u64>,
    /// Stop at the end of the generation whose champion passed the test.
    pub stop_when_solved: bool,
    /// Test the champion every N generations (and after the last one).
    pub test_every: u64,
    /// Whether the runner tests champions at all (architecture search
    /// scores its test split once, after the search, instead).
    pub test_champion: bool,
    /// Write `checkpoints/latest.evock` every N generations (and on stop).
    pub checkpoint_every: u64,
    /// Resolved config, stored in checkpoints.
    pub config_text: String,
    /// Set (e.g. by Ctrl-C) to stop at the next generation boundary with a
    /// checkpoint.
    pub stop: Arc<AtomicBool>,
}

/// Runner counters: part of every checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunnerState {
    /// Completed generations.
    pub generation: u64,
    pub evaluations: u64,
    pub env_steps: u64,
    pub failed_total: u64,
    pub test_env_steps: u64,
    pub solved: bool,
    pub solved_at_generation: Option<u64>,
    pub solved_at_evaluations: Option<u64>,
    /// Best champion test score so far (the champion in `best/`).
    pub best_test: Option<f64>,
    pub elapsed_s: f64,
}

/// Receives each generation's record (progress bars, live plots).
pub trait Observer {
    fn on_generation(&mut self, record: &GenerationRecord);
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Finished(RunnerState),
    /// Stopped by the stop flag; a checkpoint was written.
    Interrupted(RunnerState),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint does not belong to this run: {0}")]
    Mismatch(String),
    #[error(transparent)]
    Evaluator(#[from] crate::evaluator::EvaluatorError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Turns a champion and its test into the JSON of `best/champion.json`.
pub type ExportFn<'a, G> = &'a dyn Fn(&Champion<G>, &TestReport) -> serde_json::Value;

/// Runs (or resumes, with `resume`) a search until its budget is spent, it
/// is solved (if asked to stop then), or the stop flag is set.
pub fn run<S: Strategy>(
    strategy: &S,
    problem: &dyn Problem<S::Genome>,
    evaluator: &mut dyn Evaluator<S::Genome>,
    settings: &RunSettings,
    export: ExportFn<'_, S::Genome>,
    resume: Option<Checkpoint>,
    observers: &mut [&mut dyn Observer],
) -> Result<RunOutcome, RunError> {
    let dir = &settings.out_dir;
    let metrics_path = dir.join("metrics.jsonl");
    let ckpt_path = Checkpoint::latest_path(dir);
    std::fs::create_dir_all(dir.join("checkpoints")).map_err(io_err(dir))?;
    let (mut st, mut rs) = match resume {
        Some(ck) => {
            if ck.strategy != strategy.name() {
                return Err(RunError::Mismatch(format!(
                    "it was written by `{}`, not `{}`",
                    ck.strategy,
                    strategy.name()
                )));
            }
            let st: S::State = bincode::deserialize(&ck.strategy_state).map_err(|e| {
                RunError::Checkpoint(CheckpointError::Decode {
                    path: ckpt_path.clone(),
                    message: e.to_string(),
                })
            })?;
            if strategy.generation(&st) != ck.runner.generation {
                return Err(RunError::Mismatch(
                    "strategy and runner generations differ".into(),
                ));
            }
            truncate_to(&metrics_path, ck.runner.generation).map_err(io_err(&metrics_path))?;
            (st, ck.runner)
        }
        None => {
            // A fresh run starts with a fresh metrics file.
            write_atomic(&metrics_path, b"").map_err(io_err(&metrics_path))?;
            (strategy.init(settings.seed)?, RunnerState::default())
        }
    };
    let mut metrics = MetricsWriter::open(&metrics_path).map_err(io_err(&metrics_path))?;
    let started = Instant::now();
    let base_elapsed = rs.elapsed_s;
    let mut champion_file = ChampionWriter::default();
    let save = |st: &S::State, rs: &RunnerState| -> Result<(), RunError> {
        let ck = Checkpoint {
            config_text: settings.config_text.clone(),
            strategy: strategy.name().to_string(),
            runner: rs.clone(),
            strategy_state: bincode::serialize(st).expect("strategy state serialises"),
        };
        write_atomic(&ckpt_path, &ck.to_bytes()).map_err(io_err(&ckpt_path))
    };

    loop {
        let budget_left = settings.max_evaluations.is_none_or(|m| rs.evaluations < m);
        if rs.generation >= settings.max_generations
            || !budget_left
            || (settings.stop_when_solved && rs.solved)
        {
            break;
        }
        if settings.stop.load(Ordering::SeqCst) {
            rs.elapsed_s = base_elapsed + started.elapsed().as_secs_f64();
            metrics.sync().map_err(io_err(&metrics_path))?;
            champion_file.flush(dir)?;
            save(&st, &rs)?;
            return Ok(RunOutcome::Interrupted(rs));
        }
        let gen = rs.generation;
        let gen_start = Instant::now();
        let (mut evals, mut steps) = (0u64, 0u64);
        // A candidate that met the success criterion during its evaluation
        // (lowest id first, whatever order results arrive in).
        let mut solver: Option<(evonet_core::CandidateId, Champion<S::Genome>)> = None;
        let report = loop {
            let candidates = strategy.ask(&mut st);
            let results = evaluator.evaluate(problem, candidates)?;
            for r in &results {
                if let Some(genome) = problem.describe_genome(&r.candidate.genome) {
                    metrics
                        .append(&CandidateRecord::new(gen, r, genome))
                        .map_err(io_err(&metrics_path))?;
                }
                evals += 1;
                steps += r.outcome.cost().env_steps;
                match &r.outcome {
                    evonet_core::Outcome::Failed { reason, .. } => {
                        tracing::warn!(candidate = %r.candidate.id, generation = gen, "evaluation failed: {reason}");
                    }
                    evonet_core::Outcome::Done(e)
                        if e.solved
                            && !rs.solved
                            && solver.as_ref().is_none_or(|(id, _)| r.candidate.id < *id) =>
                    {
                        solver = Some((
                            r.candidate.id,
                            Champion {
                                genome: r.candidate.genome.clone(),
                                fitness: e.fitness,
                            },
                        ));
                    }
                    _ => {}
                }
            }
            let rep = strategy.tell(&mut st, results)?;
            if rep.generation_done {
                break rep;
            }
        };
        rs.generation += 1;
        debug_assert_eq!(strategy.generation(&st), rs.generation);
        rs.evaluations += evals;
        rs.env_steps += steps;
        rs.failed_total += report.failed;

        let mut stats = serde_json::Map::new();
        for (k, v) in &report.stats {
            stats.insert(k.clone(), serde_json::json!(finite(*v)));
        }
        let last = rs.generation >= settings.max_generations
            || settings
                .max_evaluations
                .is_some_and(|m| rs.evaluations >= m);
        let mut test_score = None;
        let scheduled = settings.test_every > 0
            && (rs.generation % settings.test_every == 0 || last)
            || (settings.test_every == 0 && last);
        if settings.test_champion && (scheduled || solver.is_some()) {
            let champ = match solver.take() {
                Some((_, s)) => Some(s),
                None => strategy.champion(&st),
            };
            if let Some(champ) = champ {
                let seed = derive_seed(settings.seed, gen, 0, Purpose::Test);
                match catch_unwind(AssertUnwindSafe(|| problem.test(&champ.genome, seed))) {
                    Ok(Ok(t)) => {
                        rs.test_env_steps += t.env_steps;
                        test_score = finite(t.score);
                        for (k, v) in &t.details {
                            stats.insert(k.clone(), serde_json::json!(finite(*v)));
                        }
                        // `best/` holds the first solver, then better solvers;
                        // before any, the best score (solved beats score: an
                        // XOR solver may score below a near miss).
                        let first_solver = t.solved && !rs.solved;
                        let better = t.score.is_finite()
                            && t.solved == rs.solved
                            && rs.best_test.is_none_or(|b| t.score > b);
                        if first_solver {
                            rs.solved = true;
                            rs.solved_at_generation = Some(gen);
                            rs.solved_at_evaluations = Some(rs.evaluations);
                        }
                        if first_solver || better {
                            rs.best_test = Some(t.score);
                            champion_file.offer(champion_json(gen, &champ, &t, export));
                            champion_file.flush_if_due(dir)?;
                        }
                    }
                    Ok(Err(e)) => tracing::warn!(generation = gen, "champion test failed: {e}"),
                    Err(_) => tracing::warn!(generation = gen, "champion test panicked"),
                }
            }
        }
        rs.elapsed_s = base_elapsed + started.elapsed().as_secs_f64();
        let gen_secs = gen_start.elapsed().as_secs_f64();
        let record = GenerationRecord {
            format_version: FORMAT_VERSION,
            generation: gen,
            evaluations: rs.evaluations,
            env_steps: rs.env_steps,
            failed: report.failed,
            failed_total: rs.failed_total,
            best_fitness: finite(report.best_fitness),
            mean_fitness: finite(report.mean_fitness),
            test_score,
            solved: rs.solved,
            solved_at_evaluations: rs.solved_at_evaluations,
            test_env_steps: rs.test_env_steps,
            elapsed_s: rs.elapsed_s,
            evals_per_s: if gen_secs > 0.0 {
                evals as f64 / gen_secs
            } else {
                0.0
            },
            stats,
            species: report.species.clone(),
        };
        metrics.append(&record).map_err(io_err(&metrics_path))?;
        for o in observers.iter_mut() {
            o.on_generation(&record);
        }
        if settings.checkpoint_every > 0 && rs.generation % settings.checkpoint_every == 0 {
            metrics.sync().map_err(io_err(&metrics_path))?;
            champion_file.flush(dir)?;
            save(&st, &rs)?;
        }
    }
    rs.elapsed_s = base_elapsed + started.elapsed().as_secs_f64();
    metrics.sync().map_err(io_err(&metrics_path))?;
    champion_file.flush(dir)?;
    save(&st, &rs)?;
    Ok(RunOutcome::Finished(rs))
}

/// `best/champion.json`, written atomically when a better champion appears,
/// at most once a second (a fast search finds one every few milliseconds,
/// and each atomic write costs two fsyncs), and always before a checkpoint:
/// a resume re-runs the generations after its checkpoint and rewrites what
/// a crash lost.
#[derive(Default)]
struct ChampionWriter {
    pending: Option<serde_json::Value>,
    last_write: Option<Instant>,
}

impl ChampionWriter {
    fn offer(&mut self, v: serde_json::Value) {
        self.pending = Some(v);
    }

    fn flush_if_due(&mut self, dir: &Path) -> Result<(), RunError> {
        if self
            .last_write
            .is_none_or(|t| t.elapsed().as_secs_f64() >= 1.0)
        {
            self.flush(dir)?;
        }
        Ok(())
    }

    fn flush(&mut self, dir: &Path) -> Result<(), RunError> {
        if let Some(v) = self.pending.take() {
            let path = dir.join("best").join("champion.json");
            let text = serde_json::to_string_pretty(&v).expect("json");
            write_atomic(&path, text.as_bytes()).map_err(io_err(&path))?;
            self.last_write = Some(Instant::now());
        }
        Ok(())
    }
}

fn champion_json<G>(
    generation: u64,
    champ: &Champion<G>,
    test: &TestReport,
    export: ExportFn<'_, G>,
) -> serde_json::Value {
    let mut v = export(champ, test);
    if let Some(o) = v.as_object_mut() {
        o.insert("format_version".into(), serde_json::json!(FORMAT_VERSION));
        o.insert("generation".into(), serde_json::json!(generation));
        o.insert("fitness".into(), serde_json::json!(finite(champ.fitness)));
        o.insert("test_score".into(), serde_json::json!(finite(test.score)));
        o.insert("test_solved".into(), serde_json::json!(test.solved));
    }
    v
}
