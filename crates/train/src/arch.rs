//! Chain architectures: a list of blocks whose hyperparameters evolve,
//! followed by a fixed classification head (a dense layer to the classes).
//! This is the plain data the NAS search spaces produce and the trainer
//! and the ONNX writer read; shapes, parameters and multiply-adds are
//! computed here once for all of them.

use serde::{Deserialize, Serialize};

/// A non-linearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    /// Exact GELU (with erf), as ONNX `Gelu` with `approximate = "none"`.
    Gelu,
    Tanh,
}

impl Activation {
    pub const ALL: [Activation; 3] = [Activation::Relu, Activation::Gelu, Activation::Tanh];
}

/// One block of a chain network. Convolutions pad by `(kernel - 1) / 2` on
/// each side, so a stride-1 convolution keeps the map size; pools do not
/// pad. Computational blocks are linear: non-linearities are blocks too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Block {
    /// `kernel` × `kernel` convolution with bias.
    Conv {
        filters: usize,
        kernel: usize,
        stride: usize,
    },
    /// Depthwise-separable convolution (MobileNet): a depthwise
    /// `kernel` × `kernel` convolution, one filter per channel, with bias,
    /// then a pointwise 1 × 1 convolution to `filters` channels, with bias.
    SepConv {
        filters: usize,
        kernel: usize,
        stride: usize,
    },
    MaxPool {
        kernel: usize,
        stride: usize,
    },
    AvgPool {
        kernel: usize,
        stride: usize,
    },
    /// Batch normalisation over channels (or features after a dense block).
    BatchNorm,
    Act {
        function: Activation,
    },
    /// Inverted dropout: zeroes each value with probability `rate` while
    /// training and scales the rest by `1 / (1 - rate)`.
    Dropout {
        rate: f64,
    },
    /// Fully connected layer with bias (the input is flattened first).
    Dense {
        units: usize,
    },
}

/// A chain network's blocks. In JSON and TOML each block is an object
/// tagged by `op`; binary formats (checkpoints, the Redis protocol) use a
/// compact externally tagged form, as postcard cannot read tagged enums.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainArch {
    pub blocks: Vec<Block>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainArchText {
    blocks: Vec<Block>,
}

/// [`Block`] for binary formats.
#[derive(Serialize, Deserialize)]
enum BlockBin {
    Conv(usize, usize, usize),
    SepConv(usize, usize, usize),
    MaxPool(usize, usize),
    AvgPool(usize, usize),
    BatchNorm,
    Act(Activation),
    Dropout(f64),
    Dense(usize),
}

impl From<&Block> for BlockBin {
    fn from(b: &Block) -> Self {
        match *b {
            Block::Conv {
                filters,
                kernel,
                stride,
            } => BlockBin::Conv(filters, kernel, stride),
            Block::SepConv {
                filters,
                kernel,
                stride,
            } => BlockBin::SepConv(filters, kernel, stride),
            Block::MaxPool { kernel, stride } => BlockBin::MaxPool(kernel, stride),
            Block::AvgPool { kernel, stride } => BlockBin::AvgPool(kernel, stride),
            Block::BatchNorm => BlockBin::BatchNorm,
            Block::Act { function } => BlockBin::Act(function),
            Block::Dropout { rate } => BlockBin::Dropout(rate),
            Block::Dense { units } => BlockBin::Dense(units),
        }
    }
}

impl From<BlockBin> for Block {
    fn from(b: BlockBin) -> Self {
        match b {
            BlockBin::Conv(filters, kernel, stride) => Block::Conv {
                filters,
                kernel,
                stride,
            },
            BlockBin::SepConv(filters, kernel, stride) => Block::SepConv {
                filters,
                kernel,
                stride,
            },
            BlockBin::MaxPool(kernel, stride) => Block::MaxPool { kernel, stride },
            BlockBin::AvgPool(kernel, stride) => Block::AvgPool { kernel, stride },
            BlockBin::BatchNorm => Block::BatchNorm,
            BlockBin::Act(function) => Block::Act { function },
            BlockBin::Dropout(rate) => Block::Dropout { rate },
            BlockBin::Dense(units) => Block::Dense { units },
        }
    }
}

impl Serialize for ChainArch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            ChainArchText {
                blocks: self.blocks.clone(),
            }
            .serialize(s)
        } else {
            let v: Vec<BlockBin> = self.blocks.iter().map(BlockBin::from).collect();
            v.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for ChainArch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            Ok(ChainArch {
                blocks: ChainArchText::deserialize(d)?.blocks,
            })
        } else {
            let v = Vec::<BlockBin>::deserialize(d)?;
            Ok(ChainArch {
                blocks: v.into_iter().map(Block::from).collect(),
            })
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArchError {
    #[error("block {index} ({block}): {message}")]
    Block {
        index: usize,
        block: String,
        message: String,
    },
}

impl std::fmt::Display for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Block::Conv {
                filters, kernel, ..
            } => write!(f, "conv{kernel}x{kernel}-{filters}")?,
            Block::SepConv {
                filters, kernel, ..
            } => write!(f, "sep{kernel}x{kernel}-{filters}")?,
            Block::MaxPool { kernel, .. } => write!(f, "max{kernel}")?,
            Block::AvgPool { kernel, .. } => write!(f, "avg{kernel}")?,
            Block::BatchNorm => return write!(f, "bn"),
            Block::Act { function } => {
                return write!(f, "{}", format!("{function:?}").to_lowercase())
            }
            Block::Dropout { rate } => return write!(f, "drop{rate}"),
            Block::Dense { units } => return write!(f, "fc{units}"),
        }
        let stride = match *self {
            Block::Conv { stride, .. }
            | Block::SepConv { stride, .. }
            | Block::MaxPool { stride, .. }
            | Block::AvgPool { stride, .. } => stride,
            _ => 1,
        };
        if stride != 1 {
            write!(f, "/{stride}")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for ChainArch {
    /// A one-line summary such as `conv3x3-16 relu max2/2 fc64 relu`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.blocks.is_empty() {
            return write!(f, "(head only)");
        }
        for (i, b) in self.blocks.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "{b}")?;
        }
        Ok(())
    }
}

/// Output size of a window of `kernel` with `pad` on each side.
fn window(size: usize, kernel: usize, stride: usize, pad: usize) -> Option<usize> {
    let padded = size + 2 * pad;
    (padded >= kernel).then(|| (padded - kernel) / stride + 1)
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
            block: block.to_string(),
            message,
        };
        s = match *block {
            Block::Conv {
                filters,
                kernel,
                stride,
            }
            | Block::SepConv {
                filters,
                kernel,
                stride,
            } => {
                if flat {
                    return Err(bad("a convolution after a dense block".into()));
                }
                if filters == 0 || kernel == 0 || kernel % 2 == 0 || stride == 0 {
                    return Err(bad(
                        "filters and stride must be positive and the kernel odd".into(),
                    ));
                }
                let p = (kernel - 1) / 2;
                match (
                    window(s[1], kernel, stride, p),
                    window(s[2], kernel, stride, p),
                ) {
                    (Some(h), Some(w)) => [filters, h, w],
                    _ => return Err(bad(format!("a {}×{} map is too small", s[1], s[2]))),
                }
            }
            Block::MaxPool { kernel, stride } | Block::AvgPool { kernel, stride } => {
                if flat {
                    return Err(bad("pooling after a dense block".into()));
                }
                if kernel < 2 || stride == 0 {
                    return Err(bad(
                        "the kernel must be at least 2 and the stride positive".into()
                    ));
                }
                match (
                    window(s[1], kernel, stride, 0),
                    window(s[2], kernel, stride, 0),
                ) {
                    (Some(h), Some(w)) => [s[0], h, w],
                    _ => return Err(bad(format!("cannot pool a {}×{} map", s[1], s[2]))),
                }
            }
            Block::BatchNorm | Block::Act { .. } => s,
            Block::Dropout { rate } => {
                if !(0.0..1.0).contains(&rate) {
                    return Err(bad(format!("rate {rate} is not in [0, 1)")));
                }
                s
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

/// Size figures of an architecture with its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    /// Trainable parameters (batch-norm running statistics excluded).
    pub params: usize,
    /// Multiply-adds of one forward pass on one image, the unit of the
    /// "FLOPs" (mult-adds) columns of NASNet, AmoebaNet and MobileNet.
    pub flops: usize,
}

impl ChainArch {
    /// Parameters and multiply-adds, the head to `classes` included.
    pub fn cost(&self, input: [usize; 3], classes: usize) -> Result<Cost, ArchError> {
        let shapes = shapes(self, input)?;
        let mut prev = input;
        let (mut params, mut flops) = (0, 0);
        for (b, s) in self.blocks.iter().zip(&shapes) {
            let out_px = s[1] * s[2];
            let (p, f) = match *b {
                Block::Conv {
                    filters, kernel, ..
                } => {
                    let w = filters * prev[0] * kernel * kernel;
                    (w + filters, w * out_px)
                }
                Block::SepConv {
                    filters, kernel, ..
                } => {
                    let dw = prev[0] * kernel * kernel;
                    let pw = filters * prev[0];
                    (dw + prev[0] + pw + filters, (dw + pw) * out_px)
                }
                Block::MaxPool { .. } | Block::AvgPool { .. } => (0, 0),
                Block::BatchNorm => (2 * s[0], 0),
                Block::Act { .. } | Block::Dropout { .. } => (0, 0),
                Block::Dense { units } => {
                    let w = units * prev.iter().product::<usize>();
                    (w + units, w)
                }
            };
            params += p;
            flops += f;
            prev = *s;
        }
        let head = classes * prev.iter().product::<usize>();
        Ok(Cost {
            params: params + head + classes,
            flops: flops + head,
        })
    }

    /// Trainable parameters, the head to `classes` included.
    pub fn params(&self, input: [usize; 3], classes: usize) -> Result<usize, ArchError> {
        Ok(self.cost(input, classes)?.params)
    }

    /// The same architecture with every width (filters, units) multiplied by
    /// `factor`, rounded, at least 1: the channel-scaling fidelity of NAS.
    pub fn scaled(&self, factor: f64) -> ChainArch {
        let w = |n: usize| ((n as f64 * factor).round() as usize).max(1);
        ChainArch {
            blocks: self
                .blocks
                .iter()
                .map(|b| match *b {
                    Block::Conv {
                        filters,
                        kernel,
                        stride,
                    } => Block::Conv {
                        filters: w(filters),
                        kernel,
                        stride,
                    },
                    Block::SepConv {
                        filters,
                        kernel,
                        stride,
                    } => Block::SepConv {
                        filters: w(filters),
                        kernel,
                        stride,
                    },
                    Block::Dense { units } => Block::Dense { units: w(units) },
                    ref other => other.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(filters: usize, kernel: usize, stride: usize) -> Block {
        Block::Conv {
            filters,
            kernel,
            stride,
        }
    }

    #[test]
    fn shapes_parameters_and_multiply_adds_follow_the_blocks() {
        let a = ChainArch {
            blocks: vec![
                conv(8, 3, 1),
                Block::Act {
                    function: Activation::Relu,
                },
                Block::MaxPool {
                    kernel: 2,
                    stride: 2,
                },
                Block::Dense { units: 32 },
            ],
        };
        assert_eq!(
            shapes(&a, [1, 8, 8]).unwrap(),
            vec![[8, 8, 8], [8, 8, 8], [8, 4, 4], [32, 1, 1]]
        );
        let c = a.cost([1, 8, 8], 10).unwrap();
        assert_eq!(c.params, (8 * 9 + 8) + (32 * 128 + 32) + (10 * 32 + 10));
        assert_eq!(c.flops, 8 * 9 * 64 + 32 * 128 + 10 * 32);
        assert_eq!(a.to_string(), "conv3x3-8 relu max2/2 fc32");
    }

    #[test]
    fn strides_separable_convolutions_and_batch_norm_are_counted() {
        let a = ChainArch {
            blocks: vec![
                Block::SepConv {
                    filters: 16,
                    kernel: 3,
                    stride: 2,
                },
                Block::BatchNorm,
                Block::AvgPool {
                    kernel: 3,
                    stride: 2,
                },
            ],
        };
        // 28 → ceil(28 / 2) = 14 → (14 - 3) / 2 + 1 = 6.
        assert_eq!(
            shapes(&a, [3, 28, 28]).unwrap(),
            vec![[16, 14, 14], [16, 14, 14], [16, 6, 6]]
        );
        let c = a.cost([3, 28, 28], 10).unwrap();
        let sep = (3 * 9 + 3) + (16 * 3 + 16);
        assert_eq!(c.params, sep + 32 + 10 * 16 * 36 + 10);
        assert_eq!(c.flops, (3 * 9 + 16 * 3) * 196 + 10 * 16 * 36);
        assert_eq!(
            a.scaled(0.5).blocks[0],
            Block::SepConv {
                filters: 8,
                kernel: 3,
                stride: 2
            }
        );
    }

    #[test]
    fn impossible_architectures_are_errors_naming_the_block() {
        let pool = Block::MaxPool {
            kernel: 2,
            stride: 2,
        };
        let bad = ChainArch {
            blocks: vec![pool.clone(), pool.clone(), pool.clone(), pool],
        };
        let e = shapes(&bad, [1, 8, 8]).unwrap_err().to_string();
        assert!(
            e.starts_with("block 3 (max2/2)") && e.contains("cannot pool a 1×1 map"),
            "{e}"
        );
        let bad = ChainArch {
            blocks: vec![Block::Dense { units: 4 }, conv(2, 3, 1)],
        };
        assert!(shapes(&bad, [1, 8, 8]).is_err());
        let bad = ChainArch {
            blocks: vec![Block::Dropout { rate: 1.0 }],
        };
        assert!(shapes(&bad, [1, 8, 8])
            .unwrap_err()
            .to_string()
            .contains("rate 1"));
        let bad = ChainArch {
            blocks: vec![conv(4, 2, 1)],
        };
        assert!(shapes(&bad, [1, 8, 8]).is_err());
    }

    #[test]
    fn architectures_read_and_write_json() {
        let a = ChainArch {
            blocks: vec![conv(4, 5, 1), Block::Dropout { rate: 0.25 }],
        };
        let j = serde_json::to_string(&a).unwrap();
        assert_eq!(
            j,
            r#"{"blocks":[{"op":"conv","filters":4,"kernel":5,"stride":1},{"op":"dropout","rate":0.25}]}"#
        );
        assert_eq!(serde_json::from_str::<ChainArch>(&j).unwrap(), a);
        let bin = postcard::to_allocvec(&a).unwrap();
        assert_eq!(postcard::from_bytes::<ChainArch>(&bin).unwrap(), a);
        let e = serde_json::from_str::<ChainArch>(r#"{"blocks":[{"op":"conv","filters":4}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("kernel"), "{e}");
    }
}
