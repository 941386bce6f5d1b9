//! Architecture search from the CLI: a short search on the built-in digits
//! with the real binary.

use std::path::Path;

use crate::common::*;

/// A search of 14 trained candidates that takes a few seconds.
pub(crate) const SMALL_NAS: &str = r#"
[run]
seed = 3
max_generations = 100
max_evaluations = 14
checkpoint_every = 1
[data]
format = "digits"
[search_space]
kind = "chain"
max_layers = 4
filters = [4, 8]
units = [16, 32]
[training]
epochs = 2
batch_size = 64
learning_rate = 0.005
data_fraction = 0.6
channel_scale = 0.5
[final_training]
epochs = 6
top_k = 2
[strategy]
kind = "aging_evolution"
population = 6
sample = 3
batch = 2
"#;

fn lines(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_search_writes_candidates_and_best_and_is_the_same_on_1_and_2_threads() {
    let d = tmp("nas-threads");
    let cfg = SMALL_NAS.replace("top_k = 2", "top_k = 3\nensemble = true");
    let c = write_config(&d, "nas.toml", &cfg);
    let (one, two) = (d.join("one"), d.join("two"));
    let out = run_into(&c, &one, &["--threads", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("best architecture (candidate #"), "{text}");
    run_into(&c, &two, &["--threads", "2"]);
    assert_same_run(&one, &two, "between 1 and 2 threads");

    let all = lines(&one);
    let cands: Vec<_> = all.iter().filter(|l| l["kind"] == "candidate").collect();
    assert_eq!(cands.len(), 14, "one line per trained candidate");
    let gens = all.len() - cands.len();
    assert_eq!(gens, 5, "6 initial models, then 4 rounds of 2 children");
    for c in &cands {
        let d = &c["details"];
        for k in ["val_accuracy", "params", "flops", "train_s"] {
            assert!(d[k].is_number(), "{k} missing in {c}");
        }
        assert!(c["genome"]["summary"].is_string());
        assert!(c["genome"]["arch"]["blocks"].is_array());
    }
    let child = cands.iter().find(|c| c["candidate"] == 6).unwrap();
    assert_eq!(child["parents"].as_array().unwrap().len(), 1);
    let op = child["operator"].as_str().unwrap();
    assert!(
        ["add", "remove", "alter", "identity"]
            .iter()
            .any(|k| op.starts_with(k)),
        "{op}"
    );
    assert_eq!(cands[0]["operator"], "random");

    let s = nas_summary(&one);
    for k in ["val_accuracy", "test_accuracy", "params", "flops"] {
        assert!(s[k].is_number(), "summary.json lacks {k}: {s}");
    }
    assert!(s["test_accuracy"].as_f64().unwrap() > 0.5, "{s}");
    assert_eq!(s["top_k"].as_array().unwrap().len(), 3);
    check_ensemble(&one, &s, 3);
    // The best is the first by search validation accuracy, not by test.
    assert_eq!(s["candidate"], s["top_k"][0]["candidate"]);
    let best_val = cands
        .iter()
        .filter_map(|c| c["fitness"].as_f64())
        .fold(f64::MIN, f64::max);
    assert_eq!(s["val_accuracy"].as_f64().unwrap(), best_val);
    let arch: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.join("best/architecture.json")).unwrap())
            .unwrap();
    assert_eq!(arch["format_version"], 2);
    assert_eq!(arch["kind"], "chain");
    assert_eq!(arch["architecture"]["space"], "chain");
    assert_eq!(arch["input"], serde_json::json!([1, 8, 8]));
    check_onnx(&one, 3);
    // `evonet eval` reloads the network and measures what summary.json says.
    let out = run_ok(&["eval", &path(&one.join("best")), "--json"]);
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["test_accuracy"], s["test_accuracy"], "{e}");
    assert_eq!(
        e["test_images"].as_u64().unwrap(),
        s["test_images"].as_u64().unwrap()
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// A search of the cell space with the GA (uniform crossover of blocks).
pub(crate) const SMALL_CELLS: &str = r#"
[run]
seed = 5
max_generations = 100
max_evaluations = 10
checkpoint_every = 1
[data]
format = "digits"
[search_space]
kind = "cell"
blocks = 3
filters = 8
reductions = 1
identity_probability = 0.1
[training]
epochs = 2
batch_size = 64
learning_rate = 0.005
data_fraction = 0.6
channel_scale = 0.5
[final_training]
epochs = 5
top_k = 1
[strategy]
kind = "truncation_ga"
population = 4
parents = 2
"#;

#[test]
fn a_cell_search_evolves_cells_exports_them_and_is_the_same_on_1_and_2_threads() {
    let d = tmp("nas-cells");
    let c = write_config(&d, "cells.toml", SMALL_CELLS);
    let (one, two) = (d.join("one"), d.join("two"));
    run_into(&c, &one, &["--threads", "1"]);
    run_into(&c, &two, &["--threads", "2"]);
    assert_same_run(&one, &two, "between 1 and 2 threads");
    let all = lines(&one);
    let cands: Vec<_> = all.iter().filter(|l| l["kind"] == "candidate").collect();
    assert_eq!(cands.len(), 10);
    let mut operators = std::collections::BTreeSet::new();
    for c in &cands {
        let arch = &c["genome"]["arch"];
        assert_eq!(arch["space"], "cell", "{c}");
        assert_eq!(arch["normal"]["blocks"].as_array().unwrap().len(), 3);
        assert_eq!(c["genome"]["layers"], 6);
        let op = c["operator"].as_str().unwrap();
        operators.insert(op.split(' ').next().unwrap().to_string());
    }
    for op in &operators {
        assert!(
            ["random", "op", "hidden", "identity", "crossover"].contains(&op.as_str()),
            "{op}"
        );
    }
    assert!(operators.len() >= 3, "{operators:?}");
    let s = nas_summary(&one);
    assert!(
        s["summary"]
            .as_str()
            .unwrap()
            .starts_with("N=1 F=8 R=1 normal["),
        "{s}"
    );
    assert!(s["test_accuracy"].as_f64().unwrap() > 0.5, "{s}");
    check_onnx(&one, 5);
    let out = run_ok(&["eval", &path(&one.join("best")), "--json"]);
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["test_accuracy"], s["test_accuracy"], "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// The ensemble of the retrained architectures in `summary`: members
/// among them, weights that sum to 1, and `best/ensemble.onnx` scoring in
/// onnxruntime what summary.json says on the test split.
fn check_ensemble(run: &Path, summary: &serde_json::Value, seed: u64) {
    let retrained: Vec<&serde_json::Value> = summary["top_k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["candidate"])
        .collect();
    let members = summary["ensemble_members"].as_array().unwrap();
    assert!(!members.is_empty(), "{summary}");
    let mut total = 0.0;
    for m in members {
        assert!(retrained.contains(&&m["candidate"]), "{m}");
        assert!(m["count"].as_u64().unwrap() >= 1);
        total += m["weight"].as_f64().unwrap();
    }
    assert!((total - 1.0).abs() < 1e-9, "{summary}");
    let acc = summary["ensemble_test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.5, "{summary}");
    assert!(summary["ensemble_val_accuracy"].as_f64().unwrap() > 0.5);
    assert_eq!(summary["files"]["ensemble_onnx"], "ensemble.onnx");
    let Some(report) = onnx_accuracy(&run.join("best/ensemble.onnx"), run, seed) else {
        return;
    };
    assert_eq!(report["output"], "probabilities");
    let right = report["right"].as_f64().unwrap();
    let n = report["images"].as_f64().unwrap();
    // At most one image apart (a near tie between two classes can round
    // either way in another runtime).
    assert!((right - acc * n).abs() <= 1.0, "{report} against {acc}");
}

/// `scripts/check_onnx.py --labels` on `model` over the test split of the
/// digits (split with `seed`; files written in `dir`): onnx's full checker,
/// onnxruntime's count of right predictions. `None` without a Python.
pub(crate) fn onnx_accuracy(model: &Path, dir: &Path, seed: u64) -> Option<serde_json::Value> {
    let python = onnx_python()?;
    let splits = evonet::nas::DataConfig::default()
        .load(Path::new("."), seed)
        .unwrap();
    let (x, y) = (dir.join("test-images.f32"), dir.join("test-labels.u8"));
    let bytes: Vec<u8> = splits
        .test
        .images
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&x, bytes).unwrap();
    std::fs::write(&y, &splits.test.labels).unwrap();
    let out = std::process::Command::new(python)
        .arg(repo().join("scripts/check_onnx.py"))
        .args([model, &x])
        .arg("--labels")
        .arg(&y)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_str(text.trim()).unwrap())
}

/// The Python with onnxruntime (`EVONET_PYTHON`; required in CI).
pub(crate) fn onnx_python() -> Option<std::ffi::OsString> {
    match std::env::var_os("EVONET_PYTHON") {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!("CI must set EVONET_PYTHON"),
        None => {
            eprintln!("ONNX check skipped: set EVONET_PYTHON to a python with onnxruntime");
            None
        }
    }
}

/// Runs scripts/check_onnx.py on `best/model.onnx` against evonet's own
/// predictions on the test split of the digits (split with `seed`).
fn check_onnx(run: &Path, seed: u64) {
    let Some(python) = onnx_python() else { return };
    let splits = evonet::nas::DataConfig::default()
        .load(Path::new("."), seed)
        .unwrap();
    let net = evonet::train::weights::load(&run.join("best/weights.evow")).unwrap();
    let bytes = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let x = run.join("test-images.f32");
    let y = run.join("test-logits.f32");
    std::fs::write(&x, bytes(&splits.test.images)).unwrap();
    std::fs::write(&y, bytes(&evonet::train::logits(&net, &splits.test))).unwrap();
    let out = std::process::Command::new(python)
        .arg(repo().join("scripts/check_onnx.py"))
        .arg(run.join("best/model.onnx"))
        .args([&x, &y])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("\"images\": {}", splits.test.len())),
        "{text}"
    );
    // evonet's test accuracy is the one summary.json reports.
    let p = evonet::train::predict(&net, &splits.test);
    let right = p
        .iter()
        .zip(&splits.test.labels)
        .filter(|(a, b)| a == b)
        .count();
    let acc = right as f64 / splits.test.len() as f64;
    assert_eq!(nas_summary(run)["test_accuracy"].as_f64().unwrap(), acc);
}

#[test]
fn a_search_killed_at_any_moment_resumes_to_the_same_end() {
    let cfg = SMALL_NAS.replace("max_evaluations = 14", "max_evaluations = 40");
    crate::resume::kill_and_resume_matches(&cfg, "nas-kill", &[300, 900, 1600, 2400]);
}

#[test]
fn candidates_that_fail_are_recorded_and_the_search_goes_on() {
    let d = tmp("nas-fail");
    // Wide networks exceed the memory limit: they fail, the rest train.
    let cfg = SMALL_NAS
        .replace("filters = [4, 8]", "filters = [4, 256]")
        .replace("units = [16, 32]", "units = [16, 2048]")
        .replace(
            "channel_scale = 0.5",
            "channel_scale = 1.0\nmemory_limit_mb = 4",
        );
    let c = write_config(&d, "fail.toml", &cfg);
    let out = d.join("out");
    run_into(&c, &out, &[]);
    let all = lines(&out);
    let cands: Vec<_> = all.iter().filter(|l| l["kind"] == "candidate").collect();
    let failed: Vec<_> = cands.iter().filter(|c| c["failed"].is_string()).collect();
    assert!(
        !failed.is_empty() && failed.len() < cands.len(),
        "{cands:?}"
    );
    assert!(
        failed[0]["failed"]
            .as_str()
            .unwrap()
            .contains("over the limit of 4 MiB"),
        "{}",
        failed[0]
    );
    assert!(failed.iter().all(|c| c["fitness"].is_null()));
    let total: u64 = all
        .iter()
        .filter(|l| l["kind"].is_null())
        .map(|l| l["failed"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, failed.len());
    assert!(out.join("best/model.onnx").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_search_configs_exit_2_naming_the_key() {
    let d = tmp("nas-bad");
    for (edit, key) in [
        (("epochs = 2", "epochs = 0"), "training.epochs"),
        (
            ("max_layers = 4", "max_layers = 4\nfilterz = [3]"),
            "search_space.filterz",
        ),
        (("kernel", "kernel"), ""),
        (("sample = 3", "sample = 30"), "strategy.sample"),
        (
            (
                "kind = \"chain\"\nmax_layers = 4\nfilters = [4, 8]\nunits = [16, 32]",
                "kind = \"cell\"\nreductions = 5",
            ),
            "search_space.reductions",
        ),
        (
            (
                "kind = \"chain\"\nmax_layers = 4\nfilters = [4, 8]\nunits = [16, 32]",
                "kind = \"cell\"\nops = [\"conv7x7\"]",
            ),
            "search_space",
        ),
        (("format = \"digits\"", "format = \"mnist\""), "data"),
        (
            ("top_k = 2", "top_k = 1\nensemble = true"),
            "final_training.ensemble",
        ),
        (
            ("data_fraction = 0.6", "data_fraction = 1.5"),
            "training.data_fraction",
        ),
        (
            (
                "learning_rate = 0.005",
                "learning_rate = 0.005\nlr_schedule = \"cosin\"",
            ),
            "training.lr_schedule",
        ),
        (
            ("epochs = 6", "epochs = 6\naugment = { shift = 99 }"),
            "final_training.augment.shift",
        ),
        (
            (
                "learning_rate = 0.005",
                "learning_rate = 0.005\naugment = { shift = 1, rotate = 3 }",
            ),
            "training.augment",
        ),
    ] {
        if key.is_empty() {
            continue;
        }
        let c = write_config(&d, "bad.toml", &SMALL_NAS.replace(edit.0, edit.1));
        let out = bin()
            .args(run_args(&c, &d.join("out"), &[]))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{key}: {err}");
        assert!(err.contains(&format!("`{key}")), "{key}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    // A missing IDX file names the file.
    let idx = SMALL_NAS.replace(
        "format = \"digits\"",
        "format = \"idx\"\ntrain_images = \"nowhere/train-images.gz\"\ntrain_labels = \"a\"\ntest_images = \"b\"\ntest_labels = \"c\"",
    );
    let c = write_config(&d, "idx.toml", &idx);
    let out = bin()
        .args(run_args(&c, &d.join("out"), &[]))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nowhere/train-images.gz"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn plot_compares_searches_and_retrain_redoes_the_final_training() {
    let d = tmp("nas-plot");
    let evo = write_config(&d, "evo.toml", SMALL_NAS);
    let random = SMALL_NAS
        .replace("kind = \"aging_evolution\"", "kind = \"random_sampling\"")
        .replace("population = 6\nsample = 3\n", "");
    let rnd = write_config(&d, "rnd.toml", &random);
    for (c, name) in [(&evo, "evo"), (&rnd, "rnd")] {
        run_into(c, &d.join(name), &["--seed", "1"]);
    }
    let svg = d.join("cmp.svg");
    let out = run_ok(&[
        "plot",
        &path(&d.join("evo")),
        &path(&d.join("rnd")),
        "--out",
        &path(&svg),
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("| aging_evolution | 1 |"), "{table}");
    assert!(table.contains("| random_sampling | 1 |"), "{table}");
    assert!(table.contains("after 14 candidates"), "{table}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("format_version 1"));
    assert_eq!(
        text.matches("<polyline").count(),
        4,
        "a run and a mean per strategy"
    );
    // Plotting a run that is not a search says so.
    let bad = bin()
        .args(["plot", &path(&d), "--out", &path(&svg)])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));

    let before = nas_summary(&d.join("evo"));
    assert_eq!(before["final_lr_schedule"], "constant");
    assert_eq!(before["final_augment"]["shift"], 0);
    run_ok(&[
        "retrain",
        &path(&d.join("evo")),
        "--top-k",
        "1",
        "--epochs",
        "3",
        "--lr-schedule",
        "cosine",
        "--learning-rate",
        "0.002",
        "--augment-shift",
        "1",
    ]);
    let after = nas_summary(&d.join("evo"));
    assert_eq!(after["final_epochs"], 3);
    assert_eq!(after["final_lr_schedule"], "cosine");
    assert_eq!(after["final_learning_rate"], 0.002);
    assert_eq!(after["final_augment"]["shift"], 1);
    assert_ne!(after["final_losses"], before["final_losses"]);
    assert_eq!(after["top_k"].as_array().unwrap().len(), 1);
    assert_eq!(
        after["candidate"], before["candidate"],
        "the same best by validation"
    );
    // An ensemble afterwards, then a final training without one: its
    // model goes with it.
    let evo = path(&d.join("evo"));
    run_ok(&[
        "retrain",
        &evo,
        "--top-k",
        "2",
        "--epochs",
        "2",
        "--ensemble",
    ]);
    let ensembled = nas_summary(&d.join("evo"));
    assert!(ensembled["ensemble_members"].is_array(), "{ensembled}");
    assert!(d.join("evo/best/ensemble.onnx").exists());
    run_ok(&["retrain", &evo, "--top-k", "1", "--epochs", "2"]);
    assert!(nas_summary(&d.join("evo"))
        .get("ensemble_members")
        .is_none());
    assert!(!d.join("evo/best/ensemble.onnx").exists());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_search_resumes_only_under_the_same_data_space_and_fidelity() {
    let d = tmp("nas-edit");
    let c = write_config(&d, "nas.toml", SMALL_NAS);
    let out = d.join("out");
    run_into(&c, &out, &["--max-generations", "2"]);
    let edited = write_config(
        &d,
        "edited.toml",
        &SMALL_NAS.replace("epochs = 2", "epochs = 3"),
    );
    let res = bin()
        .args(["resume", &path(&out), "--config", &path(&edited), "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{err}");
    assert!(err.contains("[training]"), "{err}");
    // The final training may change.
    let later = write_config(
        &d,
        "later.toml",
        &SMALL_NAS.replace("top_k = 2", "top_k = 1"),
    );
    run_ok(&["resume", &path(&out), "--config", &path(&later), "--quiet"]);
    assert_eq!(nas_summary(&out)["top_k"].as_array().unwrap().len(), 1);
    std::fs::remove_dir_all(&d).unwrap();
}
