//! CMA-ES time per generation against pycma on the same machine, in the
//! same session: full covariance, λ = 8, ask/tell on the sphere (the
//! strategy's own cost; the evaluation is a sum of squares), at n = 450 (a
//! CartPole policy with one hidden layer of 64) and n = 4,610 (two of 64).
//!
//! `cargo bench -p evonet-strategies --bench cma_es [-- N GENERATIONS]`
//! times evonet; with `EVONET_PYTHON` set to a Python with pycma and numpy
//! (`pip install cma`), it runs `scripts/bench_pycma.py` right after and
//! prints the ratio. Time per generation is the mean over the generations
//! (the lazy eigendecomposition of both implementations is amortised over
//! them); each figure is the median of 3 repetitions.

use std::time::Instant;

use evonet_core::{Candidate, Evaluated, Evaluation, Outcome, PolicyParams, Strategy};
use evonet_strategies::{CmaEs, CmaEsConfig, ParamSpace};

fn seconds_per_generation(n: usize, generations: u64) -> f64 {
    let cma = CmaEs::new(
        CmaEsConfig {
            population: 8,
            sigma: 0.5,
            separable: false,
            init_scale: 0.0,
            restarts: 0,
            max_dimension: evonet_strategies::cma_es::DEFAULT_MAX_DIMENSION,
        },
        ParamSpace {
            init_scales: vec![1.0; n],
            obs_dim: 0,
        },
    )
    .expect("a valid config");
    let mut st = cma.init(1).expect("init");
    let started = Instant::now();
    for _ in 0..generations {
        let asked: Vec<Candidate<PolicyParams>> = cma.ask(&mut st);
        let results = asked
            .into_iter()
            .map(|c| {
                let f = -c
                    .genome
                    .params
                    .iter()
                    .map(|v| (*v as f64).powi(2))
                    .sum::<f64>();
                Evaluated {
                    outcome: Outcome::Done(Evaluation::of(f)),
                    candidate: c,
                }
            })
            .collect();
        cma.tell(&mut st, results).expect("tell");
    }
    started.elapsed().as_secs_f64() / generations as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn pycma(n: usize, generations: u64) -> Option<f64> {
    let python = std::env::var("EVONET_PYTHON").ok()?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/bench_pycma.py");
    let out = std::process::Command::new(python)
        .args([script, &n.to_string(), &generations.to_string()])
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("OMP_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("pycma: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let cases: Vec<(usize, u64)> = match args.as_slice() {
        [n, g] => vec![(n.parse().expect("N"), g.parse().expect("GENERATIONS"))],
        _ => vec![(450, 300), (4610, 150)],
    };
    for (n, generations) in cases {
        let ours = median(
            (0..3)
                .map(|_| seconds_per_generation(n, generations))
                .collect(),
        );
        print!(
            "n = {n}, λ = 8, {generations} generations: evonet {:.2} ms/generation",
            ours * 1e3
        );
        match (0..3)
            .map(|_| pycma(n, generations))
            .collect::<Option<Vec<f64>>>()
        {
            Some(py) => {
                let py = median(py);
                println!(
                    ", pycma {:.2} ms ({:.2}× pycma's time)",
                    py * 1e3,
                    ours / py
                );
            }
            None => println!(" (set EVONET_PYTHON to a Python with pycma for the ratio)"),
        }
    }
}
