//! A policy network: an MLP, optionally behind a convolutional torso over
//! frames, with optional observation normalisation and an action head.

use serde::{Deserialize, Serialize};

use evonet_envs::{Action, ActionSpace};
use evonet_nn::{Activation, ConvSpec, MlpSpec};

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

/// Everything needed to rebuild a policy from its parameters: the torso's
/// parameters (if any) come first, then the MLP's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySpec {
    /// Convolutions over frames before the MLP (its inputs are their
    /// outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<ConvSpec>,
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
            conv: None,
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

impl PolicySpec {
    /// Puts a convolutional torso in front of the MLP, whose inputs become
    /// the torso's features.
    pub fn with_conv(mut self, conv: ConvSpec) -> Self {
        self.mlp.inputs = conv.features();
        self.conv = Some(conv);
        self
    }

    /// Values of one observation.
    pub fn obs_dim(&self) -> usize {
        self.conv
            .as_ref()
            .map_or(self.mlp.inputs, |c| c.input.iter().product())
    }

    /// Parameters of the torso.
    pub fn conv_params(&self) -> usize {
        self.conv.as_ref().map_or(0, ConvSpec::n_params)
    }

    pub fn n_params(&self) -> usize {
        self.conv_params() + self.mlp.n_params()
    }

    /// Scale of each parameter in a fresh policy (`1/√fan_in` for weights
    /// and kernels, 0 for biases).
    pub fn init_scales(&self) -> Vec<f32> {
        let mut s = self
            .conv
            .as_ref()
            .map_or_else(Vec::new, ConvSpec::init_scales);
        s.extend(self.mlp.init_scales());
        s
    }

    /// The network in words: `conv 16×3×3/1, hidden [128], relu`.
    pub fn summary(&self) -> String {
        let act = self.mlp.activation.name();
        let conv = self.conv.as_ref().map(|c| {
            let layers: Vec<String> = c
                .layers
                .iter()
                .map(|l| format!("{}×{k}×{k}/{}", l.filters, l.stride, k = l.kernel))
                .collect();
            format!("conv {}, ", layers.join(" "))
        });
        let dense = if self.mlp.hidden.is_empty() {
            "linear".to_string()
        } else {
            format!("hidden {:?}", self.mlp.hidden)
        };
        let rec = if self.mlp.recurrent {
            ", recurrent"
        } else {
            ""
        };
        format!("{}{dense}, {act}{rec}", conv.unwrap_or_default())
    }

    /// Multiply-adds of one dense forward pass.
    pub fn macs(&self) -> usize {
        self.conv.as_ref().map_or(0, ConvSpec::macs) + self.mlp.macs()
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
