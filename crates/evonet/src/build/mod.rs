//! From a checked [`ExperimentConfig`] to a [`Search`]: one function per
//! registered strategy (named in `crate::registry`), grouped by the genome
//! they evolve, and the problems they share.

pub(crate) mod env;
pub(crate) mod flat;
#[cfg(feature = "nas")]
pub(crate) mod nas;
pub(crate) mod neat;

use std::path::Path;

use evonet_core::StrategyError;

use crate::config::{ConfigError, ExperimentConfig};
use crate::registry::Registry;

/// What a strategy's build function sees.
pub struct BuildContext<'a> {
    pub(crate) config: &'a ExperimentConfig,
    pub(crate) registry: &'a Registry,
    /// Named in errors (the config file).
    pub(crate) file: &'a Path,
    /// Builds the noise table; the run's evaluation threads.
    pub(crate) pool: &'a rayon::ThreadPool,
    /// Relative data paths start here.
    #[cfg_attr(not(feature = "nas"), allow(dead_code))]
    pub(crate) data_root: &'a Path,
}

impl BuildContext<'_> {
    pub(crate) fn error(&self, key: &str, message: impl Into<String>) -> BuildError {
        BuildError::Config(ConfigError::new(self.file, key, message))
    }

    /// A strategy's refusal of its settings, named by key.
    pub(crate) fn strategy_error(&self, e: StrategyError) -> BuildError {
        self.section_error("strategy", e)
    }

    /// ALPS's refusal of its settings, named by key.
    pub(crate) fn alps_error(&self, e: StrategyError) -> BuildError {
        self.section_error("alps", e)
    }

    /// A refusal of the settings of `[section]`, named by key.
    fn section_error(&self, section: &str, e: StrategyError) -> BuildError {
        match e {
            StrategyError::Config { key, message } => {
                self.error(&format!("{section}.{key}"), message)
            }
            other => self.error(section, other.to_string()),
        }
    }
}

/// A config that passed its checks but cannot be built (a dataset that
/// does not load, a policy too large for the noise table). Always the
/// user's to fix.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
}
