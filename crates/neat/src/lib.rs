//! NEAT, NeuroEvolution of Augmenting Topologies (Stanley & Miikkulainen
//! 2002, Evolutionary Computation 10(2):99–127), one concern per file:
//!
//! - [`genome`]: node and connection genes, decoding to `evonet_nn::GraphSpec`;
//! - [`innovation`]: innovation numbers shared within a generation;
//! - [`distance`]: the compatibility distance δ;
//! - [`species`]: speciation, threshold steering, stagnation bookkeeping;
//! - [`mutation`], [`crossover`]: variation operators ([`links`]: the
//!   link and reachability sets add-link asks);
//! - [`reproduction`]: fitness sharing, offspring allocation, breeding;
//! - [`neat`]: the ask/tell strategy tying them together;
//! - [`variation`]: the same operators for strategies that select parents
//!   themselves (ALPS), with structural innovation numbers;
//! - [`config`]: settings with neat-python's names and two presets.
//!
//! No IO, no threads; every random draw comes from a stream derived from
//! (run seed, generation, index, purpose).

pub mod config;
pub mod crossover;
pub mod distance;
pub mod genome;
pub mod innovation;
pub mod links;
pub mod mutation;
pub mod neat;
pub mod reproduction;
pub mod species;
pub mod variation;

pub use config::{
    DisabledGenes, MutationScheme, NeatConfig, NeatParams, Perturbation, Preset, Representative,
    WeightInit, WeightMutation,
};
pub use genome::{ConnGene, GenomeError, Layout, NeatGenome, NodeGene, NodeKind};
pub use neat::{Neat, NeatState};
pub use variation::NeatVariation;
