//! CIFAR-10's binary batches (`data_batch_1.bin` … `test_batch.bin`):
//! records of one label byte and 3 × 32 × 32 pixel bytes (red, green, blue
//! planes, row-major).

use std::path::Path;

use super::{check_labels, read_maybe_gz, DataError, Dataset};

pub const RECORD: usize = 1 + 3 * 32 * 32;

/// Loads and concatenates batch files, in the order given.
pub fn load(files: &[&Path]) -> Result<Dataset, DataError> {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for path in files {
        let bytes = read_maybe_gz(path)?;
        if bytes.is_empty() || bytes.len() % RECORD != 0 {
            return Err(DataError::format(
                path,
                format!(
                    "{} bytes is not a whole number of {RECORD}-byte CIFAR-10 records (truncated?)",
                    bytes.len()
                ),
            ));
        }
        let start = labels.len();
        for rec in bytes.chunks_exact(RECORD) {
            labels.push(rec[0]);
            images.extend(rec[1..].iter().map(|&p| p as f32 / 255.0));
        }
        check_labels(path, &labels[start..], 10)?;
    }
    Ok(Dataset {
        images,
        labels,
        shape: [3, 32, 32],
        classes: 10,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_load_and_bad_files_are_named() {
        let d = std::env::temp_dir().join(format!("evonet-cifar-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let mut bytes = Vec::new();
        for label in [3u8, 7] {
            bytes.push(label);
            bytes.extend((0..RECORD - 1).map(|i| (i % 256) as u8));
        }
        let good = d.join("data_batch_1.bin");
        std::fs::write(&good, &bytes).unwrap();
        let ds = load(&[&good, &good]).unwrap();
        assert_eq!(ds.labels, vec![3, 7, 3, 7]);
        assert_eq!(ds.shape, [3, 32, 32]);
        assert_eq!(ds.image(1)[255], 1.0);
        let short = d.join("short.bin");
        std::fs::write(&short, &bytes[..RECORD + 10]).unwrap();
        let e = load(&[&short]).unwrap_err().to_string();
        assert!(e.contains("short.bin") && e.contains("truncated"), "{e}");
        bytes[RECORD] = 10;
        let bad = d.join("bad.bin");
        std::fs::write(&bad, &bytes).unwrap();
        let e = load(&[&bad]).unwrap_err().to_string();
        assert!(
            e.contains("bad.bin") && e.contains("label 10 of item 1"),
            "{e}"
        );
    }
}
