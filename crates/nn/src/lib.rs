//! Forward-only f32 runtime for evolved networks. Knows nothing of evolution.
//!
//! - [`Mlp`]: a multilayer perceptron over a flat parameter vector, optionally
//!   with Elman recurrence in its hidden layers, evaluated one row or several
//!   rows (episodes in lockstep) at a time without allocating.
//! - [`ConvTorso`]: convolutions over frames before an MLP (the DQN
//!   torsos), exploiting sparse binary frames.
//! - [`GraphNet`]: networks of any topology (NEAT phenotypes), feed-forward
//!   in topological order or recurrent with one step per tick.
//! - [`activation`]: activations, including a vectorisable rational tanh.
//! - [`normalize`]: observation normalisation as in OpenAI ES.

pub mod activation;
mod compile;
pub mod conv;
pub mod graph;
pub mod mlp;
mod nonzero;
pub mod normalize;

pub use activation::Activation;
pub use conv::{ConvBuffers, ConvError, ConvLayer, ConvSpec, ConvTorso};
pub use graph::{
    GraphEdge, GraphError, GraphNet, GraphNode, GraphSpec, GraphState, GraphWorkspace,
};
pub use mlp::{Mlp, MlpBuffers, MlpError, MlpSpec};
