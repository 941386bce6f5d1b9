//! ONNX export of a trained network (IR version 9, opset 20, written by
//! `evonet-onnx`), for inference: dropout is left out, batch norm uses its
//! running statistics. The tests compare onnxruntime's predictions with
//! evonet's (`scripts/check_onnx.py`).

pub use evonet_onnx::{Attr, IR_VERSION, OPSET};
use evonet_onnx::{Elem, Model};

use crate::arch::ArchError;
use crate::architecture::Arch;
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
    /// Put before every constant's name (an ensemble's `m0.`, ...).
    prefix: String,
    pub(crate) last: String,
}

impl<'a> Graph<'a> {
    fn new(model: Model, tensors: &'a [NamedTensor], prefix: String) -> Self {
        Self {
            model,
            tensors: tensors.iter(),
            prefix,
            last: "input".into(),
        }
    }

    /// The next tensor of the network, as a constant.
    pub(crate) fn next(&mut self) -> String {
        match self.tensors.next() {
            Some(t) => {
                let name = format!("{}{}", self.prefix, t.name);
                self.model.constant(&name, &t.shape, &t.data)
            }
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
    let (mut model, _) = add_network(Model::new(), net, input, "", Some("logits"))?;
    model.input("input", &input);
    model.output("logits", Elem::F32, &[classes]);
    Ok(model.finish(&format!(
        "evonet {} network: {}",
        net.arch().space(),
        net.arch()
    )))
}

/// The ONNX model of `arch` with its initial weights (seed 0): the
/// network's shape and cost without a training, for timing it in another
/// runtime or checking that it loads there. Not a model to predict with.
pub fn export_untrained(
    arch: &Arch,
    input: [usize; 3],
    classes: usize,
) -> Result<Vec<u8>, ArchError> {
    let net = Net::new(arch, input, classes, 0, &burn::tensor::Device::flex())?;
    export(&net, input, classes)
}

/// `net`'s nodes added to `model`, reading `input`, its constants named
/// with `prefix`; the model and the name of the logits (`name`, or a
/// fresh one).
fn add_network(
    model: Model,
    net: &Net,
    input: [usize; 3],
    prefix: &str,
    name: Option<&str>,
) -> Result<(Model, String), ArchError> {
    let tensors = net.tensors();
    let mut g = Graph::new(model, &tensors, prefix.to_string());
    match net {
        Net::Chain(n) => chain::build(&mut g, n.arch(), input)?,
        Net::Cell(n) => cell::build(&mut g, n.arch(), &n.places)?,
    }
    let (w, b) = (g.next(), g.next());
    let last = g.last.clone();
    let logits = match name {
        Some(n) => g.named_node("Gemm", &[&last, &w, &b], &[], n.into()),
        None => g.node("Gemm", &[&last, &w, &b], &[]),
    };
    Ok((g.model, logits))
}

/// One ONNX model of an ensemble: input `input` `[batch, c, h, w]`,
/// output `probabilities` `[batch, classes]`, the weighted average of
/// each member's softmax (`members`: network and weight; member `i`'s
/// constants are named `mI.` + its tensor's name).
pub fn export_ensemble(
    members: &[(&Net, f64)],
    input: [usize; 3],
    classes: usize,
) -> Result<Vec<u8>, ArchError> {
    let mut model = Model::new();
    let mut terms = Vec::with_capacity(members.len());
    for (i, (net, weight)) in members.iter().enumerate() {
        let (m, logits) = add_network(model, net, input, &format!("m{i}."), None)?;
        model = m;
        let p = model.node("Softmax", &[&logits], &[("axis", Attr::Int(1))]);
        let w = model.constant(&format!("m{i}.ensemble_weight"), &[1], &[*weight as f32]);
        terms.push(model.node("Mul", &[&p, &w], &[]));
    }
    let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
    model.named_node("Sum", &terms, &[], "probabilities".into());
    model.input("input", &input);
    model.output("probabilities", Elem::F32, &[classes]);
    let names: Vec<String> = members
        .iter()
        .map(|(n, w)| format!("{w:.3} x {}", n.arch()))
        .collect();
    Ok(model.finish(&format!(
        "evonet ensemble (averaged softmax): {}",
        names.join(" + ")
    )))
}
