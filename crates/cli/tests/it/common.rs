use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_evonet"));
    c.env_remove("RUST_LOG");
    c
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh temporary folder for one test.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("evonet-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn run_ok<S: AsRef<OsStr> + std::fmt::Debug>(args: &[S]) -> Output {
    let out = bin().args(args).output().expect("spawn evonet");
    assert!(
        out.status.success(),
        "evonet {args:?} failed ({:?}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `evonet run CONFIG --out OUT --quiet EXTRA...`.
pub fn run_args(config: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "run".to_string(),
        path(config),
        "--out".into(),
        path(out),
        "--quiet".into(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// Runs a config into `out`; the run must succeed.
pub fn run_into(config: &Path, out: &Path, extra: &[&str]) -> Output {
    run_ok(&run_args(config, out, extra))
}

/// Starts evonet in the background with its output discarded.
pub fn spawn<S: AsRef<OsStr>>(args: &[S]) -> Child {
    bin()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn evonet")
}

pub fn path(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

/// Both folders hold the same run: metrics (wall clock aside) and champion.
pub fn assert_same_run(a: &Path, b: &Path, what: &str) {
    assert_eq!(
        metrics_without_time(a),
        metrics_without_time(b),
        "metrics differ {what}"
    );
    if a.join("best/champion.json").exists() {
        assert_eq!(champion(a), champion(b), "champion differs {what}");
    } else {
        // Architecture search: the retrained best, its weights and export.
        assert_eq!(nas_summary(a), nas_summary(b), "summary differs {what}");
        for f in ["weights.evow", "model.onnx", "architecture.json"] {
            assert_eq!(
                std::fs::read(a.join("best").join(f)).unwrap(),
                std::fs::read(b.join("best").join(f)).unwrap(),
                "best/{f} differs {what}"
            );
        }
        // An ensemble's model, where the final training built one.
        assert_eq!(
            std::fs::read(a.join("best/ensemble.onnx")).ok(),
            std::fs::read(b.join("best/ensemble.onnx")).ok(),
            "best/ensemble.onnx differs {what}"
        );
        // A multi-objective search's front.
        assert_eq!(
            std::fs::read(a.join("pareto.json")).ok(),
            std::fs::read(b.join("pareto.json")).ok(),
            "pareto.json differs {what}"
        );
    }
}

/// `best/summary.json` of an architecture search without its wall clock.
pub fn nas_summary(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("best/summary.json")).expect("summary.json"),
    )
    .unwrap();
    for row in v["top_k"].as_array_mut().unwrap() {
        row.as_object_mut().unwrap().remove("retrain_s");
    }
    v
}

/// metrics.jsonl without the wall-clock fields, one JSON value per line.
pub fn metrics_without_time(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("metrics.jsonl")).expect("metrics.jsonl");
    text.lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("json line");
            let o = v.as_object_mut().unwrap();
            o.remove("elapsed_s");
            o.remove("evals_per_s");
            if let Some(d) = o.get_mut("details").and_then(|d| d.as_object_mut()) {
                d.remove("train_s");
            }
            v
        })
        .collect()
}

pub fn champion(dir: &Path) -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(dir.join("best/champion.json")).expect("champion.json"),
    )
    .unwrap()
}

/// Writes a config into `dir` and returns its path.
pub fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A Deep GA run on Acrobot that does not stop when solved: several
/// generations with real selection.
pub const GA_ACROBOT: &str = r#"
[run]
seed = 5
max_generations = 6
stop_when_solved = false
checkpoint_every = 1
[env]
id = "Acrobot-v1"
test_episodes = 20
[policy]
hidden = [16]
[strategy]
kind = "deep_ga"
population = 40
truncation = 8
sigma = 0.05
elite_candidates = 5
elite_episodes = 5
"#;

/// An OpenAI-ES run on CartPole with observation statistics.
pub const ES_CARTPOLE: &str = r#"
[run]
seed = 9
max_generations = 6
stop_when_solved = false
checkpoint_every = 1
noise_table_size = 1000000
[env]
id = "CartPole-v1"
test_episodes = 20
[policy]
hidden = [32, 32]
[strategy]
kind = "open_es"
population = 40
sigma = 0.05
learning_rate = 0.03
obs_stats_prob = 0.3
"#;

/// For each `(from, to, key)`: `base` with `from` replaced by `to` is
/// refused with exit status 2 and an error naming `key`.
pub fn assert_refused(base: &str, name: &str, cases: &[(&str, &str, &str)]) {
    let d = tmp(name);
    for (from, to, key) in cases {
        assert!(base.contains(from), "{from} is not in the config");
        let c = write_config(&d, "bad.toml", &base.replace(from, to));
        let out = bin()
            .args(run_args(&c, &d.join("out"), &[]))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{to}: {err}");
        assert!(err.contains(key), "{to}: {err}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}
