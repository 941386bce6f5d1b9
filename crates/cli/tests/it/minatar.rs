//! MinAtar with the convolutional DQN policy from the real binary: runs are
//! bit-identical for 1 and 2 threads, survive SIGKILL exactly, stop on
//! their frame budget, and the defaults give the DQN network.

use crate::common::*;
use crate::determinism::run_with_threads;
use crate::resume::kill_and_resume_matches;

/// A short Deep GA on Breakout with MinAtar's DQN network (the default
/// policy over frames).
const GA_BREAKOUT: &str = r#"
[run]
seed = 3
max_generations = 5
stop_when_solved = false
checkpoint_every = 1
noise_table_size = 1000000
[env]
id = "MinAtar/Breakout-v1"
test_episodes = 10
[strategy]
kind = "deep_ga"
population = 24
truncation = 5
sigma = 0.01
elite_candidates = 3
elite_episodes = 2
"#;

pub(crate) const ES_SPACE_INVADERS: &str = r#"
[run]
seed = 4
max_generations = 4
stop_when_solved = false
noise_table_size = 1000000
[env]
id = "MinAtar/SpaceInvaders-v0"
test_episodes = 5
minimal_action_set = true
[policy]
activation = "relu"
hidden = [32]
conv = [{ filters = 8, kernel = 3, stride = 1 }, { filters = 8, kernel = 2, stride = 2 }]
[strategy]
kind = "open_es"
population = 16
sigma = 0.02
learning_rate = 0.01
obs_norm = false
"#;

#[test]
fn conv_policies_are_bit_identical_for_1_and_2_threads() {
    for (cfg, name) in [
        (GA_BREAKOUT, "minatar-ga"),
        (ES_SPACE_INVADERS, "minatar-es"),
    ] {
        let (m1, c1) = run_with_threads(cfg, name, "1");
        let (m2, c2) = run_with_threads(cfg, name, "2");
        assert!(!m1.is_empty());
        assert_eq!(m1, m2, "{name}: metrics differ between 1 and 2 threads");
        assert_eq!(c1, c2, "{name}: champion differs between 1 and 2 threads");
        let policy = &c1["policy"];
        assert!(policy["conv"]["layers"].is_array(), "{name}: {policy}");
    }
}

#[test]
fn minatar_deep_ga_survives_sigkill() {
    let cfg = GA_BREAKOUT.replace("max_generations = 5", "max_generations = 40");
    kill_and_resume_matches(&cfg, "kill-minatar", &[200, 400, 700]);
}

#[test]
fn frame_budget_ends_the_run_and_defaults_give_the_dqn_network() {
    let d = tmp("minatar-budget");
    let cfg = GA_BREAKOUT.replace(
        "max_generations = 5",
        "max_generations = 1000\nmax_env_steps = 3000",
    );
    let c = write_config(&d, "c.toml", &cfg);
    let out = d.join("run");
    let res = bin().args(run_args(&c, &out, &[])).output().unwrap();
    let err = String::from_utf8_lossy(&res.stderr).to_string();
    assert!(res.status.success(), "{err}");
    let first = String::from_utf8_lossy(&res.stdout).to_string() + &err;
    assert!(
        first.contains(
            "132,179 parameters per candidate (policy conv 16×3×3/1, hidden [128], relu)"
        ),
        "{first}"
    );
    let m = metrics_without_time(&out);
    let steps = |r: &serde_json::Value| r["env_steps"].as_u64().unwrap();
    let last = m.last().unwrap();
    assert!(steps(last) >= 3000, "stopped before the budget: {last}");
    assert!(
        steps(&m[m.len() - 2]) < 3000,
        "ran a generation past the budget"
    );
    // The resolved config spells the network out.
    let stored = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        stored.contains("filters = 16") && stored.contains("hidden = [128]"),
        "{stored}"
    );
    // The champion replays on its environment.
    let ev = bin()
        .args([
            "eval",
            out.join("best").to_str().unwrap(),
            "--episodes",
            "5",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        ev.status.success(),
        "{}",
        String::from_utf8_lossy(&ev.stderr)
    );
    std::fs::remove_dir_all(&d).unwrap();
}
