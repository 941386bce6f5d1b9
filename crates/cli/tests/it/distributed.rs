//! Distributed evaluation through Redis, end to end with the real binary:
//! a coordinator (`evonet run --redis`) and worker processes
//! (`evonet worker`) on loopback.
//!
//! The tests need a Redis server: `EVONET_TEST_REDIS` holds its URL
//! without a database (`redis://:PASSWORD@127.0.0.1:6379`); each test uses
//! a database of its own. `.ci/run` installs and starts one; in CI (`CI`
//! set) a missing URL fails the tests instead of skipping them. The restart
//! test starts a private `redis-server` on a free port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// The server's URL without a database, or None (outside CI) to skip.
fn redis_base() -> Option<String> {
    match std::env::var("EVONET_TEST_REDIS") {
        Ok(u) if !u.trim().is_empty() => Some(u.trim().trim_end_matches('/').to_string()),
        _ if std::env::var_os("CI").is_some() => {
            panic!("EVONET_TEST_REDIS is not set: CI must start redis-server (see .ci/run)")
        }
        _ => {
            eprintln!("skipped: set EVONET_TEST_REDIS=redis://:PASSWORD@127.0.0.1:6379 to run the distributed tests");
            None
        }
    }
}

/// A database of its own for one test, emptied first.
fn fresh_db(base: &str, db: u8) -> String {
    let url = format!("{base}/{db}");
    let client = redis::Client::open(url.as_str()).expect("redis url");
    let mut con = client.get_connection().expect("test redis reachable");
    redis::cmd("FLUSHDB").query::<()>(&mut con).unwrap();
    url
}

/// Worker processes, killed when dropped.
struct Workers {
    children: Vec<Child>,
}

impl Workers {
    fn start(url: &str, n: usize, dir: &Path) -> Self {
        let children = (0..n)
            .map(|i| spawn_worker(url, &dir.join(format!("worker{i}.log"))))
            .collect();
        Self { children }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn_worker(url: &str, log: &Path) -> Child {
    bin()
        .args([
            "worker",
            "--redis",
            url,
            "--threads",
            "1",
            "--idle-exit",
            "120",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("spawn worker")
}

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p).map_or(0, |t| t.lines().count())
}

/// Waits until `out/metrics.jsonl` has `n` lines (or the process ended).
fn wait_for_generations(out: &Path, n: usize, child: &mut Child) {
    let start = Instant::now();
    while lines(&out.join("metrics.jsonl")) < n {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `cfg` run with local threads, the reference of every comparison.
fn local_reference(d: &Path, cfg: &str) -> PathBuf {
    let c = write_config(d, "local.toml", cfg);
    let out = d.join("local");
    run_into(&c, &out, &["--threads", "2"]);
    out
}

/// Evaluations (with the same seeds) that sleep: slow enough to kill a
/// process in the middle of one; the results are those of `cfg`.
fn slowed(cfg: &str, ms: u64) -> String {
    format!("{cfg}\n[env.faults]\ndelay_ms = {ms}\n")
}

fn through_workers_matches_local(cfg: &str, name: &str, db: u8) {
    let Some(base) = redis_base() else { return };
    let url = fresh_db(&base, db);
    let d = tmp(name);
    let reference = local_reference(&d, cfg);
    let c = write_config(&d, "c.toml", cfg);
    let out = d.join("redis");
    // The coordinator starts first and waits for workers, saying so.
    let mut coordinator = bin()
        .args(run_args(&c, &out, &["--redis", &url]))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(coordinator.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("no worker is connected"), "{line}");
    let mut workers = Workers::start(&url, 3, &d);
    assert!(coordinator.wait().unwrap().success());
    assert_same_run(
        &reference,
        &out,
        "between 3 Redis workers and local threads",
    );
    let failed: u64 = metrics_without_time(&out)
        .iter()
        .filter(|m| m["kind"] != "candidate")
        .map(|m| m["failed"].as_u64().unwrap())
        .sum();
    assert_eq!(
        failed > 0,
        cfg.contains("[env.faults]"),
        "failures: {failed}"
    );
    // Ctrl-C (SIGINT) lets a worker leave cleanly: exit 0 and a summary.
    for (i, w) in workers.children.iter_mut().enumerate() {
        let st = Command::new("kill")
            .args(["-INT", &w.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let start = Instant::now();
        let code = loop {
            if let Some(st) = w.try_wait().unwrap() {
                break st.code();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "worker {i} ignored Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(code, Some(0), "worker {i}");
        let log = std::fs::read_to_string(d.join(format!("worker{i}.log"))).unwrap();
        assert!(log.contains("evaluated") && log.contains("tasks"), "{log}");
    }
    if cfg.contains("[final_training]") {
        assert_final_stage_on_workers(&d, &out);
    }
    if cfg.contains("ensemble = true") {
        let s = crate::common::nas_summary(&out);
        assert!(s["ensemble_test_accuracy"].is_number(), "{s}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// An architecture search's final retraining ran on the workers too: they
/// joined the run's final stage and evaluated the search's candidates and
/// every retraining (at least: a task whose lease ran out is sent again).
fn assert_final_stage_on_workers(d: &Path, out: &Path) {
    let logs: Vec<String> = (0..3)
        .map(|i| std::fs::read_to_string(d.join(format!("worker{i}.log"))).unwrap())
        .collect();
    assert!(
        logs.iter().any(|l| l.contains("-final")),
        "no worker joined the final stage: {logs:?}"
    );
    let tasks: usize = logs
        .iter()
        .filter_map(|l| {
            // The exit summary comes last; a worker busy for more than 30 s
            // also logs "evaluated N tasks in the last 30 s" before it.
            let at = l.rfind("evaluated ")? + "evaluated ".len();
            l[at..].split_whitespace().next()?.parse::<usize>().ok()
        })
        .sum();
    let searched = lines(&out.join("metrics.jsonl"));
    let summary = crate::common::nas_summary(out);
    let retrained = summary["top_k"].as_array().unwrap().len();
    assert!(
        tasks >= searched_candidates(out) + retrained,
        "workers evaluated {tasks} tasks; {searched} lines, {retrained} retrained"
    );
}

/// Candidates the search evaluated.
fn searched_candidates(out: &Path) -> usize {
    metrics_without_time(out)
        .iter()
        .filter(|m| m["kind"] == "candidate")
        .count()
}

#[test]
fn deep_ga_through_3_workers_matches_local_threads() {
    through_workers_matches_local(GA_ACROBOT, "redis-ga", 1);
}

#[test]
fn a_cell_architecture_search_through_3_workers_matches_local_threads() {
    // Workers build the same NasProblem (the built-in digits) from the
    // run spec and train candidates, then the retraining of the best two
    // from the final stage's spec.
    // With an ensemble: each retraining's holdout probabilities come back
    // from the workers with its weights.
    // With a learned predictor screening the GA's children (fitted on
    // the coordinator from the cell features).
    let cfg = crate::nas::SMALL_CELLS
        .replace("top_k = 1", "top_k = 2\nensemble = true")
        .replace(
            "[strategy]",
            "[estimation.predictor]\npool = 2\nwarmup = 4\nepochs = 50\n[strategy]",
        );
    through_workers_matches_local(&cfg, "redis-nas", 7);
}

#[test]
fn open_es_through_3_workers_matches_local_threads() {
    // With panics and NaN fitness injected: failed evaluations travel back
    // as failures and are counted like local ones.
    let cfg = format!("{ES_CARTPOLE}\n[env.faults]\npanic_prob = 0.05\nnan_fitness_prob = 0.05\n");
    through_workers_matches_local(&cfg, "redis-es", 2);
}

#[test]
fn open_es_over_a_conv_policy_through_3_workers_matches_local_threads() {
    // The centre (a convolutional policy over MinAtar frames) travels once
    // per generation; each task is a noise index and a sign.
    through_workers_matches_local(crate::minatar::ES_SPACE_INVADERS, "redis-es-conv", 9);
}

#[test]
fn novelty_search_through_3_workers_matches_local_threads() {
    // Behaviours travel back with the results; the archive stays with the
    // coordinator.
    through_workers_matches_local(crate::novelty::GA_NOVELTY_MAZE, "redis-ns", 10);
}

#[test]
fn two_runs_share_the_same_workers() {
    let Some(base) = redis_base() else { return };
    let url = fresh_db(&base, 6);
    let d = tmp("redis-two-runs");
    let configs = [("ga", GA_ACROBOT), ("es", ES_CARTPOLE)];
    let _workers = Workers::start(&url, 2, &d);
    let mut runs = vec![];
    for (name, cfg) in configs {
        let c = write_config(&d, &format!("{name}.toml"), cfg);
        let out = d.join(format!("{name}-redis"));
        runs.push((spawn(&run_args(&c, &out, &["--redis", &url])), out));
    }
    for ((mut child, out), (name, cfg)) in runs.into_iter().zip(configs) {
        assert!(child.wait().unwrap().success());
        let sub = d.join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let reference = local_reference(&sub, cfg);
        assert_same_run(&reference, &out, "between shared workers and local threads");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_worker_killed_mid_evaluation_loses_nothing() {
    let Some(base) = redis_base() else { return };
    let url = fresh_db(&base, 3);
    let d = tmp("redis-kill-worker");
    let reference = local_reference(&d, GA_ACROBOT);
    let c = write_config(&d, "c.toml", &slowed(GA_ACROBOT, 25));
    let out = d.join("redis");
    let mut workers = Workers::start(&url, 2, &d);
    let mut coordinator = spawn(&run_args(&c, &out, &["--redis", &url]));
    wait_for_generations(&out, 2, &mut coordinator);
    // A generation takes about half a second: 200 ms into it both workers
    // are busy, and every 25 ms each starts another evaluation, so the
    // killed one dies inside one, holding tasks.
    std::thread::sleep(Duration::from_millis(200));
    workers.children[0].kill().unwrap();
    workers.children[0].wait().unwrap();
    assert!(coordinator.wait().unwrap().success());
    assert_same_run(&reference, &out, "after a worker was killed");
    let log = std::fs::read_to_string(d.join("worker1.log")).unwrap();
    assert!(
        log.contains("took over"),
        "the survivor took nothing over:\n{log}"
    );
    drop(workers);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_killed_coordinator_resumes_with_the_same_workers() {
    let Some(base) = redis_base() else { return };
    let url = fresh_db(&base, 4);
    let d = tmp("redis-kill-coordinator");
    let reference = local_reference(&d, GA_ACROBOT);
    let c = write_config(&d, "c.toml", &slowed(GA_ACROBOT, 10));
    let out = d.join("redis");
    let _workers = Workers::start(&url, 2, &d);
    let mut coordinator = spawn(&run_args(&c, &out, &["--redis", &url]));
    wait_for_generations(&out, 3, &mut coordinator);
    coordinator.kill().unwrap(); // SIGKILL
    coordinator.wait().unwrap();
    assert!(lines(&out.join("metrics.jsonl")) < 6, "killed too late");
    run_ok(&["resume", &path(&out), "--quiet", "--redis", &url]);
    assert_same_run(
        &reference,
        &out,
        "after the coordinator was killed and resumed",
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// A private Redis on a free port, so that it can be killed and
/// restarted, optionally speaking TLS only.
struct PrivateRedis {
    port: u16,
    tls: bool,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tls_fixture(name: &str) -> String {
    path(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name),
    )
}

impl PrivateRedis {
    fn start(port: u16, tls: bool) -> Self {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1"])
            .args([
                "--requirepass",
                "private-test",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null());
        if tls {
            cmd.args(["--port", "0", "--tls-port", &port.to_string()])
                .args(["--tls-cert-file", &tls_fixture("server.pem")])
                .args(["--tls-key-file", &tls_fixture("server.key")])
                .args(["--tls-ca-cert-file", &tls_fixture("ca.pem")])
                .args(["--tls-auth-clients", "no"]);
        } else {
            cmd.args(["--port", &port.to_string()]);
        }
        let child = cmd.spawn().expect("redis-server on PATH (CI installs it)");
        let s = Self { port, tls, child };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://:private-test@127.0.0.1:{}/0", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_redis_restart_that_loses_everything_is_survived() {
    if redis_base().is_none() {
        return;
    }
    let port = free_port();
    let mut server = PrivateRedis::start(port, false);
    let url = server.url();
    let d = tmp("redis-restart");
    let reference = local_reference(&d, GA_ACROBOT);
    let c = write_config(&d, "c.toml", &slowed(GA_ACROBOT, 10));
    let out = d.join("redis");
    let workers = Workers::start(&url, 2, &d);
    let mut coordinator = bin()
        .args(run_args(&c, &out, &["--redis", &url]))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join("coordinator.log")).unwrap())
        .spawn()
        .unwrap();
    wait_for_generations(&out, 2, &mut coordinator);
    // Without persistence: the restarted server has lost the run.
    drop(server);
    std::thread::sleep(Duration::from_millis(1500));
    server = PrivateRedis::start(port, false);
    assert!(coordinator.wait().unwrap().success());
    assert_same_run(&reference, &out, "across a Redis restart");
    drop(workers);
    drop(server);
    let log = std::fs::read_to_string(d.join("coordinator.log")).unwrap();
    assert!(log.contains("publishing it again"), "{log}");
    for w in ["worker0.log", "worker1.log"] {
        let log = std::fs::read_to_string(d.join(w)).unwrap();
        assert!(log.contains("reconnected"), "{w}:\n{log}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_wrong_password_or_an_unreachable_server_exits_2_with_one_line() {
    let Some(base) = redis_base() else { return };
    let host = base
        .rsplit('@')
        .next()
        .unwrap()
        .trim_start_matches("redis://");
    let d = tmp("redis-refused");
    let c = write_config(&d, "c.toml", GA_ACROBOT);
    let cases = [
        (
            format!("redis://:definitely-wrong@{host}/5"),
            "refused the credentials",
        ),
        ("redis://127.0.0.1:1/5".to_string(), "cannot reach Redis"),
        ("http://127.0.0.1:1".to_string(), "not a Redis URL"),
    ];
    for (url, says) in &cases {
        for args in [
            run_args(&c, &d.join("run"), &["--redis", url]),
            vec!["worker".into(), "--redis".into(), url.clone()],
        ] {
            let o = bin().args(&args).output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(!err.contains("definitely-wrong"), "password shown: {err}");
        }
    }
    assert!(
        !d.join("run/config.toml").exists(),
        "nothing is written before Redis answers"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn tls_with_a_private_ca_matches_local_threads() {
    if redis_base().is_none() {
        return;
    }
    let server = PrivateRedis::start(free_port(), true);
    let url = server.url();
    let d = tmp("redis-tls");
    let reference = local_reference(&d, ES_CARTPOLE);
    let c = write_config(&d, "c.toml", ES_CARTPOLE);
    let ca = tls_fixture("ca.pem");
    // Without the CA the server's certificate is not trusted: one line,
    // exit 2, with the way out.
    let o = bin().args(["worker", "--redis", &url]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--redis-ca"), "{err}");
    let worker = bin()
        .args([
            "worker",
            "--redis",
            &url,
            "--redis-ca",
            &ca,
            "--threads",
            "2",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _workers = Workers {
        children: vec![worker],
    };
    let out = d.join("tls");
    run_into(&c, &out, &["--redis", &url, "--redis-ca", &ca]);
    assert_same_run(&reference, &out, "between a TLS worker and local threads");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Something that is not Redis on the `--redis` port (here a server that
/// answers like SSH) is one line and exit 2, before anything is written.
#[test]
fn a_server_that_is_not_redis_exits_2_with_one_line() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
        }
    });
    let d = tmp("not-redis");
    let c = write_config(&d, "c.toml", GA_ACROBOT);
    let out = bin()
        .args(run_args(
            &c,
            &d.join("r"),
            &["--redis", &format!("redis://127.0.0.1:{port}")],
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("does not speak the Redis protocol"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_nsga2_search_through_3_workers_matches_local_threads() {
    // The same front (`pareto.json`) and retrained best as local threads.
    through_workers_matches_local(crate::nsga::SMALL_NSGA, "redis-nsga", 8);
}

#[test]
fn a_hyperband_search_through_3_workers_matches_local_threads() {
    // Each promoted candidate's epochs travel in its request.
    through_workers_matches_local(crate::halving::SMALL_HALVING, "redis-halving", 11);
}
