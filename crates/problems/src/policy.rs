//! An MLP policy: network, optional observation normalisation, action head.

use serde::{Deserialize, Serialize};

use evonet_envs::{Action, ActionSpace};
use evonet_nn::{Activation, MlpSpec};

/// How network outputs become actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Head {
    /// `argmax` over one output per action (first index wins ties).
    Discrete { actions: usize },
    /// `tanh` outputs scaled to `[low, high]`.
    Continuous { low: Vec<f32>, high: Vec<f32> },
}

impl Head {
    pub fn for_space(space: &ActionSpace) -> Self {
        match space {
            ActionSpace::Discrete(n) => Head::Discrete { actions: *n },
            ActionSpace::Box { low, high } => Head::Continuous {
                low: low.clone(),
                high: high.clone(),
            },
        }
    }

    /// Output activation the network needs for this head.
    pub fn output_activation(&self) -> Activation {
        match self {
            Head::Discrete { .. } => Activation::Identity,
            Head::Continuous { .. } => Activation::Tanh,
        }
    }

    pub fn outputs(&self) -> usize {
        match self {
            Head::Discrete { actions } => *actions,
            Head::Continuous { low, .. } => low.len(),
        }
    }

    /// Maps one row of network outputs to an action; `scratch` holds the
    /// continuous action (no allocation).
    #[inline]
    pub fn action<'a>(&self, out: &[f32], scratch: &'a mut [f32]) -> Action<'a> {
        match self {
            Head::Discrete { .. } => {
                let mut best = 0;
                for (i, v) in out.iter().enumerate() {
                    if *v > out[best] {
                        best = i;
                    }
                }
                Action::Discrete(best)
            }
            Head::Continuous { low, high } => {
                for (((s, o), l), h) in scratch.iter_mut().zip(out).zip(low).zip(high) {
                    *s = l + (o + 1.0) * 0.5 * (h - l);
                }
                Action::Continuous(&scratch[..low.len()])
            }
        }
    }
}

/// Everything needed to rebuild a policy from its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySpec {
    pub mlp: MlpSpec,
    pub head: Head,
}

impl PolicySpec {
    /// A policy for an environment: `hidden` layers with `activation`, the
    /// head's output activation.
    pub fn new(
        obs_dim: usize,
        space: &ActionSpace,
        hidden: Vec<usize>,
        activation: Activation,
        recurrent: bool,
    ) -> Self {
        let head = Head::for_space(space);
        Self {
            mlp: MlpSpec {
                inputs: obs_dim,
                hidden,
                outputs: head.outputs(),
                activation,
                output_activation: head.output_activation(),
                recurrent,
            },
            head,
        }
    }
}

/// A decoded policy: parameters plus observation normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy<'a> {
    pub params: &'a [f32],
    pub obs_norm: Option<&'a evonet_core::genome::ObsNorm>,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn heads_map_outputs() {
        let mut s = [0.0f32; 1];
        assert_eq!(
            Head::Discrete { actions: 3 }.action(&[0.1, 0.5, 0.5], &mut s),
            Action::Discrete(1)
        );
        let h = Head::Continuous {
            low: vec![-2.0],
            high: vec![2.0],
        };
        assert_eq!(h.action(&[0.5], &mut s), Action::Continuous(&[1.0]));
        assert_eq!(h.action(&[-1.0], &mut s), Action::Continuous(&[-2.0]));
    }
}
