//! Vocabulary and traits shared by every part of evonet.
//!
//! A run is a loop of `Strategy::ask` → evaluation of [`Candidate`]s by a
//! [`Problem`] → `Strategy::tell`. Everything that decides the result lives in
//! plain serde data (strategy state, seeds, counters), so a checkpoint is
//! `config + state` and resume is exact.
//!
//! This crate does no IO and spawns no threads.

pub mod axpy;
pub mod below;
pub mod candidate;
pub mod conformance;
pub mod genome;
pub mod limits;
pub mod noise;
pub mod problem;
pub mod seed;
pub mod shaping;
pub mod stats;
pub mod strategy;
pub mod transport;
pub mod variation;

pub use below::Below;
pub use candidate::{
    Candidate, CandidateId, Cost, EvalRequest, Evaluated, Evaluation, Origin, Outcome,
};
pub use genome::{Perturbation, Perturbed, PolicyParams, SeedChain, SeedMutation};
pub use noise::NoiseTable;
pub use problem::{EvalError, Problem, TestReport};
pub use seed::{derive_seed, Purpose, SeededRng};
pub use stats::RunningStats;
pub use strategy::{Champion, SpeciesRecord, Strategy, StrategyError, TellReport};
pub use transport::Transport;
pub use variation::Variation;
