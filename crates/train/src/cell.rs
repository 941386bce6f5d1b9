//! Cell architectures after NASNet (Zoph et al. 2018) and AmoebaNet (Real
//! et al. 2019): a normal cell and a reduction cell, each of `B` blocks,
//! stacked into a fixed skeleton. This is the plain data the cell search
//! space evolves; shapes, parameters and multiply-adds are computed here.
//!
//! Skeleton: a stem (3 × 3 convolution and batch norm to `filters`
//! channels), then `reductions + 1` stages of `cells_per_stage` normal
//! cells, a reduction cell between two stages (which halves the map and
//! doubles the filters), then ReLU, global average pooling and a dense
//! head to the classes.
//!
//! A cell's hidden states are numbered: 0 is the output of the cell two
//! back, 1 the output of the previous cell, `2 + j` the output of block
//! `j`. Block `j` applies one op to each of its two inputs (both earlier
//! hidden states) and adds the results. Before that both cell inputs are
//! brought to the cell's filters by ReLU, 1 × 1 convolution and batch norm
//! (strided when the input two back is still at the larger size). The cell
//! outputs the channel concatenation of the blocks no other block of the
//! cell reads. In a reduction cell the ops reading hidden states 0 and 1
//! have stride 2.
//!
//! Simplifications against NASNet, for a CPU budget: a separable op is
//! applied once, not twice; a strided identity (and the strided input
//! adjustment) is a strided 1 × 1 convolution instead of NASNet's
//! factorized reduction; no drop-path and no auxiliary head.

use serde::{Deserialize, Serialize};

use crate::arch::{ArchError, Cost};

/// The ops a block applies to a hidden state. Convolutions are ReLU,
/// convolution without bias, batch norm, as in NASNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellOp {
    Identity,
    #[serde(rename = "conv3x3")]
    Conv3x3,
    #[serde(rename = "conv5x5")]
    Conv5x5,
    #[serde(rename = "sep3x3")]
    Sep3x3,
    #[serde(rename = "sep5x5")]
    Sep5x5,
    #[serde(rename = "max3x3")]
    Max3x3,
    #[serde(rename = "avg3x3")]
    Avg3x3,
}

impl CellOp {
    pub const ALL: [CellOp; 7] = [
        CellOp::Identity,
        CellOp::Conv3x3,
        CellOp::Conv5x5,
        CellOp::Sep3x3,
        CellOp::Sep5x5,
        CellOp::Max3x3,
        CellOp::Avg3x3,
    ];

    /// The kernel size of a convolution or pooling op.
    pub fn kernel(self) -> usize {
        match self {
            CellOp::Identity => 1,
            CellOp::Conv5x5 | CellOp::Sep5x5 => 5,
            _ => 3,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CellOp::Identity => "id",
            CellOp::Conv3x3 => "conv3",
            CellOp::Conv5x5 => "conv5",
            CellOp::Sep3x3 => "sep3",
            CellOp::Sep5x5 => "sep5",
            CellOp::Max3x3 => "max3",
            CellOp::Avg3x3 => "avg3",
        }
    }

    /// Trainable parameters and multiply-adds per output pixel of the op on
    /// `f` channels (`stride` 2 turns the identity into a 1 × 1 conv).
    fn cost(self, f: usize, stride: usize) -> (usize, usize) {
        let k = self.kernel();
        match self {
            CellOp::Identity if stride == 1 => (0, 0),
            CellOp::Identity => (f * f + 2 * f, f * f),
            CellOp::Conv3x3 | CellOp::Conv5x5 => (f * f * k * k + 2 * f, f * f * k * k),
            CellOp::Sep3x3 | CellOp::Sep5x5 => (f * k * k + f * f + 2 * f, f * k * k + f * f),
            CellOp::Max3x3 | CellOp::Avg3x3 => (0, 0),
        }
    }
}

/// One block: two hidden states, an op on each, added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellBlock {
    pub inputs: [usize; 2],
    pub ops: [CellOp; 2],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub blocks: Vec<CellBlock>,
}

impl Cell {
    /// Which blocks no other block reads: the cell's output, in order.
    pub fn outputs(&self) -> Vec<usize> {
        let mut used = vec![false; self.blocks.len()];
        for b in &self.blocks {
            for &i in &b.inputs {
                if i >= 2 {
                    used[i - 2] = true;
                }
            }
        }
        (0..self.blocks.len()).filter(|&j| !used[j]).collect()
    }

    fn check(&self, which: &str) -> Result<(), ArchError> {
        if self.blocks.is_empty() {
            return Err(cell_error(which, "a cell needs at least one block".into()));
        }
        for (j, b) in self.blocks.iter().enumerate() {
            if let Some(&i) = b.inputs.iter().find(|&&i| i >= 2 + j) {
                return Err(cell_error(
                    which,
                    format!(
                        "block {j} reads hidden state {i}; it may read 0 to {}",
                        j + 1
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn cell_error(which: &str, message: String) -> ArchError {
    ArchError::Block {
        index: 0,
        block: format!("{which} cell"),
        message,
    }
}

/// A cell network: the two cells and the skeleton they are stacked in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellArch {
    pub normal: Cell,
    pub reduction: Cell,
    /// Filters of the stem and the first stage (doubled at each reduction).
    pub filters: usize,
    /// Normal cells per stage (NASNet's N).
    pub cells_per_stage: usize,
    /// Reduction cells, between the stages.
    pub reductions: usize,
}

/// One cell of the unrolled network, with the shapes it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellPlace {
    pub reduce: bool,
    /// The cell's filters: every hidden state inside it has this many.
    pub filters: usize,
    /// Shapes `[c, h, w]` of hidden states 0 and 1 (the two cell inputs).
    pub inputs: [[usize; 3]; 2],
    /// Shape of the concatenated output.
    pub output: [usize; 3],
}

impl CellPlace {
    /// Stride of the 1 × 1 convolution that adjusts input 0 (2 when the
    /// cell two back is still at the larger size).
    pub fn input0_stride(&self) -> usize {
        if self.inputs[0][1] > self.inputs[1][1] {
            2
        } else {
            1
        }
    }
}

fn half(n: usize) -> usize {
    n.div_ceil(2)
}

impl CellArch {
    pub fn cell(&self, reduce: bool) -> &Cell {
        if reduce {
            &self.reduction
        } else {
            &self.normal
        }
    }

    /// Every cell of the network in order, with its shapes, after a stem
    /// whose output is `[filters, h, w]`.
    pub fn places(&self, input: [usize; 3]) -> Result<Vec<CellPlace>, ArchError> {
        self.normal.check("normal")?;
        self.reduction.check("reduction")?;
        if self.filters == 0 || self.cells_per_stage == 0 {
            return Err(cell_error(
                "normal",
                "filters and cells_per_stage must be positive".into(),
            ));
        }
        let [_, mut h, mut w] = input;
        let stem = [self.filters, h, w];
        let (mut prev2, mut prev) = (stem, stem);
        let mut f = self.filters;
        let mut out = Vec::new();
        for stage in 0..=self.reductions {
            if stage > 0 {
                if h < 2 || w < 2 {
                    return Err(cell_error(
                        "reduction",
                        format!("cannot reduce a {h}×{w} map"),
                    ));
                }
                f *= 2;
                h = half(h);
                w = half(w);
            }
            let kinds = std::iter::once(stage > 0)
                .filter(|&r| r)
                .chain(std::iter::repeat_n(false, self.cells_per_stage));
            for reduce in kinds {
                let k = self.cell(reduce).outputs().len();
                let place = CellPlace {
                    reduce,
                    filters: f,
                    inputs: [prev2, prev],
                    output: [k * f, h, w],
                };
                out.push(place);
                prev2 = prev;
                prev = place.output;
            }
        }
        Ok(out)
    }

    /// Parameters, multiply-adds and the floats of every intermediate
    /// tensor for one image (the memory estimate's activations).
    pub fn walk(&self, input: [usize; 3], classes: usize) -> Result<(Cost, usize), ArchError> {
        let places = self.places(input)?;
        let [c, h, w] = input;
        let f0 = self.filters;
        let mut params = f0 * c * 9 + 2 * f0;
        let mut flops = f0 * c * 9 * h * w;
        let mut acts = c * h * w + 2 * f0 * h * w;
        for p in &places {
            let f = p.filters;
            let [_, ih, iw] = p.inputs[1];
            let in_px = ih * iw;
            for (i, s) in p.inputs.iter().enumerate() {
                params += s[0] * f + 2 * f;
                flops += s[0] * f * in_px;
                acts += 3 * f * in_px + if i == 0 { s[0] * s[1] * s[2] } else { 0 };
            }
            let out_px = p.output[1] * p.output[2];
            for b in &self.cell(p.reduce).blocks {
                for (&i, &op) in b.inputs.iter().zip(&b.ops) {
                    let stride = if p.reduce && i < 2 { 2 } else { 1 };
                    let (pp, fl) = op.cost(f, stride);
                    params += pp;
                    flops += fl * out_px;
                    acts += 3 * f * out_px;
                }
                acts += f * out_px;
            }
            acts += p.output[0] * out_px;
        }
        let last = places.last().map_or(f0, |p| p.output[0]);
        params += classes * last + classes;
        flops += classes * last;
        Ok((Cost { params, flops }, acts + last + classes))
    }

    pub fn cost(&self, input: [usize; 3], classes: usize) -> Result<Cost, ArchError> {
        Ok(self.walk(input, classes)?.0)
    }

    /// The same cells with `filters` multiplied by `factor` (at least 1).
    pub fn scaled(&self, factor: f64) -> CellArch {
        CellArch {
            filters: ((self.filters as f64 * factor).round() as usize).max(1),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for Cell {
    /// Blocks as `in:op+in:op`, separated by spaces.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (j, b) in self.blocks.iter().enumerate() {
            if j > 0 {
                write!(f, " ")?;
            }
            write!(
                f,
                "{}:{}+{}:{}",
                b.inputs[0],
                b.ops[0].name(),
                b.inputs[1],
                b.ops[1].name()
            )?;
        }
        Ok(())
    }
}

impl std::fmt::Display for CellArch {
    /// A one-line summary such as
    /// `N=2 F=16 R=2 normal[1:sep3+0:id …] reduction[…]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "N={} F={} R={} normal[{}] reduction[{}]",
            self.cells_per_stage, self.filters, self.reductions, self.normal, self.reduction
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(a: usize, oa: CellOp, b: usize, ob: CellOp) -> CellBlock {
        CellBlock {
            inputs: [a, b],
            ops: [oa, ob],
        }
    }

    fn tiny() -> CellArch {
        CellArch {
            normal: Cell {
                blocks: vec![
                    block(0, CellOp::Conv3x3, 1, CellOp::Identity),
                    block(2, CellOp::Max3x3, 1, CellOp::Sep3x3),
                ],
            },
            reduction: Cell {
                blocks: vec![
                    block(0, CellOp::Identity, 1, CellOp::Avg3x3),
                    block(1, CellOp::Conv5x5, 0, CellOp::Max3x3),
                ],
            },
            filters: 4,
            cells_per_stage: 1,
            reductions: 1,
        }
    }

    #[test]
    fn cells_unroll_into_stages_with_halved_maps_and_doubled_filters() {
        let a = tiny();
        assert_eq!(a.normal.outputs(), vec![1]);
        assert_eq!(a.reduction.outputs(), vec![0, 1]);
        let p = a.places([1, 8, 8]).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].inputs, [[4, 8, 8], [4, 8, 8]]);
        assert_eq!(p[0].output, [4, 8, 8]);
        assert!(p[1].reduce);
        assert_eq!((p[1].filters, p[1].output), (8, [16, 4, 4]));
        assert_eq!(p[2].inputs, [[4, 8, 8], [16, 4, 4]]);
        assert_eq!(p[2].input0_stride(), 2);
        assert_eq!(p[2].output, [8, 4, 4]);
        assert_eq!(
            a.to_string(),
            "N=1 F=4 R=1 normal[0:conv3+1:id 2:max3+1:sep3] reduction[0:id+1:avg3 1:conv5+0:max3]"
        );
    }

    #[test]
    fn parameters_and_multiply_adds_add_up_op_by_op() {
        let a = tiny();
        let c = a.cost([1, 8, 8], 10).unwrap();
        let stem = (4 * 9 + 8, 4 * 9 * 64);
        // Normal cell, f = 4 on 8×8: two 1×1 inputs, conv3x3, sep3x3.
        let n1 = (
            2 * (4 * 4 + 8) + (4 * 4 * 9 + 8) + (4 * 9 + 16 + 8),
            2 * 16 * 64 + 4 * 4 * 9 * 64 + (4 * 9 + 16) * 64,
        );
        // Reduction, f = 8: inputs from 4 channels at 8×8; a strided
        // identity (1×1 conv) and a strided conv5x5 at 4×4.
        let r = (
            2 * (4 * 8 + 16) + (64 + 16) + (8 * 8 * 25 + 16),
            2 * 4 * 8 * 64 + 64 * 16 + 8 * 8 * 25 * 16,
        );
        // Normal cell, f = 8 at 4×4: input 0 has 4 channels, input 1 16.
        let n2 = (
            (4 * 8 + 16) + (16 * 8 + 16) + (8 * 8 * 9 + 16) + (8 * 9 + 64 + 16),
            (4 * 8 + 16 * 8) * 16 + 8 * 8 * 9 * 16 + (8 * 9 + 64) * 16,
        );
        let head = (10 * 8 + 10, 10 * 8);
        assert_eq!(c.params, stem.0 + n1.0 + r.0 + n2.0 + head.0);
        assert_eq!(c.flops, stem.1 + n1.1 + r.1 + n2.1 + head.1);
        assert_eq!(a.scaled(0.5).filters, 2);
    }

    #[test]
    fn impossible_cells_are_errors() {
        let mut a = tiny();
        a.normal.blocks[0].inputs[0] = 2;
        let e = a.places([1, 8, 8]).unwrap_err().to_string();
        assert!(
            e.contains("normal cell") && e.contains("block 0 reads hidden state 2"),
            "{e}"
        );
        let mut a = tiny();
        a.reductions = 4;
        let e = a.places([1, 8, 8]).unwrap_err().to_string();
        assert!(e.contains("cannot reduce a 1×1 map"), "{e}");
        let mut a = tiny();
        a.reduction.blocks.clear();
        assert!(a.places([1, 8, 8]).is_err());
    }
}
