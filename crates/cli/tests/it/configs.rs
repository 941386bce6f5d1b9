use crate::common::*;

/// A config whose first generation takes minutes, made quick: an
/// architecture search without its final training (the NAS tests cover
/// it), an Atari run with 4 candidates of 100 steps instead of 100 of up
/// to 5,000 (the gym tests cover the rest). `None` for the others.
fn quick(text: &str) -> Option<String> {
    let settings: &[(&str, &str)] = if text.contains("[final_training]") {
        &[("top_k =", "top_k = 0")]
    } else if text.contains("id = \"gym:ALE/") {
        &[
            ("population =", "population = 4"),
            ("truncation =", "truncation = 2"),
            ("max_steps =", "max_steps = 100"),
            ("elite_candidates =", "elite_candidates = 2"),
            ("elite_episodes =", "elite_episodes = 1"),
            ("test_episodes =", "test_episodes = 1"),
        ]
    } else {
        return None;
    };
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            settings
                .iter()
                .find(|(key, _)| l.starts_with(*key))
                .map_or(l, |(_, quick)| *quick)
        })
        .collect();
    Some(lines.join("\n"))
}

/// Every shipped config parses and runs one generation.
#[test]
fn shipped_configs_run() {
    let d = tmp("shipped");
    let mut n = 0;
    for e in std::fs::read_dir(repo().join("configs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.starts_with('#'),
            "{}: must open with a comment saying what it should reach",
            p.display()
        );
        // Data paths are relative to the repository (where evonet runs).
        if text.contains("../shared/data/") && !repo().join("../shared/data").exists() {
            eprintln!("{}: skipped, its data is not here", p.display());
            continue;
        }
        // Gymnasium environments need EVONET_PYTHON with gymnasium (and
        // mujoco); CI has them, elsewhere the config is skipped.
        if text.contains("id = \"gym:") && !crate::gym::gymnasium() {
            eprintln!("{}: skipped, no Python with gymnasium", p.display());
            continue;
        }
        let out = d.join(p.file_stem().unwrap());
        let p = match quick(&text) {
            Some(quick) => {
                let stem = p.file_stem().unwrap().to_string_lossy();
                write_config(&d, &format!("quick-{stem}.toml"), &quick)
            }
            None => p,
        };
        let res = bin()
            .current_dir(repo())
            .args(run_args(&p, &out, &["--max-generations", "1"]))
            .output()
            .unwrap();
        assert!(
            res.status.success(),
            "{}: {}",
            p.display(),
            String::from_utf8_lossy(&res.stderr)
        );
        assert!(out.join("config.toml").exists() && out.join("metrics.jsonl").exists());
        n += 1;
    }
    assert!(n >= 7, "expected the shipped configs, found {n}");
    // Every registered strategy's example is a shipped config, so this test
    // ran each of them for a generation.
    for e in evonet::STRATEGIES {
        let shipped = std::fs::read_dir(repo().join("configs"))
            .unwrap()
            .any(|f| std::fs::read_to_string(f.unwrap().path()).unwrap() == e.example);
        assert!(shipped, "{}: its example is not a shipped config", e.kind);
    }
    std::fs::remove_dir_all(&d).unwrap();
}

pub(crate) fn expect_config_error(name: &str, text: &str, key: &str) {
    let d = tmp(&format!("bad-{name}"));
    let c = write_config(&d, "bad.toml", text);
    let out = bin()
        .args([
            "run",
            c.to_str().unwrap(),
            "--out",
            d.join("r").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert_eq!(
        err.trim().lines().count(),
        1,
        "{name}: one line expected: {err}"
    );
    assert!(err.contains("bad.toml"), "{name}: names the file: {err}");
    assert!(err.contains(key), "{name}: names `{key}`: {err}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_configs_exit_2_naming_file_and_key() {
    expect_config_error(
        "unknown key",
        &GA_ACROBOT.replace("sigma = 0.05", "sigma = 0.05\nsigm = 1"),
        "sigm",
    );
    expect_config_error(
        "unknown section key",
        &GA_ACROBOT.replace("[env]", "[env]\nepisode = 3"),
        "episode",
    );
    expect_config_error(
        "wrong type",
        &GA_ACROBOT.replace("seed = 5", "seed = \"five\""),
        "run.seed",
    );
    expect_config_error(
        "out of range",
        &GA_ACROBOT.replace("sigma = 0.05", "sigma = -0.05"),
        "strategy.sigma",
    );
    expect_config_error(
        "too many parents",
        &GA_ACROBOT.replace("truncation = 8", "truncation = 80"),
        "strategy.truncation",
    );
    expect_config_error(
        "unknown env",
        &GA_ACROBOT.replace("Acrobot-v1", "Acrobot-v2"),
        "env.id",
    );
    expect_config_error(
        "unknown strategy",
        &GA_ACROBOT.replace("deep_ga", "deep_gaa"),
        "strategy",
    );
    expect_config_error(
        "odd ES population",
        &ES_CARTPOLE.replace("population = 40", "population = 41"),
        "strategy.population",
    );
    expect_config_error(
        "bad probability",
        &ES_CARTPOLE.replace("obs_stats_prob = 0.3", "obs_stats_prob = 1.5"),
        "strategy.obs_stats_prob",
    );
    expect_config_error(
        "MinAtar setting on another env",
        &GA_ACROBOT.replace("[env]", "[env]\nsticky_action_prob = 0.2"),
        "env.sticky_action_prob",
    );
    expect_config_error(
        "sticky probability",
        &GA_ACROBOT
            .replace("Acrobot-v1", "MinAtar/Breakout-v1")
            .replace("[env]", "[env]\nsticky_action_prob = 1.5"),
        "env.sticky_action_prob",
    );
    expect_config_error(
        "full CMA-ES over a 132,000-parameter network",
        "[run]\nmax_generations = 1\n[env]\nid = \"MinAtar/Breakout-v1\"\n\
         [strategy]\nkind = \"cma_es\"\nsigma = 0.1\n",
        "strategy.separable",
    );
    expect_config_error(
        "convolutions over flat observations",
        &GA_ACROBOT.replace("[policy]", "[policy]\nconv = [{ filters = 4, kernel = 2 }]"),
        "policy.conv",
    );
    expect_config_error(
        "a kernel larger than the frame",
        &GA_ACROBOT
            .replace("Acrobot-v1", "MinAtar/Breakout-v1")
            .replace(
                "[policy]",
                "[policy]\nconv = [{ filters = 4, kernel = 11 }]",
            ),
        "policy.conv",
    );
    expect_config_error(
        "empty frame budget",
        &GA_ACROBOT.replace("seed = 5", "seed = 5\nmax_env_steps = 0"),
        "run.max_env_steps",
    );
    expect_config_error("toml syntax", "[run\nseed = 1", "bad.toml");
    expect_config_error("duplicate key", "[run]\nseed = 1\nseed = 2", "line 3");
    // Tagged sections name the key of a wrong value, not only the table.
    expect_config_error(
        "string population",
        &GA_ACROBOT.replace("population = 40", "population = \"abc\""),
        "strategy.population",
    );
    let nas = std::fs::read_to_string(repo().join("configs/digits-nas.toml")).unwrap();
    expect_config_error(
        "string max_layers",
        &nas.replace("max_layers = 8", "max_layers = \"x\""),
        "search_space.max_layers",
    );
    expect_config_error(
        "string validation",
        &nas.replace("validation = 0.2", "validation = \"x\""),
        "data.validation",
    );
}

#[test]
fn eval_replays_the_champion() {
    let d = tmp("eval");
    let out = d.join("r");
    let cfg = repo().join("configs/cartpole-ga.toml");
    run_into(&cfg, &out, &[]);
    let o = run_ok(&[
        "eval",
        out.join("best").to_str().unwrap(),
        "--episodes",
        "20",
        "--seed",
        "3",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON line");
    let mean = v["mean_return"].as_f64().unwrap();
    assert!(mean > 0.0 && mean <= 500.0);
    let again = run_ok(&[
        "eval",
        out.join("best").to_str().unwrap(),
        "--episodes",
        "20",
        "--seed",
        "3",
        "--json",
    ]);
    assert_eq!(o.stdout, again.stdout, "eval is deterministic for a seed");
    let text = run_ok(&[
        "eval",
        out.join("best/champion.json").to_str().unwrap(),
        "--episodes",
        "5",
    ]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("mean"));
    let bad = bin()
        .args(["eval", d.join("none").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn config_prints_the_registered_examples() {
    for e in evonet::STRATEGIES {
        let o = run_ok(&["config", e.kind]);
        assert_eq!(String::from_utf8_lossy(&o.stdout), e.example, "{}", e.kind);
    }
    let bad = bin().args(["config", "nope"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    for e in evonet::STRATEGIES {
        assert!(err.contains(e.kind), "lists `{}`: {err}", e.kind);
    }
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let o = run_ok(&["completions", shell]);
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("evonet") && text.contains("resume"),
            "{shell}"
        );
    }
}

/// The shipped config `name` with `line` added at the top of `[section]`
/// (TOML takes the first of two equal keys as an error, so the shipped
/// line of the same key is dropped).
fn shipped_with(name: &str, section: &str, line: &str) -> String {
    let text = std::fs::read_to_string(repo().join("configs").join(name)).unwrap();
    let key = line.split('=').next().unwrap().trim();
    let mut out = Vec::new();
    let mut inside = false;
    for l in text.lines() {
        if l.starts_with('[') {
            inside = l.trim() == format!("[{section}]");
            out.push(l.to_string());
            if inside {
                out.push(line.to_string());
            }
            continue;
        }
        let same = l.split('=').next().is_some_and(|k| k.trim() == key);
        if !(inside && same) {
            out.push(l.to_string());
        }
    }
    if !text.contains(&format!("[{section}]")) {
        out.push(format!("[{section}]\n{line}"));
    }
    out.join("\n")
}

/// Values that passed validation and then panicked (exit 101), slept
/// forever or overflowed: each is refused before the run, in one line
/// naming the key.
#[test]
fn values_beyond_any_machine_exit_2_before_the_run() {
    let cases = [
        (
            "cartpole-ga.toml",
            "strategy",
            "population = 9223372036854775807",
            "strategy.population",
        ),
        (
            "dpv-cmaes.toml",
            "strategy",
            "population = 9223372036854775807",
            "strategy.population",
        ),
        (
            "cartpole-es.toml",
            "strategy",
            "population = 9223372036854775806",
            "strategy.population",
        ),
        (
            "xor-neat.toml",
            "strategy",
            "pop_size = 9223372036854775807",
            "strategy.pop_size",
        ),
        (
            "digits-nas.toml",
            "strategy",
            "population = 9223372036854775807",
            "strategy.population",
        ),
        (
            "cartpole-es.toml",
            "run",
            "noise_table_size = 9223372036854775807",
            "run.noise_table_size",
        ),
        (
            "digits-nas.toml",
            "training",
            "time_limit_s = inf",
            "training.time_limit_s",
        ),
        (
            "digits-nas.toml",
            "training",
            "time_limit_s = 1e300",
            "training.time_limit_s",
        ),
        (
            "digits-nas.toml",
            "training",
            "memory_limit_mb = 17592186044416",
            "training.memory_limit_mb",
        ),
        (
            "cartpole-ga.toml",
            "env.faults",
            "delay_ms = 9223372036854775807",
            "env.faults.delay_ms",
        ),
        (
            "cartpole-ga.toml",
            "env",
            "success_threshold = nan",
            "env.success_threshold",
        ),
        (
            "cartpole-ga.toml",
            "env",
            "success_threshold = -inf",
            "env.success_threshold",
        ),
        (
            "cartpole-ga.toml",
            "env",
            "max_steps = 9223372036854775807",
            "env.max_steps",
        ),
    ];
    for (config, section, line, key) in cases {
        let text = shipped_with(config, section, line);
        expect_config_error(&format!("{config} {line}"), &text, key);
    }
}

/// A table too large for this machine's memory says how much it needs.
#[test]
fn a_noise_table_larger_than_memory_says_the_bytes_it_needs() {
    let text = shipped_with(
        "cartpole-es.toml",
        "run",
        "noise_table_size = 4611686018427387904",
    );
    let d = tmp("huge-table");
    let c = write_config(&d, "c.toml", &text);
    let out = bin()
        .args(["run", &path(&c), "--out", &path(&d.join("r"))])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("needs 18.4 EB of memory"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// A champion edited so that it no longer fits its environment is refused
/// with exit 2 naming the file and the field, not replayed.
#[test]
fn eval_refuses_champions_that_do_not_fit_their_environment() {
    let d = tmp("eval-misfit");
    let c = write_config(&d, "es.toml", ES_CARTPOLE);
    let out = d.join("r");
    run_into(&c, &out, &["--max-generations", "2"]);
    let file = out.join("best/champion.json");
    let good: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        good["obs_norm"].is_object(),
        "the ES run normalises observations"
    );
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 6] = [
        ("obs_norm", |v| {
            v["obs_norm"]["mean"].as_array_mut().unwrap().pop();
        }),
        ("obs_norm", |v| v["obs_norm"]["std"][0] = 0.0.into()),
        ("policy", |v| v["policy"]["mlp"]["outputs"] = 5.into()),
        ("max_steps", |v| v["env"]["max_steps"] = 0.into()),
        ("params", |v| {
            v["params"][0] = serde_json::Value::Number(serde_json::Number::from_f64(1e40).unwrap())
        }),
        ("params", |v| {
            v["params"].as_array_mut().unwrap().pop();
        }),
    ];
    for (field, edit) in edits {
        let mut v = good.clone();
        edit(&mut v);
        std::fs::write(&file, serde_json::to_string(&v).unwrap()).unwrap();
        let o = bin()
            .args(["eval", &path(&out.join("best"))])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{field}: {err}");
        assert!(
            err.contains("champion.json") && err.contains(field),
            "{field}: {err}"
        );
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// Every run says at its start what it evolves and how many parameters
/// each candidate has, so a default that grows the problem shows at once.
#[test]
fn a_run_prints_its_parameter_count_first() {
    let d = tmp("param-count");
    let text = std::fs::read_to_string(repo().join("configs/dpv-cmaes.toml")).unwrap();
    // Without its `hidden = []` line the policy falls back to two layers of 64.
    let c = write_config(&d, "c.toml", &text.replace("hidden = []", ""));
    let o = run_into(&c, &d.join("r"), &["--max-generations", "1"]);
    let first = String::from_utf8_lossy(&o.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    assert_eq!(
        first,
        "cma_es on DoublePole-v0: 4,673 parameters per candidate (policy hidden [64, 64], tanh)"
    );
    std::fs::remove_dir_all(&d).unwrap();
}
