//! `evonet eval`: replay a saved champion on fresh episodes.

use std::path::Path;

use anyhow::Result;

use evonet_envs::EnvId;
use evonet_problems::rl::summarize;
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{Policy, RlProblem, Task};

use crate::champion::{ChampionFile, KIND};
use crate::user;

pub fn load(path: &Path) -> Result<ChampionFile> {
    let file = if path.is_dir() {
        path.join("champion.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| user(format!("{}: cannot read champion: {e}", file.display())))?;
    let c: ChampionFile = serde_json::from_str(&text)
        .map_err(|e| user(format!("{}: not a champion file: {e}", file.display())))?;
    if c.format_version != evonet_runner::FORMAT_VERSION {
        return Err(user(format!(
            "{}: champion format version {}, this evonet reads version {}",
            file.display(),
            c.format_version,
            evonet_runner::FORMAT_VERSION
        )));
    }
    if c.kind != KIND {
        return Err(user(format!(
            "{}: `kind` is `{}`, expected `{KIND}`",
            file.display(),
            c.kind
        )));
    }
    if c.params.len() != c.policy.mlp.n_params() {
        return Err(user(format!(
            "{}: `params` holds {} numbers, the policy needs {}",
            file.display(),
            c.params.len(),
            c.policy.mlp.n_params()
        )));
    }
    Ok(c)
}

pub fn eval(path: &Path, episodes: u32, seed: u64, json: bool) -> Result<()> {
    if episodes == 0 {
        return Err(user("--episodes must be at least 1"));
    }
    let c = load(path)?;
    let env =
        EnvId::parse(&c.env.id).map_err(|e| user(format!("{}: `env.id`: {e}", path.display())))?;
    let renv = RolloutEnv {
        env,
        max_steps: c.env.max_steps,
        start_angle: c.env.start_angle_deg.map(f64::to_radians),
    };
    let task = Task {
        kind: c.task,
        test_episodes: episodes,
        success_threshold: c.success_threshold,
    };
    let problem = RlProblem::new(renv, c.policy.clone(), 1, task);
    let policy = Policy {
        params: &c.params,
        obs_norm: c.obs_norm.as_ref(),
    };
    let eps = problem
        .play(&policy, episodes, seed)
        .map_err(|e| anyhow::anyhow!("replay failed: {e}"))?;
    let rets: Vec<f64> = eps.iter().map(|e| e.ret).collect();
    let s = summarize(&rets);
    let solved = c.success_threshold.map(|t| s.mean >= t);
    if json {
        println!(
            "{}",
            serde_json::json!({
                "format_version": evonet_runner::FORMAT_VERSION,
                "env": c.env.id,
                "episodes": episodes,
                "seed": seed,
                "mean_return": s.mean,
                "std_return": s.std,
                "min_return": s.min,
                "max_return": s.max,
                "success_threshold": c.success_threshold,
                "solved": solved,
            })
        );
    } else {
        println!("{} over {episodes} episodes (seed {seed}):", c.env.id);
        println!(
            "  mean {:.3}  std {:.3}  min {:.3}  max {:.3}",
            s.mean, s.std, s.min, s.max
        );
        if let (Some(t), Some(ok)) = (c.success_threshold, solved) {
            println!(
                "  {} the success threshold {t}",
                if ok { "meets" } else { "misses" }
            );
        }
    }
    Ok(())
}
