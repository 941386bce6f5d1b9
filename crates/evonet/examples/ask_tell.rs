//! A strategy driven by hand through ask/tell, without the runner: CMA-ES
//! on the Rosenbrock function in 10 dimensions. This is the whole contract
//! between evonet's strategies and the rest: `ask` hands out candidates
//! (genomes with their evaluation seeds), you evaluate them however you
//! like (here, inline; in any order, some may fail), and `tell` takes the
//! results back. The state is plain serde data: serialise it to pause,
//! deserialise it to continue exactly.
//!
//! ```sh
//! cargo run -p evonet --example ask_tell
//! ```

use evonet::core::{Evaluated, Strategy};
use evonet::strategies::{CmaEs, CmaEsConfig, ParamSpace};

const DIM: usize = 10;

fn rosenbrock(x: &[f32]) -> f64 {
    x.windows(2)
        .map(|w| {
            let (a, b) = (f64::from(w[0]), f64::from(w[1]));
            100.0 * (b - a * a).powi(2) + (1.0 - a).powi(2)
        })
        .sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cma = CmaEs::new(
        CmaEsConfig {
            population: 0,
            sigma: 0.5,
            separable: false,
            init_scale: 1.0,
            restarts: 0,
            max_dimension: 5_000,
        },
        ParamSpace {
            init_scales: vec![0.5; DIM],
            obs_dim: 0,
        },
    )?;
    let mut state = cma.init(42)?;
    for generation in 0..3000 {
        let candidates = cma.ask(&mut state);
        // Evaluate: fitness is maximised, so return the function negated.
        let results: Vec<_> = candidates
            .into_iter()
            .map(|c| {
                let f = -rosenbrock(&c.genome.params);
                Evaluated::done(c, f)
            })
            .collect();
        let report = cma.tell(&mut state, results)?;
        if generation % 250 == 0 {
            println!(
                "generation {generation:>4}: best {:.6}",
                report.best_fitness
            );
        }
        if report.best_fitness > -1e-10 {
            println!(
                "generation {generation:>4}: best {:.2e}, done",
                report.best_fitness
            );
            break;
        }
    }
    // The state round-trips through serde: a paused run continues exactly.
    let saved = serde_json::to_string(&state)?;
    let mut restored = serde_json::from_str(&saved)?;
    let (a, b) = (cma.ask(&mut state), cma.ask(&mut restored));
    assert_eq!(a[0].genome.params, b[0].genome.params);
    let champion = cma.champion(&state).ok_or("no champion")?;
    println!(
        "champion {:?} (Rosenbrock's optimum is all ones), fitness {:.2e}",
        champion
            .genome
            .params
            .iter()
            .map(|v| format!("{v:.4}"))
            .collect::<Vec<_>>(),
        champion.fitness
    );
    Ok(())
}
