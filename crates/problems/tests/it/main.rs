//! Integration tests of evonet-problems.

mod alloc;
mod tasks;
