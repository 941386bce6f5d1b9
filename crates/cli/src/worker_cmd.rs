//! `evonet worker`: evaluate the candidates of every run published on a
//! Redis server.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use evonet::distributed::{Worker, WorkerOptions};
use evonet::remote::RegistryJobs;

use crate::remote::{connect, dist_user, hostname};

#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// redis://[user:password@]host:port[/db], or rediss:// for TLS.
    #[arg(long, value_name = "URL")]
    pub redis: String,
    /// CA certificate (PEM) for a rediss:// server signed by a private CA.
    #[arg(long, value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,
    /// Evaluation threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Worker name shown in logs (default: host-pid).
    #[arg(long)]
    pub name: Option<String>,
    /// Exit after this many seconds without any published run.
    #[arg(long, value_name = "SECONDS")]
    pub idle_exit: Option<f64>,
    /// A Python (`gym:`) environment this worker may run: an id
    /// (`gym:HalfCheetah-v5`) or a prefix ending in `*` (`gym:MyPkg/*`);
    /// repeat for several. Runs of any other `gym:` id are refused.
    #[arg(long = "allow-env", value_name = "ID")]
    pub allow_env: Vec<String>,
}

pub fn worker(a: WorkerArgs) -> Result<u8> {
    let link = connect(&a.redis, a.redis_ca.as_deref())?;
    // Tasks left unanswered by a second Ctrl-C are taken over by other
    // workers after the lease.
    let stop = crate::run_cmd::stop_flag("leaving once the tasks in hand are answered");
    let name = a
        .name
        .unwrap_or_else(|| format!("{}-{}", hostname(), std::process::id()));
    let opts = WorkerOptions {
        name: name.clone(),
        threads: a.threads,
        version: env!("CARGO_PKG_VERSION").into(),
        idle_exit: a.idle_exit.map(Duration::from_secs_f64),
        stop,
    };
    // Published configs are the coordinators' resolved TOML.
    let jobs = RegistryJobs {
        registry: evonet::Registry::builtin(),
        parse: Box::new(crate::config_file::parse),
        allow_envs: a.allow_env,
    };
    let mut w = Worker::new(link, opts, jobs).map_err(dist_user)?;
    eprintln!(
        "worker {name}: {} threads on {}; waiting for runs",
        w.threads(),
        evonet::distributed::RedisTarget::new(&a.redis, a.redis_ca.as_deref())
            .map(|t| t.display())
            .unwrap_or_default()
    );
    w.run().map_err(dist_user)?;
    eprintln!("worker {name}: evaluated {} tasks", w.evaluated);
    Ok(0)
}
