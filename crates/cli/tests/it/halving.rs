//! Successive halving and Hyperband over architecture search from the CLI
//! (`[estimation.successive_halving]`): the rungs' epochs in
//! `metrics.jsonl`, promotion of the best, the same run on 1 and 2 threads
//! and after SIGKILL, and bad settings refused by key.

use crate::common::*;

/// Hyperband over random networks: rounds of 6 at 1 epoch, 2 at 2 and 1
/// at 4, then 3 at 2 and 1 at 4, then 2 at 4.
pub(crate) const SMALL_HALVING: &str = r#"
[run]
seed = 6
max_generations = 3
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
[estimation.successive_halving]
epochs = [1, 2, 4]
eta = 3
hyperband = true
[final_training]
epochs = 4
top_k = 1
[strategy]
kind = "random_sampling"
batch = 6
"#;

#[test]
fn hyperband_rounds_train_the_best_longer_and_are_the_same_on_1_and_2_threads() {
    let d = tmp("halving-threads");
    let c = write_config(&d, "h.toml", SMALL_HALVING);
    let (one, two) = (d.join("one"), d.join("two"));
    run_into(&c, &one, &["--threads", "1"]);
    run_into(&c, &two, &["--threads", "2"]);
    assert_same_run(&one, &two, "between 1 and 2 threads");
    let lines = metrics_without_time(&one);
    let epochs: Vec<(u64, u64)> = lines
        .iter()
        .filter(|l| l["kind"] == "candidate")
        .map(|l| {
            (
                l["generation"].as_u64().unwrap(),
                l["details"]["epochs"].as_f64().unwrap() as u64,
            )
        })
        .collect();
    let count = |g, e| epochs.iter().filter(|x| **x == (g, e)).count();
    assert_eq!(
        (count(0, 1), count(0, 2), count(0, 4)),
        (6, 2, 1),
        "{epochs:?}"
    );
    assert_eq!((count(1, 2), count(1, 4)), (3, 1), "{epochs:?}");
    assert_eq!(count(2, 4), 2, "{epochs:?}");
    // A promoted candidate's parent is the best of its rung.
    let promoted = lines
        .iter()
        .find(|l| l["kind"] == "candidate" && l["details"]["epochs"] == 2.0 && l["generation"] == 0)
        .unwrap();
    assert!(promoted["operator"]
        .as_str()
        .unwrap()
        .starts_with("promote to rung 1"));
    let gens: Vec<_> = lines.iter().filter(|l| l["kind"] != "candidate").collect();
    assert_eq!(gens.len(), 3);
    assert_eq!(gens[0]["evaluations"], 9);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_halving_search_killed_at_any_moment_resumes_to_the_same_run() {
    let cfg = SMALL_HALVING
        .replace("max_generations = 3", "max_generations = 5")
        .replace(
            "kind = \"random_sampling\"\nbatch = 6",
            "kind = \"aging_evolution\"\npopulation = 6\nsample = 2\nbatch = 6",
        );
    crate::resume::kill_and_resume_matches(&cfg, "halving-kill", &[300, 900, 1600, 2400]);
}

#[test]
fn bad_halving_settings_exit_2_naming_the_key() {
    assert_refused(
        SMALL_HALVING,
        "halving-bad",
        &[
            (
                "epochs = [1, 2, 4]",
                "epochs = [4, 2]",
                "estimation.successive_halving.epochs",
            ),
            ("eta = 3", "eta = 1", "estimation.successive_halving.eta"),
            (
                "hyperband = true",
                "hyperband = true\n[estimation.predictor]\npool = 2",
                "estimation.successive_halving",
            ),
            (
                "kind = \"random_sampling\"\nbatch = 6",
                "kind = \"truncation_ga\"\npopulation = 6\nparents = 2",
                "estimation.successive_halving",
            ),
        ],
    );
}
