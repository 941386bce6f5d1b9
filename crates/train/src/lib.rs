//! Training for architecture search (issue 4, in progress): datasets first.
//!
//! `data` loads labelled image sets (IDX as MNIST and Fashion-MNIST,
//! CIFAR-10's binary batches, CSV with one pixel per column) into one
//! in-memory form, and splits them deterministically into train,
//! validation and test parts. Every malformed file is an error naming the
//! file and what is wrong with it. The network builder and trainer (burn,
//! design.md) come next.

pub mod data;

pub use data::{DataError, Dataset, Split, Splits};
