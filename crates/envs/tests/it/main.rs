//! Integration tests of evonet-envs.
//!
//! `parity`: replays Gymnasium trajectories recorded by
//! `scripts/record_gym_fixtures.py` from every `*.jsonl.gz` in the folder named
//! by `EVONET_PARITY_DIR` (default: `tests/fixtures`), and requires every
//! observation within 1e-4, every reward within 1e-6, and `terminated` /
//! `truncated` exactly.
//!
//! `minatar`: replays MinAtar 1.0.15 trajectories (`minatar-*.jsonl.gz`,
//! recorded by `scripts/record_minatar_fixtures.sh`) bit for bit.
//!
//! `numpy_random`: numpy's legacy `RandomState` draws, recorded by
//! `scripts/record_numpy_random.py`, reproduced exactly.

mod minatar;
mod numpy_random;
mod parity;
mod rollouts;
