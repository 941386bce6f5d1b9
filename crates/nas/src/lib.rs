//! Evolutionary neural architecture search, in the three parts of Elsken,
//! Metzen & Hutter's survey (JMLR 2019):
//!
//! - search space: [`chain_space`] (chains of predefined blocks whose
//!   hyperparameters evolve, at most `max_layers` long) and [`cell_space`]
//!   (NASNet's normal and reduction cells, with AmoebaNet's hidden-state,
//!   op and identity mutations); [`space`] makes either one `Variation`;
//! - search strategy: the generic strategies of `evonet-strategies` over
//!   the space's [`evonet_core::Variation`] (aging evolution, the
//!   truncation GA with crossover, random sampling);
//! - performance estimation: [`problem`] trains each candidate at a low
//!   fidelity and scores it on validation data; [`final_stage`] retrains
//!   the best at full fidelity and scores them once on the test split;
//!   [`features`] encodes an architecture for a learned performance
//!   predictor (`evonet-strategies`' screening);
//!   [`ensemble`] combines them (Caruana et al. 2004).
//!
//! [`data`] loads the images named by a config. The training backend
//! stays behind `evonet-train`.

pub mod cell_space;
pub mod chain_space;
pub mod data;
pub mod ensemble;
pub mod features;
pub mod final_stage;
pub mod problem;
pub mod space;

pub use cell_space::{CellSpace, CellSpaceConfig};
pub use chain_space::{ChainSpace, ChainSpaceConfig, Op};
pub use data::DataConfig;
pub use final_stage::{
    select_top, summarize, Found, NasSummary, RetrainProblem, RetrainResult, RetrainedRow,
    SearchCounts,
};
pub use problem::{Fidelity, FinalTraining, NasProblem, Retrained};
pub use space::{SearchSpace, SearchSpaceConfig};
