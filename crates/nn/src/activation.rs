//! Activation functions.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Tanh,
    Relu,
    Sigmoid,
    /// NEAT's steepened sigmoid `1/(1+e^(−4.9x))` (Stanley & Miikkulainen
    /// 2002): close to linear in its working range [−0.5, 0.5].
    SteepenedSigmoid,
    Identity,
}

/// Slope of NEAT's steepened sigmoid.
pub const NEAT_SIGMOID_SLOPE: f32 = 4.9;

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::SteepenedSigmoid => "steepened_sigmoid",
            Activation::Identity => "identity",
        }
    }

    /// Applies the activation in place. Written so that the loops vectorise.
    #[inline(always)]
    pub fn apply(self, xs: &mut [f32]) {
        match self {
            Activation::Tanh => {
                let mut blocks = xs.chunks_exact_mut(8);
                for b in &mut blocks {
                    let b: &mut [f32; 8] = b.try_into().expect("block");
                    for x in b.iter_mut() {
                        *x = fast_tanh(*x);
                    }
                }
                for x in blocks.into_remainder() {
                    *x = fast_tanh(*x);
                }
            }
            Activation::Relu => {
                for x in xs {
                    *x = x.max(0.0);
                }
            }
            Activation::Sigmoid => {
                for x in xs {
                    *x = 0.5 + 0.5 * fast_tanh(0.5 * *x);
                }
            }
            Activation::SteepenedSigmoid => {
                for x in xs {
                    *x = 0.5 + 0.5 * fast_tanh(0.5 * NEAT_SIGMOID_SLOPE * *x);
                }
            }
            Activation::Identity => {}
        }
    }

    /// One value, with the exact (libm) formulas: used by graph networks,
    /// whose nodes are evaluated one at a time.
    #[inline]
    pub fn scalar(self, x: f32) -> f32 {
        match self {
            Activation::Tanh => x.tanh(),
            Activation::Relu => x.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::SteepenedSigmoid => 1.0 / (1.0 + (-NEAT_SIGMOID_SLOPE * x).exp()),
            Activation::Identity => x,
        }
    }

    /// The interval the activation maps into (relu: unbounded above).
    pub fn range(self) -> (f32, f32) {
        match self {
            Activation::Tanh => (-1.0, 1.0),
            Activation::Sigmoid | Activation::SteepenedSigmoid => (0.0, 1.0),
            Activation::Relu => (0.0, f32::INFINITY),
            Activation::Identity => (f32::NEG_INFINITY, f32::INFINITY),
        }
    }

    pub const ALL: [Activation; 5] = [
        Activation::Tanh,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::SteepenedSigmoid,
        Activation::Identity,
    ];
}

/// The coefficients of [`fast_tanh`], shared with the SIMD kernels that
/// must reproduce it bit for bit.
pub mod tanh_coefficients {
    /// Beyond ±CLAMP the rational form is ±1 in f32.
    pub const CLAMP: f32 = 7.905_311;
    pub const A1: f32 = 4.893_524_5e-3;
    pub const A3: f32 = 6.372_619_3e-4;
    pub const A5: f32 = 1.485_722_4e-5;
    pub const A7: f32 = 5.122_297e-8;
    pub const A9: f32 = -8.604_672e-11;
    pub const A11: f32 = 2.000_188e-13;
    pub const A13: f32 = -2.760_768_5e-16;
    pub const B0: f32 = 4.893_525e-3;
    pub const B2: f32 = 2.268_434_7e-3;
    pub const B4: f32 = 1.185_347_1e-4;
    pub const B6: f32 = 1.198_258_4e-6;
    /// Below this magnitude tanh(a) is `a` itself.
    pub const IDENTITY_BELOW: f32 = 0.0004;
}

/// Rational tanh approximation (13/6 minimax polynomial ratio, the one Eigen
/// uses), absolute error below 1e-6 on all of f32 and branch-free, so that
/// loops over it vectorise. libm `tanh` costs ~10 ns per call; this ~0.3 ns.
#[inline(always)]
pub fn fast_tanh(a: f32) -> f32 {
    use tanh_coefficients::*;
    let x = a.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    // Horner with fused multiply-adds (bit-identical on every CPU).
    let mut p = x2.mul_add(A13, A11);
    p = x2.mul_add(p, A9);
    p = x2.mul_add(p, A7);
    p = x2.mul_add(p, A5);
    p = x2.mul_add(p, A3);
    p = x2.mul_add(p, A1);
    p *= x;
    let mut q = x2.mul_add(B6, B4);
    q = x2.mul_add(q, B2);
    q = x2.mul_add(q, B0);
    let r = p / q;
    if a.abs() < IDENTITY_BELOW {
        a
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fast_tanh_is_accurate() {
        let mut worst = 0.0f64;
        let mut x = -12.0f32;
        while x < 12.0 {
            let e = (fast_tanh(x) as f64 - (x as f64).tanh()).abs();
            worst = worst.max(e);
            x += 0.0007;
        }
        assert!(worst < 2e-6, "max error {worst}");
        assert_eq!(fast_tanh(0.0), 0.0);
        assert!(fast_tanh(100.0) <= 1.0 && fast_tanh(-100.0) >= -1.0);
    }

    #[test]
    fn vector_and_scalar_forms_agree() {
        for a in Activation::ALL {
            let xs: Vec<f32> = (-40..=40).map(|i| i as f32 * 0.1).collect();
            let mut v = xs.clone();
            a.apply(&mut v);
            for (x, y) in xs.iter().zip(&v) {
                assert!((a.scalar(*x) - y).abs() < 2e-6, "{a:?} at {x}");
            }
        }
        let s = Activation::SteepenedSigmoid;
        assert_eq!(s.scalar(0.0), 0.5);
        assert!((s.scalar(0.5) - 1.0 / (1.0 + (-2.45f32).exp())).abs() < 1e-7);
    }
}
