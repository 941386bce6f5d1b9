//! IDX files (LeCun et al.; MNIST, Fashion-MNIST): a big-endian magic
//! `0x0000 TT DD` (TT = 0x08 for u8, DD = dimensions), DD big-endian u32
//! sizes, then the values. Plain or gzip-compressed.

use std::path::Path;

use super::{check_labels, read_maybe_gz, DataError, Dataset};

/// Magic of a u8 image file with 3 dimensions (N × H × W).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic of a u8 label file with 1 dimension (N).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

fn header(path: &Path, bytes: &[u8], magic: u32) -> Result<Vec<usize>, DataError> {
    let dims = (magic & 0xff) as usize;
    let word = |i: usize| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    if bytes.len() >= 4 && word(0) != magic {
        return Err(DataError::format(
            path,
            format!("wrong magic 0x{:08x}, expected 0x{magic:08x}", word(0)),
        ));
    }
    if bytes.len() < 4 + 4 * dims {
        return Err(DataError::format(
            path,
            format!("truncated: {} bytes, shorter than its header", bytes.len()),
        ));
    }
    Ok((1..=dims).map(|i| word(i) as usize).collect())
}

fn body<'a>(path: &Path, bytes: &'a [u8], dims: &[usize]) -> Result<&'a [u8], DataError> {
    let start = 4 + 4 * dims.len();
    let want = dims.iter().product::<usize>();
    let have = bytes.len() - start;
    if have < want {
        return Err(DataError::format(
            path,
            format!("truncated: {have} bytes of data, its header announces {want}"),
        ));
    }
    if have > want {
        return Err(DataError::format(
            path,
            format!(
                "{} bytes after the {want} its header announces",
                have - want
            ),
        ));
    }
    Ok(&bytes[start..])
}

/// Loads an image file and its label file (N × H × W images, one channel;
/// labels below `classes`).
pub fn load(images: &Path, labels: &Path, classes: usize) -> Result<Dataset, DataError> {
    let ib = read_maybe_gz(images)?;
    let idims = header(images, &ib, IMAGES_MAGIC)?;
    let pixels = body(images, &ib, &idims)?;
    let lb = read_maybe_gz(labels)?;
    let ldims = header(labels, &lb, LABELS_MAGIC)?;
    let label_bytes = body(labels, &lb, &ldims)?;
    if ldims[0] != idims[0] {
        return Err(DataError::format(
            labels,
            format!(
                "{} labels for the {} images of {}",
                ldims[0],
                idims[0],
                images.display()
            ),
        ));
    }
    check_labels(labels, label_bytes, classes)?;
    Ok(Dataset {
        images: pixels.iter().map(|&p| p as f32 / 255.0).collect(),
        labels: label_bytes.to_vec(),
        shape: [1, idims[1], idims[2]],
        classes,
    })
}

/// Writes an IDX pair (for tests and for exporting subsets).
pub fn encode(magic: u32, dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(values);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("evonet-idx-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn pair(n: u32, labels: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let pixels: Vec<u8> = (0..n * 4).map(|i| (i * 17 % 256) as u8).collect();
        (
            encode(IMAGES_MAGIC, &[n, 2, 2], &pixels),
            encode(LABELS_MAGIC, &[labels.len() as u32], labels),
        )
    }

    #[test]
    fn plain_and_gzip_files_load_alike() {
        let (i, l) = pair(3, &[1, 0, 9]);
        let plain = load(&tmp("a-img", &i), &tmp("a-lab", &l), 10).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&i).unwrap();
        let zipped = load(
            &tmp("b-img.gz", &gz.finish().unwrap()),
            &tmp("b-lab", &l),
            10,
        )
        .unwrap();
        assert_eq!(plain, zipped);
        assert_eq!(plain.shape, [1, 2, 2]);
        assert_eq!(plain.labels, vec![1, 0, 9]);
        assert_eq!(plain.image(1)[0], 68.0 / 255.0); // pixel 4 = 4 · 17
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let (i, l) = pair(3, &[1, 0, 9]);
        let err = |img: &[u8], lab: &[u8]| {
            load(&tmp("c-img", img), &tmp("c-lab", lab), 10)
                .unwrap_err()
                .to_string()
        };
        let e = err(&l, &l);
        assert!(
            e.contains("c-img") && e.contains("wrong magic 0x00000801"),
            "{e}"
        );
        let e = err(&i[..i.len() - 1], &l);
        assert!(
            e.contains("truncated: 11 bytes of data, its header announces 12"),
            "{e}"
        );
        let e = err(&i[..6], &l);
        assert!(e.contains("shorter than its header"), "{e}");
        let (_, l2) = pair(3, &[1, 0]);
        let e = err(&i, &l2);
        assert!(e.contains("2 labels for the 3 images"), "{e}");
        let (_, l3) = pair(3, &[1, 12, 0]);
        let e = err(&i, &l3);
        assert!(
            e.contains("c-lab") && e.contains("label 12 of item 1 is out of range"),
            "{e}"
        );
        let mut long = i.clone();
        long.push(0);
        assert!(err(&long, &l).contains("1 bytes after"));
        let e = load(Path::new("/nonexistent/x"), Path::new("/nonexistent/y"), 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/x"), "{e}");
    }
}
