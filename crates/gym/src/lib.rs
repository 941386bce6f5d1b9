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

pub mod process;
pub mod protocol;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use evonet_envs::{Action, CustomEnv, Env, EnvSource, EnvSpec, Step};

use crate::process::Process;
use crate::protocol::{Description, MakeError};

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

    fn step_timeout(&self) -> Duration {
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
struct Layout {
    spec: EnvSpec,
    obs_bytes: bool,
    versions: Vec<String>,
}

/// A bridged environment, ready to give rollouts their environments.
pub struct GymSource {
    settings: GymSettings,
    layout: Arc<Layout>,
    pool: Arc<Mutex<Vec<Process>>>,
}

impl std::fmt::Debug for GymSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GymSource({:?})", self.settings)
    }
}

impl GymSource {
    /// Starts a bridge, makes the environment, and keeps the bridge.
    pub fn open(settings: GymSettings) -> Result<Self, GymError> {
        let (process, description) = start(&settings)?;
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
        };
        Ok(Self {
            settings,
            layout: Arc::new(layout),
            pool: Arc::new(Mutex::new(vec![process])),
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
        let make = move |_max_steps: Option<u64>| -> Box<dyn Env> {
            Box::new(GymEnv {
                settings: settings.clone(),
                layout: Arc::clone(&layout),
                pool: Arc::clone(&pool),
                process: None,
            })
        };
        // Kwargs, time limit and versions decide the environment; the
        // Python and its path only find it (a worker uses its own).
        let detail = format!(
            "kwargs {} max_steps {:?} step_timeout_s {} [{}]",
            serde_json::Value::from(
                self.settings
                    .kwargs
                    .clone()
                    .into_iter()
                    .collect::<serde_json::Map<_, _>>()
            ),
            self.settings.max_steps,
            self.settings.step_timeout_s,
            self.layout.versions.join(", ")
        );
        EnvSource::Custom(CustomEnv::new(&self.layout.spec.id, make).with_detail(&detail))
    }

    /// Bridge processes alive in the pool (not lent to an environment).
    pub fn idle_processes(&self) -> Vec<u32> {
        lock(&self.pool).iter().map(Process::pid).collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts a bridge and makes the environment in it.
fn start(settings: &GymSettings) -> Result<(Process, Description), GymError> {
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
        "envs": 1,
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
            Ok((process, d))
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

/// One environment of a rollout, in a bridge borrowed from the pool.
pub struct GymEnv {
    settings: GymSettings,
    layout: Arc<Layout>,
    pool: Arc<Mutex<Vec<Process>>>,
    process: Option<Process>,
}

impl GymEnv {
    /// The bridge this environment uses: its own, one from the pool, or a
    /// fresh one.
    fn process(&mut self) -> &mut Process {
        if self.process.is_none() {
            let pooled = lock(&self.pool).pop();
            let p = match pooled {
                Some(p) => p,
                None => match start(&self.settings) {
                    Ok((p, _)) => p,
                    Err(e) => panic!("{}: {e}", self.layout.spec.id),
                },
            };
            self.process = Some(p);
        }
        self.process.as_mut().expect("set just above")
    }

    /// Sends a request; a Python exception, a dead or hung bridge fail the
    /// evaluation (a panic the evaluator records).
    fn request(&mut self, kind: u8, body: &[u8], expect: u8) -> Vec<u8> {
        let timeout = self.settings.step_timeout();
        let id = self.layout.spec.id.clone();
        let reply = self.process().request(kind, body, timeout);
        match reply {
            Ok((k, body)) if k == expect => body,
            Ok((protocol::ERROR, text)) => {
                panic!("{id}: Python raised {}", String::from_utf8_lossy(&text))
            }
            Ok((k, _)) => {
                self.process = None;
                panic!("{id}: the bridge sent an unexpected reply {:?}", k as char)
            }
            Err(fault) => {
                // The process is stopped; the next evaluation starts another.
                self.process = None;
                panic!("{id}: {fault}")
            }
        }
    }

    fn read_obs(&mut self, body: &[u8], at: usize, obs: &mut [f32]) {
        if let Err(e) = protocol::read_obs(body, at, self.layout.obs_bytes, obs) {
            self.process = None;
            panic!("{}: {e}", self.layout.spec.id);
        }
    }
}

impl Env for GymEnv {
    fn spec(&self) -> &EnvSpec {
        &self.layout.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        let body = self.request(
            protocol::RESET,
            &protocol::reset_body(&[(0, seed)]),
            protocol::OBSERVATIONS,
        );
        self.read_obs(&body, 0, obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let body = self.request(
            protocol::STEP,
            &protocol::step_body(&[(0, action)]),
            protocol::STEPPED,
        );
        let (reward, terminated, truncated, at) = match protocol::read_step(&body, 0) {
            Ok(s) => s,
            Err(e) => {
                self.process = None;
                panic!("{}: {e}", self.layout.spec.id)
            }
        };
        self.read_obs(&body, at, obs);
        Step {
            reward,
            terminated,
            truncated,
        }
    }

    fn state(&self) -> Vec<f64> {
        Vec::new()
    }

    /// Bridged environments start from seeds only.
    fn set_state(&mut self, _state: &[f64], _obs: &mut [f32]) {
        panic!(
            "{}: bridged environments start from a seed only",
            self.layout.spec.id
        )
    }
}

impl Drop for GymEnv {
    /// A healthy bridge goes back to the pool.
    fn drop(&mut self) {
        if let Some(p) = self.process.take() {
            lock(&self.pool).push(p);
        }
    }
}
