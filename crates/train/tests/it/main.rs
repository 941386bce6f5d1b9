//! The shipped digits set, and MNIST when `../shared/data/mnist` (or
//! `EVONET_MNIST_DIR`) is there.

use std::path::{Path, PathBuf};

use evonet_train::data::{csv, idx, Split};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_shipped_digits_set_loads_whole() {
    let d = csv::load(&repo().join("data/digits.csv"), &csv::CsvFormat::digits()).unwrap();
    assert_eq!(d.len(), 1797);
    assert_eq!(d.shape, [1, 8, 8]);
    let counts = d.class_counts();
    assert!(counts.iter().all(|c| (174..=183).contains(c)), "{counts:?}");
    assert!(d.images.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(d.images.contains(&1.0));
    let s = Split {
        validation: 0.15,
        test: 0.15,
    }
    .apply(&d, 0);
    assert_eq!(s.train.len() + s.validation.len() + s.test.len(), 1797);
    assert!((265..=275).contains(&s.test.len()), "{}", s.test.len());
}

#[test]
fn mnist_loads_when_present() {
    let dir = std::env::var_os("EVONET_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data/mnist"));
    if !dir.join("t10k-images.idx3-ubyte.gz").exists() {
        eprintln!("skipped: no MNIST in {}", dir.display());
        return;
    }
    let t = idx::load(
        &dir.join("t10k-images.idx3-ubyte.gz"),
        &dir.join("t10k-labels.idx1-ubyte.gz"),
        10,
    )
    .unwrap();
    assert_eq!(t.len(), 10_000);
    assert_eq!(t.shape, [1, 28, 28]);
    assert_eq!(t.class_counts().iter().sum::<usize>(), 10_000);
    // A mismatched pair is refused with both names.
    let e = idx::load(
        &dir.join("t10k-images.idx3-ubyte.gz"),
        &dir.join("train-labels.idx1-ubyte.gz"),
        10,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("60000 labels for the 10000 images"), "{e}");
}
