//! A chain architecture built into a burn network at run time (burn 0.22.1,
//! Flex backend on the CPU). Weights are drawn from evonet's own seeded
//! stream, never from burn's process-wide generator (ARCHITECTURE.md), so a
//! network depends only on its seed.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::{Device, Tensor, TensorData};

use evonet_core::SeededRng;

use crate::arch::{shapes, ArchError, Block, ChainArch};

#[derive(Module, Debug)]
pub enum Layer {
    Conv(Conv2d),
    Pool(MaxPool2d),
    Dense(Linear),
}

#[derive(Module, Debug)]
pub struct Net {
    layers: Vec<Layer>,
    head: Linear,
    relu: Relu,
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
}

/// Kaiming-uniform weights, `U(±sqrt(6 / fan_in))`, from `rng`.
fn weights<const D: usize>(
    shape: [usize; D],
    fan_in: usize,
    rng: &mut SeededRng,
    device: &Device,
) -> Param<Tensor<D>> {
    let bound = (6.0 / fan_in as f64).sqrt();
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| rng.uniform_range(-bound, bound) as f32)
        .collect();
    Param::from_tensor(Tensor::from_data(TensorData::new(v, shape), device))
}

impl Net {
    /// Builds `arch` for inputs of `input` shape and `classes` outputs, with
    /// weights from `seed` (biases start at zero).
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
                Block::Conv { filters, kernel } => {
                    let mut c = Conv2dConfig::new([prev[0], filters], [kernel, kernel])
                        .with_padding(PaddingConfig2d::Same)
                        .with_initializer(Initializer::Zeros)
                        .init(device);
                    let fan_in = prev[0] * kernel * kernel;
                    c.weight =
                        weights([filters, prev[0], kernel, kernel], fan_in, &mut rng, device);
                    Layer::Conv(c)
                }
                Block::MaxPool => {
                    Layer::Pool(MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init())
                }
                Block::Dense { units } => {
                    let fan_in: usize = prev.iter().product();
                    Layer::Dense(dense(fan_in, units, &mut rng, device))
                }
            });
            prev = *s;
        }
        let fan_in: usize = prev.iter().product();
        Ok(Self {
            layers,
            head: dense(fan_in, classes, &mut rng, device),
            relu: Relu::new(),
        })
    }

    /// Logits for a batch of images `[n, c, h, w]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut v = Val::Maps(x);
        for layer in &self.layers {
            v = match (layer, v) {
                (Layer::Conv(c), Val::Maps(x)) => Val::Maps(self.relu.forward(c.forward(x))),
                (Layer::Pool(p), Val::Maps(x)) => Val::Maps(p.forward(x)),
                (Layer::Dense(d), v) => Val::Flat(self.relu.forward(d.forward(v.flat()))),
                (_, Val::Flat(_)) => unreachable!("checked by arch::shapes"),
            };
        }
        self.head.forward(v.flat())
    }
}

fn dense(fan_in: usize, units: usize, rng: &mut SeededRng, device: &Device) -> Linear {
    let mut l = LinearConfig::new(fan_in, units)
        .with_initializer(Initializer::Zeros)
        .init(device);
    l.weight = weights([fan_in, units], fan_in, rng, device);
    l
}
