//! The novelty archive and sparseness of Lehman & Stanley, "Abandoning
//! objectives: evolution through the search for novelty alone"
//! (Evolutionary Computation 19(2), 2011), with the rules of their
//! reference code (`novelty-search-cpp`, `noveltyset.h`):
//!
//! - the novelty (sparseness) of a behaviour is its mean distance to its k
//!   nearest neighbours among the archive and the current population (the
//!   archive alone with Conti et al.'s champion rule);
//! - a behaviour enters the archive when its nearest archive member is
//!   farther than the threshold (the first one seeds it);
//! - once per generation, the threshold is multiplied by 0.95 after 10
//!   generations without additions, and by 1.2 when more than 4 entered,
//!   never below 0.25.
//!
//! The search is exact and brute force: a query costs one distance per
//! archive and population member (2 floats for the maze), so a population
//! of 250 against an archive of 50,000 takes about 12.5 million distances
//! per generation (`cargo bench -p evonet-strategies --bench novelty`).

use serde::{Deserialize, Serialize};

use evonet_core::StrategyError;

/// How two behaviours are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BehaviorDistance {
    /// Euclidean distance (the default).
    Euclidean,
    /// Mean absolute difference of the components: what the reference
    /// code's `hist_diff` computes ((|Δx| + |Δy|) / 2 for the maze).
    MeanAbsolute,
}

impl BehaviorDistance {
    #[inline]
    pub fn between(self, a: &[f32], b: &[f32]) -> f64 {
        self.distance_of_key(self.key(a, b))
    }

    /// A value that orders pairs as their distance does, cheaper to
    /// compute (the squared Euclidean distance): neighbours are selected on
    /// it and only the k nearest are converted.
    #[inline]
    fn key(self, a: &[f32], b: &[f32]) -> f64 {
        match self {
            BehaviorDistance::Euclidean => a
                .iter()
                .zip(b)
                .map(|(x, y)| {
                    let d = f64::from(*x) - f64::from(*y);
                    d * d
                })
                .sum::<f64>(),
            BehaviorDistance::MeanAbsolute => {
                let s: f64 = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
                    .sum();
                s / a.len().max(1) as f64
            }
        }
    }

    #[inline]
    fn distance_of_key(self, key: f64) -> f64 {
        match self {
            BehaviorDistance::Euclidean => key.sqrt(),
            BehaviorDistance::MeanAbsolute => key,
        }
    }
}

/// Which behaviours enter the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveRule {
    /// Lehman & Stanley's adaptive threshold on the distance to the
    /// nearest archive member.
    Threshold,
    /// Conti et al.'s rule (NS-ES): the behaviour of the strategy's current
    /// champion (an ES centre, the GA's elite) enters after every
    /// generation, without a threshold; novelty is then measured against
    /// the archive alone, as their code does.
    Champion,
}

/// How novelty and the objective make the score the strategy selects on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoveltyMix {
    /// Novelty alone.
    Novelty,
    /// (1 − w)·novelty + w·fitness, raw values.
    Weighted,
    /// (1 − w)·rank(novelty) + w·rank(fitness), centred ranks (NSR-ES with
    /// w = 0.5).
    Rank,
    /// As `rank`, with w adapted during the run (NSRA-ES, Conti et al.
    /// 2018): it starts at `objective_weight`, drops by `adapt_step` after
    /// `adapt_patience` generations without a better fitness, and rises by
    /// `adapt_step` whenever the fitness improves.
    Adaptive,
}

/// `[novelty]`: novelty search around any strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoveltyConfig {
    /// Nearest neighbours averaged (Lehman & Stanley: 15; Conti et al.: 10).
    #[serde(default = "default_k")]
    pub k: usize,
    #[serde(default = "default_rule")]
    pub archive: ArchiveRule,
    /// Threshold rule: the initial threshold (maze: 6.0).
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Threshold rule: the floor the threshold never goes below.
    #[serde(default = "default_floor")]
    pub threshold_floor: f64,
    /// Threshold rule: generations without additions before it is lowered.
    #[serde(default = "default_stall")]
    pub stall_generations: u32,
    /// Threshold rule: it is raised when more than this many enter in one
    /// generation.
    #[serde(default = "default_crowd")]
    pub crowd: usize,
    /// Keep at most this many behaviours, dropping the oldest (the paper's
    /// variant with a queue of 250); 0 keeps all.
    #[serde(default)]
    pub archive_limit: usize,
    #[serde(default = "default_distance")]
    pub distance: BehaviorDistance,
    #[serde(default = "default_mix")]
    pub mix: NoveltyMix,
    /// The objective's weight w in [0, 1] for `weighted` and `rank`; the
    /// starting weight for `adaptive` (Conti et al.: 1.0).
    #[serde(default)]
    pub objective_weight: f64,
    /// `adaptive`: generations without a better fitness before w drops.
    #[serde(default = "default_patience")]
    pub adapt_patience: u32,
    /// `adaptive`: how much w changes at a time.
    #[serde(default = "default_adapt_step")]
    pub adapt_step: f64,
    /// Conti et al.'s meta-population: M copies of the wrapped strategy,
    /// one chosen per generation with probability proportional to its
    /// novelty (they used 3 on Atari, 5 on Humanoid). Needs
    /// `archive = "champion"`; 1 runs the strategy alone.
    #[serde(default = "default_centres")]
    pub centres: usize,
}

fn default_centres() -> usize {
    1
}

fn default_patience() -> u32 {
    50
}
fn default_adapt_step() -> f64 {
    0.05
}

fn default_k() -> usize {
    15
}
fn default_rule() -> ArchiveRule {
    ArchiveRule::Threshold
}
fn default_threshold() -> f64 {
    6.0
}
fn default_floor() -> f64 {
    0.25
}
fn default_stall() -> u32 {
    10
}
fn default_crowd() -> usize {
    4
}
fn default_distance() -> BehaviorDistance {
    BehaviorDistance::Euclidean
}
fn default_mix() -> NoveltyMix {
    NoveltyMix::Novelty
}

/// Threshold changes of the reference code.
const LOWER: f64 = 0.95;
const RAISE: f64 = 1.2;
/// Behaviours with more components than this are refused (Conti et al.'s
/// Atari RAM over a 5,000-step episode is 640,000).
pub const MAX_BEHAVIOR_DIM: usize = 1 << 20;
/// The archive never holds more floats than this (4 GiB of f32).
pub const MAX_ARCHIVE_FLOATS: usize = 1 << 30;

impl Default for NoveltyConfig {
    fn default() -> Self {
        Self {
            k: default_k(),
            archive: default_rule(),
            threshold: default_threshold(),
            threshold_floor: default_floor(),
            stall_generations: default_stall(),
            crowd: default_crowd(),
            archive_limit: 0,
            distance: default_distance(),
            mix: default_mix(),
            objective_weight: 0.0,
            adapt_patience: default_patience(),
            adapt_step: default_adapt_step(),
            centres: default_centres(),
        }
    }
}

impl NoveltyConfig {
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |key: &'static str, message: &str| {
            Err(StrategyError::Config {
                key,
                message: message.into(),
            })
        };
        if self.k == 0 || self.k > 10_000 {
            return bad("k", "must be between 1 and 10,000");
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return bad("threshold", "must be a positive number");
        }
        if !(self.threshold_floor.is_finite() && self.threshold_floor > 0.0) {
            return bad("threshold_floor", "must be a positive number");
        }
        if self.threshold_floor > self.threshold {
            return bad("threshold_floor", "must not exceed `threshold`");
        }
        if self.stall_generations == 0 {
            return bad("stall_generations", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.objective_weight) {
            return bad("objective_weight", "must lie in [0, 1]");
        }
        if self.adapt_patience == 0 {
            return bad("adapt_patience", "must be at least 1");
        }
        if !(self.adapt_step > 0.0 && self.adapt_step <= 1.0) {
            return bad("adapt_step", "must lie in (0, 1]");
        }
        if self.centres == 0 || self.centres > crate::novelty_centres::MAX_CENTRES {
            return bad("centres", "must be between 1 and 32,768");
        }
        if self.centres > 1 && self.archive != ArchiveRule::Champion {
            return bad(
                "centres",
                "a meta-population needs `archive = \"champion\"` (each centre's behaviour enters the archive after its step, as in NS-ES)",
            );
        }
        if self.mix == NoveltyMix::Novelty && self.objective_weight != 0.0 {
            return bad(
                "objective_weight",
                "needs `mix = \"weighted\"` or `\"rank\"` (pure novelty ignores the objective)",
            );
        }
        Ok(())
    }
}

/// The archive: behaviours of a fixed length, oldest first, and the
/// current threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archive {
    /// Components per behaviour (0 until the first enters).
    pub dim: usize,
    /// The behaviours, one after the other.
    pub points: Vec<f32>,
    pub threshold: f64,
    /// Generations in a row without an addition.
    pub stall: u32,
}

impl Archive {
    pub fn new(threshold: f64) -> Self {
        Self {
            dim: 0,
            points: Vec::new(),
            threshold,
            stall: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.points.len().checked_div(self.dim).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &[f32]> {
        self.points.chunks_exact(self.dim.max(1))
    }

    /// Adds `b`, dropping the oldest beyond `limit` (0: no limit). A
    /// behaviour of another length than the archive's is refused.
    pub fn push(&mut self, b: &[f32], limit: usize) -> Result<(), StrategyError> {
        if self.dim == 0 {
            self.dim = b.len();
        }
        if b.len() != self.dim || b.is_empty() {
            return Err(StrategyError::State(format!(
                "a behaviour of {} values, the archive holds {}",
                b.len(),
                self.dim
            )));
        }
        if self.points.len() + b.len() > MAX_ARCHIVE_FLOATS {
            return Err(StrategyError::State(format!(
                "the novelty archive would exceed {MAX_ARCHIVE_FLOATS} values; set novelty.archive_limit"
            )));
        }
        self.points.extend_from_slice(b);
        if limit > 0 && self.len() > limit {
            self.points.drain(..self.dim);
        }
        Ok(())
    }

    /// Distance from `b` to its nearest member (infinite when empty).
    pub fn nearest(&self, b: &[f32], distance: BehaviorDistance) -> f64 {
        self.iter()
            .map(|p| distance.between(p, b))
            .fold(f64::INFINITY, f64::min)
    }

    /// The threshold rule: adds each behaviour (in order) whose nearest
    /// archive member is farther than the threshold; returns how many
    /// entered.
    pub fn admit(
        &mut self,
        behaviors: &[&[f32]],
        cfg: &NoveltyConfig,
    ) -> Result<usize, StrategyError> {
        let mut added = 0;
        for b in behaviors {
            if self.is_empty() || self.nearest(b, cfg.distance) > self.threshold {
                self.push(b, cfg.archive_limit)?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// The threshold's adaptation at the end of a generation in which
    /// `added` behaviours entered.
    pub fn end_generation(&mut self, added: usize, cfg: &NoveltyConfig) {
        if added == 0 {
            self.stall += 1;
            if self.stall >= cfg.stall_generations {
                self.threshold = (self.threshold * LOWER).max(cfg.threshold_floor);
                self.stall = 0;
            }
        } else {
            self.stall = 0;
        }
        if added > cfg.crowd {
            self.threshold *= RAISE;
        }
    }
}

/// The novelty of each of `population` against the archive and, with
/// `among_population`, the rest of the population (Lehman & Stanley; Conti
/// et al.'s NS-ES compares with the archive alone): the mean distance to its
/// `k` nearest neighbours (fewer when fewer exist; 0 when none). Exact,
/// brute force, deterministic.
pub fn sparseness(
    population: &[&[f32]],
    archive: &Archive,
    among_population: bool,
    k: usize,
    distance: BehaviorDistance,
) -> Vec<f64> {
    let mut scratch = Vec::with_capacity(archive.len() + population.len());
    population
        .iter()
        .enumerate()
        .map(|(i, b)| {
            scratch.clear();
            scratch.extend(archive.iter().map(|p| distance.key(p, b)));
            scratch.extend(
                population
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| among_population && *j != i)
                    .map(|(_, p)| distance.key(p, b)),
            );
            mean_of_smallest(&mut scratch, k, |key| distance.distance_of_key(key))
        })
        .collect()
}

/// Mean of `to_distance` of the `k` smallest keys (all of them when fewer).
fn mean_of_smallest(keys: &mut [f64], k: usize, to_distance: impl Fn(f64) -> f64) -> f64 {
    if keys.is_empty() {
        return 0.0;
    }
    let k = k.min(keys.len());
    if k < keys.len() {
        keys.select_nth_unstable_by(k - 1, f64::total_cmp);
    }
    let nearest = &mut keys[..k];
    // Summed in ascending order, so the partition's order never matters.
    nearest.sort_by(f64::total_cmp);
    nearest.iter().map(|key| to_distance(*key)).sum::<f64>() / k as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let e = BehaviorDistance::Euclidean;
        let m = BehaviorDistance::MeanAbsolute;
        assert_eq!(e.between(&[0.0, 0.0], &[3.0, 4.0]), 5.0);
        assert_eq!(m.between(&[0.0, 0.0], &[3.0, 4.0]), 3.5);
    }

    #[test]
    fn sparseness_is_the_mean_distance_to_the_k_nearest() {
        let pop: Vec<&[f32]> = vec![&[0.0], &[1.0], &[3.0], &[10.0]];
        let mut archive = Archive::new(6.0);
        archive.push(&[-2.0], 0).unwrap();
        let s = sparseness(&pop, &archive, true, 2, BehaviorDistance::Euclidean);
        // 0: neighbours 1 (1), -2 (2) -> 1.5; 10: neighbours 3 (7), 1 (9) -> 8.
        assert_eq!(s[0], 1.5);
        assert_eq!(s[3], 8.0);
        // k larger than what exists: every other point.
        let s = sparseness(
            &pop[..2],
            &Archive::new(1.0),
            true,
            15,
            BehaviorDistance::Euclidean,
        );
        assert_eq!(s, vec![1.0, 1.0]);
        // Against the archive alone: the distance to -2.
        let s = sparseness(&pop, &archive, false, 2, BehaviorDistance::Euclidean);
        assert_eq!(s, vec![2.0, 3.0, 5.0, 12.0]);
    }

    #[test]
    fn threshold_rule_admits_far_behaviours_and_adapts() {
        let cfg = NoveltyConfig {
            stall_generations: 2,
            ..NoveltyConfig::default()
        };
        let mut a = Archive::new(6.0);
        let generation = |a: &mut Archive, bs: &[&[f32]]| {
            let added = a.admit(bs, &cfg).unwrap();
            a.end_generation(added, &cfg);
            added
        };
        // The first seeds the archive; 5 is within 6 of it; 20 is not.
        assert_eq!(
            generation(&mut a, &[&[0.0, 0.0], &[3.0, 4.0], &[20.0, 0.0]]),
            2
        );
        assert_eq!(a.len(), 2);
        assert_eq!(a.threshold, 6.0);
        // Two generations without additions lower it once.
        generation(&mut a, &[&[1.0, 0.0]]);
        generation(&mut a, &[&[1.0, 0.0]]);
        assert_eq!(a.threshold, 6.0 * LOWER);
        // More than 4 in one generation raise it.
        let far: Vec<Vec<f32>> = (1..=5).map(|i| vec![100.0 * i as f32, 0.0]).collect();
        let refs: Vec<&[f32]> = far.iter().map(|v| v.as_slice()).collect();
        assert_eq!(generation(&mut a, &refs), 5);
        assert!((a.threshold - 6.0 * LOWER * RAISE).abs() < 1e-12);
    }

    #[test]
    fn threshold_never_goes_below_its_floor() {
        let cfg = NoveltyConfig {
            stall_generations: 1,
            threshold: 0.3,
            ..NoveltyConfig::default()
        };
        let mut a = Archive::new(cfg.threshold);
        a.admit(&[&[0.0]], &cfg).unwrap();
        for _ in 0..10 {
            let added = a.admit(&[&[0.0]], &cfg).unwrap();
            a.end_generation(added, &cfg);
        }
        assert_eq!(a.threshold, cfg.threshold_floor);
    }

    #[test]
    fn a_limited_archive_drops_its_oldest() {
        let mut a = Archive::new(1.0);
        for i in 0..5 {
            a.push(&[i as f32], 3).unwrap();
        }
        assert_eq!(a.points, vec![2.0, 3.0, 4.0]);
        assert!(a.push(&[1.0, 2.0], 3).is_err());
    }

    #[test]
    fn settings_are_checked() {
        assert!(NoveltyConfig::default().validate().is_ok());
        for bad in [
            NoveltyConfig {
                k: 0,
                ..NoveltyConfig::default()
            },
            NoveltyConfig {
                threshold: f64::NAN,
                ..NoveltyConfig::default()
            },
            NoveltyConfig {
                objective_weight: 0.5,
                ..NoveltyConfig::default()
            },
            NoveltyConfig {
                mix: NoveltyMix::Rank,
                objective_weight: 1.5,
                ..NoveltyConfig::default()
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
