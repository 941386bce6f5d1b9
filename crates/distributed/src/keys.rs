//! Redis key names. Every key carries the protocol version, so evonet
//! versions with different wire formats never read each other's entries.

use crate::wire::PROTOCOL_VERSION;

/// Sorted set of published runs, scored by the coordinator's last
/// heartbeat (Unix milliseconds).
pub fn runs() -> String {
    format!("evonet:v{PROTOCOL_VERSION}:runs")
}

/// Sorted set of workers, scored by their last heartbeat.
pub fn workers() -> String {
    format!("evonet:v{PROTOCOL_VERSION}:workers")
}

fn run(id: &str, what: &str) -> String {
    format!("evonet:v{PROTOCOL_VERSION}:run:{id}:{what}")
}

/// The run's [`crate::RunSpec`].
pub fn spec(id: &str) -> String {
    run(id, "spec")
}

/// Stream of tasks (consumer group [`GROUP`]).
pub fn tasks(id: &str) -> String {
    run(id, "tasks")
}

/// Stream of results, read by the coordinator.
pub fn results(id: &str) -> String {
    run(id, "results")
}

/// Part `index` of what the tasks of batch `batch` of coordinator session
/// `session` share (an OpenAI-ES centre), written before the tasks and
/// deleted after the batch; it expires if the coordinator dies.
pub fn shared(id: &str, session: u64, batch: u64, index: u32) -> String {
    run(id, &format!("shared:{session:x}:{batch}:{index}"))
}

/// Current lease in milliseconds: how long a task may stay unacknowledged
/// before another worker takes it over.
pub fn lease(id: &str) -> String {
    run(id, "lease_ms")
}

/// Hash worker name → why it refused the run.
pub fn refusals(id: &str) -> String {
    run(id, "refusals")
}

/// The consumer group of every task stream.
pub const GROUP: &str = "evonet-workers";

/// Field of a stream entry that holds its payload.
pub const FIELD: &str = "p";
