//! Supervised training by backprop (Adam, cross-entropy) with seeded
//! initialisation and shuffling, and evaluation.
//!
//! Burn's Flex backend parallelises its kernels with rayon: train inside a
//! thread pool of fixed size (`pool.install`) for numbers that do not
//! depend on the machine.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};

use evonet_core::seed::sub_seed;
use evonet_core::SeededRng;

use crate::arch::{ArchError, ChainArch};
use crate::data::Dataset;
use crate::model::Net;

#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Arch(#[from] ArchError),
    #[error("training diverged: loss {loss} in epoch {epoch}")]
    Diverged { epoch: usize, loss: f64 },
}

pub struct Trained {
    pub net: Net,
    /// Mean training loss per epoch.
    pub losses: Vec<f64>,
}

fn images(data: &Dataset, idx: &[usize], device: &Device) -> Tensor<4> {
    let n = data.image_len();
    let mut v = Vec::with_capacity(idx.len() * n);
    for &i in idx {
        v.extend_from_slice(data.image(i));
    }
    let [c, h, w] = data.shape;
    Tensor::from_data(TensorData::new(v, [idx.len(), c, h, w]), device)
}

/// Trains `arch` on `data`. `seed` decides the initial weights and the
/// order of the batches: the same seed gives the same network.
pub fn train(
    arch: &ChainArch,
    data: &Dataset,
    cfg: &TrainConfig,
    seed: u64,
) -> Result<Trained, TrainError> {
    let device = Device::flex().autodiff();
    let mut net = Net::new(arch, data.shape, data.classes, sub_seed(seed, 1), &device)?;
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut shuffle = SeededRng::new(sub_seed(seed, 2));
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut losses = Vec::with_capacity(cfg.epochs);
    for epoch in 0..cfg.epochs {
        for i in (1..order.len()).rev() {
            order.swap(i, shuffle.below(i as u64 + 1) as usize);
        }
        let (mut sum, mut batches) = (0.0, 0usize);
        for idx in order.chunks(cfg.batch_size.max(1)) {
            let x = images(data, idx, &device);
            let y: Vec<i64> = idx.iter().map(|&i| data.labels[i] as i64).collect();
            let y = Tensor::<1, Int>::from_data(TensorData::new(y, [idx.len()]), &device);
            let loss = loss_fn.forward(net.forward(x), y);
            let l = loss.clone().into_scalar::<f32>() as f64;
            if !l.is_finite() {
                return Err(TrainError::Diverged { epoch, loss: l });
            }
            sum += l;
            batches += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(cfg.learning_rate, net, grads);
        }
        losses.push(sum / batches.max(1) as f64);
    }
    Ok(Trained { net, losses })
}

/// Predicted classes, in batches of 256.
pub fn predict(net: &Net, data: &Dataset) -> Vec<u8> {
    let device = Device::flex().autodiff();
    let all: Vec<usize> = (0..data.len()).collect();
    let mut out = Vec::with_capacity(data.len());
    for idx in all.chunks(256) {
        let p = net
            .forward(images(data, idx, &device))
            .argmax(1)
            .into_data();
        let p: Vec<i64> = p
            .convert::<i64>()
            .try_into_vec::<i64>()
            .expect("argmax gives integers");
        out.extend(p.into_iter().map(|c| c as u8));
    }
    out
}

/// Fraction of `data` classified right.
pub fn accuracy(net: &Net, data: &Dataset) -> f64 {
    let p = predict(net, data);
    let right = p.iter().zip(&data.labels).filter(|(a, b)| a == b).count();
    right as f64 / data.len().max(1) as f64
}
