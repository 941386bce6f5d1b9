//! The numeric encoding of an architecture that a learned performance
//! predictor reads (Smithson et al. 2016 feed their response-surface
//! network the hyperparameters of the candidate): one fixed-length vector
//! per search space, every value of order one.
//!
//! - chain: one slot per possible block (`max_layers`), in order: the
//!   block's kind (one-hot over the 8 ops), its activation function
//!   (one-hot over 3), log2 of its width (filters or units) over 10, its
//!   kernel over 7, its stride over 4 and its dropout rate; empty slots
//!   are zero;
//! - cell: for each block of the normal then the reduction cell, each of
//!   its two ops one-hot over the 7 cell ops and each input's index over
//!   the largest index;
//! - both end with the network's size: log10 of its parameters over 7,
//!   log10 of its multiply-adds over 10, and its depth over the largest.

use evonet_train::{Activation, Arch, Block, CellArch, CellOp, ChainArch};

use crate::cell_space::CellSpace;
use crate::chain_space::ChainSpace;

/// Values per chain slot: 8 ops, 3 activations, width, kernel, stride, rate.
const CHAIN_SLOT: usize = 15;
/// Values per cell block: two ops one-hot over 7, two input indices.
const CELL_BLOCK: usize = 2 * 7 + 2;
/// The closing size figures.
const SIZE: usize = 3;

/// The chain encoding (`max_layers * 15 + 3` values).
pub fn chain_features(space: &ChainSpace, arch: &ChainArch) -> Vec<f64> {
    let slots = space.cfg.max_layers;
    let mut v = vec![0.0; slots * CHAIN_SLOT + SIZE];
    for (slot, block) in v.chunks_mut(CHAIN_SLOT).zip(&arch.blocks).take(slots) {
        encode_block(block, slot);
    }
    let depth = arch.blocks.len() as f64 / slots.max(1) as f64;
    size_figures(
        &Arch::Chain(arch.clone()),
        space.input,
        space.classes,
        depth,
        &mut v,
    );
    v
}

/// The cell encoding (`2 * blocks * 16 + 3` values).
pub fn cell_features(space: &CellSpace, arch: &CellArch) -> Vec<f64> {
    let b = space.cfg.blocks;
    let mut v = vec![0.0; 2 * b * CELL_BLOCK + SIZE];
    let largest = (b + 1).max(1) as f64;
    let blocks = arch
        .normal
        .blocks
        .iter()
        .take(b)
        .chain(arch.reduction.blocks.iter().take(b));
    let offsets = (0..b).chain(b..2 * b);
    for (block, at) in blocks.zip(offsets) {
        let slot = &mut v[at * CELL_BLOCK..(at + 1) * CELL_BLOCK];
        for (k, op) in block.ops.iter().enumerate() {
            slot[k * 7 + op_index(*op)] = 1.0;
        }
        slot[14] = block.inputs[0] as f64 / largest;
        slot[15] = block.inputs[1] as f64 / largest;
    }
    let depth = (arch.cells_per_stage * (arch.reductions + 1) + arch.reductions) as f64 / 10.0;
    size_figures(
        &Arch::Cell(arch.clone()),
        space.input,
        space.classes,
        depth,
        &mut v,
    );
    v
}

fn op_index(op: CellOp) -> usize {
    CellOp::ALL.iter().position(|o| *o == op).unwrap_or(0)
}

fn encode_block(block: &Block, slot: &mut [f64]) {
    let log_width = |w: usize| (w.max(1) as f64).log2() / 10.0;
    let (kind, width, kernel, stride) = match *block {
        Block::Conv {
            filters,
            kernel,
            stride,
        } => (0, log_width(filters), kernel, stride),
        Block::SepConv {
            filters,
            kernel,
            stride,
        } => (1, log_width(filters), kernel, stride),
        Block::MaxPool { kernel, stride } => (2, 0.0, kernel, stride),
        Block::AvgPool { kernel, stride } => (3, 0.0, kernel, stride),
        Block::BatchNorm => (4, 0.0, 0, 0),
        Block::Act { .. } => (5, 0.0, 0, 0),
        Block::Dropout { rate } => {
            slot[14] = rate;
            (6, 0.0, 0, 0)
        }
        Block::Dense { units } => (7, log_width(units), 0, 0),
    };
    slot[kind] = 1.0;
    if let Block::Act { function } = block {
        let f = Activation::ALL
            .iter()
            .position(|a| a == function)
            .unwrap_or(0);
        slot[8 + f] = 1.0;
    }
    slot[11] = width;
    slot[12] = kernel as f64 / 7.0;
    slot[13] = stride as f64 / 4.0;
}

/// Writes the closing size figures into the last [`SIZE`] values.
fn size_figures(arch: &Arch, input: [usize; 3], classes: usize, depth: f64, v: &mut [f64]) {
    let (params, flops) = arch
        .cost(input, classes)
        .map_or((0.0, 0.0), |c| (c.params as f64, c.flops as f64));
    let n = v.len();
    v[n - 3] = (params + 1.0).log10() / 7.0;
    v[n - 2] = (flops + 1.0).log10() / 10.0;
    v[n - 1] = depth;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell_space::CellSpaceConfig;
    use crate::chain_space::ChainSpaceConfig;
    use evonet_core::{SeededRng, Variation};

    #[test]
    fn every_chain_of_a_space_has_the_same_length_and_distinct_chains_differ() {
        let space = ChainSpace::new(ChainSpaceConfig::default(), [1, 8, 8], 10);
        let mut rng = SeededRng::new(3);
        let a = space.random(&mut rng);
        let (b, _) = space.mutate(&a, &mut rng);
        let (fa, fb) = (chain_features(&space, &a), chain_features(&space, &b));
        assert_eq!(fa.len(), space.cfg.max_layers * CHAIN_SLOT + SIZE);
        assert_eq!(fa.len(), fb.len());
        assert_ne!(fa, fb, "{a} and {b}");
        assert!(fa.iter().all(|x| x.is_finite() && x.abs() <= 2.0), "{fa:?}");
        // One kind per used slot, none in an empty one.
        for (i, slot) in fa.chunks(CHAIN_SLOT).take(space.cfg.max_layers).enumerate() {
            let kinds: f64 = slot[..8].iter().sum();
            assert_eq!(kinds, if i < a.blocks.len() { 1.0 } else { 0.0 });
        }
    }

    #[test]
    fn a_cell_encodes_each_op_and_input() {
        let space = CellSpace::new(CellSpaceConfig::default(), [1, 8, 8], 10);
        let mut rng = SeededRng::new(5);
        let a = space.random(&mut rng);
        let f = cell_features(&space, &a);
        assert_eq!(f.len(), 2 * space.cfg.blocks * CELL_BLOCK + SIZE);
        let ops: f64 = f[..2 * space.cfg.blocks * CELL_BLOCK]
            .chunks(CELL_BLOCK)
            .map(|s| s[..14].iter().sum::<f64>())
            .sum();
        assert_eq!(ops, (4 * space.cfg.blocks) as f64);
        assert!(f.iter().all(|x| x.is_finite() && x.abs() <= 2.0));
    }
}
