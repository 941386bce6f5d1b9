//! A cell architecture ([`crate::cell`]) built into a burn network: the
//! stem, every cell of the unrolled skeleton with its own weights, and the
//! head. Weights come from evonet's seeded stream in construction order.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use evonet_core::SeededRng;

use crate::arch::ArchError;
use crate::cell::{CellArch, CellOp, CellPlace};
use crate::layers::{conv_layer, dense};

/// Convolution (no bias) then batch norm; the ops apply ReLU first.
#[derive(Module, Debug)]
pub struct ConvNorm {
    pub conv: Conv2d,
    pub norm: BatchNorm,
}

/// Depthwise then pointwise convolution (no biases), then batch norm.
#[derive(Module, Debug)]
pub struct SepNorm {
    pub depthwise: Conv2d,
    pub pointwise: Conv2d,
    pub norm: BatchNorm,
}

/// The module of one op of one block.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum OpLayer {
    /// A convolution op, or a strided identity (a 1 × 1 convolution).
    Conv(ConvNorm),
    Sep(SepNorm),
    Max(MaxPool2d),
    Avg(AvgPool2d),
    /// The identity (a parameter-free placeholder).
    Identity(burn::nn::Relu),
}

#[derive(Module, Debug)]
pub struct CellLayer {
    /// The 1 × 1 adjustments of hidden states 0 and 1.
    pub inputs: Vec<ConvNorm>,
    /// Two per block, in block order.
    pub ops: Vec<OpLayer>,
}

#[derive(Module, Debug)]
pub struct CellNet {
    pub(crate) stem: ConvNorm,
    pub(crate) cells: Vec<CellLayer>,
    pub(crate) head: Linear,
    #[module(skip)]
    pub(crate) arch: CellArch,
    #[module(skip)]
    pub(crate) places: Vec<CellPlace>,
}

fn conv_norm(
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    rng: &mut SeededRng,
    device: &Device,
) -> ConvNorm {
    ConvNorm {
        conv: conv_layer(channels, kernel, stride, 1, false, rng, device),
        norm: BatchNormConfig::new(channels[1]).init(device),
    }
}

fn op_layer(op: CellOp, f: usize, stride: usize, rng: &mut SeededRng, device: &Device) -> OpLayer {
    let k = op.kernel();
    let pad = PaddingConfig2d::Explicit(1, 1, 1, 1);
    match op {
        CellOp::Identity if stride == 1 => OpLayer::Identity(burn::nn::Relu::new()),
        CellOp::Identity | CellOp::Conv3x3 | CellOp::Conv5x5 => {
            OpLayer::Conv(conv_norm([f, f], k, stride, rng, device))
        }
        CellOp::Sep3x3 | CellOp::Sep5x5 => OpLayer::Sep(SepNorm {
            depthwise: conv_layer([f, f], k, stride, f, false, rng, device),
            pointwise: conv_layer([f, f], 1, 1, 1, false, rng, device),
            norm: BatchNormConfig::new(f).init(device),
        }),
        CellOp::Max3x3 => OpLayer::Max(
            MaxPool2dConfig::new([3, 3])
                .with_strides([stride, stride])
                .with_padding(pad)
                .init(),
        ),
        CellOp::Avg3x3 => OpLayer::Avg(
            AvgPool2dConfig::new([3, 3])
                .with_strides([stride, stride])
                .with_padding(pad)
                .with_count_include_pad(false)
                .init(),
        ),
    }
}

/// The stride of an op reading hidden state `input` in a cell.
pub(crate) fn op_stride(reduce: bool, input: usize) -> usize {
    if reduce && input < 2 {
        2
    } else {
        1
    }
}

impl ConvNorm {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(self.conv.forward(relu(x)))
    }
}

impl OpLayer {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            OpLayer::Conv(c) => c.forward(x),
            OpLayer::Sep(s) => s
                .norm
                .forward(s.pointwise.forward(s.depthwise.forward(relu(x)))),
            OpLayer::Max(p) => p.forward(x),
            OpLayer::Avg(p) => p.forward(x),
            OpLayer::Identity(_) => x,
        }
    }
}

impl CellNet {
    pub fn new(
        arch: &CellArch,
        input: [usize; 3],
        classes: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self, ArchError> {
        let places = arch.places(input)?;
        let mut rng = SeededRng::new(seed);
        let stem = conv_norm([input[0], arch.filters], 3, 1, &mut rng, device);
        let mut cells = Vec::with_capacity(places.len());
        for p in &places {
            let f = p.filters;
            let inputs = vec![
                conv_norm([p.inputs[0][0], f], 1, p.input0_stride(), &mut rng, device),
                conv_norm([p.inputs[1][0], f], 1, 1, &mut rng, device),
            ];
            let mut ops = Vec::new();
            for b in &arch.cell(p.reduce).blocks {
                for (&i, &op) in b.inputs.iter().zip(&b.ops) {
                    ops.push(op_layer(op, f, op_stride(p.reduce, i), &mut rng, device));
                }
            }
            cells.push(CellLayer { inputs, ops });
        }
        let last = places.last().map_or(arch.filters, |p| p.output[0]);
        Ok(Self {
            stem,
            cells,
            head: dense(last, classes, &mut rng, device),
            arch: arch.clone(),
            places,
        })
    }

    pub fn arch(&self) -> &CellArch {
        &self.arch
    }

    /// Logits for a batch of images `[n, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let s = self.stem.norm.forward(self.stem.conv.forward(x));
        let (mut prev2, mut prev) = (s.clone(), s);
        for (layer, place) in self.cells.iter().zip(&self.places) {
            let cell = self.arch.cell(place.reduce);
            let mut states = vec![
                layer.inputs[0].forward(prev2),
                layer.inputs[1].forward(prev.clone()),
            ];
            for (j, b) in cell.blocks.iter().enumerate() {
                let a = layer.ops[2 * j].forward(states[b.inputs[0]].clone());
                let c = layer.ops[2 * j + 1].forward(states[b.inputs[1]].clone());
                states.push(a + c);
            }
            let mut outs: Vec<Tensor<4>> = cell
                .outputs()
                .into_iter()
                .map(|j| states[2 + j].clone())
                .collect();
            let out = if outs.len() == 1 {
                outs.pop().expect("one output")
            } else {
                Tensor::cat(outs, 1)
            };
            prev2 = prev;
            prev = out;
        }
        let [n, c, h, w] = prev.dims();
        let pooled = relu(prev)
            .reshape([n, c, h * w])
            .mean_dim(2)
            .reshape([n, c]);
        self.head.forward(pooled)
    }
}
