//! ONNX export of a trained network (IR version 9, opset 20, written by
//! `evonet-onnx`), for inference: dropout is left out, batch norm uses its
//! running statistics. The tests compare onnxruntime's predictions with
//! evonet's (`scripts/check_onnx.py`).

pub use evonet_onnx::{Attr, IR_VERSION, OPSET};
use evonet_onnx::{Elem, Model};

use crate::arch::ArchError;
use crate::model::Net;
use crate::weights::NamedTensor;

mod cell;
mod chain;

pub(crate) use evonet_onnx::window;

/// The graph under construction: the ONNX model, the network's tensors
/// (taken in [`Net::tensors`] order, each becoming a constant) and the
/// name of the last value computed.
pub(crate) struct Graph<'a> {
    model: Model,
    tensors: std::slice::Iter<'a, NamedTensor>,
    pub(crate) last: String,
}

impl<'a> Graph<'a> {
    fn new(tensors: &'a [NamedTensor]) -> Self {
        Self {
            model: Model::new(),
            tensors: tensors.iter(),
            last: "input".into(),
        }
    }

    /// The next tensor of the network, as a constant.
    pub(crate) fn next(&mut self) -> String {
        match self.tensors.next() {
            Some(t) => self.model.constant(&t.name, &t.shape, &t.data),
            // `Net::tensors` lists one tensor per parameter the nodes take;
            // a missing one makes an invalid model that the checker names.
            None => "missing_tensor".into(),
        }
    }
}

/// Nodes are added to the model itself (`g.node(...)`).
impl std::ops::Deref for Graph<'_> {
    type Target = Model;
    fn deref(&self) -> &Model {
        &self.model
    }
}

impl std::ops::DerefMut for Graph<'_> {
    fn deref_mut(&mut self) -> &mut Model {
        &mut self.model
    }
}

/// The ONNX model of `net` for inputs of `input` shape (`[c, h, w]`):
/// input `input` `[batch, c, h, w]`, output `logits` `[batch, classes]`.
pub fn export(net: &Net, input: [usize; 3], classes: usize) -> Result<Vec<u8>, ArchError> {
    let tensors = net.tensors();
    let mut g = Graph::new(&tensors);
    match net {
        Net::Chain(n) => chain::build(&mut g, n.arch(), input)?,
        Net::Cell(n) => cell::build(&mut g, n.arch(), &n.places)?,
    }
    let (w, b) = (g.next(), g.next());
    let last = g.last.clone();
    g.named_node("Gemm", &[&last, &w, &b], &[], "logits".into());
    let mut model = g.model;
    model.input("input", &input);
    model.output("logits", Elem::F32, &[classes]);
    Ok(model.finish(&format!(
        "evonet {} network: {}",
        net.arch().space(),
        net.arch()
    )))
}
