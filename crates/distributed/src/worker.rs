//! The worker's side: join every run published on a Redis server, build
//! its problem (only problems compiled into evonet), and evaluate its tasks
//! with all local cores.
//!
//! The main thread only talks to Redis; evaluations run on a rayon pool and
//! report back over a channel. So a worker sends finished results,
//! acknowledges their tasks and fetches the next ones while its cores keep
//! evaluating: each thread has one task running and, when tasks are short,
//! one in reserve, and the round trips to Redis hide behind the work.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};

use evonet_core::Outcome;

use crate::error::DistError;
use crate::heartbeat::{self, InHand};
use crate::job::{admit, Job, JobFactory};
use crate::keys;
use crate::link::{now_ms, Link};
use crate::shared::{SharedBytes, SharedCache, SharedKey};
use crate::wire::{self, Task, TaskResult, MAX_RESULT_BYTES, MAX_TASK_BYTES};

pub use crate::heartbeat::MIN_LEASE_MS;

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
    /// Set to leave once the tasks in hand are answered.
    pub stop: Arc<AtomicBool>,
}

/// Tasks shorter than this are fetched several per thread at a time, so
/// that a fetch covers about this much work.
const FETCH_TARGET_MS: f64 = 5.0;
const MAX_PER_THREAD: f64 = 64.0;
/// Tasks shorter than this get one more per thread in reserve.
const RESERVE_BELOW_MS: f64 = 100.0;
/// How often a busy worker says how much it evaluated.
const REPORT_EVERY: Duration = Duration::from_secs(30);
/// The longest a finished result waits to be sent with others.
const ANSWER_WITHIN: Duration = Duration::from_millis(2);
/// Lease assumed until the coordinator publishes one.
const LEASE_DEFAULT_MS: u64 = 5_000;

enum Slot {
    Ready {
        job: Arc<dyn Job>,
        hash: String,
        lease_ms: u64,
        /// Smoothed wall milliseconds per task (one thread).
        task_ms: f64,
        /// The shared parts of its latest batches.
        shared: SharedCache,
    },
    Refused {
        hash: String,
    },
}

/// A task answered by the pool (or found malformed: no outcome, only an
/// acknowledgement).
struct Done {
    run: String,
    entry: String,
    answer: Option<(TaskResult, f64)>,
}

pub struct Worker<F: JobFactory> {
    link: Link,
    opts: WorkerOptions,
    factory: F,
    pool: rayon::ThreadPool,
    runs: BTreeMap<String, Slot>,
    in_hand: InHand,
    in_flight: usize,
    tx: Sender<Done>,
    rx: Receiver<Done>,
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
        let (tx, rx) = channel();
        Ok(Self {
            link,
            opts,
            factory,
            pool,
            runs: BTreeMap::new(),
            in_hand: Default::default(),
            in_flight: 0,
            tx,
            rx,
            evaluated: 0,
        })
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Serves runs until stopped (or idle past `idle_exit`).
    pub fn run(&mut self) -> Result<(), DistError> {
        let done = Arc::new(AtomicBool::new(false));
        let beat = {
            let target = self.link.target().clone();
            let name = self.opts.name.clone();
            let in_hand = Arc::clone(&self.in_hand);
            let done = Arc::clone(&done);
            std::thread::Builder::new()
                .name("evonet-heartbeat".into())
                .spawn(move || heartbeat::beat(target, name, in_hand, done))
                .map_err(|e| DistError::Payload(format!("cannot start a thread: {e}")))?
        };
        let r = self.serve();
        done.store(true, Ordering::SeqCst);
        let _ = beat.join();
        r
    }

    fn ready(&self) -> Vec<String> {
        self.runs
            .iter()
            .filter(|(_, s)| matches!(s, Slot::Ready { .. }))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn serve(&mut self) -> Result<(), DistError> {
        let mut last_refresh: Option<Instant> = None;
        let mut idle_since = Instant::now();
        let mut said_waiting = false;
        let mut finished: Vec<Done> = Vec::new();
        // When the oldest unanswered result finished.
        let mut oldest: Option<Instant> = None;
        let (mut report_at, mut reported) = (Instant::now(), 0u64);
        loop {
            if report_at.elapsed() >= REPORT_EVERY && self.evaluated > reported {
                let n = self.evaluated - reported;
                tracing::info!(
                    "evaluated {n} tasks in the last {:.0} s ({:.1}/s), {} in all",
                    report_at.elapsed().as_secs_f64(),
                    n as f64 / report_at.elapsed().as_secs_f64(),
                    self.evaluated
                );
                (report_at, reported) = (Instant::now(), self.evaluated);
            }
            let stopping = self.opts.stop.load(Ordering::SeqCst);
            if stopping && self.in_flight == 0 && finished.is_empty() {
                break;
            }
            if !stopping && last_refresh.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                self.refresh()?;
                last_refresh = Some(Instant::now());
            }
            while let Ok(d) = self.rx.try_recv() {
                self.in_flight -= 1;
                oldest.get_or_insert_with(Instant::now);
                finished.push(d);
            }
            let ready = self.ready();
            let held = self.in_flight + finished.len();
            let room = if stopping {
                0
            } else {
                self.capacity(&ready).saturating_sub(held)
            };
            // Answer in batches: when nothing else is running, when half of
            // what is held is done, or when a result has waited 2 ms. The
            // next tasks are fetched in the same round trip.
            if !finished.is_empty()
                && (self.in_flight == 0
                    || 2 * finished.len() >= held
                    || oldest.is_some_and(|t| t.elapsed() >= ANSWER_WITHIN))
            {
                // Answered tasks free their places.
                let fetch = if stopping {
                    0
                } else {
                    self.capacity(&ready).saturating_sub(self.in_flight)
                };
                let fetched = self.answer(std::mem::take(&mut finished), fetch, &ready)?;
                oldest = None;
                self.submit(fetched)?;
                continue;
            }
            if self.in_flight > 0 {
                let wait = match oldest {
                    Some(t) => ANSWER_WITHIN.saturating_sub(t.elapsed()),
                    None => Duration::from_millis(200),
                };
                if let Ok(d) = self.rx.recv_timeout(wait) {
                    self.in_flight -= 1;
                    oldest.get_or_insert_with(Instant::now);
                    finished.push(d);
                }
                continue;
            }
            // Nothing held: wait for tasks (or runs).
            if ready.is_empty() || room == 0 {
                if !said_waiting && !stopping {
                    tracing::info!("waiting for a run to be published");
                    said_waiting = true;
                }
                if stopping
                    || self
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
            match self.read_new(&ready, room) {
                Ok(fetched) if !fetched.is_empty() => self.submit(fetched)?,
                Ok(_) => {
                    for id in &ready {
                        let entries = self.reclaim(id, room)?;
                        if !entries.is_empty() {
                            tracing::info!(
                                "took over {} tasks of run {id} from a worker that stopped answering",
                                entries.len()
                            );
                            self.submit(vec![(id.clone(), entries)])?;
                        }
                    }
                }
                Err(DistError::Redis { detail, .. }) if run_went_away(&detail) => {
                    // A run ended or is being published again.
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

    /// How many tasks to hold: one running per thread, several when tasks
    /// are very short, plus one in reserve per thread when they are short.
    fn capacity(&self, ready: &[String]) -> usize {
        let threads = self.pool.current_num_threads() as f64;
        let task_ms = ready
            .iter()
            .filter_map(|id| match self.runs.get(id) {
                Some(Slot::Ready { task_ms, .. }) if task_ms.is_finite() => Some(*task_ms),
                _ => None,
            })
            .fold(f64::NAN, f64::min);
        if !task_ms.is_finite() {
            return threads as usize;
        }
        let per_thread = (FETCH_TARGET_MS / task_ms.max(1e-3)).clamp(1.0, MAX_PER_THREAD);
        let reserve = if task_ms < RESERVE_BELOW_MS { 1.0 } else { 0.0 };
        (threads * (per_thread.floor() + reserve)) as usize
    }

    /// Hands fetched entries to the pool, each with the shared part its
    /// task names (fetched once per batch).
    fn submit(&mut self, fetched: Vec<(String, Vec<StreamId>)>) -> Result<(), DistError> {
        for (run, entries) in fetched {
            let Some(Slot::Ready { job, .. }) = self.runs.get(&run) else {
                continue;
            };
            let job = Arc::clone(job);
            let mut tasks = Vec::with_capacity(entries.len());
            for e in entries {
                let task = match decode_task(&e, &run) {
                    Ok(t) => self.shared_part(&run, &t)?.map(|shared| (t, shared)),
                    Err(why) => Err(why),
                };
                tasks.push((e.id, task));
            }
            let mut in_hand = self.in_hand.lock().expect("in_hand lock");
            let held = in_hand.entry(run.clone()).or_default();
            for (entry, task) in tasks {
                held.insert(entry.clone());
                self.in_flight += 1;
                let (tx, job, run, name) = (
                    self.tx.clone(),
                    Arc::clone(&job),
                    run.clone(),
                    self.opts.name.clone(),
                );
                let (t, shared) = match task {
                    Ok(task) => task,
                    Err(why) => {
                        tracing::warn!("task entry {entry} of run {run}: {why}; dropped");
                        let _ = tx.send(Done {
                            run,
                            entry,
                            answer: None,
                        });
                        continue;
                    }
                };
                let fetched_at = Instant::now();
                self.pool.spawn(move || {
                    let start = Instant::now();
                    let outcome = job.evaluate(&t, shared.as_ref());
                    let ms = start.elapsed().as_secs_f64() * 1e3;
                    let result = TaskResult {
                        session: t.session,
                        batch: t.batch,
                        candidate: t.candidate,
                        outcome,
                        held_ms: fetched_at.elapsed().as_millis() as u64,
                        worker: name,
                    };
                    let _ = tx.send(Done {
                        run,
                        entry,
                        answer: Some((result, ms)),
                    });
                });
            }
        }
        Ok(())
    }

    /// The shared part `task` names: from this run's cache, or fetched and
    /// cached. `Err` (inside) when Redis no longer has it: the batch ended,
    /// or the server lost it and the coordinator sends the task again.
    fn shared_part(
        &mut self,
        run: &str,
        task: &Task,
    ) -> Result<Result<Option<SharedBytes>, String>, DistError> {
        let Some(key) = SharedKey::of(task) else {
            return Ok(Ok(None));
        };
        let Some(Slot::Ready { shared, .. }) = self.runs.get(run) else {
            return Ok(Err("its run is gone".into()));
        };
        if let Some(part) = shared.get(key) {
            return Ok(Ok(Some(part)));
        }
        let redis_key = key.redis_key(run);
        let bytes: Option<Vec<u8>> = self
            .link
            .call(|con| redis::cmd("GET").arg(&redis_key).query(con))?;
        let Some(bytes) = bytes else {
            return Ok(Err(format!(
                "shared part {} of its batch is gone from Redis",
                key.index
            )));
        };
        let part = SharedBytes {
            key,
            bytes: bytes.into(),
        };
        if let Some(Slot::Ready { shared, .. }) = self.runs.get_mut(run) {
            shared.insert(part.clone());
        }
        Ok(Ok(Some(part)))
    }

    /// Sends results and acknowledges their tasks (one transaction per run:
    /// a worker killed in between leaves its tasks pending, never acked
    /// without a result), then fetches up to `room` new tasks, all in one
    /// round trip.
    fn answer(
        &mut self,
        done: Vec<Done>,
        room: usize,
        ready: &[String],
    ) -> Result<Vec<(String, Vec<StreamId>)>, DistError> {
        let mut by_run: BTreeMap<String, (Vec<Vec<u8>>, Vec<String>)> = BTreeMap::new();
        for d in done {
            let slot = by_run.entry(d.run.clone()).or_default();
            if let Some((r, ms)) = d.answer {
                self.evaluated += 1;
                if let Some(Slot::Ready { task_ms, .. }) = self.runs.get_mut(&d.run) {
                    *task_ms = if task_ms.is_finite() {
                        0.8 * *task_ms + 0.2 * ms
                    } else {
                        ms
                    };
                }
                match encode_result(r) {
                    Ok(b) => slot.0.push(b),
                    Err(why) => tracing::error!("{why}"),
                }
            }
            slot.1.push(d.entry);
        }
        let name = self.opts.name.clone();
        let sent = self.link.call(|con| {
            let mut p = redis::pipe();
            for (run, (payloads, entries)) in &by_run {
                p.cmd("MULTI").ignore();
                for b in payloads {
                    p.cmd("XADD")
                        .arg(keys::results(run))
                        .arg("NOMKSTREAM")
                        .arg("*")
                        .arg(keys::FIELD)
                        .arg(b.as_slice())
                        .ignore();
                }
                p.cmd("XACK")
                    .arg(keys::tasks(run))
                    .arg(keys::GROUP)
                    .arg(entries)
                    .ignore();
                p.cmd("EXEC").ignore();
            }
            if room > 0 && !ready.is_empty() {
                read_cmd(&mut p, &name, ready, room, None);
                p.query::<(Option<StreamReadReply>,)>(con).map(|(r,)| r)
            } else {
                p.query::<()>(con).map(|_| None)
            }
        });
        {
            let mut in_hand = self.in_hand.lock().expect("in_hand lock");
            for (run, (_, entries)) in &by_run {
                if let Some(held) = in_hand.get_mut(run) {
                    for e in entries {
                        held.remove(e);
                    }
                }
            }
        }
        match sent {
            Ok(r) => Ok(self.by_run(r, ready)),
            // A run ended while its tasks were evaluated.
            Err(DistError::Redis { detail, .. }) if run_went_away(&detail) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    fn by_run(
        &self,
        reply: Option<StreamReadReply>,
        ready: &[String],
    ) -> Vec<(String, Vec<StreamId>)> {
        let mut out = Vec::new();
        for k in reply.map(|r| r.keys).unwrap_or_default() {
            if let Some(id) = ready.iter().find(|id| keys::tasks(id) == k.key) {
                if !k.ids.is_empty() {
                    out.push((id.clone(), k.ids));
                }
            }
        }
        out
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
                        job: Arc::from(job),
                        hash,
                        lease_ms: lease.unwrap_or(LEASE_DEFAULT_MS),
                        task_ms: f64::NAN,
                        shared: SharedCache::default(),
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

    /// New tasks of the ready runs, blocking up to a second.
    fn read_new(
        &mut self,
        ready: &[String],
        room: usize,
    ) -> Result<Vec<(String, Vec<StreamId>)>, DistError> {
        let name = self.opts.name.clone();
        let reply: Option<StreamReadReply> = self.link.call(|con| {
            let mut p = redis::pipe();
            read_cmd(&mut p, &name, ready, room, Some(1000));
            p.query::<(Option<StreamReadReply>,)>(con).map(|(r,)| r)
        })?;
        Ok(self.by_run(reply, ready))
    }

    /// Tasks of `id` held by other workers longer than the lease.
    fn reclaim(&mut self, id: &str, room: usize) -> Result<Vec<StreamId>, DistError> {
        let Some(Slot::Ready { lease_ms, .. }) = self.runs.get(id) else {
            return Ok(Vec::new());
        };
        let lease = *lease_ms;
        let name = self.opts.name.clone();
        let reply: Result<StreamAutoClaimReply, DistError> = self.link.call(|con| {
            redis::cmd("XAUTOCLAIM")
                .arg(keys::tasks(id))
                .arg(keys::GROUP)
                .arg(&name)
                .arg(lease)
                .arg("0-0")
                .arg("COUNT")
                .arg(room.max(1))
                .query(con)
        });
        match reply {
            Ok(r) => Ok(r.claimed),
            // The run is being published again; nothing to take over now.
            Err(DistError::Redis { detail, .. }) if run_went_away(&detail) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// `XREADGROUP … COUNT room [BLOCK ms] STREAMS <ready runs' tasks> > …`.
fn read_cmd(
    p: &mut redis::Pipeline,
    name: &str,
    ready: &[String],
    room: usize,
    block: Option<u64>,
) {
    let c = p
        .cmd("XREADGROUP")
        .arg("GROUP")
        .arg(keys::GROUP)
        .arg(name)
        .arg("COUNT")
        .arg(room.max(1));
    if let Some(ms) = block {
        c.arg("BLOCK").arg(ms);
    }
    c.arg("STREAMS");
    for id in ready {
        c.arg(keys::tasks(id));
    }
    for _ in ready {
        c.arg(">");
    }
}

/// A result within its bound; observation statistics too large for it
/// become a failed evaluation rather than nothing.
fn encode_result(r: TaskResult) -> Result<Vec<u8>, String> {
    wire::encode(&r, MAX_RESULT_BYTES, "result").or_else(|why| {
        let failed = TaskResult {
            outcome: Outcome::Failed {
                reason: why,
                cost: r.outcome.cost(),
            },
            ..r.clone()
        };
        wire::encode(&failed, MAX_RESULT_BYTES, "result")
            .map_err(|e| format!("result of candidate #{}: {e}", r.candidate))
    })
}

/// A task entry's payload, checked to belong to `run`.
fn decode_task(e: &StreamId, run: &str) -> Result<Task, String> {
    let t = match e.map.get(keys::FIELD) {
        Some(redis::Value::BulkString(b)) => wire::decode::<Task>(b, MAX_TASK_BYTES, "task")?,
        _ => return Err("no payload".into()),
    };
    if t.run == run {
        Ok(t)
    } else {
        Err(format!("it belongs to run {}", t.run))
    }
}

/// Whether a Redis error says that a run's stream or group is gone (the
/// run ended, or its coordinator is publishing it again).
pub(crate) fn run_went_away(detail: &str) -> bool {
    detail.contains("NOGROUP")
        || detail.contains("UNBLOCKED")
        || detail.contains("no longer exists")
}
