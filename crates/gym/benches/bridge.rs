//! Env steps per second through the Gymnasium bridge, against the same
//! environments stepped by a plain Python loop (a bench binary; prints
//! medians; docs/BENCHMARKS.md section 10).
//!
//!     EVONET_PYTHON=target/ci-venv/bin/python \
//!         cargo bench -p evonet-gym --bench bridge [-- --steps N --reps N ENV...]
//!
//! For each environment (default `CartPole-v1`, `HalfCheetah-v5`,
//! `Humanoid-v5`; those whose package is missing are skipped with a line):
//! 1. the bridge: a 64-64 tanh MLP policy in Rust, one environment per
//!    bridge process, one round trip per step;
//! 2. plain Python (`scripts/bench_gym_python.py`): `gymnasium.make` and a
//!    numpy forward pass of the same network, one step at a time;
//!
//! and the overhead per message: the bridge's time per step minus the plain
//! loop's, in microseconds.

use std::process::Command;
use std::time::Instant;

use evonet_envs::{Action, ActionSpace, Env};
use evonet_gym::{GymSettings, GymSource};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A 64-64 tanh MLP with fixed pseudo-random weights (the policy's cost,
/// as the plain loop's numpy forward pass has it).
struct Mlp {
    layers: Vec<(Vec<f32>, usize, usize)>,
}

impl Mlp {
    fn new(inputs: usize, outputs: usize) -> Self {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.3
        };
        let dims = [inputs, 64, 64, outputs];
        let layers = dims
            .windows(2)
            .map(|w| ((0..w[0] * w[1]).map(|_| next()).collect(), w[0], w[1]))
            .collect();
        Self { layers }
    }

    fn forward(&self, x: &[f32]) -> Vec<f32> {
        let mut h = x.to_vec();
        for (i, (w, n_in, n_out)) in self.layers.iter().enumerate() {
            let mut out = vec![0.0f32; *n_out];
            for (k, xi) in h.iter().enumerate().take(*n_in) {
                for (j, o) in out.iter_mut().enumerate() {
                    *o += xi * w[k * n_out + j];
                }
            }
            if i + 1 < self.layers.len() {
                out.iter_mut().for_each(|v| *v = v.tanh());
            }
            h = out;
        }
        h
    }
}

/// Steps per second through the bridge.
fn bridge_rate(source: &GymSource, steps: usize) -> f64 {
    let spec = source.spec().clone();
    let outputs = spec.action_space.policy_outputs();
    let mlp = Mlp::new(spec.obs_dim, outputs);
    let mut env = source.env_source().make(None);
    let mut obs = vec![0.0f32; spec.obs_dim];
    env.reset(0, &mut obs);
    let mut episode = 0;
    let start = Instant::now();
    for _ in 0..steps {
        let out = mlp.forward(&obs);
        let step = match &spec.action_space {
            ActionSpace::Discrete(_) => {
                let a = (0..out.len())
                    .max_by(|a, b| out[*a].total_cmp(&out[*b]))
                    .unwrap_or(0);
                env.step(Action::Discrete(a), &mut obs)
            }
            ActionSpace::Box { .. } => {
                let a: Vec<f32> = out.iter().map(|v| v.tanh()).collect();
                env.step(Action::Continuous(&a), &mut obs)
            }
        };
        if step.done() {
            episode += 1;
            env.reset(episode, &mut obs);
        }
    }
    steps as f64 / start.elapsed().as_secs_f64()
}

/// Steps per second of the plain Python loop, or why it did not run.
fn python_rate(python: &str, id: &str, steps: usize) -> Result<f64, String> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/bench_gym_python.py"
    );
    let out = Command::new(python)
        .args([script, id, &steps.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("{e}"))
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let value = |flag: &str, default: usize| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (steps, reps) = (value("--steps", 20_000), value("--reps", 5));
    let mut ids: Vec<String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || !args[i - 1].starts_with("--")))
        .map(|(_, a)| a.clone())
        .collect();
    if ids.is_empty() {
        ids = ["CartPole-v1", "HalfCheetah-v5", "Humanoid-v5"]
            .map(String::from)
            .to_vec();
    }
    let python = std::env::var("EVONET_PYTHON").unwrap_or_else(|_| "python3".into());
    println!("| environment | plain Python loop, steps/s | through the bridge, steps/s | ratio | overhead per message |");
    println!("|---|---|---|---|---|");
    for id in ids {
        let source = match GymSource::open(GymSettings {
            python: Some(python.clone()),
            ..GymSettings::new(&id)
        }) {
            Ok(s) => s,
            Err(e) => {
                println!("| {id} | skipped: {e} | | | |");
                continue;
            }
        };
        let (mut bridge, mut plain) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            bridge.push(bridge_rate(&source, steps));
            match python_rate(&python, &id, steps) {
                Ok(r) => plain.push(r),
                Err(e) => panic!("{id}: the plain Python loop failed: {e}"),
            }
        }
        let (b, p) = (median(bridge), median(plain));
        println!(
            "| {id} | {p:.0} | {b:.0} | {:.2} | {:.1} µs |",
            b / p,
            (1.0 / b - 1.0 / p) * 1e6
        );
    }
}
