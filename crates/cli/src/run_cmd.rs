//! `evonet run`, `evonet resume`, `evonet config`: wiring a config into a
//! strategy, a problem and an evaluator.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};

use evonet_core::{Problem, Strategy};
use evonet_distributed::Link;
use evonet_runner::atomic::write_atomic;
use evonet_runner::{
    Checkpoint, CheckpointError, Evaluator, RunOutcome, RunSettings, RunnerState, ThreadEvaluator,
};

use crate::config::{Config, StrategyConfig};
use crate::progress::ProgressObserver;
use crate::remote::RedisArgs;
use crate::setup::Built;
use crate::user;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
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
    #[command(flatten)]
    pub redis: RedisArgs,
}

#[derive(clap::Args, Debug)]
pub struct ResumeArgs {
    pub dir: PathBuf,
    #[arg(long)]
    pub threads: Option<usize>,
    /// Raise the generation budget of the run.
    #[arg(long)]
    pub max_generations: Option<u64>,
    /// Continue under an edited config (NEAT: rates and thresholds may
    /// change; the population size, seed and problem may not).
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub redis: RedisArgs,
}

pub fn run(a: RunArgs) -> Result<u8> {
    let text = std::fs::read_to_string(&a.config)
        .map_err(|e| user(format!("{}: cannot read config: {e}", a.config.display())))?;
    let mut cfg = Config::parse(&a.config, &text)?;
    if let Some(s) = a.seed {
        cfg.run.seed = s;
    }
    if let Some(t) = a.threads {
        cfg.run.threads = t;
    }
    if let Some(g) = a.max_generations {
        cfg.run.max_generations = g.max(1);
    }
    let out = a
        .out
        .unwrap_or_else(|| Path::new("runs").join(cfg.name(&a.config)));
    // Before anything is written: a wrong password or an unreachable
    // server is a one-line error.
    let link = a.redis.connect()?;
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
    let resolved = format!(
        "# Resolved config of this run (defaults filled in), written by evonet {}.\n# Source: {}\n{}",
        env!("CARGO_PKG_VERSION"),
        a.config.display(),
        cfg.to_toml()
    );
    write_atomic(&out.join("config.toml"), resolved.as_bytes()).context("writing config.toml")?;
    execute(&cfg, &resolved, &out, None, a.quiet, link, &a.redis)
}

pub fn resume(a: ResumeArgs) -> Result<u8> {
    let dir = a.dir.as_path();
    let (threads, max_generations, edited) = (a.threads, a.max_generations, a.config.as_deref());
    let path = Checkpoint::latest_path(dir);
    let ck = match Checkpoint::read(&path) {
        Ok(ck) => ck,
        Err(CheckpointError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Err(user(format!(
                "{}: no checkpoint to resume from (start a run with `evonet run CONFIG --out {}`)",
                path.display(),
                dir.display()
            )))
        }
        Err(e) => return Err(user(e.to_string())),
    };
    let stored = Config::parse(&dir.join("config.toml"), &ck.config_text)?;
    let link = a.redis.connect()?;
    let (mut cfg, mut text) = match edited {
        None => (stored, ck.config_text.clone()),
        Some(file) => {
            let t = std::fs::read_to_string(file)
                .map_err(|e| user(format!("{}: cannot read config: {e}", file.display())))?;
            let new = Config::parse(file, &t)?;
            if let Some(why) = resume_conflict(&stored, &new) {
                return Err(user(format!("{}: {why}", file.display())));
            }
            let text = format!(
                "# Resolved config of this run, edited on resume, written by evonet {}.\n# Source: {}\n{}",
                env!("CARGO_PKG_VERSION"),
                file.display(),
                new.to_toml()
            );
            write_atomic(&dir.join("config.toml"), text.as_bytes())
                .context("writing config.toml")?;
            (new, text)
        }
    };
    if let Some(t) = threads {
        cfg.run.threads = t;
    }
    if let Some(g) = max_generations {
        cfg.run.max_generations = g.max(1);
        text = cfg.to_toml();
    }
    execute(&cfg, &text, dir, Some(ck), a.quiet, link, &a.redis)
}

/// Why a run cannot continue under `new` (None: it can). What was evolved
/// must stay meaningful: same problem, seed and policy; NEAT may change its
/// rates but not the population size; other strategies keep their settings.
fn resume_conflict(old: &Config, new: &Config) -> Option<String> {
    if old.env != new.env || old.task != new.task {
        return Some("the problem ([env] / [task]) cannot change on resume".into());
    }
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
        (StrategyConfig::Neat(a), StrategyConfig::Neat(b)) => a.resolve().resume_conflict(&b.resolve()),
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

pub fn print_example(kind: &str) -> Result<()> {
    let text = match kind {
        "deep_ga" => include_str!("../../../configs/cartpole-ga.toml"),
        "random_search" => include_str!("../../../configs/cartpole-random.toml"),
        "open_es" => include_str!("../../../configs/cartpole-es.toml"),
        "cma_es" => include_str!("../../../configs/dpv-cmaes.toml"),
        "neat" => include_str!("../../../configs/xor-neat.toml"),
        "aging_evolution" => include_str!("../../../configs/digits-nas.toml"),
        "truncation_ga" => include_str!("../../../configs/digits-nas-ga.toml"),
        "random_sampling" => include_str!("../../../configs/digits-nas-random.toml"),
        _ => {
            return Err(user(format!(
            "unknown strategy `{kind}`; available: deep_ga, random_search, open_es, cma_es, neat, aging_evolution, truncation_ga, random_sampling"
        )))
        }
    };
    print!("{text}");
    Ok(())
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
    cfg: &Config,
    config_text: &str,
    out: &Path,
    resume: Option<Checkpoint>,
    quiet: bool,
    remote: Option<Link>,
    remote_args: &RedisArgs,
) -> Result<u8> {
    // First, so that a Ctrl-C during set-up also ends with a checkpoint.
    let stop = stop_flag("stopping after this generation (a checkpoint will be written)");
    let settings = RunSettings {
        out_dir: out.to_path_buf(),
        seed: cfg.run.seed,
        max_generations: cfg.run.max_generations,
        max_evaluations: cfg.run.max_evaluations,
        stop_when_solved: cfg.run.stop_when_solved,
        test_every: cfg.run.test_every,
        test_champion: !cfg.strategy.is_nas(),
        checkpoint_every: cfg.run.checkpoint_every,
        config_text: config_text.to_string(),
        stop,
    };
    let evaluator = ThreadEvaluator::new(cfg.run.threads).context("starting evaluation threads")?;
    let built = Built::new(cfg, evaluator.pool(), &out.join("config.toml"))?;
    let backend = match remote {
        None => Backend::Local(evaluator),
        Some(link) => Backend::Redis(Box::new(crate::remote::Published::new(
            link,
            cfg,
            out,
            &built,
            remote_args.lease_ms,
        )?)),
    };
    let ctx = Drive {
        settings: &settings,
        resume,
        quiet,
        backend,
        out,
    };
    built.drive(ctx)
}

/// Everything a run needs besides its strategy and problem.
pub(crate) struct Drive<'a> {
    settings: &'a RunSettings,
    resume: Option<Checkpoint>,
    quiet: bool,
    backend: Backend,
    out: &'a Path,
}

/// Where candidates are evaluated.
enum Backend {
    Local(ThreadEvaluator),
    Redis(Box<crate::remote::Published>),
}

impl Drive<'_> {
    pub(crate) fn out(&self) -> &Path {
        self.out
    }

    pub(crate) fn quiet(&self) -> bool {
        self.quiet
    }

    pub(crate) fn drive<S: Strategy>(
        self,
        s: &S,
        problem: &dyn Problem<S::Genome>,
        export: evonet_runner::run::ExportFn<'_, S::Genome>,
    ) -> Result<u8> {
        let done = self.resume.as_ref().map_or(0, |c| c.runner.generation);
        let mut progress = ProgressObserver::new(self.settings.max_generations, done, self.quiet);
        let (mut local, mut remote) = match self.backend {
            Backend::Local(e) => (Some(e), None),
            Backend::Redis(p) => (None, Some((*p).evaluator::<S::Genome>(progress.bar()))),
        };
        let evaluator: &mut dyn Evaluator<S::Genome> = match (&mut local, &mut remote) {
            (Some(l), _) => l,
            (_, Some(r)) => r,
            _ => unreachable!("one backend"),
        };
        let outcome = evonet_runner::run(
            s,
            problem,
            evaluator,
            self.settings,
            export,
            self.resume,
            &mut [&mut progress],
        )
        .map_err(|e| match e {
            evonet_runner::RunError::Mismatch(_) | evonet_runner::RunError::Checkpoint(_) => {
                user(e.to_string())
            }
            other => anyhow::Error::new(other),
        })?;
        progress.finish();
        if let Some(r) = remote.as_mut() {
            // Workers stop looking for this run's tasks.
            r.retire().map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let (rs, code) = match outcome {
            RunOutcome::Finished(rs) => (rs, 0),
            RunOutcome::Interrupted(rs) => (rs, 130),
        };
        summary(self.out, &rs, code == 130, self.settings.test_champion);
        Ok(code)
    }
}

fn summary(out: &Path, rs: &RunnerState, interrupted: bool, tested: bool) {
    println!(
        "{} {} generations, {} evaluations, {} env steps in {:.1} s",
        if interrupted {
            "interrupted after"
        } else {
            "finished"
        },
        rs.generation,
        rs.evaluations,
        rs.env_steps,
        rs.elapsed_s
    );
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
    if interrupted {
        println!("continue with: evonet resume {}", out.display());
    }
}
