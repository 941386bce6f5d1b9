//! A fitness function given as a Rust closure over a parameter vector,
//! optimised by CMA-ES and by OpenAI-ES: Rastrigin's function in 100
//! dimensions (Hansen's benchmark of multi-modal search; minimum 0 at the
//! origin, about 10^100 local minima). evonet maximises, so the closure
//! returns the function negated.
//!
//! ```sh
//! cargo run -p evonet --example fitness_closure
//! ```

use evonet::strategies::{CmaEsConfig, OpenEsConfig};
use evonet::{Experiment, ExperimentConfig, Registry, StrategyConfig};

const DIM: usize = 100;

fn rastrigin(x: &[f32]) -> f64 {
    x.iter()
        .map(|&v| {
            let v = f64::from(v);
            10.0 + v * v - 10.0 * (std::f64::consts::TAU * v).cos()
        })
        .sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut registry = Registry::builtin();
    // Initial vectors spread with scale 1 around the origin (the usual
    // domain is [-5.12, 5.12]^n).
    registry.register_fitness("rastrigin100", DIM, 1.0, |x| -rastrigin(x))?;

    let cma = StrategyConfig::CmaEs(CmaEsConfig {
        // Far above the default 4 + 3 ln n = 17: on Rastrigin a large
        // population sees past the local minima (Hansen & Kern 2004).
        population: 400,
        sigma: 2.0,
        separable: false,
        init_scale: 1.0,
        restarts: 0,
        max_dimension: 5_000,
    });
    let es = StrategyConfig::OpenEs(OpenEsConfig {
        population: 1000,
        // The search distribution smooths the cosine ripples (their
        // amplitude shrinks by exp(-2 pi^2 sigma^2)).
        sigma: 0.3,
        learning_rate: 0.02,
        l2_coeff: 0.0,
        obs_norm: false,
        obs_stats_prob: 0.0,
    });
    let base = std::env::temp_dir().join(format!("evonet-fitness-{}", std::process::id()));
    let start = -rastrigin(&[0.5f32; DIM]); // the worst point of the unit cube, for scale
    println!("Rastrigin in {DIM} dimensions (0 is the optimum, the point (0.5, ..., 0.5) scores {start:.0})");
    for (name, strategy, generations) in [("CMA-ES", cma, 400), ("OpenAI-ES", es, 300)] {
        let mut config = ExperimentConfig::on_task("rastrigin100", strategy, generations);
        config.run.seed = 1;
        config.run.checkpoint_every = 100;
        let exp = Experiment::new("fitness_closure", config, &registry)?;
        let out = base.join(name);
        let done = exp.session(&out).run()?;
        let rs = done.state();
        println!(
            "{name:>9}: best {:.2} after {} evaluations in {:.1} s",
            rs.best_test.unwrap_or(f64::NAN),
            rs.evaluations,
            rs.elapsed_s
        );
    }
    std::fs::remove_dir_all(&base)?;
    Ok(())
}
