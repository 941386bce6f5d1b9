//! A minimal ONNX writer (IR version 9, opset 20), for inference models.
//!
//! The model is encoded directly in protobuf's wire format. evonet writes a
//! handful of ONNX messages and never reads one, so a 60-line encoder
//! replaces a protobuf code generator and the official schema in the build.
//! Field numbers are those of `onnx.proto` (ONNX 1.15+). This crate has no
//! dependencies, so every build of evonet (the one without architecture
//! search included) can export: the trained networks of architecture search
//! (`evonet-train`) and the evolved policies (the `evonet` crate). The tests
//! that use it check every file with the `onnx` checker and compare
//! onnxruntime's outputs with evonet's.

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

// AttributeProto.AttributeType values.
const ATTR_FLOAT: i64 = 1;
const ATTR_INT: i64 = 2;
const ATTR_INTS: i64 = 7;

/// The element type of a tensor (TensorProto.DataType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    F32 = 1,
    I64 = 7,
}

/// A node attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
}

/// The `kernel_shape`, `strides` and `pads` attributes of a square window.
pub fn window(kernel: usize, stride: usize, pad: usize) -> Vec<(&'static str, Attr)> {
    let k = kernel as i64;
    let s = stride as i64;
    let p = pad as i64;
    vec![
        ("kernel_shape", Attr::Ints(vec![k, k])),
        ("strides", Attr::Ints(vec![s, s])),
        ("pads", Attr::Ints(vec![p, p, p, p])),
    ]
}

/// An ONNX graph under construction: nodes, constant tensors
/// (initializers), inputs and outputs. Values are named by strings; nodes
/// made with [`Model::node`] get fresh names.
#[derive(Default)]
pub struct Model {
    nodes: Vec<Msg>,
    initializers: Vec<Msg>,
    inputs: Vec<Msg>,
    outputs: Vec<Msg>,
    next: usize,
}

impl Model {
    pub fn new() -> Self {
        Self::default()
    }

    /// A node whose output is a fresh name, returned.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let out = format!("t{}", self.next);
        self.named_node(op, inputs, attrs, out)
    }

    /// A node with the output name `out`, returned.
    pub fn named_node(
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

    /// A constant f32 tensor named `name`, returned.
    pub fn constant(&mut self, name: &str, shape: &[usize], data: &[f32]) -> String {
        let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.raw_constant(name, shape, Elem::F32, &raw)
    }

    /// A constant i64 tensor named `name`, returned.
    pub fn constant_i64(&mut self, name: &str, shape: &[usize], data: &[i64]) -> String {
        let raw: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.raw_constant(name, shape, Elem::I64, &raw)
    }

    fn raw_constant(&mut self, name: &str, shape: &[usize], elem: Elem, raw: &[u8]) -> String {
        let mut m = Msg::default();
        for d in shape {
            m.int(1, *d as i64);
        }
        m.int(2, elem as i64);
        m.str(8, name);
        m.bytes(9, raw);
        self.initializers.push(m);
        name.to_string()
    }

    /// A graph input of shape `[batch, dims...]`.
    pub fn input(&mut self, name: &str, dims: &[usize]) {
        self.inputs.push(value_info(name, Elem::F32, dims));
    }

    /// A graph output of shape `[batch, dims...]`.
    pub fn output(&mut self, name: &str, elem: Elem, dims: &[usize]) {
        self.outputs.push(value_info(name, elem, dims));
    }

    /// The model's bytes; `doc` describes it (`doc_string`).
    pub fn finish(self, doc: &str) -> Vec<u8> {
        let mut graph = Msg::default();
        for n in self.nodes {
            graph.msg(1, n);
        }
        graph.str(2, "evonet");
        for t in self.initializers {
            graph.msg(5, t);
        }
        for i in self.inputs {
            graph.msg(11, i);
        }
        for o in self.outputs {
            graph.msg(12, o);
        }
        let mut opset = Msg::default();
        opset.str(1, "");
        opset.int(2, OPSET as i64);
        let mut model = Msg::default();
        model.int(1, IR_VERSION as i64);
        model.str(2, "evonet");
        model.str(3, env!("CARGO_PKG_VERSION"));
        model.int(5, 1);
        model.str(6, doc);
        model.msg(7, graph);
        model.msg(8, opset);
        model.0
    }
}

/// `ValueInfoProto` of a tensor whose first dimension is `batch`.
fn value_info(name: &str, elem: Elem, dims: &[usize]) -> Msg {
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
    tensor.int(1, elem as i64);
    tensor.msg(2, shape);
    let mut ty = Msg::default();
    ty.msg(1, tensor);
    let mut v = Msg::default();
    v.str(1, name);
    v.msg(2, ty);
    v
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

    #[test]
    fn a_model_names_its_nodes_and_holds_its_constants() {
        let mut m = Model::new();
        m.input("x", &[2]);
        let w = m.constant("w", &[2, 1], &[1.0, 2.0]);
        let y = m.named_node("MatMul", &["x", &w], &[], "y".into());
        m.output(&y, Elem::F32, &[1]);
        let bytes = m.finish("test");
        let has = |s: &[u8]| bytes.windows(s.len()).any(|w| w == s);
        assert!(has(b"MatMul") && has(b"MatMul_0") && has(b"evonet"));
        assert!(has(&2.0f32.to_le_bytes()));
    }
}
