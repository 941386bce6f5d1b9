//! Any Gymnasium environment as an evonet [`Env`]: `gym:<id>` runs
//! `gymnasium.make(<id>, **kwargs)` in a Python bridge process and steps it
//! over a binary protocol ([`protocol`]).
//!
//! - [`GymSource::open`] starts a first bridge, makes the environment and
//!   reads its spaces: a missing Python, gymnasium or extra, or an unknown
//!   id, is a [`GymError`] before a run starts, naming what to install.
//! - Its [`GymSource::env_source`] gives the rollouts their environments:
//!   each takes a bridge from the source's pool (or starts one) and gives
//!   it back when dropped, so a run keeps about one process per evaluation
//!   thread.
//! - Every episode starts with `reset(seed=...)` from evonet's seed, and
//!   actions come from evonet's policy: the bridge never samples, so a run
//!   is the same for any thread count or worker count.
//! - A Python exception in reset or step, a dead bridge or one that does
//!   not answer within the step timeout makes the evaluation fail (the
//!   `Env` trait's methods cannot return errors, so [`GymEnv`] panics and
//!   the evaluator records a failed evaluation with the message); a dead or
//!   hung bridge is stopped and the next evaluation starts a fresh one.

mod env;
pub mod process;
pub mod protocol;
pub mod wrappers;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use evonet_envs::{CustomEnv, Env, EnvSource, EnvSpec};

pub use crate::env::GymEnv;
use crate::env::{Bridge, Pool};
use crate::process::Process;
use crate::protocol::{Description, MakeError};
pub use crate::wrappers::Wrapper;

/// The prefix of bridged ids in configs.
pub const PREFIX: &str = "gym:";

/// Default time a step (or reset) may take before the bridge is stopped.
pub const DEFAULT_STEP_TIMEOUT_S: f64 = 60.0;
/// Time a make may take (imports of gymnasium, mujoco or ale-py included).
const MAKE_TIMEOUT: Duration = Duration::from_secs(300);

/// How to make the environment: what `[env]` says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GymSettings {
    /// The id `gymnasium.make` takes (without `gym:`).
    pub id: String,
    /// Keyword arguments of `gymnasium.make`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kwargs: BTreeMap<String, serde_json::Value>,
    /// The Python to run (`None`: `EVONET_PYTHON`, else `python3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// Folders put before `PYTHONPATH`, where a user's environment module
    /// lives (for ids such as `my_module:MyEnv-v0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub python_path: Vec<String>,
    /// Seconds a reset or step may take.
    pub step_timeout_s: f64,
    /// Gymnasium's TimeLimit override (`max_episode_steps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u64>,
    /// Wrappers around the environment, innermost first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wrappers: Vec<Wrapper>,
}

impl GymSettings {
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_string(),
            kwargs: BTreeMap::new(),
            python: None,
            python_path: Vec::new(),
            step_timeout_s: DEFAULT_STEP_TIMEOUT_S,
            max_steps: None,
            wrappers: Vec::new(),
        }
    }

    /// The Python this resolves to.
    pub fn python(&self) -> String {
        self.python
            .clone()
            .or_else(|| {
                std::env::var("EVONET_PYTHON")
                    .ok()
                    .filter(|p| !p.is_empty())
            })
            .unwrap_or_else(|| "python3".into())
    }

    pub(crate) fn step_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.step_timeout_s)
    }
}

/// Why the environment cannot be made. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum GymError {
    #[error("cannot run Python `{python}` ({reason}): install Python 3 or name one with [env] python or EVONET_PYTHON")]
    NoPython { python: String, reason: String },
    #[error("{message}: {install}")]
    Missing { message: String, install: String },
    #[error("gymnasium cannot make `{id}`: {message}")]
    Make { id: String, message: String },
    #[error("the bridge failed while making `{id}`: {reason}")]
    Bridge { id: String, reason: String },
    #[error("`{id}`: {reason}")]
    Unsupported { id: String, reason: String },
}

/// What a bridge answered to make, shared by every bridge of a source.
#[derive(Debug)]
pub(crate) struct Layout {
    pub spec: EnvSpec,
    pub obs_bytes: bool,
    pub versions: Vec<String>,
    /// The behaviour characterisation the bridge computes, if any.
    pub behavior: Option<String>,
}

impl Layout {
    /// Bytes of one environment's observation in a reply.
    pub fn obs_len(&self) -> usize {
        self.spec.obs_dim * if self.obs_bytes { 1 } else { 4 }
    }
}

/// A bridged environment, ready to give rollouts their environments.
pub struct GymSource {
    settings: GymSettings,
    layout: Arc<Layout>,
    pool: Pool,
}

impl std::fmt::Debug for GymSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GymSource({:?})", self.settings)
    }
}

impl GymSource {
    /// Starts a bridge, makes the environment, and keeps the bridge.
    pub fn open(settings: GymSettings) -> Result<Self, GymError> {
        let (bridge, description) = start(&settings, 1)?;
        let unsupported = |reason: String| GymError::Unsupported {
            id: settings.id.clone(),
            reason,
        };
        let obs_dim = description.obs_dim().map_err(unsupported)?;
        let action_space = description.action_space().map_err(unsupported)?;
        let spec = EnvSpec {
            id: format!("{PREFIX}{}", settings.id),
            obs_dim,
            frame: description.frame(),
            action_space,
            max_episode_steps: description.max_episode_steps.unwrap_or(u64::MAX),
            reward_threshold: description.reward_threshold,
        };
        let layout = Layout {
            spec,
            obs_bytes: description.obs_bytes(),
            versions: description.version_lines(),
            behavior: description.behavior.clone(),
        };
        Ok(Self {
            settings,
            layout: Arc::new(layout),
            pool: Arc::new(Mutex::new(vec![bridge])),
        })
    }

    pub fn spec(&self) -> &EnvSpec {
        &self.layout.spec
    }

    pub fn settings(&self) -> &GymSettings {
        &self.settings
    }

    /// `python 3.12.3`, `gymnasium 1.2.0`, ...: part of a problem's
    /// fingerprint, so that Redis workers with other versions refuse.
    pub fn versions(&self) -> &[String] {
        &self.layout.versions
    }

    /// The environments of rollouts, from this source's pool of bridges.
    pub fn env_source(&self) -> EnvSource {
        let (settings, layout, pool) = (
            self.settings.clone(),
            Arc::clone(&self.layout),
            Arc::clone(&self.pool),
        );
        // The time limit is the source's (`settings.max_steps`): every
        // bridge of the pool made the environment with it.
        let group = move |_max_steps: Option<u64>, k: usize| -> Vec<Box<dyn Env>> {
            GymEnv::group(&settings, &layout, &pool, k)
                .into_iter()
                .map(|e| Box::new(e) as Box<dyn Env>)
                .collect()
        };
        let single = group.clone();
        let make = move |max_steps: Option<u64>| -> Box<dyn Env> {
            single(max_steps, 1).pop().expect("a group of one")
        };
        // Kwargs, time limit and versions decide the environment; the
        // Python and its path only find it (a worker uses its own).
        let detail = format!(
            "kwargs {} max_steps {:?} wrappers {:?} step_timeout_s {} [{}]",
            serde_json::Value::from(
                self.settings
                    .kwargs
                    .clone()
                    .into_iter()
                    .collect::<serde_json::Map<_, _>>()
            ),
            self.settings.max_steps,
            self.settings.wrappers,
            self.settings.step_timeout_s,
            self.layout.versions.join(", ")
        );
        EnvSource::Custom(
            CustomEnv::new(&self.layout.spec.id, make)
                .with_detail(&detail)
                .with_groups(group),
        )
    }

    /// The behaviour characterisation episodes end with (`method`,
    /// `centre_of_mass`, `ram`), or `None`.
    pub fn behavior(&self) -> Option<&str> {
        self.layout.behavior.as_deref()
    }

    /// Bridge processes alive in the pool (not lent to an environment).
    pub fn idle_processes(&self) -> Vec<u32> {
        lock(&self.pool).iter().map(|b| b.process.pid()).collect()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts a bridge and makes `envs` copies of the environment in it.
pub(crate) fn start(
    settings: &GymSettings,
    envs: usize,
) -> Result<(Bridge, Description), GymError> {
    let python = settings.python();
    let mut process =
        Process::spawn(&python, &settings.python_path).map_err(|e| GymError::NoPython {
            python: python.clone(),
            reason: e.to_string(),
        })?;
    let request = serde_json::json!({
        "id": settings.id,
        "kwargs": settings.kwargs,
        "max_episode_steps": settings.max_steps,
        "wrappers": settings.wrappers,
        "envs": envs,
    });
    let bridge = |reason: String| GymError::Bridge {
        id: settings.id.clone(),
        reason,
    };
    let (kind, body) = process
        .request(protocol::MAKE, request.to_string().as_bytes(), MAKE_TIMEOUT)
        .map_err(|f| bridge(f.to_string()))?;
    match kind {
        protocol::SPACES => {
            let d: Description = serde_json::from_slice(&body)
                .map_err(|e| bridge(format!("malformed spaces: {e}")))?;
            Ok((Bridge { process, envs }, d))
        }
        protocol::ERROR => {
            let e: MakeError = serde_json::from_slice(&body)
                .map_err(|e| bridge(format!("malformed error: {e}")))?;
            Err(match e.kind.as_str() {
                "missing_module" => GymError::Missing {
                    message: e.message,
                    install: e.install,
                },
                _ => GymError::Make {
                    id: settings.id.clone(),
                    message: e.message,
                },
            })
        }
        k => Err(bridge(format!("unexpected reply {:?}", k as char))),
    }
}
