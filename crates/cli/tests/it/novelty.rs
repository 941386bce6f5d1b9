//! Novelty search on the deceptive maze, through the real binary: the
//! shipped configs solve the hard maze with novelty and not with fitness
//! on the same seed and budget, the maze picture is drawn, and runs stay
//! bit-identical across thread counts and SIGKILL-and-resume.

use crate::common::*;

/// The metrics' last generation line.
fn last_generation(out: &std::path::Path) -> serde_json::Value {
    metrics_without_time(out)
        .into_iter()
        .rfind(|m| m["kind"] != "candidate")
        .unwrap()
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(repo().join("configs").join(name)).unwrap()
}

#[test]
fn novelty_solves_the_hard_maze_where_fitness_is_deceived() {
    let d = tmp("maze-hard");
    // Seed 12 solves within 33 generations (8,250 evaluations) with
    // novelty; the same seed and budget with fitness end in the dead end.
    let budget = ["--seed", "12", "--max-generations", "60"];
    let novelty = d.join("novelty");
    run_into(
        &repo().join("configs/maze-hard-neat-novelty.toml"),
        &novelty,
        &budget,
    );
    let fitness = d.join("fitness");
    run_into(
        &repo().join("configs/maze-hard-neat-fitness.toml"),
        &fitness,
        &budget,
    );
    let (n, f) = (last_generation(&novelty), last_generation(&fitness));
    assert_eq!(n["solved"], true, "{n}");
    assert!(
        n["solved_at_evaluations"].as_u64().unwrap() <= 15_000,
        "{n}"
    );
    assert!(n["stats"]["archive_size"].as_f64().unwrap() > 10.0, "{n}");
    assert_eq!(f["solved"], false, "{f}");
    assert!(f["test_score"].as_f64().unwrap() < 295.0, "{f}");
    // Every generation records the robots' final positions, 250 of them.
    let m = metrics_without_time(&novelty);
    assert!(m
        .iter()
        .all(|g| g["behaviors"].as_array().unwrap().len() == 250));
    // The picture: the 13 walls and the robots.
    let svg = d.join("maze.svg");
    run_ok(&["plot", "--maze", &path(&novelty), "--out", &path(&svg)]);
    let text = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(text.matches("<line").count(), 13);
    assert!(text.matches("<circle").count() > 1000);
    assert!(text.contains("neat + novelty"), "{}", &text[..300]);
    std::fs::remove_dir_all(&d).unwrap();
}

/// NEAT with novelty on the hard maze for `generations`, checkpointing
/// every 3.
fn neat_novelty(generations: u64) -> String {
    shipped("maze-hard-neat-novelty.toml")
        .replace(
            "max_generations = 1000",
            &format!("max_generations = {generations}"),
        )
        .replace("checkpoint_every = 50", "checkpoint_every = 3")
        .replace("seed = 1\n", "seed = 3\n")
}

/// Such et al.'s GA-NS: the Deep GA selecting on novelty, on the maze.
pub(crate) const GA_NOVELTY_MAZE: &str = r#"
[run]
seed = 4
max_generations = 8
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
elite_candidates = 3
elite_episodes = 1
[novelty]
k = 10
archive = "threshold"
threshold = 6.0
"#;

/// Conti et al.'s NS-ES with a meta-population of 3 centres, on the maze.
const NSES_CENTRES_MAZE: &str = r#"
[run]
seed = 6
max_generations = 30
checkpoint_every = 2
test_every = 1
noise_table_size = 100000
[env]
id = "Maze/Hard-v0"
test_episodes = 1
[policy]
hidden = [16]
[strategy]
kind = "open_es"
population = 20
sigma = 0.05
learning_rate = 0.02
obs_norm = false
[novelty]
k = 5
archive = "champion"
mix = "rank"
objective_weight = 0.5
centres = 3
"#;

#[test]
fn novelty_runs_are_bit_identical_for_1_and_2_threads() {
    for (cfg, name) in [
        (neat_novelty(12), "neat"),
        (GA_NOVELTY_MAZE.to_string(), "ga"),
        (NSES_CENTRES_MAZE.to_string(), "nses"),
    ] {
        let (m1, c1) = crate::determinism::run_with_threads(&cfg, &format!("ns-{name}"), "1");
        let (m2, c2) = crate::determinism::run_with_threads(&cfg, &format!("ns-{name}"), "2");
        assert!(m1.len() >= 8, "{name}");
        assert_eq!(m1, m2, "{name}: metrics differ between 1 and 2 threads");
        assert_eq!(c1, c2, "{name}: champion differs between 1 and 2 threads");
    }
}

#[test]
fn a_killed_novelty_run_resumes_exactly() {
    // The archive, its threshold and the best-by-objective champion are
    // part of the checkpoint.
    crate::resume::kill_and_resume_matches(&neat_novelty(40), "ns-kill", &[300, 400, 500]);
}

#[test]
fn a_killed_meta_population_resumes_exactly() {
    // The centres' states, their behaviours and the chosen centre are part
    // of the checkpoint; every generation steps one centre.
    let cfg = NSES_CENTRES_MAZE.replace("max_generations = 30", "max_generations = 400");
    crate::resume::kill_and_resume_matches(&cfg, "nses-kill", &[300, 600]);
    let d = tmp("nses-centres");
    run_into(&write_config(&d, "c.toml", &cfg), &d.join("run"), &[]);
    let mut stepped = [0u32; 3];
    for rec in metrics_without_time(&d.join("run")) {
        if let Some(c) = rec["stats"]["centre"].as_f64() {
            stepped[c as usize] += 1;
        }
    }
    assert_eq!(stepped.iter().sum::<u32>(), 400);
    assert!(stepped.iter().all(|n| *n > 0), "{stepped:?}");
}

#[test]
fn novelty_settings_and_environments_are_checked() {
    let with = |novelty: &str, env: &str| {
        format!(
            "[run]\nmax_generations = 2\n[env]\nid = \"{env}\"\n[strategy]\nkind = \"neat\"\n[novelty]\n{novelty}\n"
        )
    };
    crate::configs::expect_config_error("ns-k", &with("k = 0", "Maze/Hard-v0"), "novelty.k");
    crate::configs::expect_config_error(
        "ns-mix",
        &with("objective_weight = 0.5", "Maze/Hard-v0"),
        "novelty.objective_weight",
    );
    crate::configs::expect_config_error(
        "ns-key",
        &with("neighbours = 3", "Maze/Hard-v0"),
        "neighbours",
    );
    crate::configs::expect_config_error(
        "ns-centres",
        &with("centres = 3", "Maze/Hard-v0"),
        "novelty.centres",
    );
    crate::configs::expect_config_error(
        "ns-env",
        &with("k = 5", "Acrobot-v1"),
        "behaviour characterisation",
    );
}

/// MinAtar episodes end with the player's occupancy of the cells, so
/// novelty search runs on the games.
#[test]
fn novelty_search_runs_on_minatar() {
    let cfg = r#"
[run]
seed = 2
max_generations = 3
noise_table_size = 1000000
[env]
id = "MinAtar/Breakout-v1"
max_steps = 60
test_episodes = 1
[strategy]
kind = "deep_ga"
population = 8
truncation = 3
sigma = 0.05
elite_candidates = 2
elite_episodes = 1
[novelty]
k = 3
threshold = 0.05
threshold_floor = 0.01
"#;
    let d = tmp("ns-minatar");
    run_into(&write_config(&d, "c.toml", cfg), &d.join("run"), &[]);
    let m = metrics_without_time(&d.join("run"));
    let last = m.iter().rfind(|r| r["kind"].is_null()).unwrap();
    assert_eq!(last["failed_total"], 0, "{last}");
    assert!(
        last["stats"]["archive_size"].as_f64().unwrap() >= 1.0,
        "{last}"
    );
    assert!(
        last["stats"]["novelty_best"].as_f64().unwrap() > 0.0,
        "{last}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
