//! Successive halving over fidelities (Jamieson & Talwalkar 2016,
//! "Non-stochastic best arm identification and hyperparameter
//! optimization", AISTATS) and Hyperband's brackets (Li, Jamieson,
//! DeSalvo, Rostamizadeh & Talwalkar 2018, JMLR): a strategy's round is
//! evaluated at the lowest fidelity, the best `1 / eta` of it again at the
//! next, and so on up to the highest; only the candidates that reach the
//! top rung count as the round's results (they join the population, and
//! the best of them can become the champion).
//!
//! A fidelity is a number of training epochs, sent with each candidate as
//! its request's `episodes` (architecture search reads an episode as an
//! epoch). Promoted candidates are trained again from scratch at the
//! higher fidelity, under a new candidate id whose parent is the promoted
//! one. With `hyperband = true` the generations cycle through Hyperband's
//! brackets: bracket `s` (`s` halvings) starts `n_s = ⌈n · (s_max + 1) /
//! (s + 1) / eta^(s_max - s)⌉` candidates at rung `s_max - s`, where `n`
//! is the strategy's round size and `s_max + 1` the number of rungs; the
//! bracket with every rung comes first.

use serde::{Deserialize, Serialize};

use evonet_core::StrategyError;

/// `[estimation.successive_halving]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HalvingConfig {
    /// Training epochs of each rung, lowest first (Hyperband's resources:
    /// e.g. `[1, 3, 9]` with `eta = 3`).
    pub epochs: Vec<u32>,
    /// A rung promotes the best `1 / eta` of its candidates (at least one).
    #[serde(default = "default_eta")]
    pub eta: usize,
    /// Cycle through Hyperband's brackets instead of always starting at
    /// the lowest rung.
    #[serde(default)]
    pub hyperband: bool,
}

fn default_eta() -> usize {
    3
}

impl HalvingConfig {
    /// Checks the settings; the error names the key.
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |key, message: &str| {
            Err(StrategyError::Config {
                key,
                message: message.into(),
            })
        };
        if self.epochs.len() < 2 || self.epochs.len() > 10 {
            return bad("epochs", "give between 2 and 10 rungs");
        }
        if self.epochs[0] == 0 || self.epochs.windows(2).any(|w| w[1] <= w[0]) {
            return bad(
                "epochs",
                "must be at least 1 and increase from rung to rung",
            );
        }
        if self.epochs.iter().any(|&e| e > 10_000) {
            return bad("epochs", "must be at most 10000");
        }
        if !(2..=100).contains(&self.eta) {
            return bad("eta", "must be between 2 and 100");
        }
        Ok(())
    }

    /// The highest bracket index (`s_max`): one less than the rungs.
    fn s_max(&self) -> usize {
        self.epochs.len() - 1
    }

    /// The first rung and the size of round `round` (counted from 0) of a
    /// strategy whose rounds hold `n` candidates.
    pub fn start(&self, round: u64, n: usize) -> (usize, usize) {
        if !self.hyperband {
            return (0, n);
        }
        let s_max = self.s_max();
        let s = s_max - (round % (s_max as u64 + 1)) as usize;
        let first = s_max - s;
        let size = (n * (s_max + 1)).div_ceil((s + 1) * self.eta.pow(first as u32));
        (first, size.max(1))
    }

    /// How many of `n` candidates of a rung are promoted to the next.
    pub fn promoted(&self, n: usize) -> usize {
        (n / self.eta).max(1)
    }

    /// Whether `rung` is the highest.
    pub fn is_top(&self, rung: usize) -> bool {
        rung + 1 >= self.epochs.len()
    }
}

/// Refuses successive halving together with a learned predictor (each
/// would decide which candidates are trained).
pub fn refuse_both(other_present: bool) -> Result<(), StrategyError> {
    match other_present {
        true => Err(StrategyError::Config {
            key: "successive_halving",
            message: "choose either a learned predictor or successive halving, not both".into(),
        }),
        false => Ok(()),
    }
}

/// The round in progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Halving {
    /// Rounds finished (what picks the Hyperband bracket).
    pub rounds: u64,
    /// The rung the round started at.
    pub first: usize,
    /// The rung the pending candidates are evaluated at.
    pub rung: usize,
    /// Evaluations of the round that failed, at every rung so far.
    pub failed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(hyperband: bool) -> HalvingConfig {
        HalvingConfig {
            epochs: vec![1, 3, 9],
            eta: 3,
            hyperband,
        }
    }

    #[test]
    fn hyperband_brackets_follow_li_et_al_table() {
        // Li et al.'s example with R = 9 resources, eta = 3 (B = 27):
        // brackets of 9 at 1, 5 at 3 and 3 at 9 epochs.
        let c = cfg(true);
        assert_eq!(c.start(0, 9), (0, 9));
        assert_eq!(c.start(1, 9), (1, 5));
        assert_eq!(c.start(2, 9), (2, 3));
        assert_eq!(c.start(3, 9), (0, 9));
        assert_eq!(cfg(false).start(2, 9), (0, 9));
        assert_eq!(c.promoted(9), 3);
        assert_eq!(c.promoted(2), 1);
        assert!(c.is_top(2) && !c.is_top(1));
    }

    #[test]
    fn bad_settings_name_their_key() {
        let key = |c: HalvingConfig| match c.validate() {
            Err(StrategyError::Config { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        assert!(cfg(false).validate().is_ok());
        for epochs in [vec![3], vec![0, 3], vec![3, 3], vec![9, 3]] {
            assert_eq!(
                key(HalvingConfig {
                    epochs,
                    ..cfg(false)
                }),
                "epochs"
            );
        }
        assert_eq!(
            key(HalvingConfig {
                eta: 1,
                ..cfg(false)
            }),
            "eta"
        );
    }
}
