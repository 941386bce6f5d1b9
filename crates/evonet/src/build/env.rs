//! An environment problem built from `[env]`, with a policy of the given
//! shape (NEAT passes no hidden layers: only the action head is used).

use evonet_envs::{Env, EnvSource, EnvSpec};
use evonet_nn::Activation;
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind};

use crate::build::{BuildContext, BuildError};
use crate::champion::EnvRef;

pub(crate) struct EnvSetup {
    pub spec: EnvSpec,
    pub policy: PolicySpec,
    pub task: Task,
    pub env: EnvRef,
    pub problem: RlProblem,
}

impl EnvSetup {
    pub(crate) fn new(
        ctx: &BuildContext<'_>,
        hidden: Vec<usize>,
        activation: Activation,
        recurrent: bool,
    ) -> Result<Self, BuildError> {
        let cfg = ctx
            .config
            .env
            .as_ref()
            .ok_or_else(|| ctx.error("env", "missing: give [env] (an environment id)"))?;
        let source: EnvSource = ctx
            .registry
            .envs()
            .resolve(&cfg.id)
            .map_err(|e| ctx.error("env.id", e.to_string()))?;
        let minatar = cfg.minatar_settings();
        let spec = source.make_with(cfg.max_steps, &minatar).spec().clone();
        let policy = PolicySpec::new(
            spec.obs_dim,
            &spec.action_space,
            hidden,
            activation,
            recurrent,
        );
        let task = Task {
            kind: TaskKind::for_env(&source),
            test_episodes: cfg.test_episodes,
            success_threshold: cfg.success_threshold.or(spec.reward_threshold),
        };
        let env = EnvRef {
            id: source.name().to_string(),
            max_steps: cfg.max_steps,
            start_angle_deg: cfg.start_angle_deg,
            minatar,
        };
        let renv = RolloutEnv {
            env: source,
            max_steps: cfg.max_steps,
            start_angle: cfg.start_angle_deg.map(f64::to_radians),
            minatar,
        };
        let problem = RlProblem::new(renv, policy.clone(), cfg.episodes, task.clone())
            .with_faults(cfg.faults.clone());
        Ok(Self {
            spec,
            policy,
            task,
            env,
            problem,
        })
    }
}
