//! `evonet run`, `evonet resume`, `evonet config`: a config file into the
//! library's [`Experiment`] and [`evonet::Session`], with a progress bar and
//! Ctrl-C handling.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};

use evonet::runner::atomic::write_atomic;
use evonet::runner::CheckpointError;
use evonet::{Checkpoint, Experiment, ExperimentConfig, Finished, RunLock, StrategyConfig};

use crate::config_file;
use crate::progress::ProgressObserver;
#[cfg(feature = "redis")]
use crate::remote::RedisArgs;

/// Where the run's candidates go besides local threads: a Redis
/// connection and its settings.
#[cfg(feature = "redis")]
type Remote<'a> = (Option<evonet::distributed::Link>, &'a RedisArgs);
#[cfg(not(feature = "redis"))]
type Remote<'a> = std::marker::PhantomData<&'a ()>;
use crate::user;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The TOML config of the run (`evonet config KIND` prints examples).
    pub config: PathBuf,
    /// Output folder (default: runs/<config name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override `run.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Evaluation threads (default: `run.threads`, 0 = all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Override `run.max_generations`.
    #[arg(long)]
    pub max_generations: Option<u64>,
    /// Replace an existing run in the output folder.
    #[arg(long)]
    pub force: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    #[cfg(feature = "redis")]
    #[command(flatten)]
    pub redis: RedisArgs,
}

#[derive(clap::Args, Debug)]
pub struct ResumeArgs {
    /// The run's folder (it holds `checkpoints/latest.evock`).
    pub dir: PathBuf,
    /// Evaluation threads (results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Raise the generation budget of the run.
    #[arg(long)]
    pub max_generations: Option<u64>,
    /// Continue under an edited config (NEAT: rates and thresholds may
    /// change; the population size, seed and problem may not).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    #[cfg(feature = "redis")]
    #[command(flatten)]
    pub redis: RedisArgs,
}

pub fn run(a: RunArgs) -> Result<u8> {
    let text = std::fs::read_to_string(&a.config)
        .map_err(|e| user(format!("{}: cannot read config: {e}", a.config.display())))?;
    let mut cfg = config_file::parse(&a.config, &text)?;
    if let Some(s) = a.seed {
        cfg.run.seed = s;
    }
    if let Some(t) = a.threads {
        cfg.run.threads = t;
    }
    if let Some(g) = a.max_generations {
        cfg.run.max_generations = g.max(1);
    }
    let exp = Experiment::new(&a.config, cfg, &evonet::Registry::builtin())?;
    let out = a
        .out
        .unwrap_or_else(|| Path::new("runs").join(exp.config().name(&a.config)));
    // Before the folder is touched: it is this process's alone.
    let lock = RunLock::acquire(&out).map_err(lock_error)?;
    // Before anything is written: a wrong password or an unreachable
    // server is a one-line error.
    #[cfg(feature = "redis")]
    let remote = (a.redis.connect()?, &a.redis);
    #[cfg(not(feature = "redis"))]
    let remote = std::marker::PhantomData;
    if Checkpoint::latest_path(&out).exists() {
        if !a.force {
            return Err(user(format!(
                "{} already holds a run; continue it with `evonet resume {}` or start over with --force",
                out.display(),
                out.display()
            )));
        }
        for sub in ["checkpoints", "best"] {
            let p = out.join(sub);
            if p.exists() {
                std::fs::remove_dir_all(&p).with_context(|| format!("removing {}", p.display()))?;
            }
        }
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let run_id = evonet::runner::new_run_id();
    let resolved = format!(
        "# Resolved config of this run (defaults filled in), written by evonet {}.\n{}{run_id}\n# Source: {}\n{}",
        env!("CARGO_PKG_VERSION"),
        config_file::RUN_ID_LINE,
        a.config.display(),
        config_file::to_toml(exp.config())
    );
    write_atomic(&out.join("config.toml"), resolved.as_bytes()).context("writing config.toml")?;
    let start = Start::Fresh(run_id);
    execute(&exp, &resolved, &out, start, a.quiet, remote, lock)
}

/// How a run starts: fresh with its new id, or from a checkpoint.
enum Start {
    Fresh(String),
    Resume(Checkpoint),
}

/// Refuses a checkpoint that is not the run of the folder's `config.toml`
/// (copied from another run, or a config.toml replaced or damaged), saying
/// which file to restore.
fn check_identity(dir: &Path, ck: &Checkpoint) -> Result<()> {
    let path = dir.join("config.toml");
    let ck_path = Checkpoint::latest_path(dir);
    let restore = |why: String| {
        user(format!(
            "{}: {why}; restore the config.toml of run {} (the run of {}), or start over with `evonet run CONFIG --out {} --force`",
            path.display(),
            ck.run,
            ck_path.display(),
            dir.display()
        ))
    };
    let text =
        std::fs::read_to_string(&path).map_err(|e| restore(format!("cannot read it ({e})")))?;
    config_file::parse(&path, &text).map_err(|e| restore(format!("damaged ({e})")))?;
    match config_file::run_id_of(&text) {
        Some(id) if id == ck.run => Ok(()),
        Some(id) => Err(user(format!(
            "{} belongs to run {}, but {} is run {id}'s: restore this run's checkpoints/latest.evock, or its config.toml",
            ck_path.display(),
            ck.run,
            path.display()
        ))),
        None => Err(restore(format!(
            "no `{}` line in its header",
            config_file::RUN_ID_LINE.trim()
        ))),
    }
}

/// A busy folder is the user's to sort out (exit 2); other lock failures
/// are IO errors.
pub(crate) fn lock_error(e: evonet::LockError) -> anyhow::Error {
    crate::library_error(evonet::Error::Lock(e))
}

pub fn resume(a: ResumeArgs) -> Result<u8> {
    let dir = a.dir.as_path();
    let path = Checkpoint::latest_path(dir);
    let no_checkpoint = || {
        user(format!(
            "{}: no checkpoint to resume from (start a run with `evonet run CONFIG --out {}`)",
            path.display(),
            dir.display()
        ))
    };
    if !dir.is_dir() {
        return Err(no_checkpoint());
    }
    let lock = RunLock::acquire(dir).map_err(lock_error)?;
    let ck = match Checkpoint::read(&path) {
        Ok(ck) => ck,
        Err(CheckpointError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Err(no_checkpoint())
        }
        Err(e) => return Err(user(e.to_string())),
    };
    check_identity(dir, &ck)?;
    let stored = config_file::parse(&dir.join("config.toml"), &ck.config_text)?;
    let stored = Experiment::new(
        dir.join("config.toml"),
        stored,
        &evonet::Registry::builtin(),
    )?;
    #[cfg(feature = "redis")]
    let remote = (a.redis.connect()?, &a.redis);
    #[cfg(not(feature = "redis"))]
    let remote = std::marker::PhantomData;
    let (mut cfg, mut text) = match a.config.as_deref() {
        None => (stored.config().clone(), ck.config_text.clone()),
        Some(file) => {
            let new = config_file::read(file)?;
            if let Some(why) = resume_conflict(stored.config(), new.config()) {
                return Err(user(format!("{}: {why}", file.display())));
            }
            let text = format!(
                "# Resolved config of this run, edited on resume, written by evonet {}.\n{}{}\n# Source: {}\n{}",
                env!("CARGO_PKG_VERSION"),
                config_file::RUN_ID_LINE,
                ck.run,
                file.display(),
                config_file::to_toml(new.config())
            );
            write_atomic(&dir.join("config.toml"), text.as_bytes())
                .context("writing config.toml")?;
            (new.config().clone(), text)
        }
    };
    if let Some(t) = a.threads {
        cfg.run.threads = t;
    }
    if let Some(g) = a.max_generations {
        cfg.run.max_generations = g.max(1);
        text = config_file::to_toml(&cfg);
    }
    let exp = Experiment::new(dir.join("config.toml"), cfg, &evonet::Registry::builtin())?;
    execute(&exp, &text, dir, Start::Resume(ck), a.quiet, remote, lock)
}

/// Why a run cannot continue under `new` (None: it can). What was evolved
/// must stay meaningful: same problem, seed and policy; NEAT may change its
/// rates but not the population size; other strategies keep their settings.
fn resume_conflict(old: &ExperimentConfig, new: &ExperimentConfig) -> Option<String> {
    if old.env != new.env || old.task != new.task {
        return Some("the problem ([env] / [task]) cannot change on resume".into());
    }
    #[cfg(feature = "nas")]
    if old.data != new.data || old.search_space != new.search_space || old.training != new.training
    {
        return Some(
            "an architecture search keeps its [data], [search_space] and [training] on resume (only [run] and [final_training] may change)"
                .into(),
        );
    }
    if old.run.seed != new.run.seed {
        return Some("`run.seed` cannot change on resume".into());
    }
    if old.run.noise_table_size != new.run.noise_table_size
        || old.run.noise_seed != new.run.noise_seed
    {
        return Some("the noise table (`run.noise_*`) cannot change on resume".into());
    }
    match (&old.strategy, &new.strategy) {
        (StrategyConfig::Neat(a), StrategyConfig::Neat(b)) => {
            a.resolve().resume_conflict(&b.resolve())
        }
        (a, b) if a.kind() != b.kind() => Some(format!(
            "the run uses strategy `{}`, the config `{}`",
            a.kind(),
            b.kind()
        )),
        (a, b) if a != b || old.policy() != new.policy() => Some(format!(
            "`{}` runs resume with their original [strategy] and [policy]; only [run] settings may change",
            a.kind()
        )),
        _ => None,
    }
}

/// `evonet config KIND`: the example config of a registered strategy.
pub fn print_example(kind: &str) -> Result<()> {
    match evonet::registry::strategy(kind) {
        Some(entry) => {
            print!("{}", entry.example);
            Ok(())
        }
        None => Err(user(format!(
            "unknown strategy `{kind}`; available: {}",
            evonet::STRATEGIES
                .iter()
                .map(|e| e.kind)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// `evonet config`: what a config may name.
pub fn print_registry() {
    println!("strategies ([strategy] kind; `evonet config KIND` prints an example):");
    for e in evonet::STRATEGIES {
        println!("  {:<16} {:<13} {}", e.kind, e.genome.name(), e.summary);
    }
    let registry = evonet::Registry::builtin();
    println!("tasks ([task] kind):");
    for (name, t) in registry.tasks() {
        println!("  {name:<16} {}", t.summary());
    }
    println!("environments ([env] id):");
    println!("  {}", registry.envs().ids().join(", "));
}

/// Interrupt flag set by the first Ctrl-C, which prints `what_now`; a
/// second one exits at once.
pub(crate) fn stop_flag(what_now: &'static str) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || {
        if s.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\n{what_now}; Ctrl-C again to quit now");
    });
    stop
}

fn execute(
    exp: &Experiment,
    config_text: &str,
    out: &Path,
    start: Start,
    quiet: bool,
    remote: Remote<'_>,
    lock: RunLock,
) -> Result<u8> {
    // First, so that a Ctrl-C during set-up also ends with a checkpoint.
    let stop = stop_flag("stopping after this generation (a checkpoint will be written)");
    let done = match &start {
        Start::Fresh(_) => 0,
        Start::Resume(ck) => ck.runner.generation,
    };
    let mut progress = ProgressObserver::new(exp.config(), done, quiet);
    let bar = progress.bar();
    let session = exp
        .session(out)
        .config_text(config_text.to_string())
        .stop_flag(stop)
        .lock(lock)
        .on_start(|search| println!("{}", describe(exp.config(), search)))
        .observer(&mut progress);
    #[cfg(feature = "redis")]
    let session = match remote {
        (Some(link), args) => session.redis(crate::remote::publish(
            link,
            exp.config().run.seed,
            out,
            config_file::to_toml(exp.config()),
            args.lease_ms,
            bar.clone(),
        )),
        (None, _) => session,
    };
    #[cfg(not(feature = "redis"))]
    let _ = remote;
    let finished = match start {
        Start::Resume(ck) => session.resume_from(ck),
        Start::Fresh(id) => session.run_id(id).run(),
    };
    bar.finish_and_clear();
    let finished = finished.map_err(crate::library_error)?;
    summary(out, &finished);
    if finished.interrupted() {
        return Ok(130);
    }
    #[cfg(feature = "nas")]
    final_stage(finished, out, quiet)?;
    Ok(0)
}

/// An architecture search's final retraining, where the search evaluated
/// (its threads or its Redis workers).
#[cfg(feature = "nas")]
fn final_stage(mut finished: Finished, out: &Path, quiet: bool) -> Result<()> {
    match finished.final_stage() {
        Some((stage, backend)) => crate::retrain_cmd::final_training(stage, out, quiet, backend),
        None => Ok(()),
    }
}

/// What the run evolves, with its size: `cma_es on CartPole-v1: 4,673
/// parameters per candidate (policy hidden [64, 64], tanh)`.
fn describe(cfg: &ExperimentConfig, search: &dyn evonet::Search) -> String {
    let on = match (&cfg.env, &cfg.task) {
        (Some(env), _) => format!(" on {}", env.id),
        (None, Some(task)) => format!(" on {}", task.kind),
        _ => String::new(),
    };
    let size = match search.parameters() {
        Some(n) => {
            let shape = search
                .network()
                .map(|s| format!(" (policy {s})"))
                .unwrap_or_default();
            format!(": {} parameters per candidate{shape}", thousands(n))
        }
        None => format!(": {} genomes, whose size evolves", search.genome().name()),
    };
    format!("{}{on}{size}", search.strategy())
}

/// `4673` as `4,673`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn summary(out: &Path, f: &Finished) {
    let rs = f.state();
    println!(
        "{} {} generations, {} evaluations, {} env steps in {:.1} s",
        if f.interrupted() {
            "interrupted after"
        } else {
            "finished"
        },
        rs.generation,
        rs.evaluations,
        rs.env_steps,
        rs.elapsed_s
    );
    #[cfg(feature = "nas")]
    let tested = f.search.final_stage().is_none();
    #[cfg(not(feature = "nas"))]
    let tested = true;
    match (rs.solved_at_generation, rs.solved_at_evaluations) {
        (Some(g), Some(e)) => println!("solved at generation {g} after {e} evaluations"),
        _ if tested => println!("not solved"),
        _ => {}
    }
    if let Some(b) = rs.best_test {
        println!(
            "champion test score {b:.3}: {}",
            out.join("best").join("champion.json").display()
        );
    }
    if f.interrupted() {
        println!("continue with: evonet resume {}", out.display());
    }
}
