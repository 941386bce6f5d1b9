//! ALPS (Hornby 2006) through the real binary: over NEAT and over the Deep
//! GA on the maze, with novelty search around it, bit-identical across
//! thread counts and SIGKILL-and-resume; settings and strategies checked.

use crate::common::*;

/// ALPS over NEAT's operators on the hard maze: the shipped config, short,
/// checkpointing every 3 generations.
fn neat_alps(generations: u64) -> String {
    std::fs::read_to_string(repo().join("configs/maze-hard-neat-alps.toml"))
        .unwrap()
        .replace(
            "max_generations = 5000",
            &format!("max_generations = {generations}"),
        )
        .replace("checkpoint_every = 50", "checkpoint_every = 3")
        .replace("layer_size = 50", "layer_size = 12")
        .replace("age_gap = 10", "age_gap = 3")
}

/// ALPS over the Deep GA's mutation, novelty search around it.
const GA_ALPS_NOVELTY: &str = r#"
[run]
seed = 5
max_generations = 14
checkpoint_every = 2
noise_table_size = 100000
[env]
id = "Maze/Hard-v0"
test_episodes = 1
[policy]
hidden = [16]
[strategy]
kind = "deep_ga"
population = 30
truncation = 6
sigma = 0.1
[alps]
layers = 3
layer_size = 10
age_gap = 4
aging = "fibonacci"
[novelty]
k = 5
"#;

#[test]
fn alps_runs_are_bit_identical_for_1_and_2_threads() {
    // 16 generations, a layer opening every 3 up to 5; 14, every 4 up to 3.
    for (cfg, name, layers) in [
        (neat_alps(16), "neat", 5.0),
        (GA_ALPS_NOVELTY.to_string(), "ga", 3.0),
    ] {
        let (m1, c1) = crate::determinism::run_with_threads(&cfg, &format!("alps-{name}"), "1");
        let (m2, c2) = crate::determinism::run_with_threads(&cfg, &format!("alps-{name}"), "2");
        assert!(m1.len() >= 14, "{name}");
        assert_eq!(m1, m2, "{name}: metrics differ between 1 and 2 threads");
        assert_eq!(c1, c2, "{name}: champion differs between 1 and 2 threads");
        // Layers open one per age gap, each adding its share of candidates.
        let last = m1.iter().rfind(|m| m["kind"] != "candidate").unwrap();
        assert_eq!(last["stats"]["layers"], layers, "{name}: {last}");
        assert!(
            last["stats"]["oldest_age"].as_f64().unwrap() > 6.0,
            "{last}"
        );
    }
}

#[test]
fn a_killed_alps_run_resumes_exactly() {
    // The layers, their members' ages and the pending round are part of
    // the checkpoint.
    crate::resume::kill_and_resume_matches(&neat_alps(40), "alps-kill", &[300, 400, 500]);
}

#[test]
fn alps_settings_and_strategies_are_checked() {
    let with = |kind: &str, alps: &str| {
        format!(
            "[run]\nmax_generations = 2\n[env]\nid = \"CartPole-v1\"\n[strategy]\nkind = \"{kind}\"\npopulation = 10\n[alps]\n{alps}\n"
        )
    };
    let neat = |alps: &str| with("neat", alps).replace("population = 10\n", "");
    crate::configs::expect_config_error("alps-layers", &neat("layers = 0"), "alps.layers");
    crate::configs::expect_config_error("alps-gap", &neat("age_gap = 0"), "alps.age_gap");
    crate::configs::expect_config_error("alps-aging", &neat("aging = \"cubic\""), "cubic");
    crate::configs::expect_config_error("alps-key", &neat("layer_count = 3"), "layer_count");
    crate::configs::expect_config_error(
        "alps-es",
        &with("random_search", "layers = 3"),
        "strategy.kind = \"neat\"",
    );
}

#[test]
fn alps_breeds_architectures_with_the_search_space_operators() {
    // The digits search at one epoch a candidate, 24 evaluations, under
    // two layers of 6 (a second layer opens at generation 2).
    let text = std::fs::read_to_string(repo().join("configs/digits-nas.toml"))
        .unwrap()
        .replace("max_evaluations = 300", "max_evaluations = 24")
        .replace("epochs = 8", "epochs = 1")
        .replace("epochs = 60", "epochs = 1")
        .replace("top_k = 2", "top_k = 1")
        + "\n[alps]\nlayers = 2\nlayer_size = 6\nage_gap = 2\n";
    let d = tmp("alps-nas");
    let cfg = write_config(&d, "nas-alps.toml", &text);
    let out = d.join("run");
    run_into(&cfg, &out, &["--threads", "1"]);
    let m = metrics_without_time(&out);
    let last = m.iter().rfind(|m| m["kind"] != "candidate").unwrap();
    assert_eq!(last["stats"]["layers"], 2.0, "{last}");
    // Children name the search space's mutations.
    let ops: Vec<String> = m
        .iter()
        .filter(|m| m["kind"] == "candidate")
        .map(|m| m["operator"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(ops.iter().any(|o| o == "random"), "{ops:?}");
    assert!(
        ops.iter().any(|o| o != "random" && !o.is_empty()),
        "{ops:?}"
    );
    assert!(out.join("best/summary.json").exists());
    std::fs::remove_dir_all(&d).unwrap();
}
