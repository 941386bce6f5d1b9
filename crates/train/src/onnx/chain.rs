//! The ONNX nodes of a chain network's blocks (the head is added by the
//! caller): convolutions, pooling, batch norm with running statistics,
//! activations and dense layers; dropout is the identity at inference.

use crate::arch::{shapes, Activation, ArchError, Block, ChainArch};

use super::{window, Attr, Graph};

/// Adds `arch`'s blocks to `g`, leaving the flattened features in `g.last`.
pub(super) fn build(g: &mut Graph, arch: &ChainArch, input: [usize; 3]) -> Result<(), ArchError> {
    let shapes = shapes(arch, input)?;
    let mut x = g.last.clone();
    let mut flat = false;
    for (i, block) in arch.blocks.iter().enumerate() {
        let channels = if i == 0 { input[0] } else { shapes[i - 1][0] };
        x = match *block {
            Block::Conv { kernel, stride, .. } => {
                let (w, b) = (g.next(), g.next());
                g.node(
                    "Conv",
                    &[&x, &w, &b],
                    &window(kernel, stride, (kernel - 1) / 2),
                )
            }
            Block::SepConv { kernel, stride, .. } => {
                let (w, b) = (g.next(), g.next());
                let mut attrs = window(kernel, stride, (kernel - 1) / 2);
                attrs.push(("group", Attr::Int(channels as i64)));
                let d = g.node("Conv", &[&x, &w, &b], &attrs);
                let (w, b) = (g.next(), g.next());
                g.node("Conv", &[&d, &w, &b], &window(1, 1, 0))
            }
            Block::MaxPool { kernel, stride } => {
                g.node("MaxPool", &[&x], &window(kernel, stride, 0))
            }
            Block::AvgPool { kernel, stride } => {
                g.node("AveragePool", &[&x], &window(kernel, stride, 0))
            }
            Block::BatchNorm => batch_norm(g, &x),
            Block::Act { function } => {
                let op = match function {
                    Activation::Relu => "Relu",
                    Activation::Gelu => "Gelu",
                    Activation::Tanh => "Tanh",
                };
                g.node(op, &[&x], &[])
            }
            Block::Dropout { .. } => x,
            Block::Dense { .. } => {
                if !flat {
                    x = g.node("Flatten", &[&x], &[("axis", Attr::Int(1))]);
                    flat = true;
                }
                let (w, b) = (g.next(), g.next());
                g.node("Gemm", &[&x, &w, &b], &[])
            }
        };
    }
    if !flat {
        x = g.node("Flatten", &[&x], &[("axis", Attr::Int(1))]);
    }
    g.last = x;
    Ok(())
}

/// Inference batch norm of `x` with the next four tensors (scale, shift,
/// running mean, running variance).
pub(super) fn batch_norm(g: &mut Graph, x: &str) -> String {
    let ins: Vec<String> = (0..4).map(|_| g.next()).collect();
    g.node(
        "BatchNormalization",
        &[x, &ins[0], &ins[1], &ins[2], &ins[3]],
        &[("epsilon", Attr::Float(1e-5))],
    )
}
