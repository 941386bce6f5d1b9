//! Gymnasium environments through the bridge, from the real binary, with
//! the Python of `EVONET_PYTHON` (CI installs gymnasium into its venv;
//! there a Python without gymnasium fails instead of skipping).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::determinism::run_with_threads;
use crate::resume::kill_and_resume_matches;

/// Whether `EVONET_PYTHON` (or `python3`) has gymnasium with MuJoCo; in
/// CI, a failure when it has not.
pub(crate) fn gymnasium() -> bool {
    let python = std::env::var("EVONET_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import gymnasium, mujoco"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("CI").is_some() {
        panic!("{python} has no gymnasium[mujoco] (CI installs it into target/ci-venv)");
    }
    if !ok {
        eprintln!("skipped: {python} has no gymnasium[mujoco]");
    }
    ok
}

const ES_GYM_CARTPOLE: &str = r#"
[run]
seed = 5
max_generations = 6
stop_when_solved = false
test_every = 3
checkpoint_every = 2
noise_table_size = 100000
[env]
id = "gym:CartPole-v1"
episodes = 2
test_episodes = 5
[policy]
hidden = [16]
[strategy]
kind = "open_es"
population = 16
sigma = 0.05
learning_rate = 0.05
"#;

/// A run through the bridge is the native run, bit for bit, on 1 and 2
/// threads: Gymnasium's CartPole and evonet's start from the same state
/// for the same seed and step to the same floats.
#[test]
fn a_bridged_cartpole_run_is_the_native_run_on_any_thread_count() {
    if !gymnasium() {
        return;
    }
    let (g1, c1) = run_with_threads(ES_GYM_CARTPOLE, "gym-es", "1");
    let (g2, c2) = run_with_threads(ES_GYM_CARTPOLE, "gym-es", "2");
    let native = ES_GYM_CARTPOLE.replace("gym:CartPole-v1", "CartPole-v1");
    let (n1, cn) = run_with_threads(&native, "gym-native", "1");
    assert!(g1.len() >= 6);
    assert_eq!(g1, g2, "metrics differ between 1 and 2 threads");
    assert_eq!(g1, n1, "the bridged run differs from the native one");
    assert_eq!(c1["params"], c2["params"]);
    assert_eq!(c1["params"], cn["params"]);
    assert_eq!(c1["env"]["id"], "gym:CartPole-v1");
}

/// MuJoCo through the bridge (CI installs `gymnasium[mujoco]`): a short
/// OpenAI-ES on HalfCheetah-v5 is the same on 1 and 2 threads, with
/// continuous actions and float64 observations.
#[test]
fn open_es_on_halfcheetah_is_the_same_on_any_thread_count() {
    if !gymnasium() {
        return;
    }
    let cfg = r#"
[run]
seed = 2
max_generations = 2
stop_when_solved = false
noise_table_size = 1000000
[env]
id = "gym:HalfCheetah-v5"
max_steps = 100
test_episodes = 2
[policy]
hidden = [32, 32]
[strategy]
kind = "open_es"
population = 8
sigma = 0.02
learning_rate = 0.01
obs_stats_prob = 0.5
"#;
    let (m1, c1) = run_with_threads(cfg, "gym-cheetah", "1");
    let (m2, c2) = run_with_threads(cfg, "gym-cheetah", "2");
    assert_eq!(m1, m2, "metrics differ between 1 and 2 threads");
    assert_eq!(c1["params"], c2["params"]);
    let gens: Vec<_> = m1.iter().filter(|m| m["kind"] != "candidate").collect();
    assert_eq!(gens.len(), 2);
    assert_eq!(gens[1]["env_steps"], 2 * 8 * 100, "{:?}", gens[1]);
    assert!(gens.iter().all(|g| g["best_fitness"].as_f64().is_some()));
}

/// `evonet eval --env gym:CartPole-v1` replays a native champion through
/// the bridge with the native returns, and a bridged champion replays.
#[test]
fn eval_through_the_bridge_gives_the_native_returns() {
    if !gymnasium() {
        return;
    }
    let d = tmp("gym-eval");
    let native = ES_GYM_CARTPOLE.replace("gym:CartPole-v1", "CartPole-v1");
    let c = write_config(&d, "c.toml", &native);
    let out = d.join("run");
    run_into(&c, &out, &[]);
    let best = path(&out.join("best"));
    let eval = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["eval", &best, "--episodes", "20", "--seed", "9", "--json"];
        args.extend_from_slice(extra);
        let o = run_ok(&args);
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let (mut n, mut g) = (eval(&[]), eval(&["--env", "gym:CartPole-v1"]));
    assert_eq!(g["env"], "gym:CartPole-v1");
    for v in [&mut n, &mut g] {
        v.as_object_mut().unwrap().remove("env");
    }
    assert_eq!(n, g);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_bridged_run_survives_sigkill_and_resumes_exactly() {
    if !gymnasium() {
        return;
    }
    let cfg = ES_GYM_CARTPOLE.replace("max_generations = 6", "max_generations = 30");
    kill_and_resume_matches(&cfg, "gym-kill", &[900, 600, 700]);
}

/// Pids of the processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

/// A SIGKILLed evonet leaves no bridge process behind.
#[test]
fn a_sigkilled_run_leaves_no_python_behind() {
    if !gymnasium() {
        return;
    }
    let d = tmp("gym-orphans");
    let cfg = ES_GYM_CARTPOLE.replace("max_generations = 6", "max_generations = 100000");
    let c = write_config(&d, "c.toml", &cfg);
    let mut child = spawn(&run_args(&c, &d.join("run"), &["--threads", "2"]));
    let start = Instant::now();
    let bridges = loop {
        let kids = children(child.id());
        if kids.len() >= 2 {
            break kids;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no bridge started"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let start = Instant::now();
    while bridges.iter().any(|p| alive(*p)) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "bridge processes outlived evonet: {bridges:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// An environment module that raises, dies or returns NaN now and then.
const FLAKY: &str = r#"
import os
import numpy as np
import gymnasium as gym
from gymnasium import spaces

class Flaky(gym.Env):
    def __init__(self):
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.fate = self.np_random.integers(10)
        return np.zeros(2, np.float32), {}
    def step(self, action):
        self.t += 1
        if self.t == 3 and self.fate == 0:
            raise RuntimeError("the flaky env gave up")
        if self.t == 3 and self.fate == 1:
            os._exit(9)
        if self.t == 3 and self.fate == 2:
            return np.full(2, np.nan, np.float32), 0.0, False, False, {}
        return np.full(2, 0.5, np.float32), float(action), self.t >= 8, False, {}

gym.register("Flaky-v0", entry_point=Flaky)
"#;

/// Exceptions, dead bridges and NaN observations are failed evaluations;
/// the run goes on and is the same on 1 and 2 threads.
#[test]
fn python_faults_are_failed_evaluations_and_the_run_goes_on() {
    if !gymnasium() {
        return;
    }
    let d = tmp("gym-faults");
    std::fs::write(d.join("flaky_env.py"), FLAKY).unwrap();
    let cfg = format!(
        r#"
[run]
seed = 3
max_generations = 4
stop_when_solved = false
noise_table_size = 10000
[env]
id = "gym:flaky_env:Flaky-v0"
python_path = ["{}"]
test_episodes = 3
[policy]
hidden = [4]
[strategy]
kind = "open_es"
population = 20
sigma = 0.1
learning_rate = 0.05
"#,
        path(&d)
    );
    let (m1, _) = run_with_threads(&cfg, "gym-faults-run", "1");
    let (m2, _) = run_with_threads(&cfg, "gym-faults-run", "2");
    assert_eq!(m1, m2);
    let failed: u64 = m1
        .iter()
        .filter(|m| m["kind"] != "candidate")
        .map(|m| m["failed"].as_u64().unwrap())
        .sum();
    assert!(failed > 0 && failed < 80, "failed evaluations: {failed}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Before the run starts: exit 2 with one line saying what is wrong.
#[test]
fn unknown_ids_and_missing_packages_exit_2_with_one_line() {
    if !gymnasium() {
        return;
    }
    let d = tmp("gym-errors");
    let python = std::env::var("EVONET_PYTHON").unwrap_or_else(|_| "python3".into());
    let nosite = d.join("python-nosite");
    std::fs::write(&nosite, format!("#!/bin/sh\nexec {python} -S \"$@\"\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&nosite, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (env, want) in [
        ("id = \"gym:NoSuchEnv-v0\"", "NoSuchEnv"),
        (
            &format!("id = \"gym:CartPole-v1\"\npython = \"{}\"", path(&nosite)) as &str,
            "pip install \"gymnasium\"",
        ),
        (
            "id = \"gym:CartPole-v1\"\npython = \"/nonexistent/python3\"",
            "install Python 3",
        ),
        (
            "id = \"gym:CartPole-v1\"\n[env.kwargs]\nentry = \"os:system\"",
            "may not name code",
        ),
        (
            "id = \"CartPole-v1\"\nstep_timeout_s = 3",
            "only `gym:` environments",
        ),
    ] {
        let cfg = ES_GYM_CARTPOLE.replace("id = \"gym:CartPole-v1\"", env);
        let c = write_config(&d, "c.toml", &cfg);
        let o = bin()
            .args(run_args(&c, &d.join("run"), &["--force"]))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{env}: {err}");
        assert!(err.contains(want), "{env}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{env}: {err}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// Database `db` of the test Redis (`EVONET_TEST_REDIS`; required in CI).
fn redis_db(db: u8) -> Option<String> {
    match std::env::var("EVONET_TEST_REDIS") {
        Ok(base) if !base.is_empty() => Some(format!("{}/{db}", base.trim_end_matches('/'))),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "EVONET_TEST_REDIS is not set"
            );
            None
        }
    }
}

/// A worker runs bridged environments only when allowed: a run whose id
/// names a module is refused, and the coordinator hears why.
#[test]
fn workers_refuse_bridged_environments_they_were_not_allowed() {
    if !gymnasium() {
        return;
    }
    let Some(url) = redis_db(12) else { return };
    let d = tmp("gym-refuse");
    // An id that names a module (which Gymnasium imports): the coordinator
    // has it, the worker was allowed other environments only.
    std::fs::write(d.join("flaky_env.py"), FLAKY).unwrap();
    let cfg = ES_GYM_CARTPOLE.replace(
        "id = \"gym:CartPole-v1\"",
        &format!(
            "id = \"gym:flaky_env:Flaky-v0\"\npython_path = [\"{}\"]",
            path(&d)
        ),
    );
    let c = write_config(&d, "c.toml", &cfg);
    let mut coordinator = bin()
        .args(run_args(&c, &d.join("run"), &["--redis", &url]))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut worker = bin()
        .args(["worker", "--redis", &url, "--threads", "1"])
        .args(["--allow-env", "gym:MountainCar*"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let err = BufReader::new(coordinator.stderr.take().unwrap());
    let mut refusal = None;
    for line in err.lines().map_while(Result::ok) {
        if line.contains("refused this run") {
            refusal = Some(line);
            break;
        }
    }
    let _ = coordinator.kill();
    let _ = worker.kill();
    let _ = (coordinator.wait(), worker.wait());
    let refusal = refusal.expect("the worker's refusal");
    assert!(
        refusal.contains("--allow-env 'gym:flaky_env:Flaky-v0'"),
        "{refusal}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Workers allowed the environment evaluate it through their own bridges:
/// the run is the local one, bit for bit.
#[test]
fn allowed_workers_evaluate_bridged_environments_as_local_threads_do() {
    if !gymnasium() {
        return;
    }
    let Some(url) = redis_db(13) else { return };
    let d = tmp("gym-workers");
    let c = write_config(&d, "c.toml", ES_GYM_CARTPOLE);
    run_into(&c, &d.join("local"), &["--threads", "1"]);
    let mut workers: Vec<_> = (0..2)
        .map(|_| {
            bin()
                .args(["worker", "--redis", &url, "--threads", "1"])
                .args(["--allow-env", "gym:Cart*"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    run_into(&c, &d.join("redis"), &["--redis", &url]);
    for w in &mut workers {
        let _ = w.kill();
        let _ = w.wait();
    }
    assert_same_run(
        &d.join("local"),
        &d.join("redis"),
        "through 2 Redis workers",
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// The README's own-environment example, as shipped: a ten-line Python
/// class registered with `gymnasium.register`, evolved from its config.
#[test]
fn the_readme_corridor_example_is_solved() {
    if !gymnasium() {
        return;
    }
    let d = tmp("gym-corridor");
    let o = bin()
        .current_dir(repo())
        .args(["run", "configs/gym-corridor-es.toml", "--out"])
        .arg(&d)
        .args(["--force", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("solved at generation"), "{out}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Novelty search through the bridge: a user's environment gives its
/// behaviour with a `behavior()` method, MuJoCo's is the centre of mass;
/// an environment with none stops the run before it starts.
#[test]
fn novelty_search_reads_behaviours_through_the_bridge() {
    if !gymnasium() {
        return;
    }
    let d = tmp("gym-novelty");
    let corridor = std::fs::read_to_string(repo().join("configs/gym-corridor-es.toml"))
        .unwrap()
        .replace("max_generations = 30", "max_generations = 3")
        .replace("stop_when_solved = true", "stop_when_solved = false")
        .replace(
            "examples/gymnasium",
            &path(&repo().join("examples/gymnasium")),
        )
        + "[novelty]\nk = 3\narchive = \"champion\"\ncentres = 2\n";
    let cheetah = r#"
[run]
max_generations = 2
noise_table_size = 100000
[env]
id = "gym:HalfCheetah-v5"
max_steps = 20
test_episodes = 1
[policy]
hidden = [8]
[strategy]
kind = "open_es"
population = 4
sigma = 0.02
learning_rate = 0.01
[novelty]
k = 2
archive = "champion"
"#;
    for (name, cfg, archived) in [
        ("corridor", corridor.as_str(), 4.0),
        ("cheetah", cheetah, 2.0),
    ] {
        let out = d.join(name);
        run_into(&write_config(&d, &format!("{name}.toml"), cfg), &out, &[]);
        let gens: Vec<_> = metrics_without_time(&out)
            .into_iter()
            .filter(|m| m["kind"].is_null())
            .collect();
        let last = gens.last().unwrap();
        assert_eq!(last["failed_total"], 0, "{name}: {last}");
        assert_eq!(last["stats"]["archive_size"], archived, "{name}: {last}");
    }
    let cartpole = ES_GYM_CARTPOLE.to_string() + "[novelty]\nk = 3\narchive = \"champion\"\n";
    let o = bin()
        .args(run_args(
            &write_config(&d, "cp.toml", &cartpole),
            &d.join("cp"),
            &[],
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("defines no behaviour characterisation"),
        "{err}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// Atari through the bridge (CI installs ale-py, which ships the ROMs, and
/// OpenCV for the preprocessing): a Deep GA over the Nature DQN network on
/// Frostbite's 84×84×4 preprocessed frames, the same on 1 and 2 threads.
#[test]
fn deep_ga_on_atari_frames_is_the_same_on_any_thread_count() {
    if !gymnasium() {
        return;
    }
    let python = std::env::var("EVONET_PYTHON").unwrap_or_else(|_| "python3".into());
    let atari = Command::new(&python)
        .args(["-c", "import ale_py, cv2"])
        .status()
        .is_ok_and(|s| s.success());
    if !atari {
        assert!(
            std::env::var_os("CI").is_none(),
            "{python} has no ale-py and OpenCV (CI installs them)"
        );
        return;
    }
    let cfg = r#"
[run]
seed = 1
max_generations = 2
stop_when_solved = false
test_every = 2
noise_table_size = 2000000
[env]
id = "gym:ALE/Frostbite-v5"
max_steps = 150
test_episodes = 2
wrappers = [{ kind = "atari_preprocessing" }, { kind = "frame_stack", size = 4 }]
[env.kwargs]
frameskip = 1
repeat_action_probability = 0.25
[policy]
activation = "relu"
hidden = [512]
conv = [{ filters = 32, kernel = 8, stride = 4 }, { filters = 64, kernel = 4, stride = 2 }, { filters = 64, kernel = 3, stride = 1 }]
[strategy]
kind = "deep_ga"
population = 4
truncation = 2
sigma = 0.002
elite_candidates = 1
elite_episodes = 1
"#;
    let (m1, c1) = run_with_threads(cfg, "gym-atari", "1");
    let (m2, c2) = run_with_threads(cfg, "gym-atari", "2");
    assert_eq!(m1, m2, "metrics differ between 1 and 2 threads");
    assert_eq!(c1["params"], c2["params"]);
    assert_eq!(
        c1["policy"]["conv"]["input"],
        serde_json::json!([84, 84, 4])
    );
}
