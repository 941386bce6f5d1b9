use crate::common::*;

/// Panics, NaN observations and NaN fitness inside evaluations become failed
/// evaluations recorded in the metrics; the run completes, deterministically.
#[test]
fn failed_evaluations_are_recorded_and_the_run_goes_on() {
    let cfg = GA_ACROBOT.replace(
        "test_episodes = 20",
        "test_episodes = 20\nfaults = { panic_prob = 0.05, nan_obs_prob = 0.05, nan_fitness_prob = 0.05 }",
    );
    let d = tmp("faults");
    let c = write_config(&d, "c.toml", &cfg);
    let a = d.join("a");
    let b = d.join("b");
    let out = run_into(&c, &a, &["--threads", "2"]);
    let _ = out;
    run_into(&c, &b, &["--threads", "1"]);
    let m = metrics_without_time(&a);
    assert_eq!(m.len(), 6, "the run must complete");
    let failed: u64 = m.last().unwrap()["failed_total"].as_u64().unwrap();
    let per_gen: u64 = m.iter().map(|r| r["failed"].as_u64().unwrap()).sum();
    assert!(failed > 0, "no failure was recorded");
    assert_eq!(failed, per_gen);
    assert_eq!(
        m,
        metrics_without_time(&b),
        "failures must not depend on threads"
    );
    assert!(
        m.iter().all(|r| r["best_fitness"].is_number()),
        "failures must not become the best"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
