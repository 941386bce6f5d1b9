//! CLI tests: they run the real `evonet` binary.

mod alps;
mod architecture;
mod common;
mod configs;
mod determinism;
mod distributed;
mod export;
mod faults;
mod folders;
mod gym;
mod halving;
mod minatar;
mod nas;
mod neat;
mod novelty;
mod nsga;
mod predictor;
mod resume;
