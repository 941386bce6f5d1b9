//! Multi-objective architecture search (NSGA-II) from the CLI: the front
//! in `pareto.json`, the hypervolume per generation, the plot, and the
//! determinism and resumption every search keeps.

use std::path::Path;

use crate::common::*;

/// NSGA-II over error, parameters and FLOPs: 6 random networks, then 3
/// generations of 6 children.
pub(crate) const SMALL_NSGA: &str = r#"
[run]
seed = 4
max_generations = 100
max_evaluations = 24
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
epochs = 4
top_k = 1
[strategy]
kind = "nsga2"
population = 6
objectives = ["params", "flops"]
"#;

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Every trained candidate's (error, params, flops).
fn candidate_points(dir: &Path) -> Vec<(u64, Vec<f64>)> {
    metrics_without_time(dir)
        .iter()
        .filter(|l| l["kind"] == "candidate" && l["fitness"].is_number())
        .map(|l| {
            let d = &l["details"];
            let o = vec![
                1.0 - l["fitness"].as_f64().unwrap(),
                d["params"].as_f64().unwrap(),
                d["flops"].as_f64().unwrap(),
            ];
            (l["candidate"].as_u64().unwrap(), o)
        })
        .collect()
}

fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

#[test]
fn nsga2_writes_every_non_dominated_architecture_and_is_the_same_on_1_and_2_threads() {
    let d = tmp("nsga-threads");
    let c = write_config(&d, "nsga.toml", SMALL_NSGA);
    let (one, two) = (d.join("one"), d.join("two"));
    let out = run_into(&c, &one, &["--threads", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Pareto front over val_error, params, flops"),
        "{text}"
    );
    run_into(&c, &two, &["--threads", "2"]);
    assert_same_run(&one, &two, "between 1 and 2 threads");

    let p = read_json(&one.join("pareto.json"));
    assert_eq!(p["format_version"], 1);
    assert_eq!(
        p["objectives"],
        serde_json::json!(["val_error", "params", "flops"])
    );
    assert_eq!(p["candidates_trained"], 24);
    // The front is exactly the candidates no other candidate dominates
    // (one per architecture and point).
    let points = candidate_points(&one);
    let front: Vec<u64> = p["front"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["candidate"].as_u64().unwrap())
        .collect();
    for (id, o) in &points {
        let beaten = points.iter().any(|(_, q)| dominates(q, o));
        let twin = points.iter().any(|(j, q)| j < id && q == o);
        assert_eq!(front.contains(id), !beaten && !twin, "candidate {id} {o:?}");
    }
    for m in p["front"].as_array().unwrap() {
        let (id, o) = points
            .iter()
            .find(|(id, _)| *id == m["candidate"].as_u64().unwrap())
            .unwrap();
        assert_eq!(m["objectives"], serde_json::json!(o), "{id}");
        let arch = read_json(&one.join(m["architecture"].as_str().unwrap()));
        assert_eq!(arch["format_version"], 2);
        assert_eq!(arch["architecture"]["space"], "chain");
    }
    assert!(p["hypervolume"].as_f64().unwrap() > 0.0, "{p}");
    // The population's front and hypervolume, each generation.
    let gens: Vec<serde_json::Value> = metrics_without_time(&one)
        .into_iter()
        .filter(|l| l["kind"] != "candidate")
        .collect();
    assert_eq!(gens.len(), 4);
    for g in &gens {
        assert!(g["stats"]["hypervolume"].as_f64().unwrap() > 0.0, "{g}");
        assert!(g["stats"]["front_size"].as_f64().unwrap() >= 1.0, "{g}");
    }
    // The most accurate architecture is retrained.
    assert_eq!(nas_summary(&one)["candidate"], p["front"][0]["candidate"]);

    // A front member's architecture exports (with initial weights) to a
    // model onnx's full checker and onnxruntime take.
    let first = one.join(p["front"][0]["architecture"].as_str().unwrap());
    let model = d.join("member.onnx");
    let out = run_ok(&["export", &path(&first), "--onnx", &path(&model)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("initial weights"));
    crate::nas::onnx_accuracy(&model, &d, 4);

    // `evonet plot` draws the fronts of both runs.
    let svg = d.join("front.svg");
    let out = run_ok(&["plot", &path(&one), &path(&two), "--out", &path(&svg)]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("| hypervolume |"), "{table}");
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.contains("params (log scale)") && drawn.contains("<polyline"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_nsga2_search_killed_at_any_moment_resumes_to_the_same_front() {
    let cfg = SMALL_NSGA.replace("max_evaluations = 24", "max_evaluations = 42");
    crate::resume::kill_and_resume_matches(&cfg, "nsga-kill", &[300, 900, 1600, 2400]);
}

#[test]
fn bad_nsga2_settings_exit_2_naming_the_key() {
    assert_refused(
        SMALL_NSGA,
        "nsga-bad",
        &[
            (
                r#"objectives = ["params", "flops"]"#,
                r#"objectives = ["accuracy"]"#,
                "strategy.objectives",
            ),
            (
                r#"objectives = ["params", "flops"]"#,
                r#"objectives = ["params", "params"]"#,
                "strategy.objectives",
            ),
            (
                r#"objectives = ["params", "flops"]"#,
                "objectives = [\"params\"]\nreference = [0.0]",
                "strategy.reference",
            ),
            ("population = 6", "population = 1", "strategy.population"),
        ],
    );
}
