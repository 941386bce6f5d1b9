//! Measured inference latency: how long one image takes through a network
//! of an architecture on this CPU (the cost objective of multi-objective
//! search beside parameters and FLOPs).
//!
//! The network is built at full width with weights from a fixed seed (the
//! time of a forward pass does not depend on the weights' values), put in
//! inference mode as the exported model runs (batch norm with running
//! statistics, no dropout), and fed one image of zeros: a few passes warm
//! the allocator and caches, then the median of the timed passes is the
//! latency. A wall-clock figure: it varies with the machine and with what
//! else runs on it, so a search that minimises it is not bit-reproducible
//! (every other figure is).

use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor, TensorData};

use crate::arch::ArchError;
use crate::architecture::Arch;
use crate::model::Net;

/// Untimed passes before the timed ones.
const WARMUP: usize = 3;

/// The median time of `passes` forward passes of one image through
/// `arch` (at least one pass is timed).
pub fn inference_latency(
    arch: &Arch,
    input: [usize; 3],
    classes: usize,
    passes: usize,
) -> Result<Duration, ArchError> {
    // On a plain (not autodiff) device the network runs in inference mode.
    let device = Device::flex();
    let net = Net::new(arch, input, classes, 0, &device)?;
    let [c, h, w] = input;
    let image = || {
        Tensor::<4>::from_data(
            TensorData::new(vec![0f32; c * h * w], [1, c, h, w]),
            &device,
        )
    };
    for _ in 0..WARMUP {
        let _ = net.forward(image(), None).into_data();
    }
    let mut times: Vec<Duration> = (0..passes.max(1))
        .map(|_| {
            let x = image();
            let started = Instant::now();
            let _ = net.forward(x, None).into_data();
            started.elapsed()
        })
        .collect();
    times.sort();
    Ok(times[times.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{Block, ChainArch};

    fn chain(blocks: Vec<Block>) -> Arch {
        Arch::Chain(ChainArch { blocks })
    }

    #[test]
    fn times_the_network_it_is_given() {
        let small = chain(vec![Block::Dense { units: 4 }]);
        let conv = |filters| Block::Conv {
            filters,
            kernel: 3,
            stride: 1,
        };
        // About a thousand times the multiply-adds of `small`.
        let big = chain(vec![
            conv(64),
            conv(64),
            conv(64),
            Block::Dense { units: 64 },
        ]);
        let t_small = inference_latency(&small, [1, 16, 16], 10, 9).unwrap();
        let t_big = inference_latency(&big, [1, 16, 16], 10, 9).unwrap();
        assert!(
            t_small > Duration::ZERO && t_small < t_big,
            "{t_small:?} {t_big:?}"
        );
    }

    #[test]
    fn an_architecture_that_does_not_fit_the_input_is_an_error() {
        let pool = chain(vec![Block::MaxPool {
            kernel: 32,
            stride: 1,
        }]);
        assert!(inference_latency(&pool, [1, 8, 8], 10, 3).is_err());
    }
}
