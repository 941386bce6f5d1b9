//! Integration tests of evonet-envs.
//!
//! `parity`: replays Gymnasium trajectories recorded by
//! `scripts/record_gym_fixtures.py` from every `*.jsonl.gz` in the folder named
//! by `EVONET_PARITY_DIR` (default: `tests/fixtures`), and requires every
//! observation within 1e-4, every reward within 1e-6, and `terminated` /
//! `truncated` exactly.

mod parity;
mod rollouts;
