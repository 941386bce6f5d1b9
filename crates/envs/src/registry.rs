//! Environment ids, the enum that dispatches between them, and the
//! registry through which users add environments of their own.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::acrobot::Acrobot;
use crate::cartpole::CartPole;
use crate::double_pole::DoublePole;
use crate::maze::{InputLayout, Maze, MazeMap};
use crate::minatar::env::{MinAtarEnv, MinAtarGame, MinAtarSettings};
use crate::mountain_car::MountainCar;
use crate::mountain_car_continuous::MountainCarContinuous;
use crate::pendulum::Pendulum;
use crate::{Action, Env, EnvSpec, Step};

/// The environments compiled into evonet, by their Gymnasium id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvId {
    CartPole,
    Acrobot,
    MountainCar,
    MountainCarContinuous,
    Pendulum,
    /// Double pole with velocities (DPV).
    DoublePole,
    /// Double pole without velocities (DPNV).
    DoublePoleNoVelocities,
    /// A MinAtar game: `MinAtar/<Game>-v0` (full action set, `minimal` =
    /// false) or `-v1` (minimal action set).
    MinAtar {
        game: MinAtarGame,
        minimal: bool,
    },
    /// Lehman & Stanley's deceptive maze: `Maze/Medium-v0`, `Maze/Hard-v0`,
    /// and the reference code's input layout as `Maze/…Legacy-v0`.
    Maze {
        map: MazeMap,
        layout: InputLayout,
    },
}

/// An id that is neither built in nor registered.
#[derive(Debug, thiserror::Error)]
#[error("unknown environment `{id}`; available: {}", available.join(", "))]
pub struct UnknownEnv {
    pub id: String,
    /// Every id that would have been accepted, built-in ones first.
    pub available: Vec<String>,
}

const fn minatar(game: MinAtarGame, minimal: bool) -> EnvId {
    EnvId::MinAtar { game, minimal }
}

const fn maze(map: MazeMap, layout: InputLayout) -> EnvId {
    EnvId::Maze { map, layout }
}

impl EnvId {
    pub const ALL: [EnvId; 21] = [
        EnvId::CartPole,
        EnvId::Acrobot,
        EnvId::MountainCar,
        EnvId::MountainCarContinuous,
        EnvId::Pendulum,
        EnvId::DoublePole,
        EnvId::DoublePoleNoVelocities,
        minatar(MinAtarGame::Asterix, true),
        minatar(MinAtarGame::Breakout, true),
        minatar(MinAtarGame::Freeway, true),
        minatar(MinAtarGame::Seaquest, true),
        minatar(MinAtarGame::SpaceInvaders, true),
        minatar(MinAtarGame::Asterix, false),
        minatar(MinAtarGame::Breakout, false),
        minatar(MinAtarGame::Freeway, false),
        minatar(MinAtarGame::Seaquest, false),
        minatar(MinAtarGame::SpaceInvaders, false),
        maze(MazeMap::Medium, InputLayout::Fixed),
        maze(MazeMap::Hard, InputLayout::Fixed),
        maze(MazeMap::Medium, InputLayout::Legacy),
        maze(MazeMap::Hard, InputLayout::Legacy),
    ];

    pub fn name(self) -> &'static str {
        match self {
            EnvId::CartPole => "CartPole-v1",
            EnvId::Acrobot => "Acrobot-v1",
            EnvId::MountainCar => "MountainCar-v0",
            EnvId::MountainCarContinuous => "MountainCarContinuous-v0",
            EnvId::Pendulum => "Pendulum-v1",
            EnvId::DoublePole => "DoublePole-v0",
            EnvId::DoublePoleNoVelocities => "DoublePoleNoVelocities-v0",
            EnvId::MinAtar { game, minimal } => game.id(minimal),
            EnvId::Maze { map, layout } => Maze::id(map, layout),
        }
    }

    /// Whether its episodes end with a behaviour characterisation
    /// ([`Env::behavior`], what novelty search compares).
    pub fn defines_behavior(self) -> bool {
        let mut env = self.make(None);
        let mut obs = vec![0.0; env.spec().obs_dim];
        env.reset(0, &mut obs);
        !env.behavior().is_empty()
    }

    /// The MinAtar game, if it is one.
    pub fn minatar(self) -> Option<MinAtarGame> {
        match self {
            EnvId::MinAtar { game, .. } => Some(game),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Result<EnvId, UnknownEnv> {
        EnvId::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownEnv {
                id: s.to_string(),
                available: EnvId::ALL.iter().map(|e| e.name().to_string()).collect(),
            })
    }

    /// Builds the environment, with an optional override of its time limit.
    pub fn make(self, max_steps: Option<u64>) -> AnyEnv {
        self.make_with(max_steps, &MinAtarSettings::default())
    }

    /// Builds the environment; `minatar` applies to MinAtar games only.
    pub fn make_with(self, max_steps: Option<u64>, minatar: &MinAtarSettings) -> AnyEnv {
        match self {
            EnvId::CartPole => AnyEnv::CartPole(CartPole::new(max_steps)),
            EnvId::Acrobot => AnyEnv::Acrobot(Acrobot::new(max_steps)),
            EnvId::MountainCar => AnyEnv::MountainCar(MountainCar::new(max_steps)),
            EnvId::MountainCarContinuous => {
                AnyEnv::MountainCarContinuous(MountainCarContinuous::new(max_steps))
            }
            EnvId::Pendulum => AnyEnv::Pendulum(Pendulum::new(max_steps)),
            EnvId::DoublePole => AnyEnv::DoublePole(DoublePole::new(true, max_steps)),
            EnvId::DoublePoleNoVelocities => AnyEnv::DoublePole(DoublePole::new(false, max_steps)),
            EnvId::MinAtar { game, minimal } => {
                AnyEnv::MinAtar(MinAtarEnv::new(game, minimal, *minatar, max_steps))
            }
            EnvId::Maze { map, layout } => AnyEnv::Maze(Maze::new(map, layout, max_steps)),
        }
    }
}

/// Builds a user's environment; the argument overrides its time limit.
pub type MakeEnv = dyn Fn(Option<u64>) -> Box<dyn Env> + Send + Sync;
/// Builds `k` environments that step together (one message for all).
pub type MakeEnvs = dyn Fn(Option<u64>, usize) -> Vec<Box<dyn Env>> + Send + Sync;

/// An environment a user registered under an id of their choosing.
#[derive(Clone)]
pub struct CustomEnv {
    id: Arc<str>,
    make: Arc<MakeEnv>,
    /// What else decides the environment (a bridged one's kwargs and
    /// package versions): part of a problem's fingerprint.
    detail: Arc<str>,
    /// Makes a lockstep group at once, where the environment has a way to
    /// step them together.
    make_group: Option<Arc<MakeEnvs>>,
}

impl CustomEnv {
    /// An environment made by `make` (given an override of its time
    /// limit), known as `id`.
    pub fn new(
        id: &str,
        make: impl Fn(Option<u64>) -> Box<dyn Env> + Send + Sync + 'static,
    ) -> Self {
        Self {
            id: id.into(),
            make: Arc::new(make),
            detail: "".into(),
            make_group: None,
        }
    }

    /// The same environment, whose lockstep groups `make_group` makes (so
    /// that they can step together: see `Env::queue_step`).
    pub fn with_groups(
        mut self,
        make_group: impl Fn(Option<u64>, usize) -> Vec<Box<dyn Env>> + Send + Sync + 'static,
    ) -> Self {
        self.make_group = Some(Arc::new(make_group));
        self
    }

    /// The same environment, described further by `detail` (printed in
    /// problem fingerprints, so Redis workers that would build it
    /// differently refuse the run).
    pub fn with_detail(mut self, detail: &str) -> Self {
        self.detail = detail.into();
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Where a rollout's environments come from: one compiled into evonet
/// (static dispatch) or one a user registered (a `Box<dyn Env>` per episode).
#[derive(Clone)]
pub enum EnvSource {
    Builtin(EnvId),
    Custom(CustomEnv),
}

impl std::fmt::Debug for EnvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // As `EnvId` prints: problem fingerprints stay what they were.
            EnvSource::Builtin(id) => id.fmt(f),
            EnvSource::Custom(c) if c.detail.is_empty() => write!(f, "Custom({:?})", c.id()),
            EnvSource::Custom(c) => write!(f, "Custom({:?}, {})", c.id(), c.detail),
        }
    }
}

impl EnvSource {
    /// The id it was resolved from.
    pub fn name(&self) -> &str {
        match self {
            EnvSource::Builtin(id) => id.name(),
            EnvSource::Custom(c) => c.id(),
        }
    }

    /// The built-in environment, if it is one.
    pub fn builtin(&self) -> Option<EnvId> {
        match self {
            EnvSource::Builtin(id) => Some(*id),
            EnvSource::Custom(_) => None,
        }
    }

    /// Builds the environment, with an optional override of its time limit.
    pub fn make(&self, max_steps: Option<u64>) -> AnyEnv {
        self.make_with(max_steps, &MinAtarSettings::default())
    }

    /// Builds the environment; `minatar` applies to MinAtar games only.
    pub fn make_with(&self, max_steps: Option<u64>, minatar: &MinAtarSettings) -> AnyEnv {
        match self {
            EnvSource::Builtin(id) => id.make_with(max_steps, minatar),
            EnvSource::Custom(c) => AnyEnv::Custom((c.make)(max_steps)),
        }
    }

    /// `k` environments for the lockstep episodes of one rollout: made as
    /// a group where the environment steps groups together, else one by
    /// one.
    pub fn make_group(
        &self,
        k: usize,
        max_steps: Option<u64>,
        minatar: &MinAtarSettings,
    ) -> Vec<AnyEnv> {
        match self {
            EnvSource::Custom(CustomEnv {
                make_group: Some(group),
                ..
            }) => group(max_steps, k)
                .into_iter()
                .map(AnyEnv::Custom)
                .collect(),
            _ => (0..k).map(|_| self.make_with(max_steps, minatar)).collect(),
        }
    }
}

impl From<EnvId> for EnvSource {
    fn from(id: EnvId) -> Self {
        EnvSource::Builtin(id)
    }
}

/// An id registered twice, or one that shadows a built-in environment.
#[derive(Debug, thiserror::Error)]
#[error("environment id `{0}` is already taken")]
pub struct DuplicateEnv(pub String);

/// The environments a run may name: the built-in ones and those a user
/// registered. Ids resolve in a fixed order (built-ins, then user ids in
/// sorted order), so listing them never depends on a hash.
///
/// ```
/// use evonet_envs::{EnvRegistry, EnvId};
/// let mut envs = EnvRegistry::default();
/// envs.register("MyCartPole-v0", |max_steps| Box::new(EnvId::CartPole.make(max_steps)))
///     .unwrap();
/// assert_eq!(envs.resolve("MyCartPole-v0").unwrap().name(), "MyCartPole-v0");
/// assert!(envs.resolve("CartPole-v1").unwrap().builtin().is_some());
/// assert!(envs.resolve("Nope-v0").is_err());
/// ```
#[derive(Clone, Default)]
pub struct EnvRegistry {
    custom: BTreeMap<String, CustomEnv>,
}

impl EnvRegistry {
    /// Registers a user environment under `id`.
    pub fn register(
        &mut self,
        id: &str,
        make: impl Fn(Option<u64>) -> Box<dyn Env> + Send + Sync + 'static,
    ) -> Result<(), DuplicateEnv> {
        if EnvId::parse(id).is_ok() || self.custom.contains_key(id) {
            return Err(DuplicateEnv(id.to_string()));
        }
        self.custom.insert(id.to_string(), CustomEnv::new(id, make));
        Ok(())
    }

    /// The environment registered (or built in) under `id`.
    pub fn resolve(&self, id: &str) -> Result<EnvSource, UnknownEnv> {
        if let Ok(b) = EnvId::parse(id) {
            return Ok(EnvSource::Builtin(b));
        }
        self.custom
            .get(id)
            .map(|c| EnvSource::Custom(c.clone()))
            .ok_or_else(|| UnknownEnv {
                id: id.to_string(),
                available: self.ids(),
            })
    }

    /// Every id, built-in ones first.
    pub fn ids(&self) -> Vec<String> {
        EnvId::ALL
            .iter()
            .map(|e| e.name().to_string())
            .chain(self.custom.keys().cloned())
            .collect()
    }
}

/// Static dispatch over the built-in environments, dynamic over a user's.
#[expect(
    clippy::large_enum_variant,
    reason = "envs are built once per rollout and stepped in place"
)]
pub enum AnyEnv {
    CartPole(CartPole),
    Acrobot(Acrobot),
    MountainCar(MountainCar),
    MountainCarContinuous(MountainCarContinuous),
    Pendulum(Pendulum),
    DoublePole(DoublePole),
    MinAtar(MinAtarEnv),
    Maze(Maze),
    /// A user's environment (see [`EnvRegistry`]).
    Custom(Box<dyn Env>),
}

impl std::fmt::Debug for AnyEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AnyEnv({})", self.spec().id)
    }
}

macro_rules! dispatch {
    ($self:ident, $e:ident => $body:expr) => {
        match $self {
            AnyEnv::CartPole($e) => $body,
            AnyEnv::Acrobot($e) => $body,
            AnyEnv::MountainCar($e) => $body,
            AnyEnv::MountainCarContinuous($e) => $body,
            AnyEnv::Pendulum($e) => $body,
            AnyEnv::DoublePole($e) => $body,
            AnyEnv::MinAtar($e) => $body,
            AnyEnv::Maze($e) => $body,
            AnyEnv::Custom($e) => $body,
        }
    };
}

impl Env for AnyEnv {
    fn spec(&self) -> &EnvSpec {
        dispatch!(self, e => e.spec())
    }
    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        dispatch!(self, e => e.reset(seed, obs))
    }
    #[inline]
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        dispatch!(self, e => e.step(action, obs))
    }
    #[inline]
    fn prepare_step(&mut self) {
        dispatch!(self, e => e.prepare_step())
    }
    #[inline]
    fn queue_step(&mut self, action: Action<'_>) {
        dispatch!(self, e => e.queue_step(action))
    }
    fn state(&self) -> Vec<f64> {
        dispatch!(self, e => e.state())
    }
    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        dispatch!(self, e => e.set_state(state, obs))
    }
    fn behavior(&self) -> Vec<f32> {
        dispatch!(self, e => e.behavior())
    }
}
