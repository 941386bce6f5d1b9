//! The shipped digits set, and MNIST when `../shared/data/mnist` (or
//! `EVONET_MNIST_DIR`) is there.

use std::path::{Path, PathBuf};

use evonet_train::data::{csv, idx, Split};
use evonet_train::{
    accuracy, logits, onnx, predict, train, weights, Activation, Arch, Augment, Block, Cell,
    CellArch, CellBlock, CellOp, ChainArch, LrSchedule, Net, TrainConfig, TrainError,
};

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

fn conv(filters: usize, kernel: usize, stride: usize) -> Block {
    Block::Conv {
        filters,
        kernel,
        stride,
    }
}

fn relu() -> Block {
    Block::Act {
        function: Activation::Relu,
    }
}

fn pool() -> Block {
    Block::MaxPool {
        kernel: 2,
        stride: 2,
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn bits(l: &[f64]) -> Vec<u64> {
    l.iter().map(|x| x.to_bits()).collect()
}

/// conv3x3-8 relu max2 fc32 relu.
fn small_cnn() -> Arch {
    chain(vec![
        conv(8, 3, 1),
        relu(),
        pool(),
        Block::Dense { units: 32 },
        relu(),
    ])
}

#[test]
fn a_small_cnn_learns_the_digits_the_same_way_on_any_thread_count() {
    let s = digits_splits();
    let arch = small_cnn();
    let cfg = TrainConfig::new(8, 32, 3e-3);
    let run = |threads: usize, seed: u64| {
        in_pool(threads, || {
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
    assert_eq!(bits(&a.losses), bits(&b.losses), "1 and 2 threads differ");
    assert_eq!(pa, pb);
    let (c, _) = run(1, 4);
    assert_ne!(bits(&a.losses), bits(&c.losses), "the seed changes nothing");
}

#[test]
fn cosine_schedule_and_shifted_images_are_used_and_stay_deterministic() {
    let s = digits_splits();
    let arch = small_cnn();
    let plain = TrainConfig::new(8, 32, 6e-3);
    let cosine = TrainConfig {
        schedule: LrSchedule::Cosine,
        ..plain.clone()
    };
    let shifted = TrainConfig {
        augment: Augment {
            shift: 1,
            flip: false,
        },
        ..cosine.clone()
    };
    let run = |cfg: &TrainConfig, threads| {
        in_pool(threads, || {
            let t = train(&arch, &s.train, cfg, 5).unwrap();
            let l = logits(&t.net, &s.validation);
            (t, l)
        })
    };
    let (p, _) = run(&plain, 1);
    let (c, _) = run(&cosine, 1);
    assert_ne!(
        bits(&p.losses),
        bits(&c.losses),
        "the schedule changes nothing"
    );
    let (a1, l1) = run(&shifted, 1);
    let (a2, l2) = run(&shifted, 2);
    assert_eq!(bits(&a1.losses), bits(&a2.losses), "1 and 2 threads differ");
    assert_eq!(l1, l2);
    assert_ne!(
        bits(&a1.losses),
        bits(&c.losses),
        "the shift changes nothing"
    );
    // A one-pixel shift of an 8 x 8 digit is a strong augmentation: the
    // shifted run learns, more slowly.
    for (name, t, least) in [("cosine", &c, 0.9), ("cosine + shift", &a1, 0.8)] {
        let acc = accuracy(&t.net, &s.validation);
        assert!(
            acc >= least,
            "{name}: validation accuracy {acc} ({:?})",
            t.losses
        );
    }
}

/// Every kind of block in one network.
fn every_block() -> Arch {
    chain_arch_with_every_block().into()
}

fn chain(blocks: Vec<Block>) -> Arch {
    Arch::Chain(ChainArch { blocks })
}

fn chain_arch_with_every_block() -> ChainArch {
    ChainArch {
        blocks: vec![
            Block::SepConv {
                filters: 12,
                kernel: 3,
                stride: 1,
            },
            Block::BatchNorm,
            Block::Act {
                function: Activation::Gelu,
            },
            conv(8, 3, 2),
            Block::AvgPool {
                kernel: 2,
                stride: 1,
            },
            Block::Dropout { rate: 0.2 },
            Block::Dense { units: 24 },
            Block::BatchNorm,
            Block::Act {
                function: Activation::Tanh,
            },
        ],
    }
}

#[test]
fn every_block_trains_deterministically_with_dropout_and_batch_norm() {
    let s = digits_splits();
    let arch = every_block();
    let cfg = TrainConfig::new(6, 32, 3e-3);
    let run = |threads| in_pool(threads, || train(&arch, &s.train, &cfg, 9).unwrap());
    let (a, b) = (run(1), run(2));
    assert_eq!(bits(&a.losses), bits(&b.losses));
    assert_eq!(logits(&a.net, &s.test), logits(&b.net, &s.test));
    let acc = accuracy(&a.net, &s.validation);
    assert!(acc >= 0.85, "validation accuracy {acc} ({:?})", a.losses);
    // Inference is deterministic too: dropout off, running statistics.
    assert_eq!(logits(&a.net, &s.test), logits(&a.net, &s.test));
}

#[test]
fn saved_weights_load_into_the_same_predictions_and_damage_is_detected() {
    let s = digits_splits();
    let arch = every_block();
    let t = train(&arch, &s.train, &TrainConfig::new(2, 64, 3e-3), 1).unwrap();
    let bytes = weights::to_bytes(&t.net, s.train.shape, 10);
    let path = Path::new("weights.evow");
    let device = burn::tensor::Device::flex();
    let back = weights::from_bytes(&bytes, path, &device).unwrap();
    assert_eq!(back.arch(), arch);
    assert_eq!(logits(&back, &s.test), logits(&t.net, &s.test), "not exact");

    let mut bad = bytes.clone();
    bad[40] ^= 1;
    let e = weights::from_bytes(&bad, path, &device)
        .err()
        .unwrap()
        .to_string();
    assert!(e.starts_with("weights.evow: checksum mismatch"), "{e}");
    let e = weights::from_bytes(&bytes[..bytes.len() / 2], path, &device)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("checksum mismatch"), "{e}");
    let e = weights::from_bytes(b"PK\x03\x04 not weights at all", path, &device)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("wrong magic"), "{e}");
    // Tensors of another architecture are refused by name and shape.
    let other = Net::new(&chain(vec![conv(3, 3, 1)]), [1, 8, 8], 10, 0, &device).unwrap();
    let e = other
        .with_tensors(&t.net.tensors(), &device)
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "tensor `block0.weight`: found `block0.depthwise.weight` in its place"
    );
    let narrow = Net::new(&arch.scaled(0.5), [1, 8, 8], 10, 0, &device).unwrap();
    let e = narrow
        .with_tensors(&t.net.tensors(), &device)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with(
            "tensor `block0.pointwise.weight`: shape [12, 1, 1, 1], the network needs [6, 1, 1, 1]"
        ),
        "{e}"
    );
}

#[test]
fn limits_and_impossible_architectures_are_errors_not_panics() {
    let s = digits_splits();
    let arch = chain(vec![pool(), pool(), pool(), pool()]);
    let e = train(&arch, &s.train, &TrainConfig::new(1, 32, 1e-3), 0)
        .err()
        .expect("refused");
    assert!(matches!(e, TrainError::Arch(_)), "{e}");
    assert!(e.to_string().contains("cannot pool a 1×1 map"), "{e}");

    let big = chain(vec![conv(512, 7, 1), Block::Dense { units: 4096 }]);
    let mut cfg = TrainConfig::new(1, 32, 1e-3);
    cfg.memory_limit = Some(64 << 20);
    let e = train(&big, &s.train, &cfg, 0).err().expect("refused");
    assert!(matches!(e, TrainError::MemoryLimit { .. }), "{e}");

    let mut cfg = TrainConfig::new(50, 8, 1e-3);
    cfg.time_limit = Some(std::time::Duration::from_millis(1));
    let e = train(&every_block(), &s.train, &cfg, 0)
        .err()
        .expect("stopped");
    assert!(matches!(e, TrainError::TimeLimit { epoch: 0, .. }), "{e}");
}

/// The python with onnx and onnxruntime (`EVONET_PYTHON`); in CI its
/// absence is a failure, elsewhere the check is skipped.
fn onnx_python() -> Option<PathBuf> {
    match std::env::var_os("EVONET_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => panic!("CI must set EVONET_PYTHON"),
        None => {
            eprintln!("skipped: set EVONET_PYTHON to a python with onnx and onnxruntime");
            None
        }
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn onnx_export_predicts_like_evonet_in_onnxruntime() {
    let Some(python) = onnx_python() else { return };
    let s = digits_splits();
    let dir = std::env::temp_dir().join(format!("evonet-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut sep = chain_arch_with_every_block();
    sep.blocks.insert(
        3,
        Block::MaxPool {
            kernel: 3,
            stride: 1,
        },
    );
    sep.blocks.push(Block::Act {
        function: Activation::Relu,
    });
    let plain = chain(vec![conv(6, 5, 1), relu(), pool()]);
    for (i, arch) in [sep.into(), plain, every_op()].iter().enumerate() {
        let t = train(arch, &s.train, &TrainConfig::new(3, 32, 3e-3), 2).unwrap();
        let model = dir.join(format!("m{i}.onnx"));
        std::fs::write(&model, onnx::export(&t.net, s.test.shape, 10).unwrap()).unwrap();
        std::fs::write(dir.join("x.f32"), f32_bytes(&s.test.images)).unwrap();
        std::fs::write(dir.join("y.f32"), f32_bytes(&logits(&t.net, &s.test))).unwrap();
        let out = std::process::Command::new(&python)
            .arg(repo().join("scripts/check_onnx.py"))
            .args([&model, &dir.join("x.f32"), &dir.join("y.f32")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{arch}: {text}");
        assert!(text.contains("\"images\": 359"), "{text}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A cell network that uses every op, strided and not, with a cell whose
/// output concatenates several blocks.
fn every_op() -> Arch {
    let b = |i: usize, a: CellOp, j: usize, c: CellOp| CellBlock {
        inputs: [i, j],
        ops: [a, c],
    };
    Arch::Cell(CellArch {
        normal: Cell {
            blocks: vec![
                b(0, CellOp::Sep3x3, 1, CellOp::Identity),
                b(1, CellOp::Conv3x3, 2, CellOp::Avg3x3),
                b(0, CellOp::Max3x3, 1, CellOp::Sep5x5),
            ],
        },
        reduction: Cell {
            blocks: vec![
                b(0, CellOp::Identity, 1, CellOp::Max3x3),
                b(1, CellOp::Avg3x3, 2, CellOp::Conv5x5),
                b(0, CellOp::Sep3x3, 1, CellOp::Conv3x3),
            ],
        },
        filters: 6,
        cells_per_stage: 1,
        reductions: 1,
    })
}

#[test]
fn a_cell_network_learns_the_digits_the_same_way_on_any_thread_count() {
    let s = digits_splits();
    let arch = every_op();
    let cfg = TrainConfig::new(4, 32, 3e-3);
    let run = |threads| in_pool(threads, || train(&arch, &s.train, &cfg, 5).unwrap());
    let (a, b) = (run(1), run(2));
    assert_eq!(bits(&a.losses), bits(&b.losses), "1 and 2 threads differ");
    assert_eq!(logits(&a.net, &s.test), logits(&b.net, &s.test));
    let acc = accuracy(&a.net, &s.validation);
    assert!(acc >= 0.85, "validation accuracy {acc} ({:?})", a.losses);
    let cost = arch.cost([1, 8, 8], 10).unwrap();
    let counted: usize = a
        .net
        .tensors()
        .iter()
        .filter(|t| !t.name.contains("running"))
        .map(|t| t.data.len())
        .sum();
    assert_eq!(cost.params, counted, "cost() disagrees with the network");

    let bytes = weights::to_bytes(&a.net, s.train.shape, 10);
    let device = burn::tensor::Device::flex();
    let back = weights::from_bytes(&bytes, Path::new("w.evow"), &device).unwrap();
    assert_eq!(back.arch(), arch);
    assert_eq!(logits(&back, &s.test), logits(&a.net, &s.test), "not exact");
    // The cell's tensors do not fit another cell.
    let Arch::Cell(mut other) = arch.clone() else {
        unreachable!()
    };
    other.normal.blocks[0].ops[0] = CellOp::Conv3x3;
    let other = Net::new(&other.into(), [1, 8, 8], 10, 0, &device).unwrap();
    let e = other
        .with_tensors(&a.net.tensors(), &device)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("cell0.block0.op0"), "{e}");
}
