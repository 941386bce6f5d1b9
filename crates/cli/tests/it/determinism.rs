use crate::common::*;

/// The metrics (without times) and champion of a run on `threads` threads.
pub(crate) fn run_with_threads(
    cfg: &str,
    name: &str,
    threads: &str,
) -> (Vec<serde_json::Value>, serde_json::Value) {
    let d = tmp(&format!("{name}-t{threads}"));
    let c = write_config(&d, "c.toml", cfg);
    let out = d.join("run");
    run_into(&c, &out, &["--threads", threads]);
    let r = (metrics_without_time(&out), champion(&out));
    std::fs::remove_dir_all(&d).unwrap();
    r
}

#[test]
fn deep_ga_is_bit_identical_for_1_and_2_threads() {
    let (m1, c1) = run_with_threads(GA_ACROBOT, "ga", "1");
    let (m2, c2) = run_with_threads(GA_ACROBOT, "ga", "2");
    assert_eq!(m1.len(), 6);
    assert_eq!(m1, m2, "metrics differ between 1 and 2 threads");
    assert_eq!(c1, c2, "champion differs between 1 and 2 threads");
}

#[test]
fn open_es_is_bit_identical_for_1_and_2_threads() {
    let (m1, c1) = run_with_threads(ES_CARTPOLE, "es", "1");
    let (m2, c2) = run_with_threads(ES_CARTPOLE, "es", "2");
    assert_eq!(m1, m2, "metrics differ between 1 and 2 threads");
    assert_eq!(c1, c2, "champion differs between 1 and 2 threads");
}

#[test]
fn seeds_change_the_run() {
    let d = tmp("seeds");
    let c = write_config(&d, "c.toml", GA_ACROBOT);
    let a = d.join("a");
    let b = d.join("b");
    run_into(&c, &a, &["--max-generations", "2"]);
    run_into(&c, &b, &["--max-generations", "2", "--seed", "6"]);
    assert_ne!(metrics_without_time(&a), metrics_without_time(&b));
    std::fs::remove_dir_all(&d).unwrap();
}
