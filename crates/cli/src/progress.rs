//! The progress bar: generation, best, mean, evaluations per second, and the
//! champion's test score.

use indicatif::{ProgressBar, ProgressStyle};

use evonet_runner::{GenerationRecord, Observer};

pub struct ProgressObserver {
    bar: ProgressBar,
}

impl ProgressObserver {
    pub fn new(total: u64, done: u64, quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(total)
        };
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] gen {pos}/{len} {msg}")
                .expect("template")
                .progress_chars("=> "),
        );
        bar.set_position(done);
        Self { bar }
    }

    /// The bar itself, for messages between generations.
    pub fn bar(&self) -> ProgressBar {
        self.bar.clone()
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn fmt(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.2}"))
}

impl Observer for ProgressObserver {
    fn on_generation(&mut self, r: &GenerationRecord) {
        self.bar.set_position(r.generation + 1);
        self.bar.set_message(format!(
            "best {} mean {} test {} | {:.0} evals/s{}",
            fmt(r.best_fitness),
            fmt(r.mean_fitness),
            fmt(r.test_score),
            r.evals_per_s,
            if r.solved { " | solved" } else { "" }
        ));
    }
}
