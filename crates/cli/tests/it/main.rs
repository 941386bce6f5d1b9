//! CLI tests: they run the real `evonet` binary.

mod architecture;
mod common;
mod configs;
mod determinism;
mod distributed;
mod faults;
mod neat;
mod resume;
