//! The coordinator's side: an [`Evaluator`] that hands candidates to
//! workers through Redis and waits for their results.

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use evonet_core::{Candidate, Evaluated, Outcome, Problem, Transport};
use evonet_runner::{Evaluator, EvaluatorError};
use redis::streams::StreamReadReply;

use crate::error::DistError;
use crate::keys;
use crate::link::{now_ms, Link};
use crate::shared::encode_batch;
use crate::wire::{self, RunSpec, TaskResult, MAX_RESULT_BYTES};

/// What the coordinator is waiting for, reported about once a second.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitStatus {
    pub received: usize,
    pub total: usize,
    /// Workers that sent a heartbeat in the last few seconds.
    pub workers: u64,
    /// Seconds since this batch was sent.
    pub waiting_s: f64,
}

/// Lease default: this much beyond the slowest task seen.
const LEASE_MARGIN_MS: u64 = 3_000;
/// Lease before any result was seen.
const LEASE_FLOOR_MS: u64 = 5_000;
/// A worker counts as alive this long after its last heartbeat.
pub const WORKER_ALIVE_MS: u64 = 5_000;
/// A batch's shared parts expire this long after the coordinator last
/// renewed them (it renews them every second while it waits), so a
/// coordinator that dies leaves nothing behind for long.
const SHARED_TTL_MS: u64 = 120_000;
/// Tasks sent per pipeline.
const SEND_CHUNK: usize = 512;

/// Receives the waiting status about once a second.
type StatusFn = Box<dyn FnMut(&WaitStatus) + Send>;

pub struct RedisEvaluator<G> {
    link: Link,
    spec: RunSpec,
    session: u64,
    batch: u64,
    fixed_lease_ms: Option<u64>,
    slowest_held_ms: u64,
    results_from: String,
    published: bool,
    refusals_seen: std::collections::BTreeSet<String>,
    status: Option<StatusFn>,
    /// The current batch's shared parts, by index (kept to write them
    /// again if Redis loses them).
    shared: Vec<Vec<u8>>,
    /// Results that arrived twice (reclaimed tasks evaluated again).
    pub duplicates: u64,
    _genome: PhantomData<fn(G)>,
}

impl<G> RedisEvaluator<G> {
    /// `lease_ms`: fixed lease, or `None` for the default (a few seconds
    /// beyond the slowest task seen).
    /// A fixed lease below [`crate::heartbeat::MIN_LEASE_MS`] is raised to it.
    pub fn new(link: Link, spec: RunSpec, lease_ms: Option<u64>) -> Self {
        let lease_ms = lease_ms.map(|l| l.max(crate::heartbeat::MIN_LEASE_MS));
        // Identifies this process among earlier ones of the same run; it
        // never enters a result.
        let session = now_ms() ^ ((std::process::id() as u64) << 40);
        Self {
            link,
            spec,
            session,
            batch: 0,
            fixed_lease_ms: lease_ms,
            slowest_held_ms: 0,
            results_from: "0-0".into(),
            published: false,
            refusals_seen: Default::default(),
            status: None,
            shared: Vec::new(),
            duplicates: 0,
            _genome: PhantomData,
        }
    }

    /// Called about once a second while waiting for results.
    pub fn on_wait(&mut self, f: impl FnMut(&WaitStatus) + Send + 'static) {
        self.status = Some(Box::new(f));
    }

    pub fn lease_ms(&self) -> u64 {
        self.fixed_lease_ms
            .unwrap_or((self.slowest_held_ms + LEASE_MARGIN_MS).max(LEASE_FLOOR_MS))
    }

    /// Publishes the run: drops what an earlier process of this run left
    /// (tasks of an older session), creates the task stream and its group,
    /// and writes the spec. Run again after Redis lost its data.
    pub fn publish(&mut self, fresh: bool) -> Result<(), DistError> {
        let id = self.spec.run_id.clone();
        let spec = serde_json::to_string(&self.spec).expect("spec serialises");
        if spec.len() as u64 > wire::MAX_SPEC_BYTES {
            return Err(DistError::Payload(format!(
                "the run spec is {} bytes, over the {}-byte bound",
                spec.len(),
                wire::MAX_SPEC_BYTES
            )));
        }
        let lease = self.lease_ms();
        self.link.call(|con| {
            if fresh {
                redis::cmd("DEL")
                    .arg(keys::tasks(&id))
                    .arg(keys::results(&id))
                    .arg(keys::refusals(&id))
                    .query::<()>(con)?;
            }
            // Both streams exist from now on: workers add results with
            // NOMKSTREAM, so that a late result of a retired run cannot
            // leave a stream behind. (The coordinator reads results with
            // XREAD; the group on them only creates the empty stream.)
            for (stream, group) in [
                (keys::tasks(&id), keys::GROUP),
                (keys::results(&id), "evonet-coordinator"),
            ] {
                match redis::cmd("XGROUP")
                    .arg("CREATE")
                    .arg(stream)
                    .arg(group)
                    .arg("0")
                    .arg("MKSTREAM")
                    .query::<()>(con)
                {
                    Err(e) if e.code() == Some("BUSYGROUP") => {}
                    r => r?,
                }
            }
            redis::pipe()
                .cmd("SET")
                .arg(keys::spec(&id))
                .arg(&spec)
                .ignore()
                .cmd("SET")
                .arg(keys::lease(&id))
                .arg(lease)
                .ignore()
                .cmd("ZADD")
                .arg(keys::runs())
                .arg(now_ms())
                .arg(&id)
                .ignore()
                .query::<()>(con)
        })?;
        self.published = true;
        Ok(())
    }

    /// The Redis keys of the current batch's shared parts.
    fn shared_keys(&self) -> Vec<String> {
        (0..self.shared.len() as u32)
            .map(|index| {
                crate::shared::SharedKey {
                    session: self.session,
                    batch: self.batch,
                    index,
                }
                .redis_key(&self.spec.run_id)
            })
            .collect()
    }

    /// Writes the current batch's shared parts, before the tasks that name
    /// them (one at a time: each may be large).
    fn put_shared(&mut self) -> Result<(), DistError> {
        let keys = self.shared_keys();
        for (key, bytes) in keys.iter().zip(&self.shared) {
            self.link.call(|con| {
                redis::cmd("SET")
                    .arg(key)
                    .arg(bytes.as_slice())
                    .arg("PX")
                    .arg(SHARED_TTL_MS)
                    .query::<()>(con)
            })?;
        }
        Ok(())
    }

    fn send(&mut self, payloads: &[&Vec<u8>]) -> Result<(), DistError> {
        let key = keys::tasks(&self.spec.run_id);
        for chunk in payloads.chunks(SEND_CHUNK) {
            self.link.call(|con| {
                let mut p = redis::pipe();
                for b in chunk {
                    p.cmd("XADD")
                        .arg(&key)
                        .arg("*")
                        .arg(keys::FIELD)
                        .arg(b.as_slice())
                        .ignore();
                }
                p.query::<()>(con)
            })?;
        }
        Ok(())
    }

    /// Heartbeat, lease, worker count, refusals, and whether the run is
    /// still published (false: Redis lost its data).
    fn housekeeping(&mut self) -> Result<(bool, u64), DistError> {
        let id = self.spec.run_id.clone();
        let now = now_ms();
        let lease = self.lease_ms();
        let shared = self.shared_keys();
        let (exists, workers, refusals): (bool, u64, Vec<(String, String)>) =
            self.link.call(|con| {
                let mut p = redis::pipe();
                for key in &shared {
                    p.cmd("PEXPIRE").arg(key).arg(SHARED_TTL_MS).ignore();
                }
                p.cmd("EXISTS")
                    .arg(keys::spec(&id))
                    .cmd("ZCOUNT")
                    .arg(keys::workers())
                    .arg(now.saturating_sub(WORKER_ALIVE_MS))
                    .arg("+inf")
                    .cmd("HGETALL")
                    .arg(keys::refusals(&id))
                    .cmd("ZADD")
                    .arg(keys::runs())
                    .arg(now)
                    .arg(&id)
                    .ignore()
                    .cmd("SET")
                    .arg(keys::lease(&id))
                    .arg(lease)
                    .ignore()
                    .cmd("ZREMRANGEBYSCORE")
                    .arg(keys::workers())
                    .arg(0)
                    .arg(now.saturating_sub(60_000))
                    .ignore()
                    .query(con)
            })?;
        for (worker, why) in refusals {
            if self.refusals_seen.insert(worker.clone()) {
                tracing::error!("worker {worker} refused this run: {why}");
            }
        }
        Ok((exists, workers))
    }

    fn evaluate_batch(
        &mut self,
        candidates: Vec<Candidate<G>>,
    ) -> Result<Vec<Evaluated<G>>, DistError>
    where
        G: Transport,
    {
        if !self.published {
            self.publish(true)?;
        }
        self.batch += 1;
        let n = candidates.len();
        let batch = encode_batch(&candidates, &self.spec.run_id, self.session, self.batch)?;
        self.shared = batch.shared;
        let payloads = batch.tasks;
        // Candidate ids are handed out in increasing order within a batch;
        // fall back to a scan if a strategy does otherwise.
        let ids: Vec<u64> = candidates.iter().map(|c| c.id.0).collect();
        let sorted = ids.windows(2).all(|w| w[0] < w[1]);
        let slot_of = |id: u64| {
            if sorted {
                ids.binary_search(&id).ok()
            } else {
                ids.iter().position(|x| *x == id)
            }
        };
        let mut slots: Vec<Option<Outcome>> = vec![None; n];
        let mut received = 0usize;
        self.put_shared()?;
        self.send(&payloads.iter().collect::<Vec<_>>())?;

        let results_key = keys::results(&self.spec.run_id);
        let sent_at = Instant::now();
        let mut last_house = Instant::now();
        let mut last_progress = Instant::now();
        let mut reconnections = self.link.reconnections;
        while received < n {
            let from = self.results_from.clone();
            let reply: Option<StreamReadReply> = self.link.call(|con| {
                redis::cmd("XREAD")
                    .arg("COUNT")
                    .arg(1024)
                    .arg("BLOCK")
                    .arg(250)
                    .arg("STREAMS")
                    .arg(&results_key)
                    .arg(&from)
                    .query(con)
            })?;
            for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
                self.results_from = entry.id.clone();
                let Some(redis::Value::BulkString(bytes)) = entry.map.get(keys::FIELD) else {
                    tracing::warn!("result entry {} has no payload; ignored", entry.id);
                    continue;
                };
                let r: TaskResult = match wire::decode(bytes, MAX_RESULT_BYTES, "result") {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!("result entry {}: {e}; ignored", entry.id);
                        continue;
                    }
                };
                if r.session != self.session || r.batch != self.batch {
                    continue;
                }
                match slot_of(r.candidate) {
                    Some(i) if slots[i].is_none() => {
                        self.slowest_held_ms = self.slowest_held_ms.max(r.held_ms);
                        slots[i] = Some(r.outcome);
                        received += 1;
                        last_progress = Instant::now();
                    }
                    Some(_) => self.duplicates += 1,
                    None => tracing::warn!(
                        "result for unknown candidate #{} from {}; ignored",
                        r.candidate,
                        r.worker
                    ),
                }
            }
            let reconnected = self.link.reconnections != reconnections;
            if received < n && (reconnected || last_house.elapsed() >= Duration::from_secs(1)) {
                last_house = Instant::now();
                reconnections = self.link.reconnections;
                let (published, workers) = self.housekeeping()?;
                // After a reconnection, or a long silence with workers
                // present, the server may have lost tasks (a restart
                // without persistence, or with an old snapshot): publish
                // again and re-send what is missing. A task evaluated twice
                // costs time, never a wrong count: duplicates are dropped.
                let stalled = workers > 0
                    && last_progress.elapsed()
                        > Duration::from_millis(4 * self.lease_ms()).max(Duration::from_secs(60));
                if !published || reconnected || stalled {
                    if !published {
                        tracing::warn!("the run is gone from Redis (restarted without its data?); publishing it again");
                        self.results_from = "0-0".into();
                    }
                    self.publish(false)?;
                    self.put_shared()?;
                    let missing: Vec<&Vec<u8>> = (0..n)
                        .filter(|i| slots[*i].is_none())
                        .map(|i| &payloads[i])
                        .collect();
                    tracing::warn!("re-sending {} tasks without a result", missing.len());
                    self.send(&missing)?;
                    last_progress = Instant::now();
                }
                let status = WaitStatus {
                    received,
                    total: n,
                    workers,
                    waiting_s: sent_at.elapsed().as_secs_f64(),
                };
                if let Some(f) = self.status.as_mut() {
                    f(&status);
                }
            }
        }
        // Everything of this batch is in: drop its entries (late duplicates
        // are dropped with them; their ids are checked anyway).
        let id = self.spec.run_id.clone();
        let last = self.results_from.clone();
        let shared = self.shared_keys();
        self.shared.clear();
        self.link.call(|con| {
            let mut p = redis::pipe();
            if !shared.is_empty() {
                p.cmd("DEL").arg(&shared).ignore();
            }
            p.cmd("XTRIM")
                .arg(keys::tasks(&id))
                .arg("MAXLEN")
                .arg(0)
                .ignore()
                .cmd("XTRIM")
                .arg(keys::results(&id))
                .arg("MINID")
                .arg(&last)
                .ignore()
                .query::<()>(con)
        })?;
        Ok(candidates
            .into_iter()
            .zip(slots)
            .map(|(candidate, o)| Evaluated {
                candidate,
                outcome: o.expect("every slot was filled"),
            })
            .collect())
    }

    /// Takes the run off the list of published runs (at the end of a run).
    pub fn retire(&mut self) -> Result<(), DistError> {
        let id = self.spec.run_id.clone();
        self.link.call(|con| {
            redis::pipe()
                .cmd("ZREM")
                .arg(keys::runs())
                .arg(&id)
                .ignore()
                .cmd("DEL")
                .arg(keys::tasks(&id))
                .arg(keys::results(&id))
                .arg(keys::spec(&id))
                .arg(keys::lease(&id))
                .arg(keys::refusals(&id))
                .ignore()
                .query::<()>(con)
        })
    }
}

impl<G: Transport> Evaluator<G> for RedisEvaluator<G> {
    fn evaluate(
        &mut self,
        _problem: &dyn Problem<G>,
        candidates: Vec<Candidate<G>>,
    ) -> Result<Vec<Evaluated<G>>, EvaluatorError> {
        self.evaluate_batch(candidates)
            .map_err(|e| EvaluatorError(e.to_string()))
    }
}
