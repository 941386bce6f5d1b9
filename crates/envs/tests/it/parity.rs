use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use evonet_envs::{Action, Env, EnvId};
use serde_json::Value;

const OBS_TOL: f64 = 1e-4;
const REWARD_TOL: f64 = 1e-6;

pub fn fixture_dir() -> PathBuf {
    std::env::var_os("EVONET_PARITY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
}

fn floats(v: &Value, what: &str) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("`{what}` is not an array"))
        .iter()
        .map(|x| {
            x.as_f64()
                .unwrap_or_else(|| panic!("`{what}` holds a non-number"))
        })
        .collect()
}

fn assert_close(got: &[f32], want: &[f64], tol: f64, ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: observation length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (*g as f64 - w).abs() <= tol,
            "{ctx}: obs[{i}] = {g}, gymnasium {w}"
        );
    }
}

/// Replays one fixture file; returns the number of steps checked. With
/// `prepare`, `prepare_step` runs before every step, as in lockstep
/// rollouts.
fn replay(path: &std::path::Path, prepare: bool) -> usize {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let lines = BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    let mut env: Option<evonet_envs::AnyEnv> = None;
    let mut obs = vec![];
    let mut steps = 0;
    let mut episode_done = true;
    for (n, line) in lines.enumerate() {
        let line = line.unwrap_or_else(|e| panic!("{name}: line {}: {e}", n + 1));
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{name}: line {}: {e}", n + 1));
        let ctx = format!("{name}:{}", n + 1);
        match v["type"].as_str() {
            Some("header") => {
                let id = EnvId::parse(v["env"].as_str().expect("header.env")).expect("known env");
                let e = id.make(None);
                obs = vec![0.0f32; e.spec().obs_dim];
                env = Some(e);
            }
            Some("reset") => {
                let e = env.as_mut().expect("reset before header");
                assert!(
                    episode_done,
                    "{ctx}: reset before the previous episode ended"
                );
                let state = floats(&v["state"], "state");
                e.set_state(&state, &mut obs);
                assert_close(&obs, &floats(&v["obs"], "obs"), OBS_TOL, &ctx);
                // The recording reset episode k with seed 1000 + k: a native
                // reset with that seed starts in the same state, bit for
                // bit (numpy's default_rng, as Gymnasium seeds).
                let k = v["episode"].as_u64().expect("reset.episode");
                let mut fresh = EnvId::parse(&e.spec().id).expect("known env").make(None);
                let mut fresh_obs = vec![0.0f32; obs.len()];
                fresh.reset(1000 + k, &mut fresh_obs);
                assert_eq!(fresh.state(), state, "{ctx}: reset(seed={})", 1000 + k);
                assert_eq!(fresh_obs, obs, "{ctx}: reset(seed={})", 1000 + k);
                episode_done = false;
            }
            Some("step") => {
                let e = env.as_mut().expect("step before header");
                let cont;
                let action = match &v["action"] {
                    Value::Number(a) => {
                        Action::Discrete(a.as_u64().expect("discrete action") as usize)
                    }
                    a => {
                        cont = floats(a, "action")
                            .into_iter()
                            .map(|x| x as f32)
                            .collect::<Vec<_>>();
                        Action::Continuous(&cont)
                    }
                };
                if prepare {
                    e.prepare_step();
                }
                let st = e.step(action, &mut obs);
                assert_close(&obs, &floats(&v["obs"], "obs"), OBS_TOL, &ctx);
                let want_r = v["reward"].as_f64().expect("reward");
                assert!(
                    (st.reward - want_r).abs() <= REWARD_TOL,
                    "{ctx}: reward {} vs gymnasium {want_r}",
                    st.reward
                );
                assert_eq!(
                    st.terminated,
                    v["terminated"].as_bool().expect("terminated"),
                    "{ctx}: terminated"
                );
                assert_eq!(
                    st.truncated,
                    v["truncated"].as_bool().expect("truncated"),
                    "{ctx}: truncated"
                );
                episode_done = st.terminated || st.truncated;
                steps += 1;
            }
            other => panic!("{ctx}: unknown line type {other:?}"),
        }
    }
    assert!(steps > 0, "{name}: no steps");
    steps
}

/// The recordings in the parity folder whose file name `wanted` accepts,
/// sorted; at least one.
pub fn fixture_files(wanted: impl Fn(&str) -> bool, what: &str) -> Vec<PathBuf> {
    let dir = fixture_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("parity fixtures folder {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            let f = p.file_name().unwrap_or_default().to_string_lossy();
            f.ends_with(".jsonl.gz") && wanted(&f)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no {what} in {}", dir.display());
    files
}

#[test]
fn gymnasium_trajectories_replay_exactly() {
    // MinAtar recordings have their own replay (`minatar.rs`).
    let files = fixture_files(|f| !f.starts_with("minatar-"), "*.jsonl.gz fixtures");
    for f in &files {
        for prepare in [false, true] {
            let n = replay(f, prepare);
            eprintln!("{} (prepare_step: {prepare}): {n} steps match", f.display());
        }
    }
}
