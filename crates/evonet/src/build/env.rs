//! An environment problem built from `[env]`, with a policy of the given
//! shape (NEAT passes no hidden layers: only the action head is used).

use evonet_envs::{AnyEnv, Env, EnvSource, EnvSpec};
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
        let mut env = source.make_with(cfg.max_steps, &minatar);
        let spec = env.spec().clone();
        if ctx.config.novelty.is_some() && source.builtin().is_none() {
            check_behavior(ctx, &mut env, &cfg.id)?;
        }
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

/// Novelty search compares the behaviour an episode ends with: the start
/// of one episode shows whether a user's or a bridged environment defines
/// one (the built-in ones are known when the config is checked).
fn check_behavior(ctx: &BuildContext<'_>, env: &mut AnyEnv, id: &str) -> Result<(), BuildError> {
    let probe = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut obs = vec![0.0; env.spec().obs_dim];
        env.reset(0, &mut obs);
        env.behavior()
    }));
    match probe {
        Ok(b) if !b.is_empty() => Ok(()),
        Ok(_) => Err(ctx.error(
            "env.id",
            format!(
                "`{}` defines no behaviour characterisation, which novelty search compares: give the environment a `behavior()` method that returns it as numbers (MuJoCo environments have their centre of mass built in, Atari games their RAM)",
                id
            ),
        )),
        Err(panic) => Err(ctx.error(
            "env.id",
            format!(
                "`{id}`: starting an episode to read its behaviour failed: {}",
                evonet_runner::panic_message(panic.as_ref())
            ),
        )),
    }
}
