//! The ONNX nodes of a cell network (the head's dense layer is added by
//! the caller): the stem, every cell's input adjustments, ops, additions
//! and output concatenation, then ReLU and global average pooling.

use crate::arch::ArchError;
use crate::cell::{CellArch, CellOp, CellPlace};
use crate::cell_model::op_stride;

use super::chain::batch_norm;
use super::{window, Attr, Graph};

/// Convolution without bias (the next tensor), then batch norm.
fn conv_norm(g: &mut Graph, x: &str, kernel: usize, stride: usize) -> String {
    let w = g.next();
    let c = g.node("Conv", &[x, &w], &window(kernel, stride, (kernel - 1) / 2));
    batch_norm(g, &c)
}

fn op(g: &mut Graph, x: &str, op: CellOp, f: usize, stride: usize) -> String {
    let k = op.kernel();
    match op {
        CellOp::Identity if stride == 1 => x.to_string(),
        CellOp::Identity | CellOp::Conv3x3 | CellOp::Conv5x5 => {
            let r = g.node("Relu", &[x], &[]);
            conv_norm(g, &r, k, stride)
        }
        CellOp::Sep3x3 | CellOp::Sep5x5 => {
            let r = g.node("Relu", &[x], &[]);
            let w = g.next();
            let mut attrs = window(k, stride, (k - 1) / 2);
            attrs.push(("group", Attr::Int(f as i64)));
            let d = g.node("Conv", &[&r, &w], &attrs);
            let w = g.next();
            let p = g.node("Conv", &[&d, &w], &window(1, 1, 0));
            batch_norm(g, &p)
        }
        CellOp::Max3x3 => g.node("MaxPool", &[x], &window(3, stride, 1)),
        CellOp::Avg3x3 => {
            let mut attrs = window(3, stride, 1);
            attrs.push(("count_include_pad", Attr::Int(0)));
            g.node("AveragePool", &[x], &attrs)
        }
    }
}

/// Adds the network's nodes to `g`, leaving the pooled features in
/// `g.last`. `places` are the cells as the model unrolled them.
pub(super) fn build(g: &mut Graph, arch: &CellArch, places: &[CellPlace]) -> Result<(), ArchError> {
    let input = g.last.clone();
    let s = conv_norm(g, &input, 3, 1);
    let (mut prev2, mut prev) = (s.clone(), s);
    for p in places {
        let cell = arch.cell(p.reduce);
        let r = g.node("Relu", &[&prev2], &[]);
        let h0 = conv_norm(g, &r, 1, p.input0_stride());
        let r = g.node("Relu", &[&prev], &[]);
        let h1 = conv_norm(g, &r, 1, 1);
        let mut states = vec![h0, h1];
        for b in &cell.blocks {
            let ys: Vec<String> = b
                .inputs
                .iter()
                .zip(&b.ops)
                .map(|(&i, &o)| op(g, &states[i].clone(), o, p.filters, op_stride(p.reduce, i)))
                .collect();
            states.push(g.node("Add", &[&ys[0], &ys[1]], &[]));
        }
        let outs: Vec<String> = cell
            .outputs()
            .iter()
            .map(|&j| states[2 + j].clone())
            .collect();
        let out = if outs.len() == 1 {
            outs[0].clone()
        } else {
            let refs: Vec<&str> = outs.iter().map(String::as_str).collect();
            g.node("Concat", &refs, &[("axis", Attr::Int(1))])
        };
        prev2 = prev;
        prev = out;
    }
    let r = g.node("Relu", &[&prev], &[]);
    let pooled = g.node("GlobalAveragePool", &[&r], &[]);
    g.last = g.node("Flatten", &[&pooled], &[("axis", Attr::Int(1))]);
    Ok(())
}
