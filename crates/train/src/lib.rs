//! Training for architecture search.
//!
//! `data` loads labelled image sets (IDX as MNIST and Fashion-MNIST,
//! CIFAR-10's binary batches, CSV with one pixel per column) into one
//! in-memory form, and splits them deterministically into train,
//! validation and test parts. Every malformed file is an error naming the
//! file and what is wrong with it. `arch` describes chain networks and
//! `cell` NASNet-style cell networks (an `architecture::Arch` is either);
//! `model` and `cell_model` build them with burn (Flex backend) from a
//! seed of evonet's own, and `trainer` trains it by backprop (Adam, a
//! constant or cosine learning rate from `schedule`, shifts and flips from
//! `augment`) with seeded shuffling and dropout masks and scores it.
//! `latency` times one image through a network on this CPU.
//! `weights` stores a trained network in a versioned, checksummed file;
//! `onnx` exports it for other runtimes.

pub mod arch;
pub mod architecture;
pub mod augment;
pub mod cell;
pub mod cell_model;
pub mod data;
pub mod latency;
mod layers;
pub mod model;
pub mod onnx;
pub mod schedule;
pub mod trainer;
pub mod weights;

pub use arch::{Activation, ArchError, Block, ChainArch, Cost};
pub use architecture::Arch;
pub use augment::Augment;
pub use cell::{Cell, CellArch, CellBlock, CellOp};
pub use data::{DataError, Dataset, Split, Splits};
pub use latency::inference_latency;
pub use model::Net;
pub use schedule::LrSchedule;
pub use trainer::{
    accuracy, logits, memory_estimate, predict, train, TrainConfig, TrainError, Trained,
};
pub use weights::{NamedTensor, WeightsError};
