//! Fault injection, for testing that failures become recorded failed
//! evaluations and the run goes on. Off unless a config asks for it.
//! Whether a fault fires is drawn from the evaluation seed, so it is the
//! same for any thread or worker count.

use serde::{Deserialize, Serialize};

use evonet_core::seed::sub_seed;
use evonet_core::SeededRng;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Probability that an evaluation panics.
    #[serde(default)]
    pub panic_prob: f64,
    /// Probability that an evaluation sees a NaN observation.
    #[serde(default)]
    pub nan_obs_prob: f64,
    /// Probability that an evaluation reports a NaN fitness.
    #[serde(default)]
    pub nan_fitness_prob: f64,
    /// Wall milliseconds added to every evaluation (a sleep): makes
    /// evaluations slow enough to kill a worker in the middle of one. It
    /// never changes a result.
    #[serde(default)]
    pub delay_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Panic,
    NanObservation,
    NanFitness,
}

impl Faults {
    /// Why these settings are refused, by key (under `faults.`), if they are.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for (k, p) in [
            ("faults.panic_prob", self.panic_prob),
            ("faults.nan_obs_prob", self.nan_obs_prob),
            ("faults.nan_fitness_prob", self.nan_fitness_prob),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err((k, "must be a probability in [0, 1]".into()));
            }
        }
        let max = evonet_core::limits::MAX_DELAY_MS;
        if self.delay_ms > max {
            return Err((
                "faults.delay_ms",
                format!("must be at most {max} (a minute)"),
            ));
        }
        Ok(())
    }

    /// Nothing set (for leaving the section out of a written config).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    pub fn is_off(&self) -> bool {
        self.panic_prob <= 0.0 && self.nan_obs_prob <= 0.0 && self.nan_fitness_prob <= 0.0
    }

    pub fn draw(&self, eval_seed: u64) -> Option<Fault> {
        if self.is_off() {
            return None;
        }
        let u = SeededRng::new(sub_seed(eval_seed, 0xFA17)).uniform();
        let mut acc = self.panic_prob;
        if u < acc {
            return Some(Fault::Panic);
        }
        acc += self.nan_obs_prob;
        if u < acc {
            return Some(Fault::NanObservation);
        }
        acc += self.nan_fitness_prob;
        (u < acc).then_some(Fault::NanFitness)
    }
}
