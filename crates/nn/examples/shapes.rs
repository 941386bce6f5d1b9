use evonet_nn::{Activation, Mlp, MlpBuffers, MlpSpec};
use std::hint::black_box;
use std::time::Instant;
fn main() {
    for (hidden, outputs) in [
        (vec![64], 2usize),
        (vec![64, 64], 2),
        (vec![64, 64], 64),
        (vec![64, 64, 64], 2),
    ] {
        for act in [Activation::Identity, Activation::Tanh] {
            let spec = MlpSpec {
                inputs: 4,
                hidden: hidden.clone(),
                outputs,
                activation: act,
                output_activation: Activation::Identity,
                recurrent: false,
            };
            let params: Vec<f32> = (0..spec.n_params())
                .map(|i| ((i * 7919 % 1000) as f32 / 500.0 - 1.0) * 0.2)
                .collect();
            let net = Mlp::new(&spec, &params).unwrap();
            let mut buf = MlpBuffers::new(&spec, 1);
            let x = [0.1f32, 0.2, -0.3, 0.4];
            let mut s = vec![];
            for _ in 0..7 {
                let t = Instant::now();
                for _ in 0..200000 {
                    black_box(net.forward(black_box(&x), 1, &mut buf));
                }
                s.push(t.elapsed().as_nanos() as f64 / 200000.0);
            }
            s.sort_by(f64::total_cmp);
            println!("{:?} -> {outputs} {}: {:.0} ns", hidden, act.name(), s[3]);
        }
    }
}
