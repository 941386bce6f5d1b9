//! The worker's side: join every run published on a Redis server, build
//! its problem (only problems compiled into evonet), and evaluate its tasks
//! with all local cores.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use serde::de::DeserializeOwned;

use evonet_core::{Candidate, CandidateId, Cost, Outcome, Problem};
use evonet_runner::evaluate_one;

use crate::error::DistError;
use crate::fingerprint::Fingerprint;
use crate::keys;
use crate::link::{now_ms, Link};
use crate::wire::{
    self, RunSpec, Task, TaskResult, MAX_RESULT_BYTES, MAX_SPEC_BYTES, MAX_TASK_BYTES,
};

/// Evaluates the tasks of one run.
pub trait Job: Send + Sync {
    /// One outcome per task, in order; a genome that does not decode is a
    /// failed evaluation.
    fn evaluate(&self, tasks: &[Task], pool: &rayon::ThreadPool) -> Vec<Outcome>;
}

/// A [`Job`] for a problem over genomes of type `G`.
pub struct ProblemJob<G, P> {
    problem: P,
    _genome: PhantomData<fn() -> G>,
}

impl<G, P> ProblemJob<G, P> {
    pub fn new(problem: P) -> Self {
        Self {
            problem,
            _genome: PhantomData,
        }
    }
}

impl<G, P> Job for ProblemJob<G, P>
where
    G: DeserializeOwned + Send + Sync,
    P: Problem<G> + Send + Sync,
{
    fn evaluate(&self, tasks: &[Task], pool: &rayon::ThreadPool) -> Vec<Outcome> {
        let one = |t: &Task| match wire::decode::<G>(&t.genome, MAX_TASK_BYTES, "genome") {
            Ok(genome) => evaluate_one(
                &self.problem,
                &Candidate {
                    id: CandidateId(t.candidate),
                    genome,
                    request: t.request,
                },
            ),
            Err(reason) => Outcome::Failed {
                reason,
                cost: Cost::default(),
            },
        };
        if pool.current_num_threads() == 1 {
            return tasks.iter().map(one).collect();
        }
        pool.install(|| tasks.par_iter().with_max_len(1).map(one).collect())
    }
}

/// Builds the job of a published run: parses its config, builds the
/// problem, and says what it built (the worker compares that with the
/// coordinator's fingerprint). An error is a refusal, shown to both sides.
pub trait JobFactory {
    fn prepare(
        &self,
        spec: &RunSpec,
        pool: &rayon::ThreadPool,
    ) -> Result<(Box<dyn Job>, Fingerprint), String>;
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Unique among workers; shown in logs and refusals.
    pub name: String,
    /// Evaluation threads (0: all cores).
    pub threads: usize,
    /// This worker's evonet version: runs of another version are refused.
    pub version: String,
    /// Exit after this long without any published run (None: never).
    pub idle_exit: Option<Duration>,
    /// Set to leave after the chunk in hand.
    pub stop: Arc<AtomicBool>,
}

/// How often the heartbeat thread renews the tasks in hand; leases must be
/// longer ([`MIN_LEASE_MS`]).
const RENEW_EVERY: Duration = Duration::from_millis(500);

/// The shortest lease a run may set: four renewals.
pub const MIN_LEASE_MS: u64 = 2_000;

/// The run and stream entry ids a worker is evaluating.
type InHand = Arc<Mutex<Option<(String, Vec<String>)>>>;

/// Target wall time of one chunk of tasks: long enough to amortise a round
/// trip to Redis, short enough to share a batch's tail between workers.
const CHUNK_TARGET_MS: f64 = 5.0;
const MAX_CHUNK_PER_THREAD: usize = 64;

enum Slot {
    Ready {
        job: Box<dyn Job>,
        hash: String,
        lease_ms: u64,
        /// Smoothed wall milliseconds per task per thread.
        task_ms: f64,
    },
    Refused {
        hash: String,
    },
}

pub struct Worker<F: JobFactory> {
    link: Link,
    opts: WorkerOptions,
    factory: F,
    pool: rayon::ThreadPool,
    runs: BTreeMap<String, Slot>,
    /// The run and stream entries being evaluated, renewed by the
    /// heartbeat thread so that no live worker loses them to the lease.
    in_hand: InHand,
    /// Tasks evaluated, for the exit summary.
    pub evaluated: u64,
}

impl<F: JobFactory> Worker<F> {
    pub fn new(link: Link, opts: WorkerOptions, factory: F) -> Result<Self, DistError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .thread_name(|i| format!("evonet-worker-{i}"))
            .build()
            .map_err(|e| DistError::Payload(format!("cannot start threads: {e}")))?;
        Ok(Self {
            link,
            opts,
            factory,
            pool,
            runs: BTreeMap::new(),
            in_hand: Arc::new(Mutex::new(None)),
            evaluated: 0,
        })
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Serves runs until stopped (or idle past `idle_exit`).
    pub fn run(&mut self) -> Result<(), DistError> {
        let done = Arc::new(AtomicBool::new(false));
        let heartbeat = {
            let target = self.link.target().clone();
            let name = self.opts.name.clone();
            let in_hand = Arc::clone(&self.in_hand);
            let done = Arc::clone(&done);
            std::thread::Builder::new()
                .name("evonet-heartbeat".into())
                .spawn(move || heartbeat(target, name, in_hand, done))
                .map_err(|e| DistError::Payload(format!("cannot start a thread: {e}")))?
        };
        let r = self.serve();
        done.store(true, Ordering::SeqCst);
        let _ = heartbeat.join();
        r
    }

    fn serve(&mut self) -> Result<(), DistError> {
        let mut last_refresh: Option<Instant> = None;
        let mut idle_since = Instant::now();
        let mut said_waiting = false;
        while !self.opts.stop.load(Ordering::SeqCst) {
            if last_refresh.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                self.refresh()?;
                last_refresh = Some(Instant::now());
            }
            let ready: Vec<String> = self
                .runs
                .iter()
                .filter(|(_, s)| matches!(s, Slot::Ready { .. }))
                .map(|(id, _)| id.clone())
                .collect();
            if ready.is_empty() {
                if !said_waiting {
                    tracing::info!("waiting for a run to be published");
                    said_waiting = true;
                }
                if self
                    .opts
                    .idle_exit
                    .is_some_and(|d| idle_since.elapsed() >= d)
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(250));
                continue;
            }
            said_waiting = false;
            idle_since = Instant::now();
            match self.read_new(&ready) {
                Ok(work) if !work.is_empty() => {
                    for (id, entries) in work {
                        self.process(&id, entries)?;
                    }
                }
                Ok(_) => {
                    for id in &ready {
                        let entries = self.reclaim(id)?;
                        if !entries.is_empty() {
                            tracing::info!(
                                "took over {} tasks of run {id} from a worker that stopped answering",
                                entries.len()
                            );
                            self.process(id, entries)?;
                        }
                    }
                }
                Err(DistError::Redis { detail, .. }) if run_went_away(&detail) => {
                    // A run ended or is being published again: look again.
                    last_refresh = None;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        }
        let name = self.opts.name.clone();
        let _ = self.link.call(|con| {
            redis::cmd("ZREM")
                .arg(keys::workers())
                .arg(&name)
                .query::<()>(con)
        });
        Ok(())
    }

    /// Heartbeat; picks up new runs, drops finished ones, follows leases.
    fn refresh(&mut self) -> Result<(), DistError> {
        let now = now_ms();
        let name = self.opts.name.clone();
        let ids: Vec<String> = self.link.call(|con| {
            redis::pipe()
                .cmd("ZADD")
                .arg(keys::workers())
                .arg(now)
                .arg(&name)
                .ignore()
                .cmd("ZRANGEBYSCORE")
                .arg(keys::runs())
                .arg(now.saturating_sub(15_000))
                .arg("+inf")
                .query::<(Vec<String>,)>(con)
                .map(|(v,)| v)
        })?;
        self.runs.retain(|id, _| ids.contains(id));
        for id in ids {
            let (spec, lease): (Option<Vec<u8>>, Option<u64>) = self.link.call(|con| {
                redis::pipe()
                    .cmd("GET")
                    .arg(keys::spec(&id))
                    .cmd("GET")
                    .arg(keys::lease(&id))
                    .query(con)
            })?;
            let Some(spec) = spec else { continue };
            let hash = format!("{:016x}", crate::fingerprint::fnv1a64(&spec));
            match self.runs.get_mut(&id) {
                Some(Slot::Ready {
                    hash: h, lease_ms, ..
                }) if *h == hash => {
                    *lease_ms = lease.unwrap_or(*lease_ms);
                    continue;
                }
                Some(Slot::Refused { hash: h }) if *h == hash => continue,
                _ => {}
            }
            let slot = match admit(&id, &spec, &self.opts.version, &self.factory, &self.pool) {
                Ok(job) => {
                    tracing::info!("joined run {id}");
                    Slot::Ready {
                        job,
                        hash,
                        lease_ms: lease.unwrap_or(LEASE_DEFAULT_MS),
                        task_ms: f64::NAN,
                    }
                }
                Err(why) => {
                    tracing::error!("refusing run {id}: {why}");
                    let name = self.opts.name.clone();
                    self.link.call(|con| {
                        redis::cmd("HSET")
                            .arg(keys::refusals(&id))
                            .arg(&name)
                            .arg(&why)
                            .query::<()>(con)
                    })?;
                    Slot::Refused { hash }
                }
            };
            self.runs.insert(id, slot);
        }
        Ok(())
    }

    fn chunk(&self, id: &str) -> usize {
        let threads = self.pool.current_num_threads();
        let per_thread = match self.runs.get(id) {
            Some(Slot::Ready { task_ms, .. }) if task_ms.is_finite() && *task_ms > 0.0 => {
                (CHUNK_TARGET_MS / task_ms).clamp(1.0, MAX_CHUNK_PER_THREAD as f64) as usize
            }
            _ => 1,
        };
        threads * per_thread
    }

    /// New tasks of any ready run, blocking up to a second.
    fn read_new(&mut self, ready: &[String]) -> Result<Vec<(String, Vec<StreamId>)>, DistError> {
        let count = ready.iter().map(|id| self.chunk(id)).min().unwrap_or(1);
        let name = self.opts.name.clone();
        let reply: Option<StreamReadReply> = self.link.call(|con| {
            let mut c = redis::cmd("XREADGROUP");
            c.arg("GROUP")
                .arg(keys::GROUP)
                .arg(&name)
                .arg("COUNT")
                .arg(count)
                .arg("BLOCK")
                .arg(1000)
                .arg("STREAMS");
            for id in ready {
                c.arg(keys::tasks(id));
            }
            for _ in ready {
                c.arg(">");
            }
            c.query(con)
        })?;
        let mut out = Vec::new();
        for k in reply.map(|r| r.keys).unwrap_or_default() {
            if let Some(id) = ready.iter().find(|id| keys::tasks(id) == k.key) {
                if !k.ids.is_empty() {
                    out.push((id.clone(), k.ids));
                }
            }
        }
        Ok(out)
    }

    /// Tasks of `id` held by other workers longer than the lease.
    fn reclaim(&mut self, id: &str) -> Result<Vec<StreamId>, DistError> {
        let Some(Slot::Ready { lease_ms, .. }) = self.runs.get(id) else {
            return Ok(Vec::new());
        };
        let lease = *lease_ms;
        let count = self.chunk(id);
        let name = self.opts.name.clone();
        let reply: Result<StreamAutoClaimReply, DistError> = self.link.call(|con| {
            redis::cmd("XAUTOCLAIM")
                .arg(keys::tasks(id))
                .arg(keys::GROUP)
                .arg(&name)
                .arg(lease)
                .arg("0-0")
                .arg("COUNT")
                .arg(count)
                .query(con)
        });
        match reply {
            Ok(r) => Ok(r.claimed),
            // The run is being republished; nothing to take over now.
            Err(DistError::Redis { detail, .. }) if run_went_away(&detail) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Evaluates `entries`, then the tasks fetched along with each chunk's
    /// results, until the run has none left for now.
    fn process(&mut self, id: &str, entries: Vec<StreamId>) -> Result<(), DistError> {
        let mut entries = entries;
        while !entries.is_empty() {
            entries = self.process_chunk(id, entries)?;
            if self.opts.stop.load(Ordering::SeqCst) {
                // Fetched but not evaluated: they stay pending and are
                // taken over after the lease.
                break;
            }
        }
        Ok(())
    }

    /// Evaluates one chunk; sends its results, acknowledges it and fetches
    /// the next chunk in one round trip (a worker on 10 ms tasks would
    /// otherwise wait for Redis twice per task).
    fn process_chunk(
        &mut self,
        id: &str,
        entries: Vec<StreamId>,
    ) -> Result<Vec<StreamId>, DistError> {
        let started = Instant::now();
        let mut tasks: Vec<Task> = Vec::with_capacity(entries.len());
        let mut entry_ids = Vec::with_capacity(entries.len());
        for e in &entries {
            entry_ids.push(e.id.clone());
            match e.map.get(keys::FIELD) {
                Some(redis::Value::BulkString(b)) => {
                    match wire::decode::<Task>(b, MAX_TASK_BYTES, "task") {
                        Ok(t) => tasks.push(t),
                        Err(why) => {
                            tracing::warn!("task entry {} of run {id}: {why}; dropped", e.id)
                        }
                    }
                }
                _ => tracing::warn!("task entry {} of run {id} has no payload; dropped", e.id),
            }
        }
        tasks.retain(|t| {
            let ours = t.run == id;
            if !ours {
                tracing::warn!("a task of run {} in the stream of run {id}; dropped", t.run);
            }
            ours
        });
        *self.in_hand.lock().expect("in_hand lock") = Some((id.to_string(), entry_ids.clone()));
        let outcomes = match self.runs.get(id) {
            Some(Slot::Ready { job, .. }) => job.evaluate(&tasks, &self.pool),
            _ => Vec::new(),
        };
        let held_ms = started.elapsed().as_millis() as u64;
        let mut payloads = Vec::with_capacity(tasks.len());
        for (t, outcome) in tasks.iter().zip(outcomes) {
            let r = TaskResult {
                session: t.session,
                batch: t.batch,
                candidate: t.candidate,
                outcome,
                held_ms,
                worker: self.opts.name.clone(),
            };
            let bytes = wire::encode(&r, MAX_RESULT_BYTES, "result").or_else(|why| {
                // Observation statistics too large for the bound: report a
                // failed evaluation rather than nothing.
                let failed = TaskResult {
                    outcome: Outcome::Failed {
                        reason: why,
                        cost: r.outcome.cost(),
                    },
                    ..r.clone()
                };
                wire::encode(&failed, MAX_RESULT_BYTES, "result")
            });
            match bytes {
                Ok(b) => payloads.push(b),
                Err(why) => tracing::error!("result of candidate #{}: {why}", t.candidate),
            }
        }
        // Results and acknowledgements in one transaction: a worker killed
        // before it leaves its tasks pending (and reclaimed), never acked
        // without a result. The next chunk is read after the transaction.
        let (rk, tk) = (keys::results(id), keys::tasks(id));
        let (name, count) = (self.opts.name.clone(), self.chunk(id));
        let prefetch = !self.opts.stop.load(Ordering::SeqCst);
        let sent = self.link.call(|con| {
            let mut p = redis::pipe();
            p.cmd("MULTI").ignore();
            for b in &payloads {
                p.cmd("XADD")
                    .arg(&rk)
                    .arg("NOMKSTREAM")
                    .arg("*")
                    .arg(keys::FIELD)
                    .arg(b.as_slice())
                    .ignore();
            }
            if !entry_ids.is_empty() {
                p.cmd("XACK")
                    .arg(&tk)
                    .arg(keys::GROUP)
                    .arg(&entry_ids)
                    .ignore();
            }
            p.cmd("EXEC").ignore();
            if prefetch {
                p.cmd("XREADGROUP")
                    .arg("GROUP")
                    .arg(keys::GROUP)
                    .arg(&name)
                    .arg("COUNT")
                    .arg(count)
                    .arg("STREAMS")
                    .arg(&tk)
                    .arg(">");
                p.query::<(Option<StreamReadReply>,)>(con).map(|(r,)| r)
            } else {
                p.query::<()>(con).map(|_| None)
            }
        });
        let next = match sent {
            Ok(r) => r.map(|r| r.keys).unwrap_or_default(),
            // The run ended while this chunk was evaluated.
            Err(DistError::Redis { detail, .. }) if run_went_away(&detail) => Vec::new(),
            Err(e) => return Err(e),
        };
        *self.in_hand.lock().expect("in_hand lock") = None;
        self.evaluated += tasks.len() as u64;
        if let Some(Slot::Ready { task_ms, .. }) = self.runs.get_mut(id) {
            if !tasks.is_empty() {
                let per =
                    started.elapsed().as_secs_f64() * 1e3 * self.pool.current_num_threads() as f64
                        / tasks.len() as f64;
                *task_ms = if task_ms.is_finite() {
                    0.7 * *task_ms + 0.3 * per
                } else {
                    per
                };
            }
        }
        Ok(next.into_iter().flat_map(|k| k.ids).collect())
    }
}

/// Every second: the worker's heartbeat (so that coordinators count it
/// while it is busy with long evaluations) and the renewal of the entries
/// in hand (`XCLAIM … JUSTID` resets their idle time), on a connection of
/// its own.
fn heartbeat(
    target: crate::link::RedisTarget,
    name: String,
    in_hand: InHand,
    done: Arc<AtomicBool>,
) {
    let mut link = None;
    let mut next = Instant::now();
    while !done.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
        if Instant::now() < next {
            continue;
        }
        next = Instant::now() + RENEW_EVERY;
        if link.is_none() {
            // The main loop reports an unreachable server; just try again.
            link = Link::connect(&target).ok();
        }
        let Some(l) = link.as_mut() else { continue };
        let held = in_hand.lock().expect("in_hand lock").clone();
        let beat = l.call(|con| {
            let mut p = redis::pipe();
            p.cmd("ZADD")
                .arg(keys::workers())
                .arg(now_ms())
                .arg(&name)
                .ignore();
            p.query::<()>(con)?;
            if let Some((run, ids)) = &held {
                // NOGROUP (the run ended) is not an error here.
                let _ = redis::cmd("XCLAIM")
                    .arg(keys::tasks(run))
                    .arg(keys::GROUP)
                    .arg(&name)
                    .arg(0)
                    .arg(ids)
                    .arg("JUSTID")
                    .query::<redis::Value>(con);
            }
            Ok(())
        });
        if beat.is_err() {
            link = None;
        }
    }
}

/// Checks a published spec and builds its job, or says why this worker
/// refuses the run: a payload over its bound, another evonet or protocol
/// version, a config this build cannot parse, or a problem that differs
/// from the one the coordinator built.
pub fn admit(
    id: &str,
    bytes: &[u8],
    version: &str,
    factory: &dyn JobFactory,
    pool: &rayon::ThreadPool,
) -> Result<Box<dyn Job>, String> {
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(format!(
            "its spec is {} bytes, over the {MAX_SPEC_BYTES}-byte bound",
            bytes.len()
        ));
    }
    let spec: RunSpec =
        serde_json::from_slice(bytes).map_err(|e| format!("malformed run spec: {e}"))?;
    if spec.protocol != wire::PROTOCOL_VERSION || spec.evonet_version != version {
        return Err(format!(
            "it was started by evonet {} (protocol {}), this worker is evonet {version} (protocol {}); run a worker of the coordinator's version",
            spec.evonet_version,
            spec.protocol,
            wire::PROTOCOL_VERSION
        ));
    }
    if spec.run_id != id {
        return Err(format!("its spec names run {}", spec.run_id));
    }
    let (job, fp) = factory.prepare(&spec, pool)?;
    if fp.hash() != spec.problem_hash {
        return Err(format!(
            "this worker builds a different problem from its config ({}); refusing rather than computing wrong numbers",
            fp.first_difference(&spec.problem)
                .unwrap_or_else(|| "hash differs".into())
        ));
    }
    Ok(job)
}

/// Whether a Redis error says that a run's stream or group is gone (the
/// run ended, or its coordinator is publishing it again).
fn run_went_away(detail: &str) -> bool {
    detail.contains("NOGROUP")
        || detail.contains("UNBLOCKED")
        || detail.contains("no longer exists")
}

/// Lease assumed until the coordinator publishes one.
const LEASE_DEFAULT_MS: u64 = 5_000;

#[cfg(test)]
mod tests {
    use super::*;
    use evonet_core::{EvalError, EvalRequest, Evaluation, TestReport};

    /// Fitness = the genome (a number); panics on 13.
    struct Echo;
    impl Problem<f64> for Echo {
        fn evaluate(&self, g: &f64, _r: &EvalRequest) -> Result<Evaluation, EvalError> {
            assert!(*g != 13.0, "unlucky");
            Ok(Evaluation {
                fitness: *g,
                cost: Cost::default(),
                obs_stats: None,
                solved: false,
            })
        }
        fn test(&self, _g: &f64, _s: u64) -> Result<TestReport, EvalError> {
            unreachable!()
        }
    }

    struct Factory(&'static str);
    impl JobFactory for Factory {
        fn prepare(
            &self,
            _spec: &RunSpec,
            _pool: &rayon::ThreadPool,
        ) -> Result<(Box<dyn Job>, Fingerprint), String> {
            Ok((
                Box::new(ProblemJob::<f64, _>::new(Echo)),
                Fingerprint::new([self.0.to_string()]),
            ))
        }
    }

    /// A worker that cannot build the problem (a dataset it lacks).
    struct Broken;
    impl JobFactory for Broken {
        fn prepare(
            &self,
            _spec: &RunSpec,
            _pool: &rayon::ThreadPool,
        ) -> Result<(Box<dyn Job>, Fingerprint), String> {
            Err("data/mnist: missing".into())
        }
    }

    fn spec(version: &str, problem: &str) -> Vec<u8> {
        let fp = Fingerprint::new([problem.to_string()]);
        serde_json::to_vec(&RunSpec {
            protocol: wire::PROTOCOL_VERSION,
            evonet_version: version.into(),
            run_id: "r1".into(),
            config: String::new(),
            problem: fp.text.clone(),
            problem_hash: fp.hash(),
            origin: "test".into(),
        })
        .unwrap()
    }

    fn pool() -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
    }

    #[test]
    fn workers_refuse_other_versions_and_other_problems() {
        let p = pool();
        assert!(admit(
            "r1",
            &spec("0.1.0", "cartpole"),
            "0.1.0",
            &Factory("cartpole"),
            &p
        )
        .is_ok());
        let e = admit(
            "r1",
            &spec("0.2.0", "cartpole"),
            "0.1.0",
            &Factory("cartpole"),
            &p,
        )
        .err()
        .unwrap();
        assert!(
            e.contains("evonet 0.2.0") && e.contains("this worker is evonet 0.1.0"),
            "{e}"
        );
        let e = admit(
            "r1",
            &spec("0.1.0", "cartpole"),
            "0.1.0",
            &Factory("acrobot"),
            &p,
        )
        .err()
        .unwrap();
        assert!(e.contains("`cartpole`") && e.contains("`acrobot`"), "{e}");
        let e = admit(
            "r2",
            &spec("0.1.0", "cartpole"),
            "0.1.0",
            &Factory("cartpole"),
            &p,
        )
        .err()
        .unwrap();
        assert!(e.contains("names run r1"), "{e}");
        let e = admit("r1", b"{not json", "0.1.0", &Factory("cartpole"), &p)
            .err()
            .unwrap();
        assert!(e.contains("malformed run spec"), "{e}");
        let e = admit("r1", &spec("0.1.0", "cartpole"), "0.1.0", &Broken, &p)
            .err()
            .unwrap();
        assert!(e.contains("data/mnist: missing"), "{e}");
        let huge = vec![b' '; MAX_SPEC_BYTES as usize + 1];
        let e = admit("r1", &huge, "0.1.0", &Factory("cartpole"), &p)
            .err()
            .unwrap();
        assert!(e.contains("bound"), "{e}");
    }

    #[test]
    fn jobs_turn_bad_genomes_and_panics_into_failed_evaluations() {
        let job = ProblemJob::<f64, _>::new(Echo);
        let task = |candidate: u64, genome: Vec<u8>| Task {
            run: "r1".into(),
            session: 1,
            batch: 1,
            candidate,
            request: EvalRequest::new(candidate),
            genome,
        };
        let enc = |x: f64| wire::encode(&x, 64, "genome").unwrap();
        let tasks = vec![
            task(0, enc(2.5)),
            task(1, vec![1, 2]),
            task(2, enc(13.0)),
            task(3, enc(-1.0)),
        ];
        for threads in [1, 2] {
            let p = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let out = job.evaluate(&tasks, &p);
            assert_eq!(out.len(), 4);
            assert_eq!(out[0].fitness(), 2.5);
            assert!(
                matches!(&out[1], Outcome::Failed { reason, .. } if reason.contains("malformed genome"))
            );
            assert!(
                matches!(&out[2], Outcome::Failed { reason, .. } if reason.contains("unlucky"))
            );
            assert_eq!(out[3].fitness(), -1.0);
        }
    }
}
