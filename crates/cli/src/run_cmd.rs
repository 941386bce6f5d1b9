//! `evonet run`, `evonet resume`, `evonet config`: wiring a config into a
//! strategy, a problem and an evaluator.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};

use evonet_core::{Champion, NoiseTable, PolicyParams, Problem, SeedChain, Strategy, TestReport};
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind};
use evonet_runner::atomic::write_atomic;
use evonet_runner::{
    Checkpoint, CheckpointError, RunOutcome, RunSettings, RunnerState, ThreadEvaluator,
};
use evonet_strategies::{random_search, CmaEs, DeepGa, OpenEs, ParamSpace};

use crate::champion::{ChampionFile, EnvRef, Provenance, KIND};
use crate::config::{Config, StrategyConfig};
use crate::progress::ProgressObserver;
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
    execute(&cfg, &resolved, &out, None, a.quiet)
}

pub fn resume(
    dir: &Path,
    threads: Option<usize>,
    max_generations: Option<u64>,
    edited: Option<&Path>,
    quiet: bool,
) -> Result<u8> {
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
    execute(&cfg, &text, dir, Some(ck), quiet)
}

/// Why a run cannot continue under `new` (None: it can). What was evolved
/// must stay meaningful: same problem, seed and policy; NEAT may change its
/// rates but not the population size; other strategies keep their settings.
fn resume_conflict(old: &Config, new: &Config) -> Option<String> {
    if old.env != new.env || old.task != new.task {
        return Some("the problem ([env] / [task]) cannot change on resume".into());
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
        _ => {
            return Err(user(format!(
            "unknown strategy `{kind}`; available: deep_ga, random_search, open_es, cma_es, neat"
        )))
        }
    };
    print!("{text}");
    Ok(())
}

/// Interrupt flag set by the first Ctrl-C; a second one exits at once.
fn stop_flag() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || {
        if s.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping after this generation (a checkpoint will be written); Ctrl-C again to quit now");
    });
    stop
}

fn execute(
    cfg: &Config,
    config_text: &str,
    out: &Path,
    resume: Option<Checkpoint>,
    quiet: bool,
) -> Result<u8> {
    // First, so that a Ctrl-C during set-up also ends with a checkpoint.
    let stop = stop_flag();
    let settings = RunSettings {
        out_dir: out.to_path_buf(),
        seed: cfg.run.seed,
        max_generations: cfg.run.max_generations,
        max_evaluations: cfg.run.max_evaluations,
        stop_when_solved: cfg.run.stop_when_solved,
        test_every: cfg.run.test_every,
        checkpoint_every: cfg.run.checkpoint_every,
        config_text: config_text.to_string(),
        stop,
    };
    let evaluator = ThreadEvaluator::new(cfg.run.threads).context("starting evaluation threads")?;
    let ctx = Drive {
        settings: &settings,
        resume,
        quiet,
        evaluator,
        out,
    };
    if let StrategyConfig::Neat(c) = &cfg.strategy {
        return crate::neat_run::execute(cfg, c, ctx);
    }
    let EnvSetup {
        env_id,
        spec,
        policy,
        task,
        problem,
    } = EnvSetup::new(
        cfg,
        cfg.policy().hidden,
        cfg.policy().activation,
        cfg.policy().recurrent,
    );
    let mut problem = problem;
    let needs_noise = matches!(
        cfg.strategy,
        StrategyConfig::DeepGa(_) | StrategyConfig::RandomSearch(_) | StrategyConfig::OpenEs(_)
    );
    let noise = if needs_noise {
        if cfg.run.noise_table_size < policy.mlp.n_params() {
            return Err(user(format!(
                "{}: `run.noise_table_size`: must be at least the policy's {} parameters",
                out.join("config.toml").display(),
                policy.mlp.n_params()
            )));
        }
        Some(Arc::new(ctx.evaluator.install(|| {
            build_noise(cfg.run.noise_table_size, cfg.run.noise_seed)
        })))
    } else {
        None
    };
    if let (Some(t), StrategyConfig::DeepGa(_) | StrategyConfig::RandomSearch(_)) =
        (&noise, &cfg.strategy)
    {
        let pop = match &cfg.strategy {
            StrategyConfig::DeepGa(c) => c.population,
            StrategyConfig::RandomSearch(c) => c.population,
            _ => unreachable!(),
        };
        problem = problem.with_seed_chains(Arc::clone(t), 2 * pop + 16);
    }
    let base = ChampionBase {
        env: env_ref(cfg, env_id),
        task,
        policy: policy.clone(),
        strategy: cfg.strategy.kind().into(),
    };
    let space = ParamSpace {
        init_scales: policy.mlp.init_scales(),
        obs_dim: spec.obs_dim,
    };
    let state = match &cfg.strategy {
        StrategyConfig::DeepGa(c) => {
            let s = DeepGa::new(c.clone())?;
            ctx.drive(&s, &problem, &|ch, t| base.chain_json(&problem, ch, t))?
        }
        StrategyConfig::RandomSearch(c) => {
            let s = random_search(c)?;
            ctx.drive(&s, &problem, &|ch, t| base.chain_json(&problem, ch, t))?
        }
        StrategyConfig::OpenEs(c) => {
            let s = OpenEs::new(c.clone(), space, noise.expect("noise table"))?;
            ctx.drive(&s, &problem, &|ch, t| base.params_json(ch, t))?
        }
        StrategyConfig::CmaEs(c) => {
            let s = CmaEs::new(c.clone(), space)?;
            ctx.drive(&s, &problem, &|ch, t| base.params_json(ch, t))?
        }
        StrategyConfig::Neat(_) => unreachable!("handled above"),
    };
    Ok(state)
}

/// An environment problem built from `[env]`, with a policy of the given
/// shape (NEAT passes no hidden layers: only the action head is used).
pub(crate) struct EnvSetup {
    pub env_id: evonet_envs::EnvId,
    pub spec: evonet_envs::EnvSpec,
    pub policy: PolicySpec,
    pub task: Task,
    pub problem: RlProblem,
}

impl EnvSetup {
    pub(crate) fn new(
        cfg: &Config,
        hidden: Vec<usize>,
        activation: evonet_nn::Activation,
        recurrent: bool,
    ) -> Self {
        let env = cfg.env();
        let env_id = cfg.env_id();
        let probe = env_id.make(env.max_steps);
        let spec = evonet_envs::Env::spec(&probe).clone();
        let policy = PolicySpec::new(
            spec.obs_dim,
            &spec.action_space,
            hidden,
            activation,
            recurrent,
        );
        let task = Task {
            kind: TaskKind::for_env(env_id),
            test_episodes: env.test_episodes,
            success_threshold: env.success_threshold.or(spec.reward_threshold),
        };
        let renv = RolloutEnv {
            env: env_id,
            max_steps: env.max_steps,
            start_angle: env.start_angle_deg.map(f64::to_radians),
        };
        let problem = RlProblem::new(renv, policy.clone(), env.episodes, task.clone())
            .with_faults(env.faults.clone());
        Self {
            env_id,
            spec,
            policy,
            task,
            problem,
        }
    }
}

pub(crate) fn env_ref(cfg: &Config, env_id: evonet_envs::EnvId) -> EnvRef {
    EnvRef {
        id: env_id.name().into(),
        max_steps: cfg.env().max_steps,
        start_angle_deg: cfg.env().start_angle_deg,
    }
}

/// Builds the noise table in parallel; its values do not depend on threads.
fn build_noise(len: usize, seed: u64) -> NoiseTable {
    use rayon::prelude::*;
    let mut v = vec![0.0f32; len];
    v.par_chunks_mut(evonet_core::noise::BLOCK)
        .enumerate()
        .for_each(|(b, c)| NoiseTable::fill_block(seed, b, c));
    NoiseTable::from_vec(v, seed)
}

struct ChampionBase {
    env: EnvRef,
    task: Task,
    policy: PolicySpec,
    strategy: String,
}

impl ChampionBase {
    fn file(
        &self,
        params: Vec<f32>,
        obs_norm: Option<evonet_core::genome::ObsNorm>,
        genome: serde_json::Value,
    ) -> ChampionFile {
        ChampionFile {
            format_version: evonet_runner::FORMAT_VERSION,
            kind: KIND.into(),
            env: self.env.clone(),
            task: self.task.kind,
            success_threshold: self.task.success_threshold,
            policy: self.policy.clone(),
            params,
            obs_norm,
            strategy: self.strategy.clone(),
            genome,
            provenance: Provenance::default(),
        }
    }

    fn chain_json(
        &self,
        p: &RlProblem,
        ch: &Champion<SeedChain>,
        _t: &TestReport,
    ) -> serde_json::Value {
        // Seed-chain strategies always run with a decoder (see `execute`).
        let params = p
            .decode_chain(&ch.genome)
            .expect("seed chains are decodable")
            .to_vec();
        serde_json::to_value(self.file(
            params,
            None,
            serde_json::json!({ "seed_chain": ch.genome }),
        ))
        .expect("json")
    }

    fn params_json(&self, ch: &Champion<PolicyParams>, _t: &TestReport) -> serde_json::Value {
        serde_json::to_value(self.file(
            ch.genome.params.clone(),
            ch.genome.obs_norm.clone(),
            serde_json::json!("params"),
        ))
        .expect("json")
    }
}

/// Everything a run needs besides its strategy and problem.
pub(crate) struct Drive<'a> {
    settings: &'a RunSettings,
    resume: Option<Checkpoint>,
    quiet: bool,
    pub(crate) evaluator: ThreadEvaluator,
    out: &'a Path,
}

impl Drive<'_> {
    pub(crate) fn drive<S: Strategy>(
        mut self,
        s: &S,
        problem: &dyn Problem<S::Genome>,
        export: evonet_runner::run::ExportFn<'_, S::Genome>,
    ) -> Result<u8> {
        let done = self.resume.as_ref().map_or(0, |c| c.runner.generation);
        let mut progress = ProgressObserver::new(self.settings.max_generations, done, self.quiet);
        let outcome = evonet_runner::run(
            s,
            problem,
            &mut self.evaluator,
            self.settings,
            export,
            self.resume.take(),
            &mut [&mut progress],
        )
        .map_err(|e| match e {
            evonet_runner::RunError::Mismatch(_) | evonet_runner::RunError::Checkpoint(_) => {
                user(e.to_string())
            }
            other => anyhow::Error::new(other),
        })?;
        progress.finish();
        let (rs, code) = match outcome {
            RunOutcome::Finished(rs) => (rs, 0),
            RunOutcome::Interrupted(rs) => (rs, 130),
        };
        summary(self.out, &rs, code == 130);
        Ok(code)
    }
}

fn summary(out: &Path, rs: &RunnerState, interrupted: bool) {
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
        _ => println!("not solved"),
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
