//! Problems: what a candidate is evaluated on.
//!
//! [`RlProblem`] decodes a genome (a flat parameter vector, a Deep GA seed
//! chain, or a NEAT genome) into a policy network and runs it on a native environment, several
//! episodes in lockstep so the forward pass is a small matrix product. It
//! also runs each task's success test on champions (CartPole-v1: mean return
//! ≥ 475 over 100 fresh episodes; DPV: 100,000 steps; DPNV: 100,000 steps
//! then ≥ 200 of the 625 generalisation starts).
//!
//! [`XorProblem`] is NEAT's first benchmark (Stanley & Miikkulainen 2002,
//! section 5.1).
//!
//! [`FunctionProblem`] is a fitness function over a flat parameter vector
//! (black-box optimisation; a user's closure).
//!
//! No IO, no threads: evaluators call `Problem::evaluate` from any thread.

pub mod controller;
pub mod decode;
pub mod faults;
pub mod function;
pub mod policy;
pub mod rl;
pub mod rollout;
pub mod xor;

pub use faults::Faults;
pub use function::FunctionProblem;
pub use policy::{Head, Policy, PolicySpec};
pub use rl::{Decoded, RlProblem, Task, TaskKind};
pub use xor::XorProblem;
