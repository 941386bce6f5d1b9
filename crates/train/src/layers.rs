//! Layers with evonet's initialisation: Kaiming-uniform weights drawn from
//! a seeded stream (never burn's process-wide generator) and zero biases;
//! shared by the chain and the cell networks.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor, TensorData};

use evonet_core::SeededRng;

/// Kaiming-uniform weights, `U(±sqrt(6 / fan_in))`, from `rng`.
pub(crate) fn weights<const D: usize>(
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

/// A `kernel` × `kernel` convolution padded by `(kernel - 1) / 2`, with a
/// bias (zero) when `bias`, Kaiming-uniform weights from `rng`.
pub(crate) fn conv_layer(
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    groups: usize,
    bias: bool,
    rng: &mut SeededRng,
    device: &Device,
) -> Conv2d {
    let p = (kernel - 1) / 2;
    let mut c = Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_groups(groups)
        .with_bias(bias)
        .with_initializer(Initializer::Zeros)
        .init(device);
    let per_group = channels[0] / groups;
    c.weight = weights(
        [channels[1], per_group, kernel, kernel],
        per_group * kernel * kernel,
        rng,
        device,
    );
    c
}

pub(crate) fn dense(fan_in: usize, units: usize, rng: &mut SeededRng, device: &Device) -> Linear {
    let mut l = LinearConfig::new(fan_in, units)
        .with_initializer(Initializer::Zeros)
        .init(device);
    l.weight = weights([fan_in, units], fan_in, rng, device);
    l
}
