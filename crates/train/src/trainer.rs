//! Supervised training by backprop (Adam, cross-entropy) with seeded
//! initialisation and shuffling, and evaluation.
//!
//! Burn's Flex backend parallelises its kernels with rayon: train inside a
//! thread pool of fixed size (`pool.install`) for numbers that do not
//! depend on the machine.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};

use evonet_core::seed::sub_seed;
use evonet_core::SeededRng;

use crate::arch::ArchError;
use crate::architecture::Arch;
use crate::augment::Augment;
use crate::data::Dataset;
use crate::model::Net;
use crate::schedule::LrSchedule;

#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    /// How the rate changes over the steps of the training.
    pub schedule: LrSchedule,
    /// Random shifts and flips of the training images.
    pub augment: Augment,
    /// Stop with [`TrainError::TimeLimit`] once training took longer
    /// (checked after every batch).
    pub time_limit: Option<std::time::Duration>,
    /// Refuse an architecture whose estimated training memory
    /// ([`memory_estimate`]) is above this many bytes.
    pub memory_limit: Option<u64>,
}

impl TrainConfig {
    pub fn new(epochs: usize, batch_size: usize, learning_rate: f64) -> Self {
        Self {
            epochs,
            batch_size,
            learning_rate,
            schedule: LrSchedule::Constant,
            augment: Augment::default(),
            time_limit: None,
            memory_limit: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Arch(#[from] ArchError),
    #[error("training diverged: loss {loss} in epoch {epoch}")]
    Diverged { epoch: usize, loss: f64 },
    #[error("training took longer than the limit of {limit_s} s (stopped in epoch {epoch})")]
    TimeLimit { epoch: usize, limit_s: f64 },
    #[error("training would need about {estimate} MiB, over the limit of {limit} MiB")]
    MemoryLimit { estimate: u64, limit: u64 },
}

pub struct Trained {
    pub net: Net,
    /// Mean training loss per epoch.
    pub losses: Vec<f64>,
}

/// The images at `idx` as a batch, as they are (for evaluation).
fn images(data: &Dataset, idx: &[usize], device: &Device) -> Tensor<4> {
    augmented(
        data,
        idx,
        &Augment::default(),
        &mut SeededRng::new(0),
        device,
    )
}

/// The images at `idx` as a training batch, augmented.
fn augmented(
    data: &Dataset,
    idx: &[usize],
    augment: &Augment,
    rng: &mut SeededRng,
    device: &Device,
) -> Tensor<4> {
    let n = data.image_len();
    let mut v = Vec::with_capacity(idx.len() * n);
    for &i in idx {
        augment.push(data.image(i), data.shape, rng, &mut v);
    }
    let [c, h, w] = data.shape;
    Tensor::from_data(TensorData::new(v, [idx.len(), c, h, w]), device)
}

/// Trains `arch` on `data`. `seed` decides the initial weights and the
/// order of the batches: the same seed gives the same network.
pub fn train(
    arch: &Arch,
    data: &Dataset,
    cfg: &TrainConfig,
    seed: u64,
) -> Result<Trained, TrainError> {
    let device = Device::flex().autodiff();
    if let Some(limit) = cfg.memory_limit {
        let estimate = memory_estimate(arch, data.shape, data.classes, cfg.batch_size)?;
        if estimate > limit {
            return Err(TrainError::MemoryLimit {
                estimate: estimate >> 20,
                limit: limit >> 20,
            });
        }
    }
    let started = std::time::Instant::now();
    let mut net = Net::new(arch, data.shape, data.classes, sub_seed(seed, 1), &device)?;
    let mut dropout = SeededRng::new(sub_seed(seed, 3));
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut shuffle = SeededRng::new(sub_seed(seed, 2));
    let mut augment = SeededRng::new(sub_seed(seed, 4));
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut losses = Vec::with_capacity(cfg.epochs);
    let batch = cfg.batch_size.max(1);
    let total_steps = cfg.epochs * order.len().div_ceil(batch);
    let mut step = 0;
    for epoch in 0..cfg.epochs {
        for i in (1..order.len()).rev() {
            order.swap(i, shuffle.below(i as u64 + 1) as usize);
        }
        let (mut sum, mut batches) = (0.0, 0usize);
        for idx in order.chunks(batch) {
            let x = augmented(data, idx, &cfg.augment, &mut augment, &device);
            let y: Vec<i64> = idx.iter().map(|&i| data.labels[i] as i64).collect();
            let y = Tensor::<1, Int>::from_data(TensorData::new(y, [idx.len()]), &device);
            let loss = loss_fn.forward(net.forward(x, Some(&mut dropout)), y);
            let l = loss.clone().into_scalar::<f32>() as f64;
            if !l.is_finite() {
                return Err(TrainError::Diverged { epoch, loss: l });
            }
            sum += l;
            batches += 1;
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            let rate = cfg.schedule.rate(cfg.learning_rate, step, total_steps);
            step += 1;
            net = optim.step(rate, net, grads);
            if let Some(limit) = cfg.time_limit {
                if started.elapsed() > limit {
                    return Err(TrainError::TimeLimit {
                        epoch,
                        limit_s: limit.as_secs_f64(),
                    });
                }
            }
        }
        losses.push(sum / batches.max(1) as f64);
    }
    Ok(Trained { net, losses })
}

/// Logits of every image, row-major `[n, classes]`, in inference mode
/// (batch norm with running statistics, no dropout), in batches of 256.
pub fn logits(net: &Net, data: &Dataset) -> Vec<f32> {
    let device = Device::flex();
    let net = net.valid();
    let all: Vec<usize> = (0..data.len()).collect();
    let mut out = Vec::with_capacity(data.len() * data.classes);
    for idx in all.chunks(256) {
        let l = net.forward(images(data, idx, &device), None).into_data();
        out.extend(
            l.convert::<f32>()
                .try_into_vec::<f32>()
                .expect("logits are floats"),
        );
    }
    out
}

/// Predicted classes, in inference mode, in batches of 256.
pub fn predict(net: &Net, data: &Dataset) -> Vec<u8> {
    let device = Device::flex();
    let net = net.valid();
    let all: Vec<usize> = (0..data.len()).collect();
    let mut out = Vec::with_capacity(data.len());
    for idx in all.chunks(256) {
        let p = net
            .forward(images(data, idx, &device), None)
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

/// Estimated peak memory of training `arch` in bytes: parameters with
/// their gradients and two Adam moments, plus every block's output kept
/// for the backward pass and its gradient, for one batch, in f32, times
/// two for the backend's temporaries. A guard against architectures that
/// would exhaust the machine, checked before anything is allocated.
pub fn memory_estimate(
    arch: &Arch,
    input: [usize; 3],
    classes: usize,
    batch_size: usize,
) -> Result<u64, ArchError> {
    let (cost, activations) = match arch {
        Arch::Chain(a) => {
            let acts = crate::arch::shapes(a, input)?
                .iter()
                .map(|s| s.iter().product::<usize>())
                .sum::<usize>()
                + input.iter().product::<usize>()
                + classes;
            (a.cost(input, classes)?, acts)
        }
        Arch::Cell(a) => a.walk(input, classes)?,
    };
    let floats = 4 * cost.params + 2 * activations * batch_size.max(1);
    Ok(2 * 4 * floats as u64)
}
