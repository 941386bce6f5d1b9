//! The progress bar: generations, evaluations or frames (whichever budget
//! ends the run), best, mean, evaluations per second, and the
//! champion's test score.

use indicatif::{ProgressBar, ProgressStyle};

use evonet::{ExperimentConfig, GenerationRecord, Observed, Observer};

pub struct ProgressObserver {
    bar: ProgressBar,
    /// What the bar counts.
    budget: Budget,
}

/// The budget that ends the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    Generations,
    Evaluations,
    EnvSteps,
}

impl ProgressObserver {
    /// A bar over the budget that ends the run: `run.max_env_steps` when
    /// it is set, else `run.max_evaluations` when it is set, else
    /// `run.max_generations`. `done`: generations completed before a
    /// resume.
    pub fn new(cfg: &ExperimentConfig, done: u64, quiet: bool) -> Self {
        let (budget, total, unit) = match (cfg.run.max_env_steps, cfg.run.max_evaluations) {
            (Some(f), _) => (Budget::EnvSteps, f, "frames"),
            (None, Some(e)) => (Budget::Evaluations, e, "evals"),
            (None, None) => (Budget::Generations, cfg.run.max_generations, "gen"),
        };
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(total)
        };
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{elapsed_precise}} [{{bar:30}}] {unit} {{human_pos}}/{{human_len}} {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        if budget == Budget::Generations {
            bar.set_position(done);
        }
        Self { bar, budget }
    }

    /// The bar itself, for messages between generations.
    pub fn bar(&self) -> ProgressBar {
        self.bar.clone()
    }
}

fn fmt(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.2}"))
}

impl Observer for ProgressObserver {
    fn on_generation(&mut self, r: &GenerationRecord) -> Observed {
        self.bar.set_position(match self.budget {
            Budget::Generations => r.generation + 1,
            Budget::Evaluations => r.evaluations,
            Budget::EnvSteps => r.env_steps,
        });
        self.bar.set_message(format!(
            "best {} mean {} test {} | {:.0} evals/s{}",
            fmt(r.best_fitness),
            fmt(r.mean_fitness),
            fmt(r.test_score),
            r.evals_per_s,
            if r.solved { " | solved" } else { "" }
        ));
        Ok(())
    }
}
