//! What travels through Redis, and the bounds every payload is checked
//! against before it is decoded.
//!
//! Tasks and results are postcard (compact, exact for floats); the run spec
//! is JSON, so that a person can read it with `redis-cli GET`.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use evonet_core::{EvalRequest, Outcome};

/// Version of the keys and payloads below. A change of any of them bumps it.
/// 7: a result carries the evaluation's behaviour characterisation
/// (novelty search); 6: a task names the part it shares with its batch (OpenAI-ES's centre,
/// written once per batch) instead of carrying it; 5: a result carries the evaluation's artifact (the weights of a final
/// retraining) and a run spec its stage; 4: postcard payloads (3 and
/// before: bincode 1.3).
pub const PROTOCOL_VERSION: u32 = 7;

/// Largest task payload (a genome and its request).
pub const MAX_TASK_BYTES: u64 = 16 << 20;
/// Largest result payload (an outcome with observation statistics, or the
/// trained weights of an architecture's final retraining).
pub const MAX_RESULT_BYTES: u64 = 64 << 20;
/// Largest part shared by a batch's tasks (an OpenAI-ES centre: 32 million
/// parameters).
pub const MAX_SHARED_BYTES: u64 = 128 << 20;
/// Largest run spec (the resolved config and the problem description).
pub const MAX_SPEC_BYTES: u64 = 1 << 20;

/// A run as published for workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub protocol: u32,
    /// `CARGO_PKG_VERSION` of the coordinator: workers of another version
    /// refuse the run.
    pub evonet_version: String,
    pub run_id: String,
    /// Which problem of the config the tasks are for: `""` for the search,
    /// `"final"` for an architecture search's final retraining.
    #[serde(default)]
    pub stage: String,
    /// The resolved config (TOML) the workers build the problem from.
    pub config: String,
    /// What the coordinator built from it, line by line, and its hash:
    /// a worker rebuilds the problem and must arrive at the same.
    pub problem: String,
    pub problem_hash: String,
    /// Human hint shown by workers (the coordinator's host and folder).
    pub origin: String,
}

/// One candidate to evaluate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// The run (also named by the stream's key; checked by the worker).
    pub run: String,
    /// Identifies the coordinator process: results of an earlier process
    /// of the same run (before a crash and resume) are not mixed in.
    pub session: u64,
    pub batch: u64,
    pub candidate: u64,
    pub request: EvalRequest,
    /// The part of the genome shared with other tasks of the batch, by its
    /// index among the batch's shared parts ([`crate::keys::shared`]).
    pub shared: Option<u32>,
    /// postcard of the genome's own part (the whole genome when nothing is
    /// shared).
    pub genome: Vec<u8>,
}

/// The result of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    pub session: u64,
    pub batch: u64,
    pub candidate: u64,
    pub outcome: Outcome,
    /// Milliseconds from the worker receiving the task's chunk to sending
    /// this result: what the lease must cover.
    pub held_ms: u64,
    pub worker: String,
}

/// Encodes `v`, failing if it exceeds `limit` bytes.
pub fn encode<T: Serialize>(v: &T, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let bytes = postcard::to_allocvec(v).map_err(|e| format!("{what} does not encode: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "{what} of {} bytes does not fit the {limit}-byte bound",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// Decodes `bytes`, refusing anything over `limit` bytes before reading it.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], limit: u64, what: &str) -> Result<T, String> {
    if bytes.len() as u64 > limit {
        return Err(format!(
            "{what} of {} bytes exceeds the {limit}-byte bound",
            bytes.len()
        ));
    }
    // A forged length prefix cannot allocate much: serde preallocates at
    // most 1 MiB of a sequence, and reading stops at the slice's end.
    postcard::from_bytes(bytes).map_err(|e| format!("malformed {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use evonet_core::{Cost, Evaluation};

    #[test]
    fn results_round_trip_exactly() {
        let r = TaskResult {
            session: 7,
            batch: 3,
            candidate: 11,
            outcome: Outcome::Done(Evaluation {
                fitness: 0.1 + 0.2,
                cost: Cost {
                    env_steps: 5,
                    episodes: 1,
                },
                obs_stats: None,
                details: Vec::new(),
                solved: true,
                artifact: Vec::new(),
                behavior: None,
            }),
            held_ms: 4,
            worker: "w".into(),
        };
        let b = encode(&r, MAX_RESULT_BYTES, "result").unwrap();
        let back: TaskResult = decode(&b, MAX_RESULT_BYTES, "result").unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn oversized_and_malformed_payloads_are_refused() {
        let t = Task {
            run: "r".into(),
            session: 1,
            batch: 1,
            candidate: 1,
            request: EvalRequest::new(3),
            shared: Some(1),
            genome: vec![0; 100],
        };
        assert!(encode(&t, 50, "task").unwrap_err().contains("50-byte"));
        let b = encode(&t, MAX_TASK_BYTES, "task").unwrap();
        assert!(decode::<Task>(&b, 50, "task")
            .unwrap_err()
            .contains("exceeds"));
        assert!(decode::<Task>(&b[..20], MAX_TASK_BYTES, "task")
            .unwrap_err()
            .contains("malformed"));
        // A length prefix claiming far more than the bound is refused
        // without allocating it: the genome (the last field) of an empty
        // task given a varint length of 2^63.
        let empty = Task {
            genome: vec![],
            ..t.clone()
        };
        let mut evil = encode(&empty, MAX_TASK_BYTES, "task").unwrap();
        assert_eq!(evil.pop(), Some(0), "the genome's length comes last");
        evil.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
        assert!(decode::<Task>(&evil, MAX_TASK_BYTES, "task")
            .unwrap_err()
            .contains("malformed"));
    }
}
