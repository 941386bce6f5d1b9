//! `--redis`: evaluating a run through workers on other processes or
//! machines (the library's `evonet::remote`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use indicatif::ProgressBar;

use evonet::distributed::{DistError, Link, RedisTarget};
use evonet::remote::RedisBackend;
use evonet::Search;

use crate::user;

#[derive(clap::Args, Debug, Default)]
pub struct RedisArgs {
    /// Evaluate through workers on this Redis:
    /// redis://[user:password@]host:port[/db], or rediss:// for TLS.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// CA certificate (PEM) for a rediss:// server signed by a private CA.
    #[arg(long, value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,
    /// How long a task may stay unanswered before another worker takes it
    /// over (default: 3 s beyond the slowest task seen, at least 5 s).
    #[arg(long, value_name = "MS")]
    pub lease_ms: Option<u64>,
}

impl RedisArgs {
    /// Connects when `--redis` is given; a bad URL, a refused password or
    /// an unreachable server is a user error (exit 2).
    pub fn connect(&self) -> Result<Option<Link>> {
        if let Some(l) = self.lease_ms {
            if l < evonet::distributed::worker::MIN_LEASE_MS {
                return Err(user(format!(
                    "--lease-ms {l}: must be at least {} (workers renew the tasks they hold every 500 ms)",
                    evonet::distributed::worker::MIN_LEASE_MS
                )));
            }
        }
        let Some(url) = &self.redis else {
            if self.redis_ca.is_some() || self.lease_ms.is_some() {
                return Err(user("--redis-ca and --lease-ms need --redis URL"));
            }
            return Ok(None);
        };
        connect(url, self.redis_ca.as_deref()).map(Some)
    }
}

pub fn connect(url: &str, ca: Option<&Path>) -> Result<Link> {
    let target = RedisTarget::new(url, ca).map_err(dist_user)?;
    Link::connect(&target).map_err(dist_user)
}

/// Errors of setting up a connection are the user's to fix.
pub fn dist_user(e: DistError) -> anyhow::Error {
    match e {
        DistError::BadUrl(_)
        | DistError::Auth { .. }
        | DistError::Unreachable { .. }
        | DistError::NotRedis { .. }
        | DistError::Certificate { .. } => user(e.to_string()),
        other => anyhow::Error::new(other),
    }
}

/// This machine's name, for run ids and worker names.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Publishes the built search on Redis, reporting waits on the progress
/// bar. The run id is stable across a resume of the same folder.
pub fn publish(
    link: Link,
    seed: u64,
    out: &Path,
    config_toml: String,
    lease_ms: Option<u64>,
    bar: ProgressBar,
) -> impl FnOnce(&dyn Search) -> RedisBackend {
    let host = hostname();
    let dir = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    move |search| {
        let url = link.target().display();
        let run_id = evonet::remote::run_id(&host, &dir, seed);
        let origin = format!("{host}:{}", dir.display());
        let backend = RedisBackend::new(link, run_id, config_toml, origin, search, lease_ms);
        let mut warned = false;
        backend.on_wait(move |s| {
            bar.set_message(format!(
                "waiting for workers: {} connected, {}/{} results ({:.0} s)",
                s.workers, s.received, s.total, s.waiting_s
            ));
            if s.workers == 0 && s.waiting_s >= 5.0 && !warned {
                warned = true;
                tracing::warn!(
                    "no worker is connected; start one with `evonet worker --redis {url}`"
                );
            }
        })
    }
}
