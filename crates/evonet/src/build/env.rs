//! An environment problem built from `[env]`, with a policy of the given
//! shape (NEAT passes no hidden layers: only the action head is used).

use evonet_envs::{Env, EnvSource, EnvSpec};
use evonet_nn::{Activation, ConvSpec};
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind};

use crate::build::{BuildContext, BuildError};
use crate::champion::EnvRef;
use crate::config::PolicyConfig;

/// The policy a problem is built with.
pub(crate) enum PolicyChoice<'a> {
    /// NEAT: only the action head is used.
    HeadOnly,
    /// `[policy]`, or its absence: an MLP of the defaults, or over frames
    /// MinAtar's DQN network (16 filters of 3×3, dense 128, ReLU).
    Config(Option<&'a PolicyConfig>),
}

impl PolicyChoice<'_> {
    fn spec(&self, ctx: &BuildContext<'_>, env: &EnvSpec) -> Result<PolicySpec, BuildError> {
        let cfg = match self {
            PolicyChoice::HeadOnly => {
                let p = PolicySpec::new(
                    env.obs_dim,
                    &env.action_space,
                    vec![],
                    Activation::Identity,
                    false,
                );
                return Ok(p);
            }
            PolicyChoice::Config(c) => c
                .cloned()
                .unwrap_or_else(|| PolicyConfig::default_over(env.frame.is_some())),
        };
        let p = PolicySpec::new(
            env.obs_dim,
            &env.action_space,
            cfg.hidden,
            cfg.activation,
            cfg.recurrent,
        );
        let Some(layers) = cfg.conv else {
            return Ok(p);
        };
        let frame = env.frame.ok_or_else(|| {
            ctx.error(
                "policy.conv",
                format!(
                    "`{}` gives flat observations; convolutions need frames",
                    env.id
                ),
            )
        })?;
        let conv = ConvSpec {
            input: frame,
            layers,
            activation: cfg.activation,
        };
        conv.validate()
            .map_err(|e| ctx.error("policy.conv", e.to_string()))?;
        Ok(p.with_conv(conv))
    }
}

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
        choice: PolicyChoice<'_>,
    ) -> Result<Self, BuildError> {
        let cfg = ctx
            .config
            .env
            .as_ref()
            .ok_or_else(|| ctx.error("env", "missing: give [env] (an environment id)"))?;
        let gym = cfg.gym_settings();
        let source: EnvSource = ctx
            .registry
            .open_env(&cfg.id, gym.as_ref())
            .map_err(|e| ctx.error("env.id", e))?;
        let minatar = cfg.minatar_settings();
        let spec = source.make_with(cfg.max_steps, &minatar).spec().clone();
        let policy = choice.spec(ctx, &spec)?;
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
            gym: gym.map(Box::new),
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
