//! Learning-rate schedules over the steps of one training.
//!
//! `cosine` is cosine annealing to zero without restarts (Loshchilov &
//! Hutter 2017, "SGDR"), the schedule NASNet and AmoebaNet retrain with:
//! step `t` of `T` uses `base * (1 + cos(pi * t / T)) / 2`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// The same rate for every step.
    #[default]
    Constant,
    /// From the base rate down to zero along half a cosine period.
    Cosine,
}

impl LrSchedule {
    /// The rate of step `step` (counted from 0) of `total` steps.
    pub fn rate(self, base: f64, step: usize, total: usize) -> f64 {
        match self {
            LrSchedule::Constant => base,
            LrSchedule::Cosine => {
                let x = step.min(total) as f64 / total.max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            LrSchedule::Constant => "constant",
            LrSchedule::Cosine => "cosine",
        }
    }
}

impl std::str::FromStr for LrSchedule {
    type Err = String;

    /// The inverse of [`LrSchedule::name`].
    fn from_str(s: &str) -> Result<Self, String> {
        [LrSchedule::Constant, LrSchedule::Cosine]
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| "must be constant or cosine".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_never_changes() {
        for t in [0, 5, 99] {
            assert_eq!(LrSchedule::Constant.rate(0.1, t, 100), 0.1);
        }
    }

    #[test]
    fn cosine_starts_at_base_halves_midway_and_decays_monotonically() {
        let s = LrSchedule::Cosine;
        assert_eq!(s.rate(2e-3, 0, 10), 2e-3);
        assert!((s.rate(2e-3, 5, 10) - 1e-3).abs() < 1e-15);
        let rates: Vec<f64> = (0..10).map(|t| s.rate(1.0, t, 10)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]), "{rates:?}");
        assert!(rates[9] > 0.0 && rates[9] < 0.03);
        assert_eq!(s.rate(1.0, 10, 10), 0.0);
    }

    #[test]
    fn names_round_trip_through_serde() {
        for s in [LrSchedule::Constant, LrSchedule::Cosine] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.name()));
            assert_eq!(serde_json::from_str::<LrSchedule>(&json).unwrap(), s);
        }
    }
}
