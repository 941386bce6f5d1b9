//! Forward-only f32 runtime for evolved networks. Knows nothing of evolution.
//!
//! - [`Mlp`]: a multilayer perceptron over a flat parameter vector, optionally
//!   with Elman recurrence in its hidden layers, evaluated one row or several
//!   rows (episodes in lockstep) at a time without allocating.
//! - [`activation`]: activations, including a vectorisable rational tanh.
//! - [`normalize`]: observation normalisation as in OpenAI ES.

pub mod activation;
pub mod mlp;
pub mod normalize;

pub use activation::Activation;
pub use mlp::{Mlp, MlpBuffers, MlpError, MlpSpec};
