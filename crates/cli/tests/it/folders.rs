//! A run folder belongs to one process and one run: a second process is
//! refused while the first lives (and let in once it is SIGKILLed), a
//! checkpoint copied from another run or a lost config.toml stops a resume
//! with the file to restore, and a damaged metrics.jsonl is repaired.

use std::path::Path;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use crate::common::*;

fn evonet(args: &[&str]) -> Output {
    bin().args(args).output().expect("spawn evonet")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_refused(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from: {err}");
    }
}

/// Waits until the child's run has written its first generation line.
fn wait_started(run: &Path, child: &mut Child) {
    let start = Instant::now();
    while std::fs::read_to_string(run.join("metrics.jsonl")).map_or(true, |m| m.is_empty()) {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_process_on_a_run_folder_is_refused_until_the_first_dies() {
    let d = tmp("lock");
    let slow = GA_ACROBOT.replace("max_generations = 6", "max_generations = 1000")
        + "[env.faults]\ndelay_ms = 2\n";
    let c = write_config(&d, "c.toml", &slow);
    let run = d.join("run");
    let mut child = spawn(&run_args(&c, &run, &[]));
    wait_started(&run, &mut child);
    let (r, pid) = (path(&run), child.id().to_string());
    let needles = [r.as_str(), pid.as_str()];
    assert_refused(
        &evonet(&["run", &path(&c), "--out", &r, "--force", "-q"]),
        &needles,
    );
    assert_refused(&evonet(&["resume", &r, "-q"]), &needles);
    assert_refused(&evonet(&["retrain", &r]), &needles);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    // The OS released the lock with the process.
    run_ok(&["resume", &r, "-q", "--max-generations", "1"]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_checkpoint_of_another_run_or_a_lost_config_stops_a_resume() {
    let d = tmp("identity");
    let es = write_config(&d, "es.toml", ES_CARTPOLE);
    let (a, b) = (d.join("es"), d.join("neat"));
    run_into(&es, &a, &["--max-generations", "2"]);
    let neat = repo().join("configs/xor-neat.toml");
    run_into(&neat, &b, &["--max-generations", "2"]);
    let ck = |dir: &Path| dir.join("checkpoints/latest.evock");
    let own = std::fs::read(ck(&b)).unwrap();
    std::fs::copy(ck(&a), ck(&b)).unwrap();
    let r = path(&b);
    let o = evonet(&["resume", &r, "-q"]);
    assert_refused(&o, &["latest.evock", "config.toml", "restore"]);
    // The same config in another folder is another run too.
    let twin = d.join("twin");
    run_into(&es, &twin, &["--max-generations", "2"]);
    std::fs::copy(ck(&a), ck(&twin)).unwrap();
    assert_refused(
        &evonet(&["resume", &path(&twin), "-q"]),
        &["belongs to run"],
    );
    // Its own checkpoint back: a missing or damaged config.toml.
    std::fs::write(ck(&b), own).unwrap();
    let config = b.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::remove_file(&config).unwrap();
    assert_refused(&evonet(&["resume", &r, "-q"]), &["config.toml", "restore"]);
    std::fs::write(&config, &text[..text.len() / 2]).unwrap();
    assert_refused(&evonet(&["resume", &r, "-q"]), &["config.toml", "restore"]);
    std::fs::write(&config, &text).unwrap();
    run_ok(&["resume", &r, "-q", "--max-generations", "3"]);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_damaged_or_short_metrics_file_is_repaired_on_resume_and_said() {
    let d = tmp("metrics-repair");
    let c = write_config(&d, "c.toml", GA_ACROBOT);
    let run = d.join("run");
    run_into(&c, &run, &["--max-generations", "4"]);
    let metrics = run.join("metrics.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&metrics)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 4);
    // Generation 1's line damaged, generation 3's lost.
    let damaged = [
        lines[0].clone(),
        "{\"generation\": 1, broken".into(),
        lines[2].clone(),
    ];
    std::fs::write(&metrics, damaged.join("\n") + "\n").unwrap();
    let o = run_ok(&["resume", &path(&run), "-q", "--max-generations", "6"]);
    let err = stderr(&o);
    assert!(
        err.contains("metrics.jsonl")
            && err.contains("1 damaged line")
            && err.contains("generations 1, 3"),
        "{err}"
    );
    let gens: Vec<u64> = metrics_without_time(&run)
        .iter()
        .map(|m| m["generation"].as_u64().unwrap())
        .collect();
    assert_eq!(gens, vec![0, 2, 4, 5]);
    std::fs::remove_dir_all(&d).unwrap();
}
