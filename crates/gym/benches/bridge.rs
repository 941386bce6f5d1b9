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
//!    bridge process, one round trip per step; and 8 environments in
//!    lockstep in one bridge process, one round trip per step of all 8;
//! 2. plain Python (`scripts/bench_gym_python.py`): `gymnasium.make` and a
//!    numpy forward pass of the same network, one step at a time; and
//!    `gymnasium.make_vec` of 8 copies stepped in turn ("sync"), the
//!    forward pass batched over the 8 (what the 8 in lockstep compare
//!    with: one process stepping 8 environments);
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

/// Env steps per second through one bridge process hosting `k` lockstep
/// environments (one message per step of all `k`).
fn bridge_rate(source: &GymSource, k: usize, steps: usize) -> f64 {
    let spec = source.spec().clone();
    let outputs = spec.action_space.policy_outputs();
    let mlp = Mlp::new(spec.obs_dim, outputs);
    let mut envs = source.env_source().make_group(k, None, &Default::default());
    let d = spec.obs_dim;
    let mut obs = vec![0.0f32; k * d];
    let mut episode = 0u64;
    for (i, e) in envs.iter_mut().enumerate() {
        e.reset(i as u64, &mut obs[i * d..(i + 1) * d]);
    }
    let action = |out: &[f32], buf: &mut Vec<f32>| -> usize {
        match &spec.action_space {
            ActionSpace::Discrete(_) => (0..out.len())
                .max_by(|a, b| out[*a].total_cmp(&out[*b]))
                .unwrap_or(0),
            ActionSpace::Box { .. } => {
                buf.clear();
                buf.extend(out.iter().map(|v| v.tanh()));
                usize::MAX
            }
        }
    };
    fn to_action(a: usize, buf: &[f32]) -> Action<'_> {
        match a {
            usize::MAX => Action::Continuous(buf),
            a => Action::Discrete(a),
        }
    }
    let start = Instant::now();
    let mut done_steps = 0;
    let mut bufs = vec![Vec::new(); k];
    let mut picked = vec![0usize; k];
    while done_steps < steps {
        for i in 0..k {
            let out = mlp.forward(&obs[i * d..(i + 1) * d]);
            picked[i] = action(&out, &mut bufs[i]);
            envs[i].queue_step(to_action(picked[i], &bufs[i]));
        }
        for i in 0..k {
            let st = envs[i].step(to_action(picked[i], &bufs[i]), &mut obs[i * d..(i + 1) * d]);
            if st.done() {
                episode += 1;
                envs[i].reset(1000 + episode, &mut obs[i * d..(i + 1) * d]);
            }
        }
        done_steps += k;
    }
    done_steps as f64 / start.elapsed().as_secs_f64()
}

/// Steps per second of the plain Python loop, or why it did not run.
fn python_rate(python: &str, id: &str, steps: usize, envs: usize) -> Result<f64, String> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/bench_gym_python.py"
    );
    let out = Command::new(python)
        .args([script, id, &steps.to_string(), &envs.to_string()])
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
    println!("| environment | plain Python loop, steps/s | through the bridge, steps/s | ratio | overhead per message | make_vec of 8, steps/s | 8 in lockstep, steps/s | ratio to the loop | ratio to make_vec |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for id in ids {
        let source = match GymSource::open(GymSettings {
            python: Some(python.clone()),
            ..GymSettings::new(&id)
        }) {
            Ok(s) => s,
            Err(e) => {
                println!("| {id} | skipped: {e} | | | | | | | |");
                continue;
            }
        };
        let (mut bridge, mut plain, mut group, mut vec) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let loop_rate = |envs: usize| {
            python_rate(&python, &id, steps, envs)
                .unwrap_or_else(|e| panic!("{id}: the plain Python loop failed: {e}"))
        };
        for _ in 0..reps {
            bridge.push(bridge_rate(&source, 1, steps));
            group.push(bridge_rate(&source, 8, steps));
            plain.push(loop_rate(1));
            vec.push(loop_rate(8));
        }
        let (b, p, g, v) = (median(bridge), median(plain), median(group), median(vec));
        println!(
            "| {id} | {p:.0} | {b:.0} | {:.2} | {:.1} µs | {v:.0} | {g:.0} | {:.2} | {:.2} |",
            b / p,
            (1.0 / b - 1.0 / p) * 1e6,
            g / p,
            g / v
        );
    }
}
