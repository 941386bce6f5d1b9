//! The bridge against a real Python with gymnasium (`EVONET_PYTHON`; in CI
//! a Python without gymnasium fails instead of skipping): parity with the
//! native CartPole, and every fault a failed evaluation, never a hang.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use evonet_envs::{Action, Env, EnvId};
use evonet_gym::{GymError, GymSettings, GymSource};

/// The Python to test with, if it has gymnasium.
fn python() -> Option<String> {
    let python = std::env::var("EVONET_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&python)
        .args(["-c", "import gymnasium"])
        .status()
        .is_ok_and(|s| s.success());
    match ok {
        true => Some(python),
        false if std::env::var_os("CI").is_some() => {
            panic!("{python} has no gymnasium (CI installs it into target/ci-venv)")
        }
        false => {
            eprintln!("skipped: {python} has no gymnasium");
            None
        }
    }
}

fn settings(python: &str, id: &str) -> GymSettings {
    GymSettings {
        python: Some(python.into()),
        ..GymSettings::new(id)
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("evonet-gym-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A module registering environments that fail on purpose.
const FAULTY: &str = r#"
import os, time
import numpy as np
import gymnasium as gym
from gymnasium import spaces

class Faulty(gym.Env):
    def __init__(self, mode="raise", at=3):
        self.observation_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.mode, self.at, self.t = mode, at, 0
    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}
    def step(self, action):
        self.t += 1
        if self.t == self.at:
            if self.mode == "raise":
                raise ValueError("the pole fell off the cart")
            if self.mode == "exit":
                os._exit(7)
            if self.mode == "hang":
                time.sleep(3600)
            if self.mode == "nan":
                return np.full(2, np.nan, np.float32), 0.0, False, False, {}
        return np.full(2, 0.5, np.float32), 1.0, self.t >= 10, False, {}

gym.register("Faulty-v0", entry_point=Faulty)
"#;

#[test]
fn cartpole_through_the_bridge_is_the_native_cartpole() {
    let Some(py) = python() else { return };
    let source = GymSource::open(settings(&py, "CartPole-v1")).unwrap();
    let native = EnvId::CartPole.make(None);
    assert_eq!(source.spec().obs_dim, 4);
    assert_eq!(source.spec().action_space, native.spec().action_space);
    assert_eq!(source.spec().max_episode_steps, 500);
    assert_eq!(source.spec().reward_threshold, Some(475.0));
    assert!(source
        .versions()
        .iter()
        .any(|v| v.starts_with("gymnasium ")));
    let mut bridged = source.env_source().make(None);
    let mut native = EnvId::CartPole.make(None);
    let (mut a, mut b) = ([0.0f32; 4], [0.0f32; 4]);
    for seed in [0u64, 1, 42, u64::MAX] {
        bridged.reset(seed, &mut a);
        native.reset(seed, &mut b);
        assert_eq!(a, b, "reset({seed})");
        for t in 0..600u64 {
            let act = Action::Discrete(((seed ^ t.wrapping_mul(0x9e37)) >> 3) as usize % 2);
            let (sa, sb) = (bridged.step(act, &mut a), native.step(act, &mut b));
            assert_eq!((sa, a), (sb, b), "seed {seed} step {t}");
            if sa.done() {
                break;
            }
        }
    }
    drop(bridged);
    // The bridge went back to the pool.
    assert_eq!(source.idle_processes().len(), 1);
}

fn faulty(py: &str, mode: &str, timeout_s: f64) -> GymSource {
    let dir = tmp(&format!("faulty-{mode}"));
    std::fs::write(dir.join("faulty_env.py"), FAULTY).unwrap();
    let mut s = settings(py, "faulty_env:Faulty-v0");
    s.python_path = vec![dir.display().to_string()];
    s.kwargs.insert("mode".into(), mode.into());
    s.step_timeout_s = timeout_s;
    GymSource::open(s).unwrap()
}

/// Plays an episode; the panic message if it failed.
fn play(source: &GymSource) -> Result<f64, String> {
    let mut env = source.env_source().make(None);
    catch_unwind(AssertUnwindSafe(|| {
        let mut obs = [0.0f32; 2];
        env.reset(5, &mut obs);
        let mut ret = 0.0;
        loop {
            let s = env.step(Action::Discrete(1), &mut obs);
            ret += s.reward;
            if obs.iter().any(|v| v.is_nan()) {
                return f64::NAN;
            }
            if s.done() {
                return ret;
            }
        }
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "?".into())
    })
}

#[test]
fn python_exceptions_fail_the_episode_and_the_bridge_goes_on() {
    let Some(py) = python() else { return };
    let source = faulty(&py, "raise", 30.0);
    let e = play(&source).unwrap_err();
    assert!(e.contains("ValueError: the pole fell off the cart"), "{e}");
    // The same bridge serves the next episode.
    let pid = source.idle_processes();
    assert_eq!(pid.len(), 1);
    assert!(play(&source).is_err());
    assert_eq!(source.idle_processes(), pid);
}

#[test]
fn a_dead_or_hung_bridge_fails_the_episode_and_a_fresh_one_takes_over() {
    let Some(py) = python() else { return };
    for (mode, want) in [("exit", "died"), ("hang", "no reply within 2.0 s")] {
        let source = faulty(&py, mode, 2.0);
        let before = source.idle_processes();
        let e = play(&source).unwrap_err();
        assert!(e.contains(want), "{mode}: {e}");
        assert!(
            source.idle_processes().is_empty(),
            "{mode}: a dead bridge was kept"
        );
        // The next episode starts a new bridge (which fails the same way).
        let e = play(&source).unwrap_err();
        assert!(e.contains(want), "{mode}: {e}");
        assert!(!before.is_empty());
    }
}

#[test]
fn nan_observations_arrive_as_nan() {
    let Some(py) = python() else { return };
    assert!(play(&faulty(&py, "nan", 30.0)).unwrap().is_nan());
}

#[test]
fn make_errors_say_what_to_install() {
    let Some(py) = python() else { return };
    let e = GymSource::open(settings(&py, "NoSuchEnv-v0")).unwrap_err();
    assert!(matches!(e, GymError::Make { .. }), "{e}");
    assert!(e.to_string().contains("NoSuchEnv"), "{e}");
    let e = GymSource::open(settings("/nonexistent/python3", "CartPole-v1")).unwrap_err();
    assert!(e.to_string().contains("install Python 3"), "{e}");
    // A Python without site-packages has no gymnasium.
    let dir = tmp("nosite");
    let wrapper = dir.join("python-nosite");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec {py} -S \"$@\"\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = GymSource::open(settings(&wrapper.display().to_string(), "CartPole-v1")).unwrap_err();
    assert!(e.to_string().contains("pip install \"gymnasium\""), "{e}");
}

/// A lockstep group steps in one message per step and gives what native
/// environments give, episode by episode, whatever order they end in.
#[test]
fn a_lockstep_group_steps_together_as_native_environments_do() {
    let Some(py) = python() else { return };
    let source = GymSource::open(settings(&py, "CartPole-v1")).unwrap();
    let minatar = Default::default();
    let mut bridged = source.env_source().make_group(3, None, &minatar);
    let mut native: Vec<_> = (0..3).map(|_| EnvId::CartPole.make(None)).collect();
    let mut a = vec![[0.0f32; 4]; 3];
    let mut b = vec![[0.0f32; 4]; 3];
    for i in 0..3 {
        bridged[i].reset(10 + i as u64, &mut a[i]);
        native[i].reset(10 + i as u64, &mut b[i]);
    }
    assert_eq!(a, b);
    let mut live: Vec<usize> = (0..3).collect();
    let mut t = 0usize;
    while !live.is_empty() {
        let act = |i: usize| Action::Discrete((i + t / 7) % 2);
        for &i in &live {
            bridged[i].queue_step(act(i));
        }
        let mut still = Vec::new();
        for &i in &live {
            let (sa, sb) = (
                bridged[i].step(act(i), &mut a[i]),
                native[i].step(act(i), &mut b[i]),
            );
            assert_eq!((sa, a[i]), (sb, b[i]), "env {i} step {t}");
            if !sa.done() {
                still.push(i);
            }
        }
        live = still;
        t += 1;
    }
    drop(bridged);
    // The group's bridge (three environments) joined the probe's in the pool.
    assert_eq!(source.idle_processes().len(), 2);
}

/// Wrappers apply in order: a time limit truncates, a frame stack of
/// vectors is one vector of the last `size` observations, newest last.
#[test]
fn wrappers_limit_episodes_and_stack_observations() {
    let Some(py) = python() else { return };
    let mut s = settings(&py, "CartPole-v1");
    s.wrappers = vec![
        evonet_gym::Wrapper::TimeLimit {
            max_episode_steps: 20,
        },
        evonet_gym::Wrapper::FrameStack { size: 3 },
    ];
    let source = GymSource::open(s).unwrap();
    assert_eq!(source.spec().obs_dim, 12);
    assert_eq!(source.spec().frame, None);
    let mut env = source.env_source().make(None);
    let mut native = EnvId::CartPole.make(None);
    let (mut a, mut b) = ([0.0f32; 12], [0.0f32; 4]);
    env.reset(3, &mut a);
    native.reset(3, &mut b);
    assert_eq!(&a[8..], &b[..], "the newest observation comes last");
    let mut steps = 0;
    loop {
        let s = env.step(Action::Discrete(steps % 2), &mut a);
        native.step(Action::Discrete(steps % 2), &mut b);
        steps += 1;
        assert_eq!(&a[8..], &b[..]);
        if s.done() {
            assert!(s.truncated && steps == 20, "{s:?} after {steps}");
            break;
        }
    }
}
