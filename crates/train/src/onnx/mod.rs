//! ONNX export of a trained network (IR version 9, opset 20), for
//! inference: dropout is left out, batch norm uses its running statistics.
//!
//! The model is encoded directly in protobuf's wire format. evonet writes
//! a handful of ONNX messages and never reads one, so a 60-line encoder
//! replaces a protobuf code generator and the official schema in the build
//! (deps.md measured prost + protox for this; ARCHITECTURE.md says why we
//! did without). Field numbers are those of `onnx.proto` (ONNX 1.15+); the
//! tests check the file with the `onnx` checker and compare onnxruntime's
//! predictions with evonet's (`scripts/check_onnx.py`).

use crate::arch::ArchError;
use crate::model::Net;
use crate::weights::NamedTensor;

mod cell;
mod chain;

pub const IR_VERSION: u64 = 9;
pub const OPSET: u64 = 20;

/// A protobuf message being written.
#[derive(Default)]
struct Msg(Vec<u8>);

impl Msg {
    fn raw_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn tag(&mut self, field: u32, wire: u8) {
        self.raw_varint(((field as u64) << 3) | wire as u64);
    }
    /// An `int32`/`int64`/enum field (negative values as two's complement).
    fn int(&mut self, field: u32, v: i64) {
        self.tag(field, 0);
        self.raw_varint(v as u64);
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.tag(field, 2);
        self.raw_varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }
    fn msg(&mut self, field: u32, m: Msg) {
        self.bytes(field, &m.0);
    }
    fn float(&mut self, field: u32, v: f32) {
        self.tag(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

// AttributeProto.AttributeType and TensorProto.DataType values.
const ATTR_FLOAT: i64 = 1;
const ATTR_INT: i64 = 2;
const ATTR_INTS: i64 = 7;
const FLOAT: i64 = 1;

pub(crate) enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
}

/// The graph under construction: its nodes, the network's tensors as
/// initializers (taken in [`Net::tensors`] order) and the name of the
/// last value computed.
pub(crate) struct Graph<'a> {
    nodes: Vec<Msg>,
    initializers: Vec<Msg>,
    next: usize,
    tensors: std::slice::Iter<'a, NamedTensor>,
    pub(crate) last: String,
}

impl<'a> Graph<'a> {
    fn new(tensors: &'a [NamedTensor]) -> Self {
        Self {
            nodes: Vec::new(),
            initializers: Vec::new(),
            next: 0,
            tensors: tensors.iter(),
            last: "input".into(),
        }
    }

    /// The next tensor of the network, as an initializer.
    pub(crate) fn next(&mut self) -> String {
        let t = self.tensors.next().expect("one tensor per parameter");
        self.initializer(t)
    }

    /// A node whose output is a fresh name, returned.
    pub(crate) fn node(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let out = format!("t{}", self.next);
        self.named_node(op, inputs, attrs, out)
    }

    pub(crate) fn named_node(
        &mut self,
        op: &str,
        inputs: &[&str],
        attrs: &[(&str, Attr)],
        out: String,
    ) -> String {
        self.next += 1;
        let mut n = Msg::default();
        for i in inputs {
            n.str(1, i);
        }
        n.str(2, &out);
        n.str(3, &format!("{op}_{}", self.next - 1));
        n.str(4, op);
        for (name, a) in attrs {
            let mut m = Msg::default();
            m.str(1, name);
            match a {
                Attr::Float(f) => {
                    m.float(2, *f);
                    m.int(20, ATTR_FLOAT);
                }
                Attr::Int(i) => {
                    m.int(3, *i);
                    m.int(20, ATTR_INT);
                }
                Attr::Ints(v) => {
                    for i in v {
                        m.int(8, *i);
                    }
                    m.int(20, ATTR_INTS);
                }
            }
            n.msg(5, m);
        }
        self.nodes.push(n);
        out
    }

    fn initializer(&mut self, t: &NamedTensor) -> String {
        let mut m = Msg::default();
        for d in &t.shape {
            m.int(1, *d as i64);
        }
        m.int(2, FLOAT);
        m.str(8, &t.name);
        let raw: Vec<u8> = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        m.bytes(9, &raw);
        self.initializers.push(m);
        t.name.clone()
    }
}

/// The `kernel_shape`, `strides` and `pads` attributes of a square window.
pub(crate) fn window(kernel: usize, stride: usize, pad: usize) -> Vec<(&'static str, Attr)> {
    let k = kernel as i64;
    let s = stride as i64;
    let p = pad as i64;
    vec![
        ("kernel_shape", Attr::Ints(vec![k, k])),
        ("strides", Attr::Ints(vec![s, s])),
        ("pads", Attr::Ints(vec![p, p, p, p])),
    ]
}

/// `ValueInfoProto` of a float tensor whose first dimension is `batch`.
fn value_info(name: &str, dims: &[usize]) -> Msg {
    let mut shape = Msg::default();
    let mut batch = Msg::default();
    batch.str(2, "batch");
    shape.msg(1, batch);
    for d in dims {
        let mut dim = Msg::default();
        dim.int(1, *d as i64);
        shape.msg(1, dim);
    }
    let mut tensor = Msg::default();
    tensor.int(1, FLOAT);
    tensor.msg(2, shape);
    let mut ty = Msg::default();
    ty.msg(1, tensor);
    let mut v = Msg::default();
    v.str(1, name);
    v.msg(2, ty);
    v
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
    g.named_node("Gemm", &[&g.last.clone(), &w, &b], &[], "logits".into());

    let mut graph = Msg::default();
    for n in g.nodes {
        graph.msg(1, n);
    }
    graph.str(2, "evonet");
    for t in g.initializers {
        graph.msg(5, t);
    }
    graph.msg(11, value_info("input", &input));
    graph.msg(12, value_info("logits", &[classes]));

    let mut opset = Msg::default();
    opset.str(1, "");
    opset.int(2, OPSET as i64);
    let mut model = Msg::default();
    model.int(1, IR_VERSION as i64);
    model.str(2, "evonet");
    model.str(3, env!("CARGO_PKG_VERSION"));
    model.int(5, 1);
    model.str(
        6,
        &format!("evonet {} network: {}", net.arch().space(), net.arch()),
    );
    model.msg(7, graph);
    model.msg(8, opset);
    Ok(model.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields_follow_the_protobuf_wire_format() {
        let mut m = Msg::default();
        m.int(1, 300);
        assert_eq!(m.0, [0x08, 0xac, 0x02]);
        let mut m = Msg::default();
        m.int(3, -1);
        assert_eq!(m.0.len(), 1 + 10, "negative int64 takes ten bytes");
        let mut m = Msg::default();
        m.str(2, "ab");
        assert_eq!(m.0, [0x12, 2, b'a', b'b']);
        let mut m = Msg::default();
        m.float(2, 1.0);
        assert_eq!(m.0, [0x15, 0, 0, 0x80, 0x3f]);
    }
}
