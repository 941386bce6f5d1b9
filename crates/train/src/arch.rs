//! Chain architectures: a list of blocks whose hyperparameters evolve,
//! followed by a fixed classification head (a dense layer to the classes).
//! The NAS search space (issue 4) builds on this; this first version has
//! the blocks the trainer can already build.

use serde::{Deserialize, Serialize};

/// One block of a chain network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Block {
    /// k × k convolution, stride 1, "same" padding, then ReLU.
    Conv { filters: usize, kernel: usize },
    /// 2 × 2 max pooling, stride 2.
    MaxPool,
    /// Fully connected layer, then ReLU (the input is flattened first).
    Dense { units: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainArch {
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchError {
    #[error("block {index} ({block:?}): {message}")]
    Block {
        index: usize,
        block: Block,
        message: String,
    },
}

/// The shape after each block: `[c, h, w]` before the first dense block,
/// `[units, 1, 1]` after it.
pub fn shapes(arch: &ChainArch, input: [usize; 3]) -> Result<Vec<[usize; 3]>, ArchError> {
    let mut s = input;
    let mut flat = false;
    let mut out = Vec::with_capacity(arch.blocks.len());
    for (index, block) in arch.blocks.iter().enumerate() {
        let bad = |message: String| ArchError::Block {
            index,
            block: block.clone(),
            message,
        };
        s = match *block {
            Block::Conv { filters, kernel } => {
                if flat {
                    return Err(bad("a convolution after a dense block".into()));
                }
                if filters == 0 || kernel == 0 || kernel % 2 == 0 {
                    return Err(bad("filters must be positive and the kernel odd".into()));
                }
                [filters, s[1], s[2]]
            }
            Block::MaxPool => {
                if flat {
                    return Err(bad("pooling after a dense block".into()));
                }
                if s[1] < 2 || s[2] < 2 {
                    return Err(bad(format!("cannot pool a {}×{} map", s[1], s[2])));
                }
                [s[0], s[1] / 2, s[2] / 2]
            }
            Block::Dense { units } => {
                if units == 0 {
                    return Err(bad("units must be positive".into()));
                }
                flat = true;
                [units, 1, 1]
            }
        };
        out.push(s);
    }
    Ok(out)
}

impl ChainArch {
    /// Trainable parameters, the head to `classes` included.
    pub fn params(&self, input: [usize; 3], classes: usize) -> Result<usize, ArchError> {
        let shapes = shapes(self, input)?;
        let mut prev = input;
        let mut n = 0;
        for (b, s) in self.blocks.iter().zip(&shapes) {
            n += match *b {
                Block::Conv { filters, kernel } => filters * prev[0] * kernel * kernel + filters,
                Block::MaxPool => 0,
                Block::Dense { units } => units * prev.iter().product::<usize>() + units,
            };
            prev = *s;
        }
        Ok(n + classes * prev.iter().product::<usize>() + classes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_parameters_follow_the_blocks() {
        let a = ChainArch {
            blocks: vec![
                Block::Conv {
                    filters: 8,
                    kernel: 3,
                },
                Block::MaxPool,
                Block::Dense { units: 32 },
            ],
        };
        assert_eq!(
            shapes(&a, [1, 8, 8]).unwrap(),
            vec![[8, 8, 8], [8, 4, 4], [32, 1, 1]]
        );
        assert_eq!(
            a.params([1, 8, 8], 10).unwrap(),
            (8 * 9 + 8) + (32 * 128 + 32) + (10 * 32 + 10)
        );
        let bad = ChainArch {
            blocks: vec![
                Block::MaxPool,
                Block::MaxPool,
                Block::MaxPool,
                Block::MaxPool,
            ],
        };
        let e = shapes(&bad, [1, 8, 8]).unwrap_err().to_string();
        assert!(
            e.starts_with("block 3") && e.contains("cannot pool a 1×1 map"),
            "{e}"
        );
        let bad = ChainArch {
            blocks: vec![
                Block::Dense { units: 4 },
                Block::Conv {
                    filters: 2,
                    kernel: 3,
                },
            ],
        };
        assert!(shapes(&bad, [1, 8, 8]).is_err());
    }
}
