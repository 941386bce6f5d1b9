//! The chain search space (Elsken et al. 2019, section 3: "chain-structured
//! neural networks"): a sequence of at most `max_layers` blocks, each a
//! predefined kind whose hyperparameters (filters, kernel, stride, units,
//! rate, activation) are drawn from configured choices. Mutations add,
//! remove or alter one layer, as in the layer-level mutations of Real et
//! al. 2017 ("Large-Scale Evolution of Image Classifiers"); crossover joins
//! a prefix of one parent to a suffix of the other (one-point crossover
//! over layer lists, in the spirit of Miller et al. 1989). Every genome the
//! space returns is a valid network for its input shape: invalid drafts
//! are redrawn, and a mutation that finds no valid change returns the
//! parent unchanged ("identity", one of Real et al. 2019's mutations).

use serde::{Deserialize, Serialize};

use evonet_core::{SeededRng, Variation};
use evonet_train::{Activation, Block, ChainArch};

/// The kinds of block the space may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Conv,
    SepConv,
    MaxPool,
    AvgPool,
    BatchNorm,
    Act,
    Dropout,
    Dense,
}

impl Op {
    pub const ALL: [Op; 8] = [
        Op::Conv,
        Op::SepConv,
        Op::MaxPool,
        Op::AvgPool,
        Op::BatchNorm,
        Op::Act,
        Op::Dropout,
        Op::Dense,
    ];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainSpaceConfig {
    /// The most blocks a network may have (the head not counted).
    #[serde(default = "default_max_layers")]
    pub max_layers: usize,
    /// Blocks of a fresh random network: uniform in this range.
    #[serde(default = "default_initial_layers")]
    pub initial_layers: [usize; 2],
    #[serde(default = "default_ops")]
    pub ops: Vec<Op>,
    #[serde(default = "default_filters")]
    pub filters: Vec<usize>,
    #[serde(default = "default_kernels")]
    pub kernels: Vec<usize>,
    #[serde(default = "default_strides")]
    pub strides: Vec<usize>,
    #[serde(default = "default_pool_kernels")]
    pub pool_kernels: Vec<usize>,
    #[serde(default = "default_units")]
    pub units: Vec<usize>,
    #[serde(default = "default_rates")]
    pub dropout_rates: Vec<f64>,
    #[serde(default = "default_activations")]
    pub activations: Vec<Activation>,
    /// Networks with more trainable parameters are not proposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_params: Option<usize>,
}

fn default_max_layers() -> usize {
    10
}
fn default_initial_layers() -> [usize; 2] {
    [1, 4]
}
fn default_ops() -> Vec<Op> {
    Op::ALL.to_vec()
}
fn default_filters() -> Vec<usize> {
    vec![8, 16, 32, 64]
}
fn default_kernels() -> Vec<usize> {
    vec![1, 3, 5]
}
fn default_strides() -> Vec<usize> {
    vec![1, 2]
}
fn default_pool_kernels() -> Vec<usize> {
    vec![2, 3]
}
fn default_units() -> Vec<usize> {
    vec![32, 64, 128, 256]
}
fn default_rates() -> Vec<f64> {
    vec![0.1, 0.25, 0.5]
}
fn default_activations() -> Vec<Activation> {
    Activation::ALL.to_vec()
}

impl Default for ChainSpaceConfig {
    fn default() -> Self {
        Self {
            max_layers: default_max_layers(),
            initial_layers: default_initial_layers(),
            ops: default_ops(),
            filters: default_filters(),
            kernels: default_kernels(),
            strides: default_strides(),
            pool_kernels: default_pool_kernels(),
            units: default_units(),
            dropout_rates: default_rates(),
            activations: default_activations(),
            max_params: None,
        }
    }
}

impl ChainSpaceConfig {
    /// Checks the choices; the error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let empty = |key, v: bool| {
            if v {
                Err((key, "must not be empty".to_string()))
            } else {
                Ok(())
            }
        };
        if self.max_layers == 0 || self.max_layers > 100 {
            return Err(("max_layers", "must be between 1 and 100".into()));
        }
        let [lo, hi] = self.initial_layers;
        if lo > hi || hi > self.max_layers {
            return Err((
                "initial_layers",
                "must be [low, high] with low <= high <= max_layers".into(),
            ));
        }
        empty("ops", self.ops.is_empty())?;
        empty("filters", self.filters.is_empty())?;
        empty("kernels", self.kernels.is_empty())?;
        empty("strides", self.strides.is_empty())?;
        empty("pool_kernels", self.pool_kernels.is_empty())?;
        empty("units", self.units.is_empty())?;
        empty("dropout_rates", self.dropout_rates.is_empty())?;
        empty("activations", self.activations.is_empty())?;
        if self
            .filters
            .iter()
            .chain(&self.units)
            .any(|&n| n == 0 || n > 65_536)
        {
            return Err(("filters", "widths must be between 1 and 65536".into()));
        }
        if self.kernels.iter().any(|&k| k % 2 == 0 || k > 15) {
            return Err(("kernels", "kernels must be odd and at most 15".into()));
        }
        if self.strides.iter().any(|&s| s == 0 || s > 4) {
            return Err(("strides", "must be between 1 and 4".into()));
        }
        if self.pool_kernels.iter().any(|&k| !(2..=8).contains(&k)) {
            return Err(("pool_kernels", "must be between 2 and 8".into()));
        }
        if self
            .dropout_rates
            .iter()
            .any(|r| !(0.0..1.0).contains(r) || *r <= 0.0)
        {
            return Err(("dropout_rates", "rates must be in (0, 1)".into()));
        }
        Ok(())
    }
}

/// The space, bound to the input shape and classes its networks get.
#[derive(Debug, Clone)]
pub struct ChainSpace {
    pub cfg: ChainSpaceConfig,
    pub input: [usize; 3],
    pub classes: usize,
}

/// A uniform choice from `v` (not empty).
pub(crate) fn pick<T: Copy>(v: &[T], rng: &mut SeededRng) -> T {
    v[rng.below(v.len() as u64) as usize]
}

fn is_spatial(b: &Block) -> bool {
    matches!(
        b,
        Block::Conv { .. } | Block::SepConv { .. } | Block::MaxPool { .. } | Block::AvgPool { .. }
    )
}

impl ChainSpace {
    pub fn new(cfg: ChainSpaceConfig, input: [usize; 3], classes: usize) -> Self {
        Self {
            cfg,
            input,
            classes,
        }
    }

    /// A random block of kind `op`.
    pub fn block(&self, op: Op, rng: &mut SeededRng) -> Block {
        let c = &self.cfg;
        match op {
            Op::Conv => Block::Conv {
                filters: pick(&c.filters, rng),
                kernel: pick(&c.kernels, rng),
                stride: pick(&c.strides, rng),
            },
            Op::SepConv => Block::SepConv {
                filters: pick(&c.filters, rng),
                kernel: pick(&c.kernels, rng),
                stride: pick(&c.strides, rng),
            },
            Op::MaxPool => Block::MaxPool {
                kernel: pick(&c.pool_kernels, rng),
                stride: pick(&c.strides, rng),
            },
            Op::AvgPool => Block::AvgPool {
                kernel: pick(&c.pool_kernels, rng),
                stride: pick(&c.strides, rng),
            },
            Op::BatchNorm => Block::BatchNorm,
            Op::Act => Block::Act {
                function: pick(&c.activations, rng),
            },
            Op::Dropout => Block::Dropout {
                rate: pick(&c.dropout_rates, rng),
            },
            Op::Dense => Block::Dense {
                units: pick(&c.units, rng),
            },
        }
    }

    /// Whether `arch` is a network of this space.
    pub fn admits(&self, arch: &ChainArch) -> bool {
        arch.blocks.len() <= self.cfg.max_layers
            && match arch.cost(self.input, self.classes) {
                Ok(c) => self.cfg.max_params.is_none_or(|m| c.params <= m),
                Err(_) => false,
            }
    }

    /// A random draft: blocks of random kinds, then grouped so that every
    /// convolution and pooling block (with the normalisation, activation
    /// and dropout blocks that follow it) comes before the dense ones.
    fn draft(&self, rng: &mut SeededRng) -> ChainArch {
        let [lo, hi] = self.cfg.initial_layers;
        let n = lo + rng.below((hi - lo + 1) as u64) as usize;
        let blocks: Vec<Block> = (0..n)
            .map(|_| {
                let op = pick(&self.cfg.ops, rng);
                self.block(op, rng)
            })
            .collect();
        let mut groups: Vec<Vec<Block>> = Vec::new();
        for b in blocks {
            let starts = is_spatial(&b) || matches!(b, Block::Dense { .. });
            match groups.last_mut() {
                Some(g) if !starts => g.push(b),
                _ => groups.push(vec![b]),
            }
        }
        groups.sort_by_key(|g| matches!(g[0], Block::Dense { .. }));
        ChainArch {
            blocks: groups.concat(),
        }
    }
}

/// Attempts at a valid draw before giving up.
const TRIES: usize = 50;

impl Variation<ChainArch> for ChainSpace {
    fn random(&self, rng: &mut SeededRng) -> ChainArch {
        for _ in 0..TRIES {
            let a = self.draft(rng);
            if self.admits(&a) {
                return a;
            }
        }
        // The head alone is always valid.
        ChainArch { blocks: Vec::new() }
    }

    fn mutate(&self, parent: &ChainArch, rng: &mut SeededRng) -> (ChainArch, String) {
        for _ in 0..TRIES {
            let (child, words) = self.mutate_once(parent, rng);
            if child != *parent && self.admits(&child) {
                return (child, words);
            }
        }
        (parent.clone(), "identity".into())
    }

    fn crossover(
        &self,
        a: &ChainArch,
        b: &ChainArch,
        rng: &mut SeededRng,
    ) -> Option<(ChainArch, String)> {
        for _ in 0..TRIES {
            let i = rng.below(a.blocks.len() as u64 + 1) as usize;
            let j = rng.below(b.blocks.len() as u64 + 1) as usize;
            let child = ChainArch {
                blocks: a.blocks[..i]
                    .iter()
                    .chain(&b.blocks[j..])
                    .cloned()
                    .collect(),
            };
            if self.admits(&child) {
                return Some((child, format!("crossover {i}|{j}")));
            }
        }
        None
    }
}

impl ChainSpace {
    /// One mutation drawn uniformly from those that apply: add a layer,
    /// remove one, or alter one hyperparameter (or the kind of a pooling
    /// block) of one layer.
    fn mutate_once(&self, parent: &ChainArch, rng: &mut SeededRng) -> (ChainArch, String) {
        let mut blocks = parent.blocks.clone();
        let n = blocks.len();
        let mut kinds = Vec::new();
        if n < self.cfg.max_layers {
            kinds.push(0);
        }
        if n > 0 {
            kinds.push(1);
            kinds.push(2);
        }
        match pick(&kinds, rng) {
            0 => {
                let at = rng.below(n as u64 + 1) as usize;
                let b = self.block(pick(&self.cfg.ops, rng), rng);
                let words = format!("add {at} {b}");
                blocks.insert(at, b);
                (ChainArch { blocks }, words)
            }
            1 => {
                let at = rng.below(n as u64) as usize;
                let b = blocks.remove(at);
                (ChainArch { blocks }, format!("remove {at} {b}"))
            }
            _ => {
                let at = rng.below(n as u64) as usize;
                let old = blocks[at].clone();
                blocks[at] = self.alter(&old, rng);
                let words = format!("alter {at} {old} -> {}", blocks[at]);
                (ChainArch { blocks }, words)
            }
        }
    }

    /// `b` with one hyperparameter redrawn.
    fn alter(&self, b: &Block, rng: &mut SeededRng) -> Block {
        let c = &self.cfg;
        let mut b = b.clone();
        match &mut b {
            Block::Conv {
                filters,
                kernel,
                stride,
            }
            | Block::SepConv {
                filters,
                kernel,
                stride,
            } => match rng.below(3) {
                0 => *filters = pick(&c.filters, rng),
                1 => *kernel = pick(&c.kernels, rng),
                _ => *stride = pick(&c.strides, rng),
            },
            Block::MaxPool { kernel, stride } | Block::AvgPool { kernel, stride } => {
                match rng.below(3) {
                    0 => *kernel = pick(&c.pool_kernels, rng),
                    1 => *stride = pick(&c.strides, rng),
                    _ => {
                        let (k, s) = (*kernel, *stride);
                        return match b {
                            Block::MaxPool { .. } => Block::AvgPool {
                                kernel: k,
                                stride: s,
                            },
                            _ => Block::MaxPool {
                                kernel: k,
                                stride: s,
                            },
                        };
                    }
                }
            }
            Block::Act { function } => *function = pick(&c.activations, rng),
            Block::Dropout { rate } => *rate = pick(&c.dropout_rates, rng),
            Block::Dense { units } => *units = pick(&c.units, rng),
            // Nothing to alter: draw a new block of any kind instead.
            Block::BatchNorm => return self.block(pick(&c.ops, rng), rng),
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> ChainSpace {
        ChainSpace::new(ChainSpaceConfig::default(), [1, 8, 8], 10)
    }

    #[test]
    fn random_networks_and_their_children_are_valid_and_seeded() {
        let s = space();
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let mut rng = SeededRng::new(seed);
            let a = s.random(&mut rng);
            assert!(s.admits(&a), "{a}");
            seen.insert(a.to_string());
            let (child, words) = s.mutate(&a, &mut rng);
            assert!(s.admits(&child), "{child} from {a} by {words}");
            let b = s.random(&mut rng);
            if let Some((c, w)) = s.crossover(&a, &b, &mut rng) {
                assert!(s.admits(&c), "{c} by {w}");
            }
            let again = s.random(&mut SeededRng::new(seed));
            assert_eq!(again, a, "not seeded");
        }
        assert!(seen.len() > 150, "only {} distinct networks", seen.len());
    }

    #[test]
    fn mutations_add_remove_and_alter_one_layer() {
        let s = space();
        let a = ChainArch {
            blocks: vec![
                Block::Conv {
                    filters: 8,
                    kernel: 3,
                    stride: 1,
                },
                Block::Act {
                    function: Activation::Relu,
                },
            ],
        };
        let mut kinds = std::collections::BTreeMap::new();
        for seed in 0..300 {
            let (c, words) = s.mutate(&a, &mut SeededRng::new(seed));
            let kind = words.split(' ').next().unwrap().to_string();
            let diff = c.blocks.len() as i64 - a.blocks.len() as i64;
            match kind.as_str() {
                "add" => assert_eq!(diff, 1, "{words}"),
                "remove" => assert_eq!(diff, -1, "{words}"),
                "alter" => {
                    assert_eq!(diff, 0, "{words}");
                    let changed = a
                        .blocks
                        .iter()
                        .zip(&c.blocks)
                        .filter(|(x, y)| x != y)
                        .count();
                    assert_eq!(changed, 1, "{words}");
                }
                other => panic!("unexpected mutation {other}"),
            }
            *kinds.entry(kind).or_insert(0) += 1;
        }
        assert_eq!(kinds.len(), 3, "{kinds:?}");
    }

    #[test]
    fn the_limits_of_the_space_hold() {
        let cfg = ChainSpaceConfig {
            max_layers: 3,
            initial_layers: [3, 3],
            max_params: Some(5_000),
            ..ChainSpaceConfig::default()
        };
        let s = ChainSpace::new(cfg, [1, 8, 8], 10);
        for seed in 0..100 {
            let mut rng = SeededRng::new(seed);
            let mut a = s.random(&mut rng);
            for _ in 0..20 {
                a = s.mutate(&a, &mut rng).0;
                assert!(a.blocks.len() <= 3);
                assert!(a.cost([1, 8, 8], 10).unwrap().params <= 5_000, "{a}");
            }
        }
        let bad = ChainSpaceConfig {
            kernels: vec![2],
            ..ChainSpaceConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "kernels");
    }
}
