//! A trained network's tensors by name, and the weights file
//! (`weights.evow`) that stores them with the architecture they belong to.
//!
//! File layout, format version 3 (version 1 held chain architectures
//! without the `space` tag, versions 1 and 2 a bincode 1.3 body): the magic
//! `EVONETW\0`, a little-endian `u32` format version, a postcard body
//! ([`WeightsFile`]) and a CRC-32 of
//! everything before it. Loading checks all four and that every tensor
//! fits the architecture, so a file can never be applied to a network it
//! was not made for.

use std::path::Path;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use burn::module::RunningState;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};

use crate::architecture::Arch;
use crate::cell_model::{CellNet, ConvNorm, OpLayer};
use crate::model::{ChainNet, Layer, Net};

pub const MAGIC: &[u8; 8] = b"EVONETW\0";
pub const FORMAT_VERSION: u32 = 3;

/// One tensor: its name (`block3.weight`, `head.bias`), shape and values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// What a weights file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsFile {
    /// The architecture, as JSON (a binary format cannot hold a tagged enum).
    pub arch_json: String,
    pub input: [usize; 3],
    pub classes: usize,
    pub tensors: Vec<NamedTensor>,
}

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: String, message: String },
    #[error("tensor `{name}`: {message}")]
    Mismatch { name: String, message: String },
}

fn values<const D: usize>(name: String, t: Tensor<D>) -> NamedTensor {
    let shape = t.dims().to_vec();
    let data = t
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float tensors hold f32");
    NamedTensor { name, shape, data }
}

/// Takes the next tensor, which must be called `name` and have `shape`.
fn take<const D: usize>(
    it: &mut Tensors,
    name: &str,
    shape: [usize; D],
    device: &Device,
) -> Result<Tensor<D>, WeightsError> {
    let mismatch = |message: String| WeightsError::Mismatch {
        name: name.to_string(),
        message,
    };
    let t = it.next().ok_or_else(|| mismatch("missing".into()))?;
    if t.name != name {
        return Err(mismatch(format!("found `{}` in its place", t.name)));
    }
    if t.shape != shape {
        return Err(mismatch(format!(
            "shape {:?}, the network needs {:?}",
            t.shape, shape
        )));
    }
    if t.data.len() != shape.iter().product::<usize>() {
        return Err(mismatch(format!(
            "{} values for shape {:?}",
            t.data.len(),
            shape
        )));
    }
    Ok(Tensor::from_data(
        TensorData::new(t.data.clone(), shape),
        device,
    ))
}

fn param<const D: usize>(
    it: &mut Tensors,
    name: &str,
    old: &Param<Tensor<D>>,
    device: &Device,
) -> Result<Param<Tensor<D>>, WeightsError> {
    Ok(Param::from_tensor(take(
        it,
        name,
        old.val().dims(),
        device,
    )?))
}

type Tensors<'a> = std::slice::Iter<'a, NamedTensor>;

fn push_conv(out: &mut Vec<NamedTensor>, p: &str, c: &Conv2d) {
    out.push(values(format!("{p}.weight"), c.weight.val()));
    if let Some(b) = &c.bias {
        out.push(values(format!("{p}.bias"), b.val()));
    }
}

fn push_norm(out: &mut Vec<NamedTensor>, p: &str, n: &BatchNorm) {
    out.push(values(format!("{p}.gamma"), n.gamma.val()));
    out.push(values(format!("{p}.beta"), n.beta.val()));
    out.push(values(
        format!("{p}.running_mean"),
        n.running_mean.value_sync(),
    ));
    out.push(values(
        format!("{p}.running_var"),
        n.running_var.value_sync(),
    ));
}

fn push_dense(out: &mut Vec<NamedTensor>, p: &str, d: &Linear) {
    out.push(values(format!("{p}.weight"), d.weight.val()));
    let b = d.bias.as_ref().expect("dense layers have a bias");
    out.push(values(format!("{p}.bias"), b.val()));
}

fn load_conv(
    it: &mut Tensors,
    p: &str,
    c: &mut Conv2d,
    device: &Device,
) -> Result<(), WeightsError> {
    c.weight = param(it, &format!("{p}.weight"), &c.weight, device)?;
    if let Some(b) = &c.bias {
        c.bias = Some(param(it, &format!("{p}.bias"), b, device)?);
    }
    Ok(())
}

fn load_norm(
    it: &mut Tensors,
    p: &str,
    n: &mut BatchNorm,
    device: &Device,
) -> Result<(), WeightsError> {
    n.gamma = param(it, &format!("{p}.gamma"), &n.gamma, device)?;
    n.beta = param(it, &format!("{p}.beta"), &n.beta, device)?;
    let shape = n.running_mean.value().dims();
    n.running_mean = RunningState::new(take(it, &format!("{p}.running_mean"), shape, device)?);
    n.running_var = RunningState::new(take(it, &format!("{p}.running_var"), shape, device)?);
    Ok(())
}

fn load_dense(
    it: &mut Tensors,
    p: &str,
    d: &mut Linear,
    device: &Device,
) -> Result<(), WeightsError> {
    d.weight = param(it, &format!("{p}.weight"), &d.weight, device)?;
    let b = d.bias.as_ref().expect("dense layers have a bias");
    d.bias = Some(param(it, &format!("{p}.bias"), b, device)?);
    Ok(())
}

fn push_conv_norm(out: &mut Vec<NamedTensor>, p: &str, c: &ConvNorm) {
    push_conv(out, &format!("{p}.conv"), &c.conv);
    push_norm(out, &format!("{p}.bn"), &c.norm);
}

fn load_conv_norm(
    it: &mut Tensors,
    p: &str,
    c: &mut ConvNorm,
    device: &Device,
) -> Result<(), WeightsError> {
    load_conv(it, &format!("{p}.conv"), &mut c.conv, device)?;
    load_norm(it, &format!("{p}.bn"), &mut c.norm, device)
}

impl Net {
    /// Every tensor in a fixed order. Chain networks: per block its weight
    /// and bias (the depthwise then the pointwise convolution of a separable
    /// block; scale, shift, running mean and variance of batch norm), then
    /// the head. Cell networks: the stem, then per cell its two input
    /// adjustments and the ops of its blocks in order (convolutions without
    /// bias, each followed by its batch norm), then the head. Dense weights
    /// are `[inputs, units]`.
    pub fn tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        match self {
            Net::Chain(n) => n.push_tensors(&mut out),
            Net::Cell(n) => n.push_tensors(&mut out),
        }
        out
    }

    /// Replaces every tensor by the one of the same name in `tensors`, which
    /// must list exactly the tensors of [`Net::tensors`], in that order.
    pub fn with_tensors(
        mut self,
        tensors: &[NamedTensor],
        device: &Device,
    ) -> Result<Self, WeightsError> {
        let mut it = tensors.iter();
        match &mut self {
            Net::Chain(n) => n.load_tensors(&mut it, device)?,
            Net::Cell(n) => n.load_tensors(&mut it, device)?,
        }
        if let Some(extra) = it.next() {
            return Err(WeightsError::Mismatch {
                name: extra.name.clone(),
                message: "the network has no such tensor".into(),
            });
        }
        Ok(self)
    }
}

impl ChainNet {
    fn push_tensors(&self, out: &mut Vec<NamedTensor>) {
        for (i, layer) in self.layers.iter().enumerate() {
            let p = format!("block{i}");
            match layer {
                Layer::Conv(c) => push_conv(out, &p, c),
                Layer::Sep(s) => {
                    push_conv(out, &format!("{p}.depthwise"), &s.depthwise);
                    push_conv(out, &format!("{p}.pointwise"), &s.pointwise);
                }
                Layer::Norm(n) => push_norm(out, &p, n),
                Layer::Dense(d) => push_dense(out, &p, d),
                Layer::MaxPool(_) | Layer::AvgPool(_) | Layer::Plain(_) => {}
            }
        }
        push_dense(out, "head", &self.head);
    }

    fn load_tensors(&mut self, it: &mut Tensors, device: &Device) -> Result<(), WeightsError> {
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let p = format!("block{i}");
            match layer {
                Layer::Conv(c) => load_conv(it, &p, c, device)?,
                Layer::Sep(s) => {
                    load_conv(it, &format!("{p}.depthwise"), &mut s.depthwise, device)?;
                    load_conv(it, &format!("{p}.pointwise"), &mut s.pointwise, device)?;
                }
                Layer::Norm(n) => load_norm(it, &p, n, device)?,
                Layer::Dense(d) => load_dense(it, &p, d, device)?,
                Layer::MaxPool(_) | Layer::AvgPool(_) | Layer::Plain(_) => {}
            }
        }
        load_dense(it, "head", &mut self.head, device)
    }
}

impl CellNet {
    fn push_tensors(&self, out: &mut Vec<NamedTensor>) {
        push_conv_norm(out, "stem", &self.stem);
        for (i, cell) in self.cells.iter().enumerate() {
            for (k, c) in cell.inputs.iter().enumerate() {
                push_conv_norm(out, &format!("cell{i}.input{k}"), c);
            }
            for (k, op) in cell.ops.iter().enumerate() {
                let p = format!("cell{i}.block{}.op{}", k / 2, k % 2);
                match op {
                    OpLayer::Conv(c) => push_conv_norm(out, &p, c),
                    OpLayer::Sep(s) => {
                        push_conv(out, &format!("{p}.depthwise"), &s.depthwise);
                        push_conv(out, &format!("{p}.pointwise"), &s.pointwise);
                        push_norm(out, &format!("{p}.bn"), &s.norm);
                    }
                    OpLayer::Max(_) | OpLayer::Avg(_) | OpLayer::Identity(_) => {}
                }
            }
        }
        push_dense(out, "head", &self.head);
    }

    fn load_tensors(&mut self, it: &mut Tensors, device: &Device) -> Result<(), WeightsError> {
        load_conv_norm(it, "stem", &mut self.stem, device)?;
        for (i, cell) in self.cells.iter_mut().enumerate() {
            for (k, c) in cell.inputs.iter_mut().enumerate() {
                load_conv_norm(it, &format!("cell{i}.input{k}"), c, device)?;
            }
            for (k, op) in cell.ops.iter_mut().enumerate() {
                let p = format!("cell{i}.block{}.op{}", k / 2, k % 2);
                match op {
                    OpLayer::Conv(c) => load_conv_norm(it, &p, c, device)?,
                    OpLayer::Sep(s) => {
                        load_conv(it, &format!("{p}.depthwise"), &mut s.depthwise, device)?;
                        load_conv(it, &format!("{p}.pointwise"), &mut s.pointwise, device)?;
                        load_norm(it, &format!("{p}.bn"), &mut s.norm, device)?;
                    }
                    OpLayer::Max(_) | OpLayer::Avg(_) | OpLayer::Identity(_) => {}
                }
            }
        }
        load_dense(it, "head", &mut self.head, device)
    }
}

/// Encodes a weights file (magic, version, body, CRC-32).
pub fn encode(file: &WeightsFile) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    // Names, shapes and numbers: postcard cannot fail on them.
    out.extend(postcard::to_allocvec(file).unwrap_or_default());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Decodes and checks a weights file read from `path`.
pub fn decode(bytes: &[u8], path: &Path) -> Result<WeightsFile, WeightsError> {
    let bad = |message: String| WeightsError::Format {
        path: path.display().to_string(),
        message,
    };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(bad("not an evonet weights file (wrong magic)".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "format version {version}, this evonet reads {FORMAT_VERSION}"
        )));
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body).to_le_bytes() != crc {
        return Err(bad(
            "checksum mismatch: the file is damaged or truncated".into()
        ));
    }
    postcard::from_bytes(&body[12..]).map_err(|e| bad(format!("cannot decode: {e}")))
}

/// The weights file of `net` (the caller writes it atomically; this crate
/// does no writing).
pub fn to_bytes(net: &Net, input: [usize; 3], classes: usize) -> Vec<u8> {
    encode(&WeightsFile {
        arch_json: serde_json::to_string(&net.arch()).expect("architectures serialise"),
        input,
        classes,
        tensors: net.tensors(),
    })
}

/// Reads a weights file and rebuilds its network on the CPU.
pub fn load(path: &Path) -> Result<Net, WeightsError> {
    load_on(path, &Device::flex())
}

/// Rebuilds the network of a weights file's bytes (named `path` in errors)
/// on the CPU.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Net, WeightsError> {
    from_bytes(bytes, path, &Device::flex())
}

/// Reads a weights file and rebuilds its network on `device`.
pub fn load_on(path: &Path, device: &Device) -> Result<Net, WeightsError> {
    let bytes = std::fs::read(path).map_err(|source| WeightsError::Io {
        path: path.display().to_string(),
        source,
    })?;
    from_bytes(&bytes, path, device)
}

/// Rebuilds the network of a weights file read from `path`.
pub fn from_bytes(bytes: &[u8], path: &Path, device: &Device) -> Result<Net, WeightsError> {
    let file = decode(bytes, path)?;
    let bad = |message: String| WeightsError::Format {
        path: path.display().to_string(),
        message,
    };
    let arch: Arch =
        serde_json::from_str(&file.arch_json).map_err(|e| bad(format!("architecture: {e}")))?;
    let net = Net::new(&arch, file.input, file.classes, 0, device)
        .map_err(|e| bad(format!("architecture: {e}")))?;
    net.with_tensors(&file.tensors, device)
        .map_err(|e| bad(e.to_string()))
}
