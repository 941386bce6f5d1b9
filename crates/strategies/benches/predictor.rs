//! The cost of a learned predictor's fit and of rating a round of
//! proposals (a bench binary; prints medians).
//!
//!     cargo bench -p evonet-strategies --bench predictor [-- --quick]
//!
//! Inputs shaped like the digits chain encoding (8 block slots of 15
//! values and 3 size figures, 123 in all, most of them zero), the default
//! settings (3 perceptrons of 32 hidden units, 300 full-batch Adam steps),
//! training sets of 100 to 1,000 candidates, as `Screening::choose` fits
//! once per generation. The baseline is one forward pass of the same
//! perceptrons over the training set (the least one epoch could cost), so
//! the ratio says how many such passes a fit is worth; the figure to set
//! against a search is the fit's milliseconds next to one candidate's
//! training seconds (docs/BENCHMARKS.md).

use std::hint::black_box;
use std::time::Instant;

use evonet_core::SeededRng;
use evonet_strategies::predictor::{Predictor, PredictorConfig};

const SLOTS: usize = 8;
const SLOT: usize = 15;

/// A chain-like encoding: each used slot one of 8 kinds, a width, a
/// kernel and a stride; the size figures last.
fn encoding(rng: &mut SeededRng) -> Vec<f64> {
    let mut x = vec![0.0; SLOTS * SLOT + 3];
    let used = 2 + rng.below(SLOTS as u64 - 1) as usize;
    for slot in x.chunks_mut(SLOT).take(used) {
        slot[rng.below(8) as usize] = 1.0;
        slot[11] = rng.uniform();
        slot[12] = rng.uniform();
        slot[13] = 0.25;
    }
    let n = x.len();
    for v in &mut x[n - 3..] {
        *v = rng.uniform();
    }
    x
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 3 } else { 9 };
    let cfg = PredictorConfig::default();
    println!("# evonet predictor bench (medians of {reps} repetitions, one thread)");
    println!("| candidates | ms per fit | ms to rate 16 proposals | ratio of the fit to one forward pass over the set |");
    println!("|---|---|---|---|");
    let mut rng = SeededRng::new(1);
    for n in [100usize, 300, 1000] {
        let x: Vec<Vec<f64>> = (0..n).map(|_| encoding(&mut rng)).collect();
        let y: Vec<f64> = x.iter().map(|r| r.iter().sum::<f64>().sin()).collect();
        let proposals: Vec<Vec<f64>> = (0..16).map(|_| encoding(&mut rng)).collect();
        let (mut fit, mut rate, mut pass) = (Vec::new(), Vec::new(), Vec::new());
        for rep in 0..reps {
            let t = Instant::now();
            let p = Predictor::fit(&cfg, &x, &y, rep as u64);
            fit.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let r: f64 = proposals.iter().map(|f| p.predict(f)).sum();
            rate.push(t.elapsed().as_secs_f64());
            black_box(r);
            let t = Instant::now();
            let s: f64 = x.iter().map(|f| p.predict(f)).sum();
            pass.push(t.elapsed().as_secs_f64());
            black_box(s);
        }
        let (f, r, p) = (median(fit), median(rate), median(pass));
        println!("| {n} | {:.1} | {:.3} | {:.0} |", f * 1e3, r * 1e3, f / p);
    }
}
