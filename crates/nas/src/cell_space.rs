//! The cell search space of NASNet (Zoph et al. 2018) with the mutations
//! of regularized evolution (Real et al. 2019, section "Mutations"): a
//! network is a normal and a reduction cell of `blocks` blocks each, in a
//! fixed skeleton (`evonet_train::cell`). A block picks two earlier hidden
//! states of its cell and an op for each.
//!
//! One mutation per child: with probability `identity_probability` the
//! child is the parent (retrained: "identity"); otherwise one of the two
//! cells is picked, then one block and one of its two pairs, and either
//! its hidden state is re-wired to another earlier one ("hidden-state
//! mutation") or its op replaced by another from the set ("op mutation"),
//! both equally likely. Crossover, for the GA, takes each block position
//! of each cell from either parent (uniform; valid since a block reads
//! only earlier positions).

use serde::{Deserialize, Serialize};

use evonet_core::{SeededRng, Variation};
use evonet_train::{Cell, CellArch, CellBlock, CellOp};

use crate::chain_space::pick;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSpaceConfig {
    /// Blocks per cell (NASNet's and AmoebaNet's B = 5).
    #[serde(default = "default_blocks")]
    pub blocks: usize,
    /// Normal cells per stage (N).
    #[serde(default = "default_cells")]
    pub cells_per_stage: usize,
    /// Filters of the first stage (F), doubled at each reduction.
    #[serde(default = "default_filters")]
    pub filters: usize,
    /// Reduction cells (NASNet's CIFAR skeleton has 2).
    #[serde(default = "default_reductions")]
    pub reductions: usize,
    #[serde(default = "default_ops")]
    pub ops: Vec<CellOp>,
    /// Probability that a child is its parent unchanged (retrained with a
    /// new seed). evonet's default; the rate is not in our reference.
    #[serde(default = "default_identity")]
    pub identity_probability: f64,
    /// Networks with more trainable parameters are not proposed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_params: Option<usize>,
}

fn default_blocks() -> usize {
    5
}
fn default_cells() -> usize {
    1
}
fn default_filters() -> usize {
    16
}
fn default_reductions() -> usize {
    2
}
fn default_ops() -> Vec<CellOp> {
    CellOp::ALL.to_vec()
}
fn default_identity() -> f64 {
    0.05
}

impl Default for CellSpaceConfig {
    fn default() -> Self {
        Self {
            blocks: default_blocks(),
            cells_per_stage: default_cells(),
            filters: default_filters(),
            reductions: default_reductions(),
            ops: default_ops(),
            identity_probability: default_identity(),
            max_params: None,
        }
    }
}

impl CellSpaceConfig {
    /// Checks the choices; the error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.blocks == 0 || self.blocks > 20 {
            return Err(("blocks", "must be between 1 and 20".into()));
        }
        if self.cells_per_stage == 0 || self.cells_per_stage > 20 {
            return Err(("cells_per_stage", "must be between 1 and 20".into()));
        }
        if self.filters == 0 || self.filters > 4096 {
            return Err(("filters", "must be between 1 and 4096".into()));
        }
        if self.reductions > 6 {
            return Err(("reductions", "must be at most 6".into()));
        }
        if self.ops.is_empty() {
            return Err(("ops", "must not be empty".into()));
        }
        if !(0.0..=1.0).contains(&self.identity_probability) {
            return Err(("identity_probability", "must be in [0, 1]".into()));
        }
        Ok(())
    }
}

/// The space, bound to the input shape and classes its networks get.
#[derive(Debug, Clone)]
pub struct CellSpace {
    pub cfg: CellSpaceConfig,
    pub input: [usize; 3],
    pub classes: usize,
}

/// Attempts at a network within `max_params` before giving up.
const TRIES: usize = 50;

impl CellSpace {
    pub fn new(cfg: CellSpaceConfig, input: [usize; 3], classes: usize) -> Self {
        Self {
            cfg,
            input,
            classes,
        }
    }

    /// Whether `arch` is a network of this space.
    pub fn admits(&self, arch: &CellArch) -> bool {
        let c = &self.cfg;
        arch.normal.blocks.len() == c.blocks
            && arch.reduction.blocks.len() == c.blocks
            && (arch.filters, arch.cells_per_stage, arch.reductions)
                == (c.filters, c.cells_per_stage, c.reductions)
            && match arch.cost(self.input, self.classes) {
                Ok(cost) => c.max_params.is_none_or(|m| cost.params <= m),
                Err(_) => false,
            }
    }

    fn random_cell(&self, rng: &mut SeededRng) -> Cell {
        let blocks = (0..self.cfg.blocks)
            .map(|j| CellBlock {
                inputs: [
                    rng.below(2 + j as u64) as usize,
                    rng.below(2 + j as u64) as usize,
                ],
                ops: [pick(&self.cfg.ops, rng), pick(&self.cfg.ops, rng)],
            })
            .collect();
        Cell { blocks }
    }

    /// The smallest network of the space: each block reads the one before
    /// it twice with the op of fewest parameters. The CLI refuses a
    /// `max_params` below its size.
    pub fn cheapest(&self) -> CellArch {
        let op = *self
            .cfg
            .ops
            .iter()
            .min_by_key(|o| match o {
                CellOp::Max3x3 | CellOp::Avg3x3 => 0,
                CellOp::Identity => 1,
                CellOp::Sep3x3 => 2,
                CellOp::Sep5x5 => 3,
                CellOp::Conv3x3 => 4,
                CellOp::Conv5x5 => 5,
            })
            .expect("validated: ops is not empty");
        let cell = Cell {
            blocks: (0..self.cfg.blocks)
                .map(|j| CellBlock {
                    inputs: [j + 1, j + 1],
                    ops: [op, op],
                })
                .collect(),
        };
        CellArch {
            normal: cell.clone(),
            reduction: cell,
            filters: self.cfg.filters,
            cells_per_stage: self.cfg.cells_per_stage,
            reductions: self.cfg.reductions,
        }
    }

    fn draft(&self, rng: &mut SeededRng) -> CellArch {
        CellArch {
            normal: self.random_cell(rng),
            reduction: self.random_cell(rng),
            filters: self.cfg.filters,
            cells_per_stage: self.cfg.cells_per_stage,
            reductions: self.cfg.reductions,
        }
    }

    /// A hidden-state or op mutation of one pair of one block.
    fn mutate_once(&self, parent: &CellArch, rng: &mut SeededRng) -> (CellArch, String) {
        let mut child = parent.clone();
        let reduce = rng.below(2) == 1;
        let cell = if reduce {
            &mut child.reduction
        } else {
            &mut child.normal
        };
        let which = if reduce { "reduction" } else { "normal" };
        let j = rng.below(cell.blocks.len() as u64) as usize;
        let k = rng.below(2) as usize;
        let block = &mut cell.blocks[j];
        // With one op there is nothing to replace it by.
        let op_mutation = self.cfg.ops.len() > 1 && rng.below(2) == 1;
        if op_mutation {
            let old = block.ops[k];
            let others: Vec<CellOp> = self.cfg.ops.iter().copied().filter(|&o| o != old).collect();
            block.ops[k] = pick(&others, rng);
            let words = format!(
                "op {which} block {j}.{k} {} -> {}",
                old.name(),
                block.ops[k].name()
            );
            (child, words)
        } else {
            let old = block.inputs[k];
            let others: Vec<usize> = (0..2 + j).filter(|&i| i != old).collect();
            block.inputs[k] = pick(&others, rng);
            let words = format!("hidden {which} block {j}.{k} {old} -> {}", block.inputs[k]);
            (child, words)
        }
    }
}

impl Variation<CellArch> for CellSpace {
    fn random(&self, rng: &mut SeededRng) -> CellArch {
        for _ in 0..TRIES {
            let a = self.draft(rng);
            if self.admits(&a) {
                return a;
            }
        }
        self.cheapest()
    }

    fn mutate(&self, parent: &CellArch, rng: &mut SeededRng) -> (CellArch, String) {
        if rng.uniform() < self.cfg.identity_probability {
            return (parent.clone(), "identity".into());
        }
        for _ in 0..TRIES {
            let (child, words) = self.mutate_once(parent, rng);
            if self.admits(&child) {
                return (child, words);
            }
        }
        (parent.clone(), "identity".into())
    }

    fn crossover(
        &self,
        a: &CellArch,
        b: &CellArch,
        rng: &mut SeededRng,
    ) -> Option<(CellArch, String)> {
        let mix = |x: &Cell, y: &Cell, rng: &mut SeededRng, mask: &mut String| Cell {
            blocks: x
                .blocks
                .iter()
                .zip(&y.blocks)
                .map(|(p, q)| {
                    let from_b = rng.below(2) == 1;
                    mask.push(if from_b { 'b' } else { 'a' });
                    if from_b {
                        *q
                    } else {
                        *p
                    }
                })
                .collect(),
        };
        for _ in 0..TRIES {
            let mut mask = String::new();
            let normal = mix(&a.normal, &b.normal, rng, &mut mask);
            mask.push('|');
            let reduction = mix(&a.reduction, &b.reduction, rng, &mut mask);
            let child = CellArch {
                normal,
                reduction,
                ..a.clone()
            };
            if self.admits(&child) {
                return Some((child, format!("crossover {mask}")));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space() -> CellSpace {
        CellSpace::new(CellSpaceConfig::default(), [1, 8, 8], 10)
    }

    #[test]
    fn random_cells_are_valid_varied_and_seeded() {
        let s = space();
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..100 {
            let a = s.random(&mut SeededRng::new(seed));
            assert!(s.admits(&a), "{a}");
            assert_eq!(a, s.random(&mut SeededRng::new(seed)), "not seeded");
            seen.insert(a.to_string());
        }
        assert_eq!(seen.len(), 100);
    }

    #[test]
    fn a_mutation_changes_one_input_or_one_op_of_one_block() {
        let s = space();
        let a = s.random(&mut SeededRng::new(1));
        let mut kinds = std::collections::BTreeMap::new();
        for seed in 0..400 {
            let (c, words) = s.mutate(&a, &mut SeededRng::new(seed));
            assert!(s.admits(&c));
            let kind = words.split(' ').next().unwrap().to_string();
            let diffs: Vec<(usize, &CellBlock, &CellBlock)> =
                [(&a.normal, &c.normal), (&a.reduction, &c.reduction)]
                    .iter()
                    .flat_map(|(x, y)| x.blocks.iter().zip(&y.blocks).enumerate())
                    .filter(|(_, (p, q))| p != q)
                    .map(|(j, (p, q))| (j, p, q))
                    .collect();
            match kind.as_str() {
                "identity" => assert!(diffs.is_empty(), "{words}"),
                "op" | "hidden" => {
                    assert_eq!(diffs.len(), 1, "{words}");
                    let (j, p, q) = diffs[0];
                    let ops = (0..2).filter(|&k| p.ops[k] != q.ops[k]).count();
                    let ins = (0..2).filter(|&k| p.inputs[k] != q.inputs[k]).count();
                    if kind == "op" {
                        assert_eq!((ops, ins), (1, 0), "{words}");
                    } else {
                        assert_eq!((ops, ins), (0, 1), "{words}");
                        assert!(q.inputs.iter().all(|&i| i < 2 + j), "a loop: {words}");
                    }
                }
                other => panic!("unexpected mutation {other}"),
            }
            *kinds.entry(kind).or_insert(0usize) += 1;
        }
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        assert!(kinds["identity"] < 50, "{kinds:?}");
    }

    #[test]
    fn crossover_takes_each_block_from_a_parent_and_limits_hold() {
        let cfg = CellSpaceConfig {
            max_params: Some(40_000),
            ..CellSpaceConfig::default()
        };
        let s = CellSpace::new(cfg, [1, 8, 8], 10);
        let mut rng = SeededRng::new(3);
        for _ in 0..30 {
            let (a, b) = (s.random(&mut rng), s.random(&mut rng));
            assert!(s.admits(&a) && s.admits(&b));
            if let Some((c, words)) = s.crossover(&a, &b, &mut rng) {
                assert!(s.admits(&c), "{words}");
                for (j, blk) in c.normal.blocks.iter().enumerate() {
                    assert!(*blk == a.normal.blocks[j] || *blk == b.normal.blocks[j]);
                }
            }
            let mut x = a;
            for _ in 0..10 {
                x = s.mutate(&x, &mut rng).0;
                assert!(x.cost([1, 8, 8], 10).unwrap().params <= 40_000);
            }
        }
        let bad = CellSpaceConfig {
            ops: vec![],
            ..CellSpaceConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "ops");
    }
}
