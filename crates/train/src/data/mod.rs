//! Labelled image datasets, loaded whole into memory.

pub mod cifar;
pub mod csv;
pub mod idx;
pub mod split;

use std::path::{Path, PathBuf};

pub use split::{Split, Splits};

/// Images as f32 in `[0, 1]`, laid out N × C × H × W, with a class per
/// image.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
    /// Channels, height, width.
    pub shape: [usize; 3],
    pub classes: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.image_len();
        &self.images[i * n..(i + 1) * n]
    }

    /// The images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut images = Vec::with_capacity(indices.len() * self.image_len());
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        Dataset {
            images,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            shape: self.shape,
            classes: self.classes,
        }
    }

    /// Images per class.
    /// This set followed by `other` (same shape and classes).
    pub fn concat(&self, other: &Dataset) -> Dataset {
        assert_eq!(self.shape, other.shape, "images of one shape");
        let mut images = self.images.clone();
        images.extend_from_slice(&other.images);
        let mut labels = self.labels.clone();
        labels.extend_from_slice(&other.labels);
        Dataset {
            images,
            labels,
            shape: self.shape,
            classes: self.classes.max(other.classes),
        }
    }

    pub fn class_counts(&self) -> Vec<usize> {
        let mut c = vec![0; self.classes];
        for &l in &self.labels {
            c[l as usize] += 1;
        }
        c
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not what its format says it must be.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
}

impl DataError {
    pub(crate) fn format(path: &Path, message: impl Into<String>) -> Self {
        DataError::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Reads a file whole, un-gzipping it when it starts with gzip's magic
/// (whatever its name).
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
            .map_err(|e| DataError::format(path, format!("broken gzip stream: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Checks that every label is below `classes`.
pub(crate) fn check_labels(path: &Path, labels: &[u8], classes: usize) -> Result<(), DataError> {
    if let Some((i, l)) = labels
        .iter()
        .enumerate()
        .find(|(_, l)| **l as usize >= classes)
    {
        return Err(DataError::format(
            path,
            format!(
                "label {l} of item {i} is out of range (classes 0..{})",
                classes - 1
            ),
        ));
    }
    Ok(())
}
