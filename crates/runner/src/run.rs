//! The generation loop, in its phases: start (fresh or from a checkpoint),
//! then per generation evaluate (ask/evaluate/tell rounds until the
//! strategy closes the generation), test the champion, record (a line of
//! `metrics.jsonl`, then the observers), and persist when a checkpoint is
//! due. `metrics.jsonl` is synced and `best/champion.json` flushed before
//! every checkpoint, so a checkpoint never refers to data a crash could lose.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde::Serialize;

use evonet_core::{
    derive_seed, CandidateId, Champion, Outcome, Problem, Purpose, Strategy, StrategyError,
    TellReport, TestReport,
};

use crate::atomic::write_atomic;
use crate::champion_file::{champion_json, ChampionWriter, ExportFn};
use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::evaluator::Evaluator;
use crate::metrics::{finite, truncate_to, CandidateRecord, GenerationRecord, MetricsWriter};
use crate::state::{RunOutcome, RunSettings, RunnerState};
use crate::FORMAT_VERSION;

/// Sees a run's events (progress bars, live plots, a user's logging or
/// uploads): each generation's record right after it is appended to
/// `metrics.jsonl`, each better champion, each checkpoint. A closure over
/// the record is an observer of generations.
pub trait Observer {
    fn on_generation(&mut self, record: &GenerationRecord);

    /// A better champion was tested in `generation` (the one
    /// `best/champion.json` holds from now on: written within a second, and
    /// before the next checkpoint).
    fn on_champion(&mut self, generation: u64, test: &TestReport) {
        let _ = (generation, test);
    }

    /// A checkpoint was written to `path`; `runner` holds its counters.
    fn on_checkpoint(&mut self, runner: &RunnerState, path: &Path) {
        let _ = (runner, path);
    }
}

impl<F: FnMut(&GenerationRecord)> Observer for F {
    fn on_generation(&mut self, record: &GenerationRecord) {
        self(record)
    }
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

/// Runs (or resumes, with `resume`) a search until its budget is spent, it
/// is solved (if asked to stop then), or the stop flag is set.
pub fn run<S: Strategy, B: Serialize>(
    strategy: &S,
    problem: &dyn Problem<S::Genome>,
    evaluator: &mut dyn Evaluator<S::Genome>,
    settings: &RunSettings,
    export: ExportFn<'_, S::Genome, B>,
    resume: Option<Checkpoint>,
    observers: &mut [&mut dyn Observer],
) -> Result<RunOutcome, RunError> {
    let mut run = Run::start(strategy, settings, resume)?;
    while !settings.done(&run.rs) {
        if settings.stop.load(Ordering::SeqCst) {
            run.stop_clock();
            run.checkpoint(observers)?;
            return Ok(RunOutcome::Interrupted(run.rs));
        }
        let round = run.evaluate(problem, evaluator)?;
        let mut tested = run.test(problem, export, &round)?;
        if let Some(t) = tested.improved.take() {
            for o in observers.iter_mut() {
                o.on_champion(run.rs.generation - 1, &t);
            }
        }
        let record = run.record(&round, tested);
        run.metrics
            .append(&record)
            .map_err(io_err(&run.metrics_path))?;
        for o in observers.iter_mut() {
            o.on_generation(&record);
        }
        let every = settings.checkpoint_every;
        if every > 0 && run.rs.generation.is_multiple_of(every) {
            run.checkpoint(observers)?;
        }
    }
    run.stop_clock();
    run.checkpoint(observers)?;
    Ok(RunOutcome::Finished(run.rs))
}

/// A run in progress: the strategy's state, the runner's counters and the
/// files they go to.
struct Run<'a, S: Strategy> {
    strategy: &'a S,
    settings: &'a RunSettings,
    st: S::State,
    rs: RunnerState,
    metrics: MetricsWriter,
    metrics_path: PathBuf,
    champion: ChampionWriter,
    started: Instant,
    base_elapsed: f64,
}

/// One generation's evaluations.
struct Round<G> {
    report: TellReport,
    evals: u64,
    /// A candidate that met the success criterion during its evaluation
    /// (lowest id first, whatever order results arrive in).
    solver: Option<(CandidateId, Champion<G>)>,
    started: Instant,
}

/// A champion test's figures for the generation's record.
#[derive(Default)]
struct Tested {
    score: Option<f64>,
    details: Vec<(String, f64)>,
    /// The test, when the champion is better than any before.
    improved: Option<TestReport>,
}

impl<'a, S: Strategy> Run<'a, S> {
    /// A fresh run (a new, empty `metrics.jsonl`), or the state of a
    /// checkpoint (`metrics.jsonl` cut back to its generation).
    fn start(
        strategy: &'a S,
        settings: &'a RunSettings,
        resume: Option<Checkpoint>,
    ) -> Result<Self, RunError> {
        let dir = &settings.out_dir;
        let metrics_path = dir.join("metrics.jsonl");
        std::fs::create_dir_all(dir.join("checkpoints")).map_err(io_err(dir))?;
        let (st, rs) = match resume {
            Some(ck) => {
                let st = restore(strategy, &ck, &Checkpoint::latest_path(dir))?;
                truncate_to(&metrics_path, ck.runner.generation).map_err(io_err(&metrics_path))?;
                (st, ck.runner)
            }
            None => {
                write_atomic(&metrics_path, b"").map_err(io_err(&metrics_path))?;
                (strategy.init(settings.seed)?, RunnerState::default())
            }
        };
        let metrics = MetricsWriter::open(&metrics_path).map_err(io_err(&metrics_path))?;
        Ok(Self {
            strategy,
            settings,
            base_elapsed: rs.elapsed_s,
            st,
            rs,
            metrics,
            metrics_path,
            champion: ChampionWriter::default(),
            started: Instant::now(),
        })
    }

    /// Ask/evaluate/tell rounds until the strategy closes the generation
    /// (Deep GA spends a second round on its elite candidates); a line per
    /// candidate in `metrics.jsonl` when the problem describes genomes.
    fn evaluate(
        &mut self,
        problem: &dyn Problem<S::Genome>,
        evaluator: &mut dyn Evaluator<S::Genome>,
    ) -> Result<Round<S::Genome>, RunError> {
        let gen = self.rs.generation;
        let started = Instant::now();
        let (mut evals, mut steps) = (0u64, 0u64);
        let mut solver: Option<(CandidateId, Champion<S::Genome>)> = None;
        let report = loop {
            let candidates = self.strategy.ask(&mut self.st);
            let results = evaluator.evaluate(problem, candidates)?;
            for r in &results {
                if let Some(genome) = problem.describe_genome(&r.candidate.genome) {
                    self.metrics
                        .append(&CandidateRecord::new(gen, r, genome))
                        .map_err(io_err(&self.metrics_path))?;
                }
                evals += 1;
                steps += r.outcome.cost().env_steps;
                match &r.outcome {
                    Outcome::Failed { reason, .. } => {
                        tracing::warn!(candidate = %r.candidate.id, generation = gen, "evaluation failed: {reason}");
                    }
                    Outcome::Done(e)
                        if e.solved
                            && !self.rs.solved
                            && solver.as_ref().is_none_or(|(id, _)| r.candidate.id < *id) =>
                    {
                        let champion = Champion {
                            genome: r.candidate.genome.clone(),
                            fitness: e.fitness,
                        };
                        solver = Some((r.candidate.id, champion));
                    }
                    _ => {}
                }
            }
            let rep = self.strategy.tell(&mut self.st, results)?;
            if rep.generation_done {
                break rep;
            }
        };
        self.rs.generation += 1;
        debug_assert_eq!(self.strategy.generation(&self.st), self.rs.generation);
        self.rs.evaluations += evals;
        self.rs.env_steps += steps;
        self.rs.failed_total += report.failed;
        Ok(Round {
            report,
            evals,
            solver,
            started,
        })
    }

    /// Tests the champion when a test is due (or a candidate solved the
    /// task during its evaluation) and offers it to `best/`: the first
    /// solver, then better solvers; before any, the best score (solved
    /// beats score: an XOR solver may score below a near miss).
    fn test<B: Serialize>(
        &mut self,
        problem: &dyn Problem<S::Genome>,
        export: ExportFn<'_, S::Genome, B>,
        round: &Round<S::Genome>,
    ) -> Result<Tested, RunError> {
        let s = self.settings;
        let gen = self.rs.generation - 1;
        let last = s.last(&self.rs);
        let scheduled = (s.test_every > 0
            && (self.rs.generation.is_multiple_of(s.test_every) || last))
            || (s.test_every == 0 && last);
        if !s.test_champion || !(scheduled || round.solver.is_some()) {
            return Ok(Tested::default());
        }
        let champ = match &round.solver {
            Some((_, c)) => Some(c.clone()),
            None => self.strategy.champion(&self.st),
        };
        let Some(champ) = champ else {
            return Ok(Tested::default());
        };
        let seed = derive_seed(s.seed, gen, 0, Purpose::Test);
        let t = match catch_unwind(AssertUnwindSafe(|| problem.test(&champ.genome, seed))) {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                tracing::warn!(generation = gen, "champion test failed: {e}");
                return Ok(Tested::default());
            }
            Err(_) => {
                tracing::warn!(generation = gen, "champion test panicked");
                return Ok(Tested::default());
            }
        };
        let rs = &mut self.rs;
        rs.test_env_steps += t.env_steps;
        let first_solver = t.solved && !rs.solved;
        let better = t.score.is_finite()
            && t.solved == rs.solved
            && rs.best_test.is_none_or(|b| t.score > b);
        if first_solver {
            rs.solved = true;
            rs.solved_at_generation = Some(gen);
            rs.solved_at_evaluations = Some(rs.evaluations);
        }
        let improved = (first_solver || better).then(|| t.clone());
        if first_solver || better {
            rs.best_test = Some(t.score);
            self.champion.offer(champion_json(gen, &champ, &t, export));
            let dir = &s.out_dir;
            self.champion
                .flush_if_due(dir)
                .map_err(io_err(&dir.join("best/champion.json")))?;
        }
        Ok(Tested {
            score: finite(t.score),
            details: t.details,
            improved,
        })
    }

    /// The generation's line of `metrics.jsonl`.
    fn record(&mut self, round: &Round<S::Genome>, tested: Tested) -> GenerationRecord {
        let mut stats = serde_json::Map::new();
        for (k, v) in round.report.stats.iter().chain(&tested.details) {
            stats.insert(k.clone(), serde_json::json!(finite(*v)));
        }
        self.stop_clock();
        let gen_secs = round.started.elapsed().as_secs_f64();
        let rs = &self.rs;
        GenerationRecord {
            format_version: FORMAT_VERSION,
            generation: rs.generation - 1,
            evaluations: rs.evaluations,
            env_steps: rs.env_steps,
            failed: round.report.failed,
            failed_total: rs.failed_total,
            best_fitness: finite(round.report.best_fitness),
            mean_fitness: finite(round.report.mean_fitness),
            test_score: tested.score,
            solved: rs.solved,
            solved_at_evaluations: rs.solved_at_evaluations,
            test_env_steps: rs.test_env_steps,
            elapsed_s: rs.elapsed_s,
            evals_per_s: if gen_secs > 0.0 {
                round.evals as f64 / gen_secs
            } else {
                0.0
            },
            stats,
            species: round.report.species.clone(),
        }
    }

    /// The run's wall-clock time so far, into its counters.
    fn stop_clock(&mut self) {
        self.rs.elapsed_s = self.base_elapsed + self.started.elapsed().as_secs_f64();
    }

    /// Writes a checkpoint and tells the observers.
    fn checkpoint(&mut self, observers: &mut [&mut dyn Observer]) -> Result<(), RunError> {
        self.persist()?;
        let path = Checkpoint::latest_path(&self.settings.out_dir);
        for o in observers.iter_mut() {
            o.on_checkpoint(&self.rs, &path);
        }
        Ok(())
    }

    /// Syncs `metrics.jsonl`, flushes the champion, then writes the
    /// checkpoint (in that order).
    fn persist(&mut self) -> Result<(), RunError> {
        self.metrics.sync().map_err(io_err(&self.metrics_path))?;
        let dir = &self.settings.out_dir;
        self.champion
            .flush(dir)
            .map_err(io_err(&dir.join("best/champion.json")))?;
        let path = Checkpoint::latest_path(dir);
        let ck = Checkpoint {
            config_text: self.settings.config_text.clone(),
            strategy: self.strategy.name().to_string(),
            runner: self.rs.clone(),
            strategy_state: postcard::to_allocvec(&self.st).map_err(|e| {
                RunError::Checkpoint(CheckpointError::Decode {
                    path: path.clone(),
                    message: format!("the strategy state does not serialise: {e}"),
                })
            })?,
        };
        write_atomic(&path, &ck.to_bytes()).map_err(io_err(&path))
    }
}

/// The strategy state of a checkpoint, checked against the strategy.
fn restore<S: Strategy>(strategy: &S, ck: &Checkpoint, path: &Path) -> Result<S::State, RunError> {
    if ck.strategy != strategy.name() {
        return Err(RunError::Mismatch(format!(
            "it was written by `{}`, not `{}`",
            ck.strategy,
            strategy.name()
        )));
    }
    let st: S::State = postcard::from_bytes(&ck.strategy_state).map_err(|e| {
        RunError::Checkpoint(CheckpointError::Decode {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    })?;
    if strategy.generation(&st) != ck.runner.generation {
        return Err(RunError::Mismatch(
            "strategy and runner generations differ".into(),
        ));
    }
    Ok(st)
}
