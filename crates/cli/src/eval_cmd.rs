//! `evonet eval`: replay a saved champion on fresh episodes (or, for XOR,
//! on the four patterns).

use std::path::{Path, PathBuf};

use anyhow::Result;

use evonet_envs::EnvId;
use evonet_nn::{Activation, GraphNet};
use evonet_problems::rl::summarize;
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::xor::{xor_outputs, xor_score, XOR_INPUTS};
use evonet_problems::{Decoded, Policy, PolicySpec, RlProblem, Task, TaskKind};

use crate::champion::{ChampionFile, EnvRef, NeatChampionFile, ProblemRef, KIND, NEAT_KIND};
use crate::user;

/// A champion file of either kind.
pub enum Loaded {
    Mlp(ChampionFile),
    Neat(NeatChampionFile),
}

/// `best/` or a file: the champion JSON's path.
pub fn champion_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("champion.json")
    } else {
        path.to_path_buf()
    }
}

pub fn load(path: &Path) -> Result<Loaded> {
    let file = champion_path(path);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| user(format!("{}: cannot read champion: {e}", file.display())))?;
    let bad = |e: serde_json::Error| user(format!("{}: not a champion file: {e}", file.display()));
    let v: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
    let version = v.get("format_version").and_then(|x| x.as_u64());
    if version != Some(evonet_runner::FORMAT_VERSION as u64) {
        return Err(user(format!(
            "{}: `format_version` is {}, this evonet reads version {}",
            file.display(),
            version.map_or("missing".to_string(), |x| x.to_string()),
            evonet_runner::FORMAT_VERSION
        )));
    }
    match v.get("kind").and_then(|k| k.as_str()) {
        Some(KIND) => {
            let c: ChampionFile = serde_json::from_value(v).map_err(bad)?;
            if c.params.len() != c.policy.mlp.n_params() {
                return Err(user(format!(
                    "{}: `params` holds {} numbers, the policy needs {}",
                    file.display(),
                    c.params.len(),
                    c.policy.mlp.n_params()
                )));
            }
            Ok(Loaded::Mlp(c))
        }
        Some(NEAT_KIND) => {
            let c: NeatChampionFile = serde_json::from_value(v).map_err(bad)?;
            GraphNet::new(&c.graph)
                .map_err(|e| user(format!("{}: `graph`: {e}", file.display())))?;
            c.genome
                .check()
                .map_err(|e| user(format!("{}: `genome`: {e}", file.display())))?;
            Ok(Loaded::Neat(c))
        }
        other => Err(user(format!(
            "{}: `kind` is {}, expected `{KIND}` or `{NEAT_KIND}`",
            file.display(),
            other.map_or("missing".to_string(), |k| format!("`{k}`"))
        ))),
    }
}

pub fn eval(path: &Path, episodes: u32, seed: u64, json: bool) -> Result<()> {
    if episodes == 0 {
        return Err(user("--episodes must be at least 1"));
    }
    if path.join("weights.evow").exists() {
        return crate::nas_final::eval(path, json);
    }
    match load(path)? {
        Loaded::Mlp(c) => {
            let problem = env_problem(path, &c.env, c.task, c.success_threshold, c.policy.clone())?;
            let policy = Decoded::Mlp(Policy {
                params: &c.params,
                obs_norm: c.obs_norm.as_ref(),
            });
            replay(
                &problem,
                &policy,
                &c.env.id,
                c.success_threshold,
                episodes,
                seed,
                json,
            )
        }
        Loaded::Neat(c) => match &c.problem {
            ProblemRef::Xor => eval_xor(&c, json),
            ProblemRef::Env {
                env,
                task,
                success_threshold,
                head,
            } => {
                let probe = parse_env(path, env)?.make(env.max_steps);
                let space = evonet_envs::Env::spec(&probe).action_space.clone();
                let mut spec = PolicySpec::new(
                    c.graph.inputs,
                    &space,
                    Vec::new(),
                    Activation::Identity,
                    false,
                );
                spec.head = head.clone();
                let problem = env_problem(path, env, *task, *success_threshold, spec)?;
                let output_activation = c
                    .graph
                    .nodes
                    .first()
                    .map_or(Activation::Identity, |n| n.activation);
                let net = GraphNet::new(&c.graph).expect("checked on load");
                let policy = Decoded::Graph {
                    net,
                    output_activation,
                };
                replay(
                    &problem,
                    &policy,
                    &env.id,
                    *success_threshold,
                    episodes,
                    seed,
                    json,
                )
            }
        },
    }
}

fn parse_env(path: &Path, env: &EnvRef) -> Result<EnvId> {
    EnvId::parse(&env.id).map_err(|e| user(format!("{}: `env.id`: {e}", path.display())))
}

fn env_problem(
    path: &Path,
    env: &EnvRef,
    task: TaskKind,
    success_threshold: Option<f64>,
    policy: PolicySpec,
) -> Result<RlProblem> {
    let renv = RolloutEnv {
        env: parse_env(path, env)?,
        max_steps: env.max_steps,
        start_angle: env.start_angle_deg.map(f64::to_radians),
    };
    let task = Task {
        kind: task,
        test_episodes: 1,
        success_threshold,
    };
    Ok(RlProblem::new(renv, policy, 1, task))
}

fn replay(
    problem: &RlProblem,
    policy: &Decoded<'_>,
    env_id: &str,
    success_threshold: Option<f64>,
    episodes: u32,
    seed: u64,
    json: bool,
) -> Result<()> {
    let eps = problem
        .play(policy, episodes, seed)
        .map_err(|e| anyhow::anyhow!("replay failed: {e}"))?;
    let rets: Vec<f64> = eps.iter().map(|e| e.ret).collect();
    let s = summarize(&rets);
    let solved = success_threshold.map(|t| s.mean >= t);
    if json {
        println!(
            "{}",
            serde_json::json!({
                "format_version": evonet_runner::FORMAT_VERSION,
                "env": env_id,
                "episodes": episodes,
                "seed": seed,
                "mean_return": s.mean,
                "std_return": s.std,
                "min_return": s.min,
                "max_return": s.max,
                "success_threshold": success_threshold,
                "solved": solved,
            })
        );
    } else {
        println!("{env_id} over {episodes} episodes (seed {seed}):");
        println!(
            "  mean {:.3}  std {:.3}  min {:.3}  max {:.3}",
            s.mean, s.std, s.min, s.max
        );
        if let (Some(t), Some(ok)) = (success_threshold, solved) {
            println!(
                "  {} the success threshold {t}",
                if ok { "meets" } else { "misses" }
            );
        }
    }
    Ok(())
}

fn eval_xor(c: &NeatChampionFile, json: bool) -> Result<()> {
    let out = xor_outputs(&c.graph).map_err(|e| anyhow::anyhow!("XOR replay failed: {e}"))?;
    let (fitness, solved) = xor_score(&out);
    if json {
        println!(
            "{}",
            serde_json::json!({
                "format_version": evonet_runner::FORMAT_VERSION,
                "task": "xor",
                "outputs": out,
                "fitness": fitness,
                "solved": solved,
                "hidden_nodes": c.graph.hidden(),
                "enabled_conns": c.graph.edges.len(),
            })
        );
    } else {
        println!("XOR:");
        for (x, o) in XOR_INPUTS.iter().zip(out) {
            println!("  {} {} -> {o:.4}", x[0], x[1]);
        }
        println!(
            "  fitness {fitness:.4} of 16, {} ({} hidden nodes, {} enabled connections)",
            if solved { "solved" } else { "not solved" },
            c.graph.hidden(),
            c.graph.edges.len()
        );
    }
    Ok(())
}
