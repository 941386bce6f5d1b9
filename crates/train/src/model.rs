//! An architecture built into a burn network at run time (burn 0.22.1,
//! Flex backend on the CPU): [`Net`] is a chain network (this file) or a
//! cell network ([`crate::cell_model`]). Weights and dropout masks are
//! drawn from evonet's own seeded streams, never from burn's process-wide
//! generator (ARCHITECTURE.md), so a trained network depends only on its
//! seed.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear};
use burn::tensor::activation::{gelu, relu, tanh};
use burn::tensor::{Device, Tensor, TensorData};

use evonet_core::SeededRng;

use crate::arch::{shapes, Activation, ArchError, Block, ChainArch};
use crate::architecture::Arch;
use crate::cell_model::CellNet;
use crate::layers::{conv_layer, dense};

/// A trainable network of any architecture.
// Built once per candidate: the size of the variants is no concern.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Net {
    Chain(ChainNet),
    Cell(CellNet),
}

impl Net {
    /// Builds `arch` for inputs of `input` shape and `classes` outputs, with
    /// weights from `seed` (biases start at zero, batch norm at identity).
    pub fn new(
        arch: &Arch,
        input: [usize; 3],
        classes: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self, ArchError> {
        Ok(match arch {
            Arch::Chain(a) => Net::Chain(ChainNet::new(a, input, classes, seed, device)?),
            Arch::Cell(a) => Net::Cell(CellNet::new(a, input, classes, seed, device)?),
        })
    }

    pub fn arch(&self) -> Arch {
        match self {
            Net::Chain(n) => Arch::Chain(n.arch().clone()),
            Net::Cell(n) => Arch::Cell(n.arch().clone()),
        }
    }

    /// Logits for a batch of images `[n, c, h, w]`. `dropout` gives the
    /// stream of the dropout masks while training; without it dropout is
    /// the identity (inference). Batch norm uses batch statistics on an
    /// autodiff device (training) and its running statistics otherwise.
    pub fn forward(&self, x: Tensor<4>, dropout: Option<&mut SeededRng>) -> Tensor<2> {
        match self {
            Net::Chain(n) => n.forward(x, dropout),
            Net::Cell(n) => n.forward(x),
        }
    }
}

/// A depthwise convolution followed by a pointwise one.
#[derive(Module, Debug)]
pub struct SepConv {
    pub depthwise: Conv2d,
    pub pointwise: Conv2d,
}

/// The burn module of one block. Parameter-free blocks (activation,
/// dropout) hold a placeholder: the block itself says what to do.
// A network holds a handful of layers, built once: their size is no concern.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Layer {
    Conv(Conv2d),
    Sep(SepConv),
    MaxPool(MaxPool2d),
    AvgPool(AvgPool2d),
    Norm(BatchNorm),
    Dense(Linear),
    Plain(burn::nn::Relu),
}

#[derive(Module, Debug)]
pub struct ChainNet {
    pub(crate) layers: Vec<Layer>,
    pub(crate) head: Linear,
    #[module(skip)]
    pub(crate) arch: ChainArch,
}

/// A value between layers: feature maps, or flat features after the first
/// dense layer (tensor ranks are static in burn).
enum Val {
    Maps(Tensor<4>),
    Flat(Tensor<2>),
}

impl Val {
    fn flat(self) -> Tensor<2> {
        match self {
            Val::Flat(x) => x,
            Val::Maps(x) => {
                let [n, c, h, w] = x.dims();
                x.reshape([n, c * h * w])
            }
        }
    }

    /// Applies an element-wise function whatever the rank.
    fn map(
        self,
        f4: impl FnOnce(Tensor<4>) -> Tensor<4>,
        f2: impl FnOnce(Tensor<2>) -> Tensor<2>,
    ) -> Val {
        match self {
            Val::Maps(x) => Val::Maps(f4(x)),
            Val::Flat(x) => Val::Flat(f2(x)),
        }
    }
}

fn act4(f: Activation, x: Tensor<4>) -> Tensor<4> {
    match f {
        Activation::Relu => relu(x),
        Activation::Gelu => gelu(x),
        Activation::Tanh => tanh(x),
    }
}

fn act2(f: Activation, x: Tensor<2>) -> Tensor<2> {
    match f {
        Activation::Relu => relu(x),
        Activation::Gelu => gelu(x),
        Activation::Tanh => tanh(x),
    }
}

fn conv(
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    groups: usize,
    rng: &mut SeededRng,
    device: &Device,
) -> Conv2d {
    conv_layer(channels, kernel, stride, groups, true, rng, device)
}

impl ChainNet {
    pub fn new(
        arch: &ChainArch,
        input: [usize; 3],
        classes: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self, ArchError> {
        let shapes = shapes(arch, input)?;
        let mut rng = SeededRng::new(seed);
        let mut prev = input;
        let mut layers = Vec::with_capacity(arch.blocks.len());
        for (b, s) in arch.blocks.iter().zip(&shapes) {
            layers.push(match *b {
                Block::Conv {
                    filters,
                    kernel,
                    stride,
                } => Layer::Conv(conv(
                    [prev[0], filters],
                    kernel,
                    stride,
                    1,
                    &mut rng,
                    device,
                )),
                Block::SepConv {
                    filters,
                    kernel,
                    stride,
                } => Layer::Sep(SepConv {
                    depthwise: conv(
                        [prev[0], prev[0]],
                        kernel,
                        stride,
                        prev[0],
                        &mut rng,
                        device,
                    ),
                    pointwise: conv([prev[0], filters], 1, 1, 1, &mut rng, device),
                }),
                Block::MaxPool { kernel, stride } => Layer::MaxPool(
                    MaxPool2dConfig::new([kernel, kernel])
                        .with_strides([stride, stride])
                        .init(),
                ),
                Block::AvgPool { kernel, stride } => Layer::AvgPool(
                    AvgPool2dConfig::new([kernel, kernel])
                        .with_strides([stride, stride])
                        .init(),
                ),
                Block::BatchNorm => Layer::Norm(BatchNormConfig::new(s[0]).init(device)),
                Block::Dense { units } => {
                    let fan_in: usize = prev.iter().product();
                    Layer::Dense(dense(fan_in, units, &mut rng, device))
                }
                Block::Act { .. } | Block::Dropout { .. } => Layer::Plain(burn::nn::Relu::new()),
            });
            prev = *s;
        }
        let fan_in: usize = prev.iter().product();
        Ok(Self {
            layers,
            head: dense(fan_in, classes, &mut rng, device),
            arch: arch.clone(),
        })
    }

    pub fn arch(&self) -> &ChainArch {
        &self.arch
    }

    /// Logits; see [`Net::forward`].
    pub fn forward(&self, x: Tensor<4>, mut dropout: Option<&mut SeededRng>) -> Tensor<2> {
        let mut v = Val::Maps(x);
        for (layer, block) in self.layers.iter().zip(&self.arch.blocks) {
            v = match (layer, v) {
                (Layer::Conv(c), Val::Maps(x)) => Val::Maps(c.forward(x)),
                (Layer::Sep(c), Val::Maps(x)) => {
                    Val::Maps(c.pointwise.forward(c.depthwise.forward(x)))
                }
                (Layer::MaxPool(p), Val::Maps(x)) => Val::Maps(p.forward(x)),
                (Layer::AvgPool(p), Val::Maps(x)) => Val::Maps(p.forward(x)),
                (Layer::Norm(n), Val::Maps(x)) => Val::Maps(n.forward(x)),
                (Layer::Norm(n), Val::Flat(x)) => {
                    let [b, f] = x.dims();
                    Val::Flat(n.forward(x.reshape([b, f, 1, 1])).reshape([b, f]))
                }
                (Layer::Dense(d), v) => Val::Flat(d.forward(v.flat())),
                (Layer::Plain(_), v) => match *block {
                    Block::Act { function } => v.map(|x| act4(function, x), |x| act2(function, x)),
                    Block::Dropout { rate } => match dropout.as_deref_mut() {
                        Some(rng) if rate > 0.0 => match v {
                            Val::Maps(x) => Val::Maps(drop(x, rate, rng)),
                            Val::Flat(x) => Val::Flat(drop(x, rate, rng)),
                        },
                        _ => v,
                    },
                    _ => unreachable!("only activations and dropout are plain"),
                },
                (_, Val::Flat(_)) => unreachable!("checked by arch::shapes"),
            };
        }
        self.head.forward(v.flat())
    }
}

/// Inverted dropout with a mask from `rng`.
fn drop<const D: usize>(x: Tensor<D>, rate: f64, rng: &mut SeededRng) -> Tensor<D> {
    let dims = x.dims();
    let n: usize = dims.iter().product();
    let keep = 1.0 / (1.0 - rate) as f32;
    let mask: Vec<f32> = (0..n)
        .map(|_| if rng.uniform() < rate { 0.0 } else { keep })
        .collect();
    let device = x.device();
    x * Tensor::from_data(TensorData::new(mask, dims), &device)
}
