//! A learned performance predictor screening an architecture search's
//! children (`[estimation.predictor]`) from the CLI: the screening and its
//! rank correlations in `metrics.jsonl`, the same run on 1 and 2 threads
//! and after SIGKILL, and bad settings refused by key.

use crate::common::*;

/// Aging evolution over 6 random networks, then children screened 3 to 1:
/// the predictor fits from the sixth candidate on.
pub(crate) const SMALL_PREDICTOR: &str = r#"
[run]
seed = 5
max_generations = 100
max_evaluations = 18
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
[estimation.predictor]
pool = 3
warmup = 6
epochs = 100
[final_training]
epochs = 4
top_k = 1
[strategy]
kind = "aging_evolution"
population = 6
sample = 3
batch = 3
"#;

fn generation_lines(dir: &std::path::Path) -> Vec<serde_json::Value> {
    metrics_without_time(dir)
        .into_iter()
        .filter(|l| l["kind"] != "candidate")
        .collect()
}

#[test]
fn screened_children_are_the_same_on_1_and_2_threads_and_report_rank_correlations() {
    let d = tmp("predictor-threads");
    let c = write_config(&d, "p.toml", SMALL_PREDICTOR);
    let (one, two) = (d.join("one"), d.join("two"));
    run_into(&c, &one, &["--threads", "1"]);
    run_into(&c, &two, &["--threads", "2"]);
    assert_same_run(&one, &two, "between 1 and 2 threads");
    let gens = generation_lines(&one);
    assert_eq!(gens.len(), 5, "6 random networks, then 4 rounds of 3");
    // No prediction in the first round; from the second on, every round
    // has its figures, and the running ones cover every screened child.
    assert!(
        gens[0]["stats"]["predictor_kendall"].is_null(),
        "{}",
        gens[0]
    );
    for g in &gens[1..] {
        for key in ["predictor_kendall", "predictor_spearman_all"] {
            let v = g["stats"][key].as_f64().unwrap_or(f64::NAN);
            assert!((-1.0..=1.0).contains(&v), "{key}: {g}");
        }
    }
    // Screening changed the children: the unscreened search differs.
    let plain = SMALL_PREDICTOR.replace("pool = 3", "pool = 1");
    let c = write_config(&d, "plain.toml", &plain);
    let unscreened = d.join("unscreened");
    run_into(&c, &unscreened, &[]);
    let ops = |dir| -> Vec<String> {
        metrics_without_time(dir)
            .iter()
            .filter(|l| l["kind"] == "candidate")
            .map(|l| l["genome"]["summary"].to_string())
            .collect()
    };
    let (a, b) = (ops(&one), ops(&unscreened));
    assert_eq!(a[..6], b[..6], "the same random start");
    assert_ne!(a[6..], b[6..], "screened children");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_screened_search_killed_at_any_moment_resumes_to_the_same_run() {
    let cfg = SMALL_PREDICTOR.replace("max_evaluations = 18", "max_evaluations = 27");
    crate::resume::kill_and_resume_matches(&cfg, "predictor-kill", &[300, 900, 1600, 2400]);
}

#[test]
fn bad_predictor_settings_exit_2_naming_the_key() {
    assert_refused(
        SMALL_PREDICTOR,
        "predictor-bad",
        &[
            ("pool = 3", "pool = 0", "estimation.predictor.pool"),
            ("warmup = 6", "warmup = 1", "estimation.predictor.warmup"),
            ("epochs = 100", "epochs = 100\nlayers = 2", "layers"),
            (
                "kind = \"aging_evolution\"\npopulation = 6\nsample = 3\nbatch = 3",
                "kind = \"nsga2\"\npopulation = 6",
                "estimation.predictor",
            ),
        ],
    );
}
