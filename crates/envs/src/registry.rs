//! Environment ids and the enum that dispatches between them.

use serde::{Deserialize, Serialize};

use crate::acrobot::Acrobot;
use crate::cartpole::CartPole;
use crate::double_pole::DoublePole;
use crate::mountain_car::MountainCar;
use crate::mountain_car_continuous::MountainCarContinuous;
use crate::pendulum::Pendulum;
use crate::{Action, Env, EnvSpec, Step};

/// The environments compiled into evonet, by their Gymnasium id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnvId {
    #[serde(rename = "CartPole-v1")]
    CartPole,
    #[serde(rename = "Acrobot-v1")]
    Acrobot,
    #[serde(rename = "MountainCar-v0")]
    MountainCar,
    #[serde(rename = "MountainCarContinuous-v0")]
    MountainCarContinuous,
    #[serde(rename = "Pendulum-v1")]
    Pendulum,
    /// Double pole with velocities (DPV).
    #[serde(rename = "DoublePole-v0")]
    DoublePole,
    /// Double pole without velocities (DPNV).
    #[serde(rename = "DoublePoleNoVelocities-v0")]
    DoublePoleNoVelocities,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown environment `{0}`; available: {list}", list = EnvId::ALL.iter().map(|e| e.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownEnv(pub String);

impl EnvId {
    pub const ALL: [EnvId; 7] = [
        EnvId::CartPole,
        EnvId::Acrobot,
        EnvId::MountainCar,
        EnvId::MountainCarContinuous,
        EnvId::Pendulum,
        EnvId::DoublePole,
        EnvId::DoublePoleNoVelocities,
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
        }
    }

    pub fn parse(s: &str) -> Result<EnvId, UnknownEnv> {
        EnvId::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownEnv(s.to_string()))
    }

    /// Builds the environment, with an optional override of its time limit.
    pub fn make(self, max_steps: Option<u64>) -> AnyEnv {
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
        }
    }
}

/// Static dispatch over the built-in environments.
#[derive(Debug, Clone)]
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
    fn state(&self) -> Vec<f64> {
        dispatch!(self, e => e.state())
    }
    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        dispatch!(self, e => e.set_state(state, obs))
    }
}
