//! What a rollout steps: a network evaluated on a batch of rows (episodes in
//! lockstep), each row keeping its own recurrent state.

use evonet_nn::{
    Activation, ConvBuffers, ConvTorso, GraphNet, GraphState, Mlp, MlpBuffers, MlpSpec,
};

/// A batched policy network. Outputs for a continuous head lie in [−1, 1].
pub trait Controller {
    fn inputs(&self) -> usize;
    fn outputs(&self) -> usize;
    /// Evaluates `rows` rows of `x`; returns `rows × outputs()` values.
    fn forward(&mut self, x: &[f32], rows: usize) -> &[f32];
    /// Copies row `from`'s state to row `to` (batch compaction).
    fn move_row(&mut self, from: usize, to: usize);
}

/// An MLP over flat parameters.
pub struct MlpController<'a> {
    net: Mlp<'a>,
    spec: &'a MlpSpec,
    buf: MlpBuffers,
}

impl<'a> MlpController<'a> {
    pub fn new(net: Mlp<'a>, spec: &'a MlpSpec, rows: usize) -> Self {
        Self {
            buf: MlpBuffers::new(spec, rows.max(1)),
            net,
            spec,
        }
    }
}

impl Controller for MlpController<'_> {
    fn inputs(&self) -> usize {
        self.spec.inputs
    }
    fn outputs(&self) -> usize {
        self.spec.outputs
    }
    #[inline]
    fn forward(&mut self, x: &[f32], rows: usize) -> &[f32] {
        self.net.forward(x, rows, &mut self.buf)
    }
    fn move_row(&mut self, from: usize, to: usize) {
        self.buf.move_row(self.spec, from, to);
    }
}

/// A convolutional torso, then an MLP.
pub struct ConvController<'a> {
    torso: ConvTorso<'a>,
    torso_buf: ConvBuffers,
    /// The torso's outputs, `rows × features`.
    features: Vec<f32>,
    mlp: MlpController<'a>,
}

impl<'a> ConvController<'a> {
    pub fn new(torso: ConvTorso<'a>, mlp: MlpController<'a>, rows: usize) -> Self {
        Self {
            torso_buf: ConvBuffers::new(torso.spec()),
            features: vec![0.0; rows.max(1) * torso.spec().features()],
            torso,
            mlp,
        }
    }
}

impl Controller for ConvController<'_> {
    fn inputs(&self) -> usize {
        self.torso.spec().input.iter().product()
    }
    fn outputs(&self) -> usize {
        self.mlp.outputs()
    }
    #[inline]
    fn forward(&mut self, x: &[f32], rows: usize) -> &[f32] {
        let f = &mut self.features[..rows * self.torso_buf.features()];
        self.torso.forward(x, rows, &mut self.torso_buf, f);
        self.mlp.net.forward_sparse(f, rows, &mut self.mlp.buf)
    }
    fn move_row(&mut self, from: usize, to: usize) {
        self.mlp.move_row(from, to);
    }
}

/// A graph network (NEAT phenotype). With `to_unit_range`, outputs of a
/// [0, 1] activation (the sigmoids) are mapped to [−1, 1] as in Stanley's
/// pole code (`force = (out − 0.5) · 20`); unbounded outputs are clamped.
pub struct GraphController {
    net: GraphNet,
    state: GraphState,
    out: Vec<f32>,
    map: OutputMap,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum OutputMap {
    Keep,
    FromUnit,
    Clamp,
}

impl GraphController {
    /// `continuous`: the head expects [−1, 1]; `output_activation`: what the
    /// output nodes compute.
    pub fn new(
        net: GraphNet,
        rows: usize,
        continuous: bool,
        output_activation: Activation,
    ) -> Self {
        let map = if !continuous {
            OutputMap::Keep
        } else {
            match output_activation.range() {
                (lo, hi) if lo == -1.0 && hi == 1.0 => OutputMap::Keep,
                (lo, hi) if lo == 0.0 && hi == 1.0 => OutputMap::FromUnit,
                _ => OutputMap::Clamp,
            }
        };
        Self {
            state: net.state(rows.max(1)),
            out: vec![0.0; rows.max(1) * net.outputs()],
            net,
            map,
        }
    }
}

impl Controller for GraphController {
    fn inputs(&self) -> usize {
        self.net.inputs()
    }
    fn outputs(&self) -> usize {
        self.net.outputs()
    }
    fn forward(&mut self, x: &[f32], rows: usize) -> &[f32] {
        let n = rows * self.net.outputs();
        self.net
            .forward(x, rows, &mut self.state, &mut self.out[..n]);
        match self.map {
            OutputMap::Keep => {}
            OutputMap::FromUnit => self.out[..n].iter_mut().for_each(|o| *o = 2.0 * *o - 1.0),
            OutputMap::Clamp => self.out[..n]
                .iter_mut()
                .for_each(|o| *o = o.clamp(-1.0, 1.0)),
        }
        &self.out[..n]
    }
    fn move_row(&mut self, from: usize, to: usize) {
        self.net.move_row(&mut self.state, from, to);
    }
}
