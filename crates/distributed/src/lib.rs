//! Distributed evaluation through Redis (design.md section 7), after the
//! systems behind OpenAI ES and Uber's Deep GA, which spread evaluation over
//! hundreds of cores through Redis.
//!
//! - The coordinator ([`RedisEvaluator`]) publishes a run once
//!   ([`RunSpec`]: the resolved config and a fingerprint of the problem),
//!   then per batch of candidates writes one task per candidate to the run's
//!   task stream (`XADD`) and collects results from its result stream.
//! - Workers ([`Worker`]) read tasks through one consumer group
//!   (`XREADGROUP`), evaluate them with all local cores, write results and
//!   acknowledge (`XACK`). Entries held by a dead worker are reclaimed by
//!   live ones once idle past the run's lease (`XAUTOCLAIM`).
//! - The coordinator keeps the first result per candidate id and ignores
//!   duplicates and results of other sessions, so a reclaimed task that was
//!   evaluated twice is counted once. Results are returned in the order the
//!   candidates were asked: the run is bit-identical to a local one.
//! - Redis restarts are survived: both sides reconnect with backoff; if the
//!   server lost its data, the coordinator publishes the run again and
//!   re-sends the tasks still missing a result.
//!
//! Nothing a payload says is executed: a task names a candidate id, a seed
//! and a genome for one of the problems compiled into evonet; every payload
//! is size-checked before it is decoded.

pub mod coordinator;
pub mod error;
pub mod fingerprint;
pub mod heartbeat;
pub mod job;
pub mod keys;
pub mod link;
pub mod shared;
pub mod testing;
pub mod wire;
pub mod worker;

pub use coordinator::{RedisEvaluator, WaitStatus};
pub use error::DistError;
pub use fingerprint::Fingerprint;
pub use job::{admit, Job, JobFactory, ProblemJob};
pub use link::{Link, RedisTarget};
pub use shared::{SharedBytes, SharedKey};
pub use wire::{RunSpec, PROTOCOL_VERSION};
pub use worker::{Worker, WorkerOptions};
