use std::time::Duration;

use crate::common::*;

/// Runs `cfg` uninterrupted, then again killing the real process with
/// SIGKILL at several moments and resuming each time; both must end with the
/// same metrics and champion. The kill times are shrunk, in proportion,
/// to fit in 80% of the uninterrupted run's time, so that a quiet (fast)
/// machine still kills the run before it ends.
pub(crate) fn kill_and_resume_matches(cfg: &str, name: &str, kills_ms: &[u64]) {
    let d = tmp(name);
    let c = write_config(&d, "c.toml", cfg);
    let reference = d.join("reference");
    let started = std::time::Instant::now();
    run_into(&c, &reference, &[]);
    let took_ms = started.elapsed().as_secs_f64() * 1e3;
    let planned: u64 = kills_ms.iter().sum();
    let scale = (0.8 * took_ms / planned.max(1) as f64).min(1.0);
    let kills_ms: Vec<u64> = kills_ms
        .iter()
        .map(|ms| ((*ms as f64 * scale) as u64).max(10))
        .collect();

    let killed = d.join("killed");
    let checkpoint = killed.join("checkpoints/latest.evock");
    // Resume when a checkpoint exists; if the process died before writing
    // one, start over.
    let next_args = || {
        if checkpoint.exists() {
            vec!["resume".to_string(), path(&killed), "--quiet".into()]
        } else {
            run_args(&c, &killed, &["--force"])
        }
    };
    let mut child = spawn(&run_args(&c, &killed, &[]));
    let mut kills = 0;
    for (i, ms) in kills_ms.iter().enumerate() {
        std::thread::sleep(Duration::from_millis(*ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        if i + 1 < kills_ms.len() || kills == 0 {
            child = spawn(&next_args());
        }
    }
    // Let the last process finish, then resume until done.
    let _ = child.wait();
    run_ok(&next_args());
    assert!(kills > 0, "the run ended before any kill; make it longer");
    assert_same_run(&reference, &killed, "after kill -9 and resume");
    std::fs::remove_dir_all(&d).unwrap();
}

const LONG_ES: &str = r#"
[run]
seed = 2
max_generations = 40
stop_when_solved = false
checkpoint_every = 3
noise_table_size = 1000000
[env]
id = "CartPole-v1"
test_episodes = 50
[policy]
hidden = [64, 64]
[strategy]
kind = "open_es"
population = 64
sigma = 0.05
learning_rate = 0.03
obs_stats_prob = 0.2
"#;

#[test]
fn open_es_survives_sigkill_at_any_moment() {
    kill_and_resume_matches(LONG_ES, "kill-es", &[150, 300, 500, 800]);
}

#[test]
fn deep_ga_survives_sigkill_at_any_moment() {
    let cfg = GA_ACROBOT
        .replace("max_generations = 6", "max_generations = 30")
        .replace("checkpoint_every = 1", "checkpoint_every = 2");
    kill_and_resume_matches(&cfg, "kill-ga", &[100, 250, 400, 700]);
}

#[test]
fn resume_of_a_finished_run_changes_nothing_and_can_extend_it() {
    let d = tmp("extend");
    let c = write_config(&d, "c.toml", GA_ACROBOT);
    let full = d.join("full");
    let short = d.join("short");
    run_into(&c, &full, &[]);
    run_into(&c, &short, &["--max-generations", "3"]);
    assert_eq!(metrics_without_time(&short).len(), 3);
    run_ok(&["resume", short.to_str().unwrap(), "--quiet"]);
    assert_eq!(
        metrics_without_time(&short).len(),
        3,
        "resuming a finished run must not add generations"
    );
    run_ok(&[
        "resume",
        short.to_str().unwrap(),
        "--quiet",
        "--max-generations",
        "6",
    ]);
    assert_eq!(
        metrics_without_time(&full),
        metrics_without_time(&short),
        "an extended run must match the longer run"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn missing_or_corrupt_checkpoints_exit_2_with_one_line() {
    let d = tmp("badckpt");
    let out = bin()
        .args(["resume", d.join("nothing").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no checkpoint"), "{err}");

    let c = write_config(&d, "c.toml", GA_ACROBOT);
    let run = d.join("run");
    run_into(&c, &run, &["--max-generations", "2"]);
    let ck = run.join("checkpoints/latest.evock");
    let mut bytes = std::fs::read(&ck).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x55;
    std::fs::write(&ck, &bytes).unwrap();
    let out = bin()
        .args(["resume", run.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("corrupt") && err.contains("latest.evock"),
        "{err}"
    );
    std::fs::write(&ck, &bytes[..n / 2]).unwrap();
    let out = bin()
        .args(["resume", run.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("truncated"));
    // A new run into a folder holding a run is refused without --force.
    let out = bin()
        .args(["run", c.to_str().unwrap(), "--out", run.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&d).unwrap();
}

/// Ctrl-C (SIGINT) stops at the next generation boundary with a checkpoint
/// and exit status 130; resuming ends where the uninterrupted run ends.
#[test]
fn ctrl_c_checkpoints_and_resume_matches() {
    let d = tmp("sigint");
    let c = write_config(&d, "c.toml", LONG_ES);
    let reference = d.join("reference");
    run_into(&c, &reference, &[]);
    let run = d.join("run");
    let child = spawn(&run_args(&c, &run, &[]));
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "an interrupted run exits with 130"
    );
    let done = metrics_without_time(&run).len();
    assert!(
        done < 40,
        "the run was not interrupted ({done} generations)"
    );
    run_ok(&["resume", run.to_str().unwrap(), "--quiet"]);
    assert_same_run(&reference, &run, "after Ctrl-C and resume");
    std::fs::remove_dir_all(&d).unwrap();
}
