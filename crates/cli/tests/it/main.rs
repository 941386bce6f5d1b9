//! CLI tests: they run the real `evonet` binary.

mod common;
mod configs;
mod determinism;
mod faults;
mod resume;
