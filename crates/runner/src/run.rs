//! The generation loop, in its phases: start (fresh or from a checkpoint),
//! then per generation evaluate (ask/evaluate/tell rounds until the
//! strategy closes the generation), test the champion, record the
//! generation, and checkpoint when one is due. Each phase emits events to
//! the observers ([`crate::observer`]), the run's own files first: the run
//! keeps counters and strategy state, the observers write them down.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use serde::Serialize;

use evonet_core::{
    derive_seed, CandidateId, Champion, Outcome, Problem, Purpose, Strategy, StrategyError,
    TellReport,
};

use crate::champion_file::{champion_json, ChampionFile, ExportFn};
use crate::checkpoint::{Checkpoint, CheckpointError, CheckpointFile};
use crate::evaluator::Evaluator;
use crate::metrics::{
    finite, CandidateRecord, GenerationRecord, MetricsFile, MAX_RECORDED_BEHAVIOR,
};
use crate::observer::{ChampionEvent, CheckpointEvent, Observer, ObserverError, Observers};
use crate::state::{RunOutcome, RunSettings, RunnerState};
use crate::FORMAT_VERSION;

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
    #[error(transparent)]
    Observer(#[from] ObserverError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs (or resumes, with `resume`) a search until its budget is spent, it
/// is solved (if asked to stop then), or the stop flag is set. `observers`
/// hear every event after the run's own files (`metrics.jsonl`,
/// `best/champion.json`, `checkpoints/latest.evock`).
pub fn run<S: Strategy, B: Serialize>(
    strategy: &S,
    problem: &dyn Problem<S::Genome>,
    evaluator: &mut dyn Evaluator<S::Genome>,
    settings: &RunSettings,
    export: ExportFn<'_, S::Genome, B>,
    resume: Option<Checkpoint>,
    observers: &mut [&mut dyn Observer],
) -> Result<RunOutcome, RunError> {
    let (mut run, mut metrics) = Run::start(strategy, settings, resume)?;
    let mut champion = ChampionFile::new(&settings.out_dir);
    let mut checkpoints = CheckpointFile;
    let mut list: Vec<&mut dyn Observer> = vec![&mut metrics, &mut champion, &mut checkpoints];
    list.extend(observers.iter_mut().map(|o| &mut **o as &mut dyn Observer));
    let mut obs = Observers::new(list);
    while !settings.done(&run.rs) {
        if settings.stop.load(Ordering::SeqCst) {
            run.stop_clock();
            run.checkpoint(&mut obs)?;
            return Ok(RunOutcome::Interrupted(run.rs));
        }
        let round = run.evaluate(problem, evaluator, &mut obs)?;
        let tested = run.test(problem, export, &round, &mut obs)?;
        let record = run.record(&round, tested);
        obs.generation(&record)?;
        let every = settings.checkpoint_every;
        if every > 0 && run.rs.generation.is_multiple_of(every) {
            run.checkpoint(&mut obs)?;
        }
    }
    run.stop_clock();
    run.checkpoint(&mut obs)?;
    Ok(RunOutcome::Finished(run.rs))
}

/// A run in progress: the strategy's state, the runner's counters and the
/// files they go to.
struct Run<'a, S: Strategy> {
    strategy: &'a S,
    settings: &'a RunSettings,
    st: S::State,
    rs: RunnerState,
    /// The run's id: the settings' for a fresh run, the checkpoint's on
    /// resume.
    run_id: String,
    started: Instant,
    base_elapsed: f64,
}

/// One generation's evaluations.
struct Round<G> {
    report: TellReport,
    evals: u64,
    /// Short behaviour characterisations, by candidate id (when recorded).
    behaviors: Vec<(CandidateId, Vec<f32>)>,
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
}

impl<'a, S: Strategy> Run<'a, S> {
    /// A fresh run (a new, empty `metrics.jsonl`), or the state of a
    /// checkpoint (`metrics.jsonl` cut back to its generation).
    fn start(
        strategy: &'a S,
        settings: &'a RunSettings,
        resume: Option<Checkpoint>,
    ) -> Result<(Self, MetricsFile), RunError> {
        let dir = &settings.out_dir;
        let metrics_path = dir.join("metrics.jsonl");
        std::fs::create_dir_all(dir.join("checkpoints")).map_err(io_err(dir))?;
        let (st, rs, run_id, metrics) = match resume {
            Some(ck) => {
                let st = restore(strategy, &ck, &Checkpoint::latest_path(dir))?;
                let metrics = MetricsFile::resume(&metrics_path, ck.runner.generation);
                (st, ck.runner, ck.run, metrics)
            }
            None => (
                strategy.init(settings.seed)?,
                RunnerState::default(),
                settings.run_id.clone(),
                MetricsFile::create(&metrics_path),
            ),
        };
        let metrics = metrics.map_err(io_err(&metrics_path))?;
        let run = Self {
            strategy,
            settings,
            base_elapsed: rs.elapsed_s,
            st,
            rs,
            run_id,
            started: Instant::now(),
        };
        Ok((run, metrics))
    }

    /// Ask/evaluate/tell rounds until the strategy closes the generation
    /// (Deep GA spends a second round on its elite candidates); a line per
    /// candidate in `metrics.jsonl` when the problem describes genomes.
    fn evaluate(
        &mut self,
        problem: &dyn Problem<S::Genome>,
        evaluator: &mut dyn Evaluator<S::Genome>,
        obs: &mut Observers<'_, '_>,
    ) -> Result<Round<S::Genome>, RunError> {
        let gen = self.rs.generation;
        let started = Instant::now();
        let (mut evals, mut steps) = (0u64, 0u64);
        let mut solver: Option<(CandidateId, Champion<S::Genome>)> = None;
        let mut behaviors = Vec::new();
        let report = loop {
            let candidates = self.strategy.ask(&mut self.st);
            let results = evaluator.evaluate(problem, candidates)?;
            for r in &results {
                if let Some(genome) = problem.describe_genome(&r.candidate.genome) {
                    obs.candidate(&CandidateRecord::new(gen, r, genome))?;
                }
                evals += 1;
                steps += r.outcome.cost().env_steps;
                if let (true, Outcome::Done(e)) = (self.settings.record_behaviors, &r.outcome) {
                    if let Some(b) = e
                        .behavior
                        .as_ref()
                        .filter(|b| b.len() <= MAX_RECORDED_BEHAVIOR)
                    {
                        behaviors.push((r.candidate.id, b.clone()));
                    }
                }
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
        behaviors.sort_by_key(|(id, _)| *id);
        Ok(Round {
            report,
            evals,
            behaviors,
            solver,
            started,
        })
    }

    /// Tests the champion when a test is due (or a candidate solved the
    /// task during its evaluation) and tells the observers when it is
    /// better than any before: the first solver, then better solvers;
    /// before any, the best score (solved beats score: an XOR solver may
    /// score below a near miss).
    fn test<B: Serialize>(
        &mut self,
        problem: &dyn Problem<S::Genome>,
        export: ExportFn<'_, S::Genome, B>,
        round: &Round<S::Genome>,
        obs: &mut Observers<'_, '_>,
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
        if first_solver || better {
            rs.best_test = Some(t.score);
            obs.champion(&ChampionEvent {
                generation: gen,
                test: &t,
                document: &champion_json(gen, &champ, &t, export),
            })?;
        }
        Ok(Tested {
            score: finite(t.score),
            details: t.details,
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
            behaviors: round.behaviors.iter().map(|(_, b)| b.clone()).collect(),
        }
    }

    /// The run's wall-clock time so far, into its counters.
    fn stop_clock(&mut self) {
        self.rs.elapsed_s = self.base_elapsed + self.started.elapsed().as_secs_f64();
    }

    /// Tells the observers that a checkpoint is due: the run's files make
    /// their lines and champion durable, then write the checkpoint.
    fn checkpoint(&mut self, obs: &mut Observers<'_, '_>) -> Result<(), RunError> {
        let path = Checkpoint::latest_path(&self.settings.out_dir);
        let strategy_state = postcard::to_allocvec(&self.st).map_err(|e| {
            RunError::Checkpoint(CheckpointError::Decode {
                path: path.clone(),
                message: format!("the strategy state does not serialise: {e}"),
            })
        })?;
        let checkpoint = Checkpoint {
            run: self.run_id.clone(),
            config_text: self.settings.config_text.clone(),
            strategy: self.strategy.name().to_string(),
            runner: self.rs.clone(),
            strategy_state,
        };
        obs.checkpoint(&CheckpointEvent {
            checkpoint: &checkpoint,
            path: &path,
        })?;
        Ok(())
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
