//! Champions read back and replayed on fresh episodes (`evonet eval`), with
//! the environments of a [`Registry`], so a user's own environment replays
//! as a built-in one does.

use std::path::{Path, PathBuf};

use serde::Serialize;

use evonet_envs::Env;
use evonet_nn::{Activation, GraphNet};
use evonet_problems::rl::summarize;
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{Decoded, Head, Policy, PolicySpec, RlProblem, Task, TaskKind};

use crate::champion::{
    ChampionRecord, EnvRef, MlpChampion, NeatChampion, ProblemRef, VectorChampion, MLP_KIND,
    NEAT_KIND, VECTOR_KIND,
};
use crate::registry::Registry;

/// A champion file that cannot be used, naming the file and the field.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", file.display())]
pub struct ChampionError {
    pub file: PathBuf,
    pub message: String,
}

/// A champion file of any kind, with its provenance.
pub enum Loaded {
    Mlp(Box<ChampionRecord<MlpChampion>>),
    Neat(Box<ChampionRecord<NeatChampion>>),
    Vector(ChampionRecord<VectorChampion>),
}

impl Loaded {
    /// Replays on environment `id` instead of the champion's (see
    /// [`EnvRef::on`]); a parameter vector has no environment.
    pub fn move_to_env(&mut self, id: &str) {
        match self {
            Loaded::Mlp(c) => c.body.env = c.body.env.on(id),
            Loaded::Neat(c) => {
                if let ProblemRef::Env { env, .. } = &mut c.body.problem {
                    *env = env.on(id);
                }
            }
            Loaded::Vector(_) => {}
        }
    }
}

/// `best/` or a file: the champion JSON's path.
pub fn champion_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("champion.json")
    } else {
        path.to_path_buf()
    }
}

/// Reads and checks a champion file (format version, kind, sizes).
pub fn load(path: &Path) -> Result<Loaded, ChampionError> {
    let file = champion_path(path);
    let fail = |message: String| ChampionError {
        file: file.clone(),
        message,
    };
    let text =
        std::fs::read_to_string(&file).map_err(|e| fail(format!("cannot read champion: {e}")))?;
    let bad = |e: serde_json::Error| fail(format!("not a champion file: {e}"));
    let v: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
    let version = v.get("format_version").and_then(|x| x.as_u64());
    if version != Some(u64::from(evonet_runner::FORMAT_VERSION)) {
        return Err(fail(format!(
            "`format_version` is {}, this evonet reads version {}",
            version.map_or("missing".to_string(), |x| x.to_string()),
            evonet_runner::FORMAT_VERSION
        )));
    }
    match v.get("kind").and_then(|k| k.as_str()) {
        Some(MLP_KIND) => {
            let c: ChampionRecord<MlpChampion> = serde_json::from_value(v).map_err(bad)?;
            let needed = c.body.policy.n_params();
            if c.body.params.len() != needed {
                return Err(fail(format!(
                    "`params` holds {} numbers, the policy needs {needed}",
                    c.body.params.len()
                )));
            }
            Ok(Loaded::Mlp(Box::new(c)))
        }
        Some(NEAT_KIND) => {
            let c: ChampionRecord<NeatChampion> = serde_json::from_value(v).map_err(bad)?;
            GraphNet::new(&c.body.graph).map_err(|e| fail(format!("`graph`: {e}")))?;
            c.body
                .genome
                .check()
                .map_err(|e| fail(format!("`genome`: {e}")))?;
            Ok(Loaded::Neat(Box::new(c)))
        }
        Some(VECTOR_KIND) => Ok(Loaded::Vector(serde_json::from_value(v).map_err(bad)?)),
        other => Err(fail(format!(
            "`kind` is {}, expected `{MLP_KIND}`, `{NEAT_KIND}` or `{VECTOR_KIND}`",
            other.map_or("missing".to_string(), |k| format!("`{k}`"))
        ))),
    }
}

/// Returns of a champion replayed on fresh episodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayReport {
    pub format_version: u32,
    pub env: String,
    pub episodes: u32,
    pub seed: u64,
    pub mean_return: f64,
    pub std_return: f64,
    pub min_return: f64,
    pub max_return: f64,
    pub success_threshold: Option<f64>,
    pub solved: Option<bool>,
}

/// Replays an MLP policy champion for `episodes` episodes from `seed`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use evonet::{Experiment, ExperimentConfig, Registry, StrategyConfig};
/// use evonet::replay::{load, replay_mlp, Loaded};
/// use evonet::strategies::DeepGaConfig;
/// let ga = StrategyConfig::DeepGa(DeepGaConfig {
///     population: 8, truncation: 2, sigma: 0.05, elite_candidates: 1, elite_episodes: 1,
/// });
/// let mut cfg = ExperimentConfig::on_env("CartPole-v1", ga, 1);
/// cfg.run.noise_table_size = 1 << 16;
/// let registry = Registry::builtin();
/// let out = std::env::temp_dir().join(format!("evonet-doc-replay-{}", std::process::id()));
/// Experiment::new("doc", cfg, &registry)?.session(&out).run()?;
/// let best = out.join("best");
/// let Loaded::Mlp(champion) = load(&best)? else { unreachable!() };
/// let report = replay_mlp(&best, &champion.body, &registry, 10, 0)?;
/// assert_eq!(report.env, "CartPole-v1");
/// assert!(report.mean_return >= 8.0); // CartPole pays 1 per step, at least 8 steps
/// # std::fs::remove_dir_all(&out).ok();
/// # Ok(()) }
/// ```
pub fn replay_mlp(
    file: &Path,
    c: &MlpChampion,
    registry: &Registry,
    episodes: u32,
    seed: u64,
) -> Result<ReplayReport, ChampionError> {
    check_fits(file, c, registry)?;
    let problem = env_problem(
        file,
        registry,
        &c.env,
        c.task,
        c.success_threshold,
        c.policy.clone(),
    )?;
    let policy = Decoded::Mlp(Policy {
        params: &c.params,
        obs_norm: c.obs_norm.as_ref(),
    });
    play(
        file,
        &problem,
        &policy,
        &c.env.id,
        c.success_threshold,
        episodes,
        seed,
    )
}

/// Replays a NEAT champion evolved on an environment.
pub fn replay_neat(
    file: &Path,
    c: &NeatChampion,
    registry: &Registry,
    episodes: u32,
    seed: u64,
) -> Result<ReplayReport, ChampionError> {
    let ProblemRef::Env {
        env,
        task,
        success_threshold,
        head,
    } = &c.problem
    else {
        return Err(ChampionError {
            file: file.to_path_buf(),
            message: "`problem`: not an environment (XOR replays with `xor_outputs`)".into(),
        });
    };
    let source = resolve(file, registry, env)?;
    let space = source
        .make_with(env.max_steps, &env.minatar)
        .spec()
        .action_space
        .clone();
    let mut spec = PolicySpec::new(
        c.graph.inputs,
        &space,
        Vec::new(),
        Activation::Identity,
        false,
    );
    spec.head = head.clone();
    let problem = env_problem(file, registry, env, *task, *success_threshold, spec)?;
    let output_activation = c
        .graph
        .nodes
        .first()
        .map_or(Activation::Identity, |n| n.activation);
    let net = GraphNet::new(&c.graph).map_err(|e| ChampionError {
        file: file.to_path_buf(),
        message: format!("`graph`: {e}"),
    })?;
    let policy = Decoded::Graph {
        net,
        output_activation,
    };
    play(
        file,
        &problem,
        &policy,
        &env.id,
        *success_threshold,
        episodes,
        seed,
    )
}

/// Refuses an MLP champion that does not fit its environment (edited or
/// damaged by hand): a zero step cap, a non-finite threshold or parameter,
/// a policy whose inputs or outputs are not the environment's, an
/// observation normalisation of another length or without a positive
/// spread.
fn check_fits(file: &Path, c: &MlpChampion, registry: &Registry) -> Result<(), ChampionError> {
    let fail = |message: String| ChampionError {
        file: file.to_path_buf(),
        message,
    };
    if c.env.max_steps == Some(0) {
        return Err(fail("`env.max_steps` is 0: no episode could run".into()));
    }
    if c.success_threshold.is_some_and(|t| !t.is_finite()) {
        return Err(fail("`success_threshold` is not a finite number".into()));
    }
    if let Some(i) = c.params.iter().position(|p| !p.is_finite()) {
        return Err(fail(format!("`params`: entry {i} is not a finite number")));
    }
    let env = resolve(file, registry, &c.env)?.make_with(c.env.max_steps, &c.env.minatar);
    let spec = env.spec();
    let outputs = Head::for_space(&spec.action_space).outputs();
    let (inputs, mlp) = (c.policy.obs_dim(), &c.policy.mlp);
    if inputs != spec.obs_dim || mlp.outputs != outputs {
        return Err(fail(format!(
            "`policy` maps {} inputs to {} outputs; {} needs {} to {}",
            inputs, mlp.outputs, spec.id, spec.obs_dim, outputs
        )));
    }
    if let Some(conv) = &c.policy.conv {
        if spec.frame != Some(conv.input) {
            return Err(fail(format!(
                "`policy.conv` takes {:?} frames; {} gives {:?}",
                conv.input, spec.id, spec.frame
            )));
        }
        conv.validate()
            .map_err(|e| fail(format!("`policy.conv`: {e}")))?;
        if conv.features() != mlp.inputs {
            return Err(fail(format!(
                "`policy.conv` gives {} features, `policy.mlp` takes {}",
                conv.features(),
                mlp.inputs
            )));
        }
    }
    if let Some(norm) = &c.obs_norm {
        if norm.mean.len() != spec.obs_dim || norm.std.len() != spec.obs_dim {
            return Err(fail(format!(
                "`obs_norm` holds {} means and {} deviations; observations have {}",
                norm.mean.len(),
                norm.std.len(),
                spec.obs_dim
            )));
        }
        let bad_std = norm.std.iter().any(|s| !(s.is_finite() && *s > 0.0));
        if bad_std || norm.mean.iter().any(|m| !m.is_finite()) {
            return Err(fail(
                "`obs_norm`: every mean must be finite and every deviation positive".into(),
            ));
        }
    }
    Ok(())
}

fn resolve(
    file: &Path,
    registry: &Registry,
    env: &EnvRef,
) -> Result<evonet_envs::EnvSource, ChampionError> {
    registry
        .open_env(&env.id, env.gym.as_deref())
        .map_err(|e| ChampionError {
            file: file.to_path_buf(),
            message: format!("`env.id`: {e}"),
        })
}

fn env_problem(
    file: &Path,
    registry: &Registry,
    env: &EnvRef,
    task: TaskKind,
    success_threshold: Option<f64>,
    policy: PolicySpec,
) -> Result<RlProblem, ChampionError> {
    let renv = RolloutEnv {
        env: resolve(file, registry, env)?,
        max_steps: env.max_steps,
        start_angle: env.start_angle_deg.map(f64::to_radians),
        minatar: env.minatar,
    };
    let task = Task {
        kind: task,
        test_episodes: 1,
        success_threshold,
    };
    Ok(RlProblem::new(renv, policy, 1, task))
}

fn play(
    file: &Path,
    problem: &RlProblem,
    policy: &Decoded<'_>,
    env_id: &str,
    success_threshold: Option<f64>,
    episodes: u32,
    seed: u64,
) -> Result<ReplayReport, ChampionError> {
    let eps = problem
        .play(policy, episodes, seed)
        .map_err(|e| ChampionError {
            file: file.to_path_buf(),
            message: format!("replay failed: {e}"),
        })?;
    let rets: Vec<f64> = eps.iter().map(|e| e.ret).collect();
    let s = summarize(&rets);
    Ok(ReplayReport {
        format_version: evonet_runner::FORMAT_VERSION,
        env: env_id.to_string(),
        episodes,
        seed,
        mean_return: s.mean,
        std_return: s.std,
        min_return: s.min,
        max_return: s.max,
        success_threshold,
        solved: success_threshold.map(|t| s.mean >= t),
    })
}
