//! Forward-pass benchmark of the MLP runtime (a bench binary; prints medians).
//!
//!     cargo bench -p evonet-nn --bench forward
//!
//! A 4-64-64-2 MLP (the CartPole policy of the benchmarks) with tanh and with
//! identity hidden units, at batch sizes 1 to 32 (episodes in lockstep), in
//! ns per row: the median and the fastest of 201 short samples.

use std::hint::black_box;
use std::time::Instant;

use evonet_nn::{Activation, Mlp, MlpBuffers, MlpSpec};

fn main() {
    let spec = MlpSpec {
        inputs: 4,
        hidden: vec![64, 64],
        outputs: 2,
        activation: Activation::Tanh,
        output_activation: Activation::Identity,
        recurrent: false,
    };
    let params: Vec<f32> = (0..spec.n_params())
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.2)
        .collect();
    let _net = Mlp::new(&spec, &params).unwrap();
    for act in [Activation::Tanh, Activation::Identity] {
        let spec = MlpSpec {
            activation: act,
            ..spec.clone()
        };
        let net = Mlp::new(&spec, &params).unwrap();
        for batch in [1usize, 2, 3, 4, 5, 6, 8, 32] {
            let mut buf = MlpBuffers::new(&spec, batch);
            let x: Vec<f32> = (0..4 * batch).map(|i| (i as f32 * 0.37).sin()).collect();
            // Many short samples: on a shared machine a short sample is
            // either clean or visibly hit, so the minimum and the median of
            // 201 say more than a few long ones.
            let iters = 4_000 / batch;
            let mut samples = Vec::new();
            for _ in 0..201 {
                let t = Instant::now();
                for _ in 0..iters {
                    black_box(net.forward(black_box(&x), batch, &mut buf));
                }
                samples.push(t.elapsed().as_secs_f64() * 1e9 / (iters * batch) as f64);
            }
            samples.sort_by(f64::total_cmp);
            let (ns, min) = (samples[samples.len() / 2], samples[0]);
            println!(
                "mlp 4-64-64-2 {} batch={batch}: {ns:.0} ns per row, median ({:.1} GFLOP/s; fastest sample {min:.0} ns)",
                act.name(),
                2.0 * spec.macs() as f64 / ns
            );
        }
    }
}
