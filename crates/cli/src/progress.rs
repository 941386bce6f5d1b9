//! The progress bar: generation (or evaluations, when the run's budget is
//! counted in evaluations), best, mean, evaluations per second, and the
//! champion's test score.

use indicatif::{ProgressBar, ProgressStyle};

use evonet::{ExperimentConfig, GenerationRecord, Observed, Observer};

pub struct ProgressObserver {
    bar: ProgressBar,
    /// The bar counts evaluations instead of generations.
    by_evaluations: bool,
}

impl ProgressObserver {
    /// A bar over the budget that ends the run: `run.max_evaluations` when
    /// it is set and comes first, else `run.max_generations`. `done`:
    /// generations completed before a resume.
    pub fn new(cfg: &ExperimentConfig, done: u64, quiet: bool) -> Self {
        let by_evaluations = cfg.run.max_evaluations.is_some();
        let total = cfg.run.max_evaluations.unwrap_or(cfg.run.max_generations);
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(total)
        };
        let unit = if by_evaluations { "evals" } else { "gen" };
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{elapsed_precise}} [{{bar:30}}] {unit} {{pos}}/{{len}} {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        if !by_evaluations {
            bar.set_position(done);
        }
        Self {
            bar,
            by_evaluations,
        }
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
        self.bar.set_position(if self.by_evaluations {
            r.evaluations
        } else {
            r.generation + 1
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
