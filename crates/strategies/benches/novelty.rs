//! The cost of novelty search's k-nearest-neighbour sparseness per
//! generation (a bench binary; prints medians).
//!
//!     cargo bench -p evonet-strategies --bench novelty [-- --quick]
//!
//! A population of 250 two-value behaviours (the maze's final positions)
//! against archives of 1,000 to 100,000, k = 15, Euclidean distance, as
//! `NoveltySearch::tell` computes it each generation. The baseline is one
//! pass of squared differences over the same pairs, summed (no square root,
//! no neighbour selection): the least any exact method that looks at every
//! pair could cost.

use std::hint::black_box;
use std::time::Instant;

use evonet_core::SeededRng;
use evonet_strategies::novelty_archive::{sparseness, Archive, BehaviorDistance};

const POPULATION: usize = 250;
const K: usize = 15;

fn points(n: usize, rng: &mut SeededRng) -> Vec<[f32; 2]> {
    (0..n)
        .map(|_| {
            [
                (rng.uniform() * 300.0) as f32,
                (rng.uniform() * 300.0) as f32,
            ]
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds of one pass of squared differences over every (member, archive
/// or population point) pair.
fn baseline(pop: &[[f32; 2]], archive: &[[f32; 2]]) -> f64 {
    let t = Instant::now();
    let mut total = 0.0f64;
    for p in pop {
        for q in archive.iter().chain(pop) {
            let (dx, dy) = (f64::from(p[0] - q[0]), f64::from(p[1] - q[1]));
            total += dx * dx + dy * dy;
        }
    }
    black_box(total);
    t.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 3 } else { 9 };
    println!("# evonet novelty bench (medians of {reps} repetitions, one thread)");
    println!(
        "| archive | ms per generation | ns per pair | ratio to one pass of squared differences |"
    );
    println!("|---|---|---|---|");
    let mut rng = SeededRng::new(5);
    for size in [1_000usize, 10_000, 50_000, 100_000] {
        let pop = points(POPULATION, &mut rng);
        let stored = points(size, &mut rng);
        let mut archive = Archive::new(6.0);
        for p in &stored {
            archive.push(p, 0).expect("two values each");
        }
        let refs: Vec<&[f32]> = pop.iter().map(|p| p.as_slice()).collect();
        let mut ours = Vec::new();
        let mut base = Vec::new();
        for _ in 0..reps {
            let t = Instant::now();
            black_box(sparseness(
                &refs,
                &archive,
                true,
                K,
                BehaviorDistance::Euclidean,
            ));
            ours.push(t.elapsed().as_secs_f64());
            base.push(baseline(&pop, &stored));
        }
        let (ours, base) = (median(ours), median(base));
        let pairs = (POPULATION * (size + POPULATION)) as f64;
        println!(
            "| {size} | {:.2} | {:.2} | {:.2} |",
            ours * 1e3,
            ours * 1e9 / pairs,
            ours / base
        );
    }
}
