//! NEAT from the command line: the shipped XOR config solves, evaluates and
//! draws; runs are thread-count independent and survive SIGKILL; a run can
//! continue under edited rates but not under another population size.

use crate::common::*;

/// NEAT on CartPole that does not stop when solved.
const NEAT_CARTPOLE: &str = r#"
[run]
seed = 4
max_generations = 8
stop_when_solved = false
checkpoint_every = 1
[env]
id = "CartPole-v1"
episodes = 2
test_episodes = 10
[strategy]
kind = "neat"
pop_size = 60
conn_add_prob = 0.3
node_add_prob = 0.1
"#;

const XOR_SHORT: &str = r#"
[run]
seed = 3
max_generations = 5
stop_when_solved = false
checkpoint_every = 1
[task]
kind = "xor"
[strategy]
kind = "neat"
preset = "paper2002"
"#;

#[test]
fn shipped_xor_config_solves_evaluates_and_draws() {
    let d = tmp("neat-xor");
    let out = d.join("run");
    run_into(&repo().join("configs/xor-neat.toml"), &out, &[]);
    let m = metrics_without_time(&out);
    let last = m.last().unwrap();
    assert_eq!(last["solved"], true, "XOR not solved: {last}");
    assert_eq!(
        last["evaluations"].as_u64().unwrap(),
        150 * m.len() as u64,
        "every generation evaluates the population"
    );
    for line in &m {
        let species = line["species"].as_array().expect("species per generation");
        let total: u64 = species.iter().map(|s| s["size"].as_u64().unwrap()).sum();
        assert_eq!(total, 150, "species sizes add up to the population");
    }
    let ch = champion(&out);
    assert_eq!(ch["kind"], "neat_network");
    assert!(
        ch["graph"]["nodes"].as_array().unwrap().len() >= 2,
        "XOR needs a hidden node"
    );

    let e = run_ok(&["eval", &path(&out.join("best")), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&e.stdout).unwrap();
    assert_eq!(v["solved"], true, "{v}");
    assert!(v["fitness"].as_f64().unwrap() > 4.0);

    let drawn = run_ok(&["draw", &path(&out.join("best"))]);
    let listed = String::from_utf8_lossy(&drawn.stdout).to_string();
    let dot = std::fs::read_to_string(out.join("best/champion.dot")).unwrap();
    let svg = std::fs::read_to_string(out.join("best/champion.svg")).unwrap();
    assert!(listed.contains("champion.svg"), "{listed}");
    assert!(dot.starts_with("// format_version 1") && dot.contains("digraph"));
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    let genome = &ch["genome"]["conns"];
    let disabled = genome
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["enabled"] == false)
        .count();
    assert_eq!(svg.matches("stroke-dasharray").count(), disabled);
    assert_eq!(dot.matches("style=dashed").count(), disabled);
    assert_eq!(
        svg.matches("<circle").count(),
        ch["genome"]["nodes"].as_array().unwrap().len()
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn neat_is_bit_identical_for_1_and_2_threads() {
    let d = tmp("neat-threads");
    let c = write_config(&d, "c.toml", NEAT_CARTPOLE);
    let (a, b) = (d.join("a"), d.join("b"));
    run_into(&c, &a, &["--threads", "1"]);
    run_into(&c, &b, &["--threads", "2"]);
    assert_eq!(metrics_without_time(&a).len(), 8);
    assert_same_run(&a, &b, "between 1 and 2 threads");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn neat_survives_sigkill_at_any_moment() {
    let cfg = NEAT_CARTPOLE
        .replace("max_generations = 8", "max_generations = 60")
        .replace("pop_size = 60", "pop_size = 150")
        .replace("episodes = 2", "episodes = 6")
        .replace("checkpoint_every = 1", "checkpoint_every = 2");
    crate::resume::kill_and_resume_matches(&cfg, "kill-neat", &[150, 300, 500, 800]);
}

#[test]
fn neat_resumes_under_edited_rates_but_not_another_population() {
    let d = tmp("neat-edit");
    let c = write_config(&d, "c.toml", XOR_SHORT);
    let out = d.join("run");
    run_into(&c, &out, &[]);
    assert_eq!(metrics_without_time(&out).len(), 5);
    let ids_before: Vec<u64> = species_ids(&out);

    let edited = write_config(
        &d,
        "edited.toml",
        &XOR_SHORT
            .replace("max_generations = 5", "max_generations = 9")
            .replace(
                "preset = \"paper2002\"",
                "preset = \"paper2002\"\nnode_add_prob = 0.2\nconn_add_prob = 0.3",
            ),
    );
    run_ok(&["resume", &path(&out), "--config", &path(&edited), "--quiet"]);
    assert_eq!(metrics_without_time(&out).len(), 9);
    let stored = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(stored.contains("node_add_prob = 0.2"), "{stored}");
    // Species ids keep growing after the resume: none is reused.
    let ids_after = species_ids(&out);
    let new: Vec<u64> = ids_after[ids_before.len()..].to_vec();
    let founded_before = ids_before.iter().max().copied().unwrap_or(0);
    let founded_after: Vec<u64> = new
        .into_iter()
        .filter(|i| !ids_before.contains(i))
        .collect();
    assert!(founded_after.iter().all(|&i| i > founded_before));

    let bigger = write_config(
        &d,
        "bigger.toml",
        &XOR_SHORT.replace(
            "preset = \"paper2002\"",
            "preset = \"paper2002\"\npop_size = 300",
        ),
    );
    let r = bin()
        .args(["resume", &path(&out), "--config", &path(&bigger)])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("bigger.toml") && err.contains("pop_size"),
        "{err}"
    );

    // Another strategy's settings cannot be edited on resume.
    let ga = d.join("ga");
    let gc = write_config(&d, "ga.toml", GA_ACROBOT);
    run_into(&gc, &ga, &["--max-generations", "2"]);
    let ge = write_config(
        &d,
        "ga2.toml",
        &GA_ACROBOT.replace("sigma = 0.05", "sigma = 0.1"),
    );
    let r = bin()
        .args(["resume", &path(&ga), "--config", &path(&ge)])
        .output()
        .unwrap();
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Every species id seen, in order of appearance.
fn species_ids(out: &std::path::Path) -> Vec<u64> {
    let mut ids = Vec::new();
    for line in metrics_without_time(out) {
        for s in line["species"].as_array().unwrap() {
            let id = s["id"].as_u64().unwrap();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

#[test]
fn xor_task_needs_neat() {
    let d = tmp("xor-ga");
    let c = write_config(
        &d,
        "c.toml",
        "[run]\nmax_generations = 1\n[task]\nkind = \"xor\"\n[strategy]\nkind = \"deep_ga\"\npopulation = 10\ntruncation = 2\nsigma = 0.1\n",
    );
    let r = bin().args(["run", &path(&c)]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("task.kind") && err.contains("neat"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn neat_records_failed_evaluations_and_goes_on() {
    let cfg = NEAT_CARTPOLE.replace(
        "test_episodes = 10",
        "test_episodes = 10\nfaults = { panic_prob = 0.05, nan_obs_prob = 0.05, nan_fitness_prob = 0.05 }",
    );
    let d = tmp("neat-faults");
    let c = write_config(&d, "c.toml", &cfg);
    let (a, b) = (d.join("a"), d.join("b"));
    run_into(&c, &a, &["--threads", "1"]);
    run_into(&c, &b, &["--threads", "2"]);
    let m = metrics_without_time(&a);
    assert_eq!(m.len(), 8, "the run must complete");
    assert!(m.last().unwrap()["failed_total"].as_u64().unwrap() > 0);
    assert!(m.iter().all(|r| r["best_fitness"].is_number()));
    assert_same_run(&a, &b, "with failures, between 1 and 2 threads");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn neat_configs_refuse_a_policy_and_resolve_without_one() {
    let d = tmp("neat-policy");
    let c = write_config(
        &d,
        "c.toml",
        &format!("{XOR_SHORT}\n[policy]\nhidden = [8]\n"),
    );
    let r = bin().args(["run", &path(&c)]).output().unwrap();
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("c.toml") && err.contains("`policy`"), "{err}");
    let out = d.join("run");
    let ok = write_config(&d, "ok.toml", XOR_SHORT);
    run_into(&ok, &out, &["--max-generations", "1"]);
    let resolved = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(!resolved.contains("[policy]"), "{resolved}");
    assert!(
        resolved.contains("compatibility_threshold = 3.0"),
        "{resolved}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
