//! Performance estimation (Elsken et al. 2019, section 4): a candidate
//! architecture is trained by backprop at a low fidelity (fewer epochs, a
//! fraction of the training images, narrower layers) and scored by its
//! validation accuracy; the best are retrained at full fidelity on train +
//! validation and scored once on the test split ([`NasProblem::retrain`]).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use evonet_core::{Cost, EvalError, EvalRequest, Evaluation, Problem, TestReport};
use evonet_train::{
    accuracy, inference_latency, logits, train, Arch, Augment, Dataset, LrSchedule, Net, Split,
    Splits, TrainConfig,
};

/// How candidates are trained during the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fidelity {
    pub epochs: usize,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default = "default_lr")]
    pub learning_rate: f64,
    /// `constant` or `cosine` (annealed to zero over the training).
    #[serde(default)]
    pub lr_schedule: LrSchedule,
    /// Random shifts and flips of the training images.
    #[serde(default, skip_serializing_if = "Augment::is_none")]
    pub augment: Augment,
    /// Fraction of the training images used (stratified, fixed per run).
    #[serde(default = "one")]
    pub data_fraction: f64,
    /// Every width (filters, units) is multiplied by this while searching.
    #[serde(default = "one")]
    pub channel_scale: f64,
    /// A candidate training longer fails (recorded, the search goes on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_s: Option<f64>,
    /// A candidate whose estimated training memory is larger fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_mb: Option<u64>,
}

/// The final, full-fidelity training of the best architectures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalTraining {
    pub epochs: usize,
    /// The learning rate of the final training (default: the search's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// The schedule of the final training (default: the search's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_schedule: Option<LrSchedule>,
    /// The augmentation of the final training (default: the search's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<Augment>,
    /// How many of the best architectures (by search validation accuracy,
    /// distinct) are retrained and tested.
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Also build an ensemble of the retrained architectures by greedy
    /// forward selection with replacement on the validation split
    /// (Caruana et al. 2004); each architecture is then trained a second
    /// time, on the training split alone, for its validation predictions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ensemble: bool,
    /// Rounds of the ensemble's greedy selection: the most members it can
    /// hold, counted with repetition.
    #[serde(default = "default_ensemble_rounds")]
    pub ensemble_rounds: usize,
}

/// The largest random shift `augment.shift` allows, in pixels.
pub const MAX_SHIFT: usize = 16;

fn default_batch() -> usize {
    64
}
fn default_lr() -> f64 {
    2e-3
}
fn one() -> f64 {
    1.0
}
fn default_top_k() -> usize {
    3
}
fn default_ensemble_rounds() -> usize {
    20
}

impl FinalTraining {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.epochs == 0 || self.epochs > 10_000 {
            return Err(("epochs", "must be between 1 and 10000".into()));
        }
        if self.learning_rate.is_some_and(|l| !(l > 0.0 && l < 10.0)) {
            return Err(("learning_rate", "must be in (0, 10)".into()));
        }
        if self.augment.is_some_and(|a| a.shift > MAX_SHIFT) {
            return Err((
                "augment.shift",
                format!("must be at most {MAX_SHIFT} pixels"),
            ));
        }
        if self.top_k > 100 {
            return Err((
                "top_k",
                "must be between 0 (no final training) and 100".into(),
            ));
        }
        if self.ensemble_rounds == 0 || self.ensemble_rounds > 1000 {
            return Err(("ensemble_rounds", "must be between 1 and 1000".into()));
        }
        // top_k = 0 leaves the final training (and the ensemble) to
        // `evonet retrain`.
        if self.ensemble && self.top_k == 1 {
            return Err((
                "ensemble",
                "needs at least 2 retrained architectures (top_k >= 2)".into(),
            ));
        }
        Ok(())
    }
}

impl Fidelity {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.epochs == 0 || self.epochs > 10_000 {
            return Err(("epochs", "must be between 1 and 10000".into()));
        }
        if self.batch_size == 0 || self.batch_size > 65_536 {
            return Err(("batch_size", "must be between 1 and 65536".into()));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate < 10.0) {
            return Err(("learning_rate", "must be in (0, 10)".into()));
        }
        if !(self.data_fraction > 0.0 && self.data_fraction <= 1.0) {
            return Err(("data_fraction", "must be in (0, 1]".into()));
        }
        if !(self.channel_scale > 0.0 && self.channel_scale <= 4.0) {
            return Err(("channel_scale", "must be in (0, 4]".into()));
        }
        if let Some(Err(m)) = self.time_limit_s.map(evonet_core::limits::check_seconds) {
            return Err(("time_limit_s", m));
        }
        if self.augment.shift > MAX_SHIFT {
            return Err((
                "augment.shift",
                format!("must be at most {MAX_SHIFT} pixels"),
            ));
        }
        let max_mb = evonet_core::limits::MAX_MEMORY_MB;
        if self.memory_limit_mb.is_some_and(|m| m == 0 || m > max_mb) {
            return Err((
                "memory_limit_mb",
                format!("must be between 1 and {max_mb} (16 TiB)"),
            ));
        }
        Ok(())
    }

    fn train_config(&self, epochs: usize) -> TrainConfig {
        TrainConfig {
            epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            schedule: self.lr_schedule,
            augment: self.augment,
            time_limit: self.time_limit_s.map(Duration::from_secs_f64),
            memory_limit: self.memory_limit_mb.map(|m| m << 20),
        }
    }
}

/// Architecture search as a [`Problem`]: fitness is validation accuracy.
pub struct NasProblem {
    splits: Splits,
    /// The training images of the search (the `data_fraction` part).
    search_train: Dataset,
    /// Train + validation for the final trainings, joined once when the
    /// first one starts (the K retrainings run in parallel and share it).
    final_train: std::sync::OnceLock<Dataset>,
    fidelity: Fidelity,
    final_training: FinalTraining,
    /// Timed passes of [`inference_latency`] per candidate; 0 measures
    /// none.
    latency_passes: usize,
}

/// The costs an evaluation reports that a multi-objective search can
/// minimise beside the validation error (`latency_ms` only where the
/// problem measures it, [`NasProblem::with_latency`]).
pub const COST_FIGURES: [&str; 3] = ["params", "flops", "latency_ms"];

/// Timed passes per candidate when latency is measured.
pub const LATENCY_PASSES: usize = 15;

/// A network trained at full fidelity and its one test score.
pub struct Retrained {
    pub net: Net,
    pub test_accuracy: f64,
    pub train_s: f64,
    pub losses: Vec<f64>,
}

impl NasProblem {
    /// `seed` fixes which training images a fractional fidelity uses.
    pub fn new(
        splits: Splits,
        fidelity: Fidelity,
        final_training: FinalTraining,
        seed: u64,
    ) -> Self {
        let search_train = if fidelity.data_fraction < 1.0 {
            Split {
                validation: 1.0 - fidelity.data_fraction,
                test: 0.0,
            }
            .apply(&splits.train, seed)
            .train
        } else {
            splits.train.clone()
        };
        Self {
            splits,
            search_train,
            final_train: std::sync::OnceLock::new(),
            fidelity,
            final_training,
            latency_passes: 0,
        }
    }

    /// Each evaluation also reports `latency_ms`: the median time of one
    /// image through the candidate at full width, in inference mode, on
    /// the evaluating machine ([`inference_latency`]). A wall-clock
    /// figure, so a search that minimises it is not bit-reproducible.
    pub fn with_latency(mut self) -> Self {
        self.latency_passes = LATENCY_PASSES;
        self
    }

    pub fn splits(&self) -> &Splits {
        &self.splits
    }

    pub fn input(&self) -> [usize; 3] {
        self.splits.train.shape
    }

    pub fn classes(&self) -> usize {
        self.splits.train.classes
    }

    pub fn final_training(&self) -> &FinalTraining {
        &self.final_training
    }

    /// One line per fact a distributed worker must share with the
    /// coordinator (data sizes and class counts, fidelity).
    pub fn fingerprint_lines(&self) -> Vec<String> {
        let s = &self.splits;
        vec![
            format!(
                "data train {} validation {} test {} shape {:?} classes {}",
                s.train.len(),
                s.validation.len(),
                s.test.len(),
                s.train.shape,
                s.train.classes
            ),
            format!("data checksum {:016x}", checksum(s)),
            format!("search images {}", self.search_train.len()),
            format!("fidelity {:?}", self.fidelity),
            format!("final {:?}", self.final_training),
            format!("latency passes {}", self.latency_passes),
        ]
    }

    /// How the final trainings train: the search's batch size, the final
    /// epochs, learning rate, schedule and augmentation (each the search's
    /// unless set), no time limit.
    pub fn final_config(&self) -> TrainConfig {
        let mut cfg = self.fidelity.train_config(self.final_training.epochs);
        cfg.time_limit = None;
        if let Some(lr) = self.final_training.learning_rate {
            cfg.learning_rate = lr;
        }
        if let Some(schedule) = self.final_training.lr_schedule {
            cfg.schedule = schedule;
        }
        if let Some(augment) = self.final_training.augment {
            cfg.augment = augment;
        }
        cfg
    }

    /// Trains `arch` as [`NasProblem::retrain`] does but on the training
    /// split alone, and gives its class probabilities on the validation
    /// split (row-major `[images, classes]`): what an ensemble is chosen
    /// on, from a model that never saw those images.
    pub fn holdout_probabilities(&self, arch: &Arch, seed: u64) -> Result<Vec<f32>, EvalError> {
        let t = train(arch, &self.splits.train, &self.final_config(), seed)
            .map_err(|e| EvalError::Other(e.to_string()))?;
        let mut p = logits(&t.net, &self.splits.validation);
        crate::ensemble::softmax_rows(&mut p, self.classes());
        Ok(p)
    }

    /// Trains `arch` at full fidelity (all widths, the final epochs) on
    /// train + validation and scores it once on the test split.
    pub fn retrain(&self, arch: &Arch, seed: u64) -> Result<Retrained, EvalError> {
        let started = Instant::now();
        let both = self
            .final_train
            .get_or_init(|| self.splits.train.concat(&self.splits.validation));
        let t = train(arch, both, &self.final_config(), seed)
            .map_err(|e| EvalError::Other(e.to_string()))?;
        Ok(Retrained {
            test_accuracy: accuracy(&t.net, &self.splits.test),
            train_s: started.elapsed().as_secs_f64(),
            losses: t.losses,
            net: t.net,
        })
    }
}

/// FNV-1a over the labels and pixel bits of every split.
fn checksum(s: &Splits) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |b: u8| {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    };
    for d in [&s.train, &s.validation, &s.test] {
        d.labels.iter().for_each(|&l| eat(l));
        d.images
            .iter()
            .flat_map(|v| v.to_bits().to_le_bytes())
            .for_each(&mut eat);
    }
    h
}

impl Problem<Arch> for NasProblem {
    fn evaluate(&self, arch: &Arch, request: &EvalRequest) -> Result<Evaluation, EvalError> {
        let started = Instant::now();
        let cost = arch
            .cost(self.input(), self.classes())
            .map_err(|e| EvalError::BadGenome(e.to_string()))?;
        let scaled = arch.scaled(self.fidelity.channel_scale);
        // A request's episodes are epochs (successive halving's rungs).
        let epochs = match request.episodes {
            0 => self.fidelity.epochs,
            e => e as usize,
        };
        let cfg = self.fidelity.train_config(epochs);
        let t = train(&scaled, &self.search_train, &cfg, request.seed)
            .map_err(|e| EvalError::Other(e.to_string()))?;
        let val = accuracy(&t.net, &self.splits.validation);
        let images = (self.search_train.len() * epochs) as u64;
        let mut details = vec![
            ("val_accuracy".into(), val),
            ("params".into(), cost.params as f64),
            ("flops".into(), cost.flops as f64),
            (
                "final_loss".into(),
                t.losses.last().copied().unwrap_or(f64::NAN),
            ),
            ("train_s".into(), started.elapsed().as_secs_f64()),
        ];
        if request.episodes > 0 {
            details.push(("epochs".into(), epochs as f64));
        }
        if self.latency_passes > 0 {
            let latency =
                inference_latency(arch, self.input(), self.classes(), self.latency_passes)
                    .map_err(|e| EvalError::BadGenome(e.to_string()))?;
            details.push(("latency_ms".into(), latency.as_secs_f64() * 1e3));
        }
        Ok(Evaluation {
            fitness: val,
            cost: Cost {
                env_steps: images,
                episodes: epochs as u64,
            },
            obs_stats: None,
            solved: false,
            details,
            artifact: Vec::new(),
            behavior: None,
        })
    }

    /// The search does not test its champion as it goes: the test split
    /// is scored once, after the search, by [`NasProblem::retrain`].
    fn test(&self, _arch: &Arch, _seed: u64) -> Result<TestReport, EvalError> {
        Err(EvalError::Other(
            "architecture search scores the test split once, after the search".into(),
        ))
    }

    fn describe_genome(&self, arch: &Arch) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "summary": arch.to_string(),
            "layers": arch.size(),
            "arch": arch,
        }))
    }
}
