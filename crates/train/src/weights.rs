//! A trained network's tensors by name, and the weights file
//! (`weights.evow`) that stores them with the architecture they belong to.
//!
//! File layout, format version 1: the magic `EVONETW\0`, a little-endian
//! `u32` format version, a bincode body ([`WeightsFile`]) and a CRC-32 of
//! everything before it. Loading checks all four and that every tensor
//! fits the architecture, so a file can never be applied to a network it
//! was not made for.

use std::path::Path;

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::arch::ChainArch;
use crate::model::{Layer, Net};

pub const MAGIC: &[u8; 8] = b"EVONETW\0";
pub const FORMAT_VERSION: u32 = 1;

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
    /// The architecture, as JSON (bincode cannot hold a tagged enum).
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
    it: &mut std::slice::Iter<'_, NamedTensor>,
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
    it: &mut std::slice::Iter<'_, NamedTensor>,
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

impl Net {
    /// Every tensor in a fixed order: per block its weight and bias (the
    /// depthwise then the pointwise convolution of a separable block; scale,
    /// shift, running mean and variance of batch norm), then the head.
    /// Dense weights are `[inputs, units]`.
    pub fn tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        let conv = |out: &mut Vec<NamedTensor>, p: &str, c: &burn::nn::conv::Conv2d| {
            out.push(values(format!("{p}.weight"), c.weight.val()));
            let b = c.bias.as_ref().expect("convolutions have a bias");
            out.push(values(format!("{p}.bias"), b.val()));
        };
        for (i, layer) in self.layers.iter().enumerate() {
            let p = format!("block{i}");
            match layer {
                Layer::Conv(c) => conv(&mut out, &p, c),
                Layer::Sep(s) => {
                    conv(&mut out, &format!("{p}.depthwise"), &s.depthwise);
                    conv(&mut out, &format!("{p}.pointwise"), &s.pointwise);
                }
                Layer::Norm(n) => {
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
                Layer::Dense(d) => {
                    out.push(values(format!("{p}.weight"), d.weight.val()));
                    let b = d.bias.as_ref().expect("dense layers have a bias");
                    out.push(values(format!("{p}.bias"), b.val()));
                }
                Layer::MaxPool(_) | Layer::AvgPool(_) | Layer::Plain(_) => {}
            }
        }
        out.push(values("head.weight".into(), self.head.weight.val()));
        let b = self.head.bias.as_ref().expect("the head has a bias");
        out.push(values("head.bias".into(), b.val()));
        out
    }

    /// Replaces every tensor by the one of the same name in `tensors`, which
    /// must list exactly the tensors of [`Net::tensors`], in that order.
    pub fn with_tensors(
        mut self,
        tensors: &[NamedTensor],
        device: &Device,
    ) -> Result<Self, WeightsError> {
        use burn::module::RunningState;
        use burn::nn::conv::Conv2d;
        let mut it = tensors.iter();
        let conv = |it: &mut std::slice::Iter<'_, NamedTensor>,
                    p: &str,
                    c: &mut Conv2d|
         -> Result<(), WeightsError> {
            c.weight = param(it, &format!("{p}.weight"), &c.weight, device)?;
            let b = c.bias.as_ref().expect("convolutions have a bias");
            c.bias = Some(param(it, &format!("{p}.bias"), b, device)?);
            Ok(())
        };
        for (i, layer) in self.layers.iter_mut().enumerate() {
            let p = format!("block{i}");
            match layer {
                Layer::Conv(c) => conv(&mut it, &p, c)?,
                Layer::Sep(s) => {
                    conv(&mut it, &format!("{p}.depthwise"), &mut s.depthwise)?;
                    conv(&mut it, &format!("{p}.pointwise"), &mut s.pointwise)?;
                }
                Layer::Norm(n) => {
                    n.gamma = param(&mut it, &format!("{p}.gamma"), &n.gamma, device)?;
                    n.beta = param(&mut it, &format!("{p}.beta"), &n.beta, device)?;
                    let shape = n.running_mean.value().dims();
                    n.running_mean = RunningState::new(take(
                        &mut it,
                        &format!("{p}.running_mean"),
                        shape,
                        device,
                    )?);
                    n.running_var = RunningState::new(take(
                        &mut it,
                        &format!("{p}.running_var"),
                        shape,
                        device,
                    )?);
                }
                Layer::Dense(d) => {
                    d.weight = param(&mut it, &format!("{p}.weight"), &d.weight, device)?;
                    let b = d.bias.as_ref().expect("dense layers have a bias");
                    d.bias = Some(param(&mut it, &format!("{p}.bias"), b, device)?);
                }
                Layer::MaxPool(_) | Layer::AvgPool(_) | Layer::Plain(_) => {}
            }
        }
        self.head.weight = param(&mut it, "head.weight", &self.head.weight, device)?;
        let b = self.head.bias.as_ref().expect("the head has a bias");
        self.head.bias = Some(param(&mut it, "head.bias", b, device)?);
        if let Some(extra) = it.next() {
            return Err(WeightsError::Mismatch {
                name: extra.name.clone(),
                message: "the network has no such tensor".into(),
            });
        }
        Ok(self)
    }
}

/// Encodes a weights file (magic, version, body, CRC-32).
pub fn encode(file: &WeightsFile) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend(bincode::serialize(file).expect("weights serialise"));
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
    use bincode::Options;
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(body.len() as u64)
        .deserialize(&body[12..])
        .map_err(|e| bad(format!("cannot decode: {e}")))
}

/// The weights file of `net` (the caller writes it atomically; this crate
/// does no writing).
pub fn to_bytes(net: &Net, input: [usize; 3], classes: usize) -> Vec<u8> {
    encode(&WeightsFile {
        arch_json: serde_json::to_string(net.arch()).expect("architectures serialise"),
        input,
        classes,
        tensors: net.tensors(),
    })
}

/// Reads a weights file and rebuilds its network on the CPU.
pub fn load(path: &Path) -> Result<Net, WeightsError> {
    load_on(path, &Device::flex())
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
    let arch: ChainArch =
        serde_json::from_str(&file.arch_json).map_err(|e| bad(format!("architecture: {e}")))?;
    let net = Net::new(&arch, file.input, file.classes, 0, device)
        .map_err(|e| bad(format!("architecture: {e}")))?;
    net.with_tensors(&file.tensors, device)
        .map_err(|e| bad(e.to_string()))
}
