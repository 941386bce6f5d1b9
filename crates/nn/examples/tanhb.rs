use evonet_nn::Activation;
use std::hint::black_box;
use std::time::Instant;
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
unsafe fn run(xs: &mut [f32]) {
    Activation::Tanh.apply(xs)
}
fn main() {
    for n in [64usize, 128, 1024] {
        let base: Vec<f32> = (0..n).map(|i| (i as f32 * 0.05) % 3.0 - 1.5).collect();
        let mut v = base.clone();
        let iters = 64_000_000 / n;
        let mut s = vec![];
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..iters {
                v.copy_from_slice(&base);
                unsafe { run(black_box(&mut v)) };
            }
            s.push(t.elapsed().as_nanos() as f64 / (iters * n) as f64);
        }
        s.sort_by(f64::total_cmp);
        println!("n={n}: {:.2} ns per tanh", s[2]);
    }
}
