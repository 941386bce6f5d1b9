//! What the bench binaries share: medians and the rate at which a thread
//! pool evaluates a population of policies.

use std::time::Instant;

use rayon::prelude::*;

use evonet_core::{EvalRequest, PolicyParams, Problem};
use evonet_problems::RlProblem;

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Env steps per second evaluating `genomes` on `threads`, the median of
/// `reps` passes (each with fresh episode seeds), and the mean episode
/// length.
pub fn population_rate(
    problem: &RlProblem,
    genomes: &[PolicyParams],
    threads: usize,
    reps: usize,
) -> (f64, f64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let pop = genomes.len();
    let mut rates = Vec::new();
    let mut mean_len = 0.0;
    for rep in 0..reps {
        let t = Instant::now();
        let (steps, eps): (u64, u64) = pool.install(|| {
            genomes
                .par_iter()
                .enumerate()
                .with_max_len(1)
                .map(|(i, g)| {
                    let e = problem
                        .evaluate(g, &EvalRequest::new((rep * pop + i) as u64))
                        .unwrap();
                    (e.cost.env_steps, e.cost.episodes)
                })
                .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        });
        rates.push(steps as f64 / t.elapsed().as_secs_f64());
        mean_len = steps as f64 / eps as f64;
    }
    (median(rates), mean_len)
}

/// The bench's arguments: `--quick`, and names that select sections (like
/// criterion's filter: a section runs when its name contains one of them,
/// or when none is given).
pub struct Args {
    pub quick: bool,
    filters: Vec<String>,
}

impl Args {
    pub fn parse() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        Self {
            quick: args.iter().any(|a| a == "--quick"),
            filters: args.into_iter().filter(|a| !a.starts_with("--")).collect(),
        }
    }

    pub fn selected(&self, name: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str()))
    }

    /// Prints the bench's title line and the CPU threads available.
    pub fn banner(&self, what: &str, reps: usize) {
        println!("# evonet {what} (medians of {reps} repetitions)");
        println!(
            "cpu threads available: {}",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }
}
