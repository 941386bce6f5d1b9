//! Throughput benchmark (a bench binary; prints medians).
//!
//!     cargo bench -p evonet-problems --bench throughput [-- --quick] [SECTION...]
//!
//! SECTION selects by name, like criterion's filter: `cartpole_rollout`,
//! `seed_chain_decode`.
//!
//! 1. CartPole-v1 rollouts of 4-64-64-2 tanh MLP policies: env steps per
//!    second with 1 and 2 threads, one episode per evaluation and 8
//!    episodes in lockstep per evaluation.
//! 2. Seed-chain decoding (Deep GA) against a plain memcpy of the same
//!    bytes: a full decode of a 100-mutation chain, and the cached-parent
//!    path (one axpy per child).

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use common::{median, population_rate, Args};
use evonet_core::genome::decode_seed_chain;
use evonet_core::{NoiseTable, PolicyParams, SeedChain, SeedMutation, SeededRng};
use evonet_envs::{Env, EnvId};
use evonet_nn::Activation;
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind};

fn cartpole_problem(episodes: u32) -> RlProblem {
    let env = EnvId::CartPole.make(None);
    let spec = env.spec().clone();
    let policy = PolicySpec::new(
        spec.obs_dim,
        &spec.action_space,
        vec![64, 64],
        Activation::Tanh,
        false,
    );
    let task = Task {
        kind: TaskKind::Return,
        test_episodes: 1,
        success_threshold: Some(475.0),
    };
    RlProblem::new(
        RolloutEnv {
            env: EnvId::CartPole.into(),
            max_steps: None,
            start_angle: None,
            minatar: Default::default(),
        },
        policy,
        episodes,
        task,
    )
}

/// Env steps per second evaluating `pop` random policies on `threads`.
fn rollout_rate(threads: usize, episodes: u32, pop: usize, reps: usize) -> (f64, f64) {
    let problem = cartpole_problem(episodes);
    let scales = problem.policy_spec().mlp.init_scales();
    let genomes: Vec<PolicyParams> = (0..pop as u64)
        .map(|i| {
            let mut rng = SeededRng::new(1000 + i);
            PolicyParams {
                params: scales.iter().map(|s| s * rng.normal_f32()).collect(),
                obs_norm: None,
            }
        })
        .collect();
    population_rate(&problem, &genomes, threads, reps)
}

fn decode_rates(n: usize, chain_len: usize, reps: usize) -> (f64, f64, f64) {
    let table = NoiseTable::new(1 << 24, 123);
    let scales = vec![0.1f32; n];
    let mut chain = SeedChain::new(7);
    for i in 0..chain_len as u64 {
        chain = chain.child(SeedMutation {
            seed: i * 7919 + 1,
            sigma: 0.002,
        });
    }
    let bytes = ((chain_len + 1) * n * 4) as f64;
    let mut theta = Vec::with_capacity(n);
    let mut full = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        decode_seed_chain(&table, black_box(&chain), &scales, None, &mut theta);
        black_box(&theta);
        full.push(bytes / t.elapsed().as_secs_f64() / 1e9);
    }
    // memcpy of the same number of bytes, slice by slice from the table.
    let src = table.slice(0, n);
    let mut dst = vec![0.0f32; n];
    let mut copy = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        for _ in 0..=chain_len {
            dst.copy_from_slice(black_box(src));
            black_box(&dst);
        }
        copy.push(bytes / t.elapsed().as_secs_f64() / 1e9);
    }
    // Cached parent: one axpy per child.
    let parent = theta.clone();
    let mut child = Vec::with_capacity(n);
    let mut cached = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        for k in 0..=chain_len {
            decode_seed_chain(
                &table,
                &chain,
                &scales,
                Some((&parent, chain_len - 1)),
                &mut child,
            );
            black_box((&child, k));
        }
        cached.push(bytes / t.elapsed().as_secs_f64() / 1e9);
    }
    (median(full), median(copy), median(cached))
}

fn main() {
    let args = Args::parse();
    let quick = args.quick;
    let selected = |name: &str| args.selected(name);
    let reps = if quick { 3 } else { 7 };
    let pop = if quick { 64 } else { 256 };
    args.banner("throughput benchmark", reps);
    if selected("cartpole_rollout") {
        for episodes in [1u32, 8] {
            for threads in [1usize, 2] {
                let (rate, len) = rollout_rate(threads, episodes, pop, reps);
                println!(
                    "cartpole_rollout episodes_per_eval={episodes} threads={threads}: {:.3} M env steps/s (mean episode {len:.0} steps)",
                    rate / 1e6
                );
            }
        }
    }
    if selected("seed_chain_decode") {
        let (full, copy, cached) = decode_rates(4610, 100, reps);
        println!("seed_chain_decode n=4610 chain=100: full decode {full:.2} GB/s, memcpy {copy:.2} GB/s, ratio {:.2}", full / copy);
        println!("seed_chain_decode cached parent (one axpy): {cached:.2} GB/s equivalent, ratio to memcpy {:.2}", cached / copy);
        let (full, copy, _) = decode_rates(1_000_000, 20, reps.min(5));
        println!("seed_chain_decode n=1000000 chain=20: full decode {full:.2} GB/s, memcpy {copy:.2} GB/s, ratio {:.2}", full / copy);
    }
}
