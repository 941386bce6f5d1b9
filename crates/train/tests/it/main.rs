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

fn digits_splits() -> evonet_train::Splits {
    let d = csv::load(&repo().join("data/digits.csv"), &csv::CsvFormat::digits()).unwrap();
    Split {
        validation: 0.2,
        test: 0.2,
    }
    .apply(&d, 0)
}

#[test]
fn a_small_cnn_learns_the_digits_the_same_way_on_any_thread_count() {
    use evonet_train::{accuracy, predict, train, Block, ChainArch, TrainConfig};
    let s = digits_splits();
    let arch = ChainArch {
        blocks: vec![
            Block::Conv {
                filters: 8,
                kernel: 3,
            },
            Block::MaxPool,
            Block::Dense { units: 32 },
        ],
    };
    let cfg = TrainConfig {
        epochs: 8,
        batch_size: 32,
        learning_rate: 3e-3,
    };
    let run = |threads: usize, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let t = train(&arch, &s.train, &cfg, seed).unwrap();
            let p = predict(&t.net, &s.validation);
            (t, p)
        })
    };
    let (a, pa) = run(1, 3);
    let acc = accuracy(&a.net, &s.validation);
    assert!(acc >= 0.9, "validation accuracy {acc}");
    assert!(a.losses.last().unwrap() < &a.losses[0], "{:?}", a.losses);
    let (b, pb) = run(2, 3);
    let bits = |l: &[f64]| l.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.losses), bits(&b.losses), "1 and 2 threads differ");
    assert_eq!(pa, pb);
    let (c, _) = run(1, 4);
    assert_ne!(bits(&a.losses), bits(&c.losses), "the seed changes nothing");
}

#[test]
fn an_impossible_architecture_is_an_error_not_a_panic() {
    use evonet_train::{train, Block, ChainArch, TrainConfig, TrainError};
    let s = digits_splits();
    let arch = ChainArch {
        blocks: vec![Block::MaxPool; 4],
    };
    let cfg = TrainConfig {
        epochs: 1,
        batch_size: 32,
        learning_rate: 1e-3,
    };
    let e = train(&arch, &s.train, &cfg, 0).err().expect("refused");
    assert!(matches!(e, TrainError::Arch(_)), "{e}");
    assert!(e.to_string().contains("cannot pool a 1×1 map"), "{e}");
}
