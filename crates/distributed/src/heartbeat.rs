//! A worker's heartbeat thread, on a connection of its own: every 500 ms it
//! marks the worker alive (so that coordinators count it while it is busy
//! with long evaluations) and renews the stream entries it holds
//! (`XCLAIM … JUSTID` resets their idle time), so that no live worker loses
//! a task to the lease however long the task takes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::keys;
use crate::link::{now_ms, Link, RedisTarget};

/// How often tasks in hand are renewed; leases must be longer
/// ([`MIN_LEASE_MS`]).
pub const RENEW_EVERY: Duration = Duration::from_millis(500);

/// The shortest lease a run may set: four renewals.
pub const MIN_LEASE_MS: u64 = 2_000;

/// Run id → stream entry ids a worker holds (fetched, not yet answered).
pub type InHand = Arc<Mutex<BTreeMap<String, BTreeSet<String>>>>;

pub fn beat(target: RedisTarget, name: String, in_hand: InHand, done: Arc<AtomicBool>) {
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
        let held: Vec<(String, Vec<String>)> = in_hand
            .lock()
            .expect("in_hand lock")
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(run, ids)| (run.clone(), ids.iter().cloned().collect()))
            .collect();
        let ok = l.call(|con| {
            redis::cmd("ZADD")
                .arg(keys::workers())
                .arg(now_ms())
                .arg(&name)
                .query::<()>(con)?;
            for (run, ids) in &held {
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
        if ok.is_err() {
            link = None;
        }
    }
}
