//! MinAtar throughput with convolutional policies (a bench binary; prints
//! medians).
//!
//!     cargo bench -p evonet-problems --bench minatar [-- --quick] [SECTION...]
//!
//! 1. `env_only`: MinAtar Breakout-v1 steps per second under random
//!    actions, no policy (the environment's own cost).
//! 2. `dqn_rollout`: Breakout-v1 env steps per second with MinAtar's DQN
//!    network (conv 16×3×3, dense 128, ReLU; 132,179 parameters), random
//!    policies as a first generation evaluates them, 1 and 2 threads, one
//!    episode and 8 episodes in lockstep per evaluation.
//! 3. `forward`: the forward pass alone on frames recorded from random play,
//!    one row and 8 rows at a time, in GFLOP/s counting the dense network's
//!    2·multiply-adds per frame (what a dense implementation would compute),
//!    against this core's FMA peak measured by `fma_peak`: 12 independent
//!    chains of 8-wide fused multiply-adds.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use common::{median, population_rate, Args};
use evonet_core::{PolicyParams, SeededRng};
use evonet_envs::minatar::env::{MinAtarGame, MinAtarSettings};
use evonet_envs::{Action, Env, EnvId};
use evonet_nn::{ConvSpec, ConvTorso, Mlp};
use evonet_problems::controller::{Controller, ConvController, MlpController};
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BREAKOUT: EnvId = EnvId::MinAtar {
    game: MinAtarGame::Breakout,
    minimal: true,
};

fn dqn_spec() -> PolicySpec {
    let env = BREAKOUT.make(None);
    let spec = env.spec().clone();
    let frame = spec.frame.expect("MinAtar gives frames");
    PolicySpec::new(
        spec.obs_dim,
        &spec.action_space,
        vec![128],
        evonet_nn::Activation::Relu,
        false,
    )
    .with_conv(ConvSpec::minatar(frame))
}

fn random_params(spec: &PolicySpec, seed: u64) -> Vec<f32> {
    let mut rng = SeededRng::new(seed);
    spec.init_scales()
        .iter()
        .map(|s| s * rng.normal_f32())
        .collect()
}

fn env_only(reps: usize, steps: usize) -> f64 {
    let mut rates = Vec::new();
    for rep in 0..reps {
        let mut env = BREAKOUT.make(None);
        let mut obs = vec![0.0f32; env.spec().obs_dim];
        let mut rng = SeededRng::new(rep as u64);
        env.reset(rep as u64, &mut obs);
        let t = Instant::now();
        let mut ep = 0;
        for _ in 0..steps {
            let a = rng.below(3) as usize;
            if env.step(Action::Discrete(a), &mut obs).done() {
                ep += 1;
                env.reset(ep, &mut obs);
            }
            black_box(&obs);
        }
        rates.push(steps as f64 / t.elapsed().as_secs_f64());
    }
    median(rates)
}

fn rollout_rate(threads: usize, episodes: u32, pop: usize, reps: usize) -> (f64, f64) {
    let policy = dqn_spec();
    let task = Task {
        kind: TaskKind::Return,
        test_episodes: 1,
        success_threshold: None,
    };
    let renv = RolloutEnv {
        env: BREAKOUT.into(),
        max_steps: None,
        start_angle: None,
        minatar: MinAtarSettings::default(),
    };
    let problem = RlProblem::new(renv, policy.clone(), episodes, task);
    let genomes: Vec<PolicyParams> = (0..pop as u64)
        .map(|i| PolicyParams {
            params: random_params(&policy, 1000 + i),
            obs_norm: None,
        })
        .collect();
    population_rate(&problem, &genomes, threads, reps)
}

/// Frames of random play.
fn frames(n: usize) -> Vec<f32> {
    let mut env = BREAKOUT.make(None);
    let d = env.spec().obs_dim;
    let mut obs = vec![0.0f32; d];
    let mut out = Vec::with_capacity(n * d);
    let mut rng = SeededRng::new(5);
    env.reset(0, &mut obs);
    let mut ep = 0;
    while out.len() < n * d {
        out.extend_from_slice(&obs);
        let a = rng.below(3) as usize;
        if env.step(Action::Discrete(a), &mut obs).done() {
            ep += 1;
            env.reset(ep, &mut obs);
        }
    }
    out
}

/// Frames per second through the DQN network, `rows` at a time.
fn forward_rate(rows: usize, reps: usize) -> f64 {
    let spec = dqn_spec();
    let params = random_params(&spec, 9);
    let conv = spec.conv.as_ref().expect("conv");
    let (tp, dp) = params.split_at(spec.conv_params());
    let torso = ConvTorso::new(conv, tp).unwrap();
    let mlp = MlpController::new(Mlp::new(&spec.mlp, dp).unwrap(), &spec.mlp, rows);
    let mut c = ConvController::new(torso, mlp, rows);
    let n = 4096;
    let x = frames(n);
    let d = spec.obs_dim();
    let mut rates = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        for b in (0..n).step_by(rows) {
            let out = c.forward(&x[b * d..(b + rows) * d], rows);
            black_box(out);
        }
        rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    median(rates)
}

/// This core's peak GFLOP/s of 8-wide fused multiply-adds.
fn fma_peak(reps: usize) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            let iters = 20_000_000u64;
            let mut rates = Vec::new();
            for _ in 0..reps {
                let t = Instant::now();
                // SAFETY: AVX2 and FMA are present (checked above).
                black_box(unsafe { fma_chains(iters) });
                // 12 chains × 8 lanes × 2 flops per iteration.
                rates.push((iters * 12 * 8 * 2) as f64 / t.elapsed().as_secs_f64() / 1e9);
            }
            return median(rates);
        }
    }
    let _ = reps;
    f64::NAN
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_chains(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let m = _mm256_set1_ps(0.999_999);
    let c = _mm256_set1_ps(1e-7);
    let mut acc = [_mm256_set1_ps(1.0); 12];
    for _ in 0..iters {
        for a in &mut acc {
            *a = _mm256_fmadd_ps(*a, m, c);
        }
    }
    let mut s = _mm256_setzero_ps();
    for a in acc {
        s = _mm256_add_ps(s, a);
    }
    let mut out = [0.0f32; 8];
    // SAFETY: `out` holds the 8 floats the store writes.
    unsafe { _mm256_storeu_ps(out.as_mut_ptr(), s) };
    out.iter().sum()
}

fn main() {
    let args = Args::parse();
    let quick = args.quick;
    let selected = |name: &str| args.selected(name);
    let reps = if quick { 3 } else { 7 };
    let pop = if quick { 128 } else { 512 };
    args.banner("MinAtar benchmark", reps);
    if selected("env_only") {
        let r = env_only(reps, 2_000_000);
        println!("env_only breakout: {:.2} M steps/s", r / 1e6);
    }
    if selected("dqn_rollout") {
        for episodes in [1u32, 8] {
            for threads in [1usize, 2] {
                let (rate, len) = rollout_rate(threads, episodes, pop, reps);
                println!(
                    "dqn_rollout breakout episodes_per_eval={episodes} threads={threads}: {:.0} k env steps/s (mean episode {len:.1} steps)",
                    rate / 1e3
                );
            }
        }
    }
    if selected("forward") {
        let spec = dqn_spec();
        let flops = 2.0 * spec.macs() as f64;
        let peak = fma_peak(reps);
        println!("fma_peak one core: {peak:.1} GFLOP/s (8-wide FMA)");
        for rows in [1usize, 8] {
            let r = forward_rate(rows, reps);
            let g = r * flops / 1e9;
            println!(
                "forward dqn rows={rows}: {:.0} k frames/s, {g:.1} GFLOP/s dense-equivalent ({:.0}% of the FMA peak)",
                r / 1e3,
                100.0 * g / peak
            );
        }
    }
}
