//! One training step (forward, backward, Adam update) of a small CNN at
//! batch 128 on 28×28 grey images, the same network and optimizer as
//! `scripts/bench_train_step_jax.py`:
//! conv3x3-32 relu max2/2 conv3x3-64 relu max2/2 fc128 relu → 10.
//!
//! `cargo bench -p evonet-train --bench train_step -- [--reps N] [--steps S] [--threads T]`
//! prints the median milliseconds per step over N repetitions of S steps
//! (after a warm-up), as JSON.

use evonet_train::{train, Activation, Block, ChainArch, Dataset, TrainConfig};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn small_cnn() -> ChainArch {
    let relu = || Block::Act {
        function: Activation::Relu,
    };
    let pool = || Block::MaxPool {
        kernel: 2,
        stride: 2,
    };
    ChainArch {
        blocks: vec![
            Block::Conv {
                filters: 32,
                kernel: 3,
                stride: 1,
            },
            relu(),
            pool(),
            Block::Conv {
                filters: 64,
                kernel: 3,
                stride: 1,
            },
            relu(),
            pool(),
            Block::Dense { units: 128 },
            relu(),
        ],
    }
}

fn main() {
    let reps = arg("--reps", 5);
    let steps = arg("--steps", 20);
    let threads = arg("--threads", 2);
    let batch = 128;
    // Synthetic images: the step's cost does not depend on the pixels.
    let mut rng = evonet_core::SeededRng::new(1);
    let n = batch * steps;
    let data = Dataset {
        images: (0..n * 784).map(|_| rng.uniform() as f32).collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
        shape: [1, 28, 28],
        classes: 10,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let arch = evonet_train::Arch::Chain(small_cnn());
    let cfg = TrainConfig::new(1, batch, 1e-3);
    pool.install(|| {
        // Warm-up: one epoch of `steps` steps.
        train(&arch, &data, &cfg, 0).unwrap();
        let mut per_step: Vec<f64> = (0..reps)
            .map(|r| {
                let t = std::time::Instant::now();
                train(&arch, &data, &cfg, r as u64).unwrap();
                t.elapsed().as_secs_f64() * 1e3 / steps as f64
            })
            .collect();
        per_step.sort_by(f64::total_cmp);
        println!(
            "{{\"framework\": \"evonet (burn 0.22.1 flex)\", \"threads\": {threads}, \"batch\": {batch}, \"steps\": {steps}, \"reps\": {reps}, \"median_ms_per_step\": {:.2}, \"min\": {:.2}, \"max\": {:.2}, \"params\": {}}}",
            per_step[reps / 2],
            per_step[0],
            per_step[reps - 1],
            arch.cost([1, 28, 28], 10).unwrap().params
        );
    });
}
