//! The end of an architecture search: the best distinct architectures of
//! the search (by validation accuracy, read back from `metrics.jsonl`) are
//! retrained at full fidelity on train + validation and scored once on the
//! test split; the best by search validation accuracy (never by test
//! accuracy) goes to `best/` with its weights, an ONNX export and
//! `summary.json`. Resuming a finished search does this again and writes
//! the same files.

use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde_json::json;

use evonet_core::{derive_seed, Purpose};
use evonet_nas::NasProblem;
use evonet_runner::atomic::write_atomic;
use evonet_train::{onnx, weights, Arch, LrSchedule};

/// Format version of `best/summary.json` and `best/architecture.json`.
pub const FORMAT_VERSION: u32 = 1;
/// Format version of `best/architecture.json` (2: the architecture is
/// tagged by its `space`, chain or cell).
pub const ARCH_FORMAT_VERSION: u32 = 2;

/// A successful candidate of the search.
struct Found {
    id: u64,
    val_accuracy: f64,
    arch: Arch,
    details: serde_json::Map<String, serde_json::Value>,
}

fn number(d: &serde_json::Map<String, serde_json::Value>, key: &str) -> serde_json::Value {
    d.get(key).cloned().unwrap_or(serde_json::Value::Null)
}

/// `evonet eval RUN/best` for an architecture search: the saved network's
/// accuracy on the run's test and validation splits (rebuilt from the
/// run's `config.toml`), beside what `summary.json` recorded.
pub(crate) fn eval(best: &Path, json_out: bool) -> Result<()> {
    let run = best.parent().unwrap_or(Path::new("."));
    let path = run.join("config.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| crate::user(format!("{}: cannot read: {e}", path.display())))?;
    let cfg = crate::config::Config::parse(&path, &text)?;
    let data = cfg
        .data
        .as_ref()
        .ok_or_else(|| crate::user(format!("{}: not an architecture search", path.display())))?;
    let splits = data
        .load(Path::new("."), cfg.run.seed)
        .map_err(|e| crate::user(format!("{}: `data`: {e}", path.display())))?;
    let w = best.join("weights.evow");
    let net = weights::load(&w).map_err(|e| crate::user(e.to_string()))?;
    let test = evonet_train::accuracy(&net, &splits.test);
    let val = evonet_train::accuracy(&net, &splits.validation);
    let recorded = std::fs::read_to_string(best.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["test_accuracy"].as_f64());
    if json_out {
        println!(
            "{}",
            json!({
                "test_accuracy": test,
                "test_images": splits.test.len(),
                "validation_accuracy": val,
                "recorded_test_accuracy": recorded,
                "architecture": net.arch().to_string(),
            })
        );
    } else {
        println!("{}: {}", w.display(), net.arch());
        println!(
            "test accuracy {test:.4} on {} images (summary.json: {}); validation {val:.4} (trained on it)",
            splits.test.len(),
            recorded.map_or("none".into(), |r| format!("{r:.4}"))
        );
    }
    Ok(())
}

/// `evonet retrain DIR`: the final training of a finished search again,
/// with other settings.
pub(crate) fn retrain(
    dir: &Path,
    top_k: Option<usize>,
    epochs: Option<usize>,
    learning_rate: Option<f64>,
    lr_schedule: Option<LrSchedule>,
    augment_shift: Option<usize>,
    threads: Option<usize>,
) -> Result<()> {
    let path = dir.join("config.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| crate::user(format!("{}: cannot read: {e}", path.display())))?;
    let mut cfg = crate::config::Config::parse(&path, &text)?;
    if !cfg.strategy.is_nas() {
        return Err(crate::user(format!(
            "{}: not an architecture search",
            dir.display()
        )));
    }
    let fin = cfg.final_training.as_mut().expect("validated");
    if let Some(k) = top_k {
        fin.top_k = k.max(1);
    }
    if let Some(e) = epochs {
        fin.epochs = e.max(1);
    }
    if let Some(l) = learning_rate {
        if !(l > 0.0 && l < 10.0) {
            return Err(crate::user("--learning-rate must be in (0, 10)"));
        }
        fin.learning_rate = Some(l);
    }
    if lr_schedule.is_some() {
        fin.lr_schedule = lr_schedule;
    }
    if let Some(shift) = augment_shift {
        let searched = cfg.training.as_ref().expect("validated").augment;
        let base = fin.augment.unwrap_or(searched);
        fin.augment = Some(evonet_train::Augment { shift, ..base });
    }
    if let Some(t) = threads {
        cfg.run.threads = t;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .context("starting a thread")?;
    match crate::setup::Built::new(&cfg, &pool, &path)? {
        crate::setup::Built::Nas {
            problem,
            threads,
            seed,
            ..
        } => finalize(dir, &problem, seed, threads, false),
        _ => unreachable!("is_nas"),
    }
}

pub(crate) fn finalize(
    out: &Path,
    problem: &NasProblem,
    seed: u64,
    threads: usize,
    quiet: bool,
) -> Result<()> {
    if problem.final_training().top_k == 0 {
        println!("no final training (final_training.top_k = 0); `evonet retrain` does it later");
        return Ok(());
    }
    let metrics = out.join("metrics.jsonl");
    let records = evonet_runner::read_candidates(&metrics)
        .with_context(|| format!("reading {}", metrics.display()))?;
    let trained = records.len();
    let failed = records.iter().filter(|r| r.failed.is_some()).count();
    let mut found: Vec<Found> = records
        .into_iter()
        .filter_map(|r| {
            let arch = serde_json::from_value(r.genome.get("arch")?.clone()).ok()?;
            Some(Found {
                id: r.candidate,
                val_accuracy: r.fitness?,
                arch,
                details: r.details,
            })
        })
        .collect();
    // Best first; the earlier candidate first among equals.
    found.sort_by(|a, b| {
        b.val_accuracy
            .total_cmp(&a.val_accuracy)
            .then(a.id.cmp(&b.id))
    });
    let mut top: Vec<Found> = Vec::new();
    for f in found {
        if top.len() < problem.final_training().top_k && top.iter().all(|t| t.arch != f.arch) {
            top.push(f);
        }
    }
    if top.is_empty() {
        anyhow::bail!("no candidate of the search trained successfully: nothing to retrain");
    }
    let epochs = problem.final_training().epochs;
    if !quiet {
        eprintln!(
            "retraining the best {} architectures for {epochs} epochs on train + validation",
            top.len()
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting retraining threads")?;
    let retrained: Vec<_> = pool.install(|| {
        top.par_iter()
            .map(|f| problem.retrain(&f.arch, derive_seed(seed, 0, f.id, Purpose::Test)))
            .collect()
    });
    let mut table = Vec::new();
    let mut chosen = None;
    for (rank, (f, r)) in top.iter().zip(retrained).enumerate() {
        let (test, secs, error) = match &r {
            Ok(r) => (Some(r.test_accuracy), Some(r.train_s), None),
            Err(e) => (None, None, Some(e.to_string())),
        };
        table.push(json!({
            "rank": rank + 1,
            "candidate": f.id,
            "summary": f.arch.to_string(),
            "val_accuracy": f.val_accuracy,
            "test_accuracy": test,
            "params": number(&f.details, "params"),
            "flops": number(&f.details, "flops"),
            "retrain_s": secs,
            "error": error,
        }));
        if chosen.is_none() {
            if let Ok(r) = r {
                chosen = Some((f, r));
            }
        }
    }
    let Some((f, r)) = chosen else {
        anyhow::bail!("retraining failed for every one of the best architectures: {table:?}");
    };
    let best = out.join("best");
    let (input, classes) = (problem.input(), problem.classes());
    let arch_json = json!({
        "format_version": ARCH_FORMAT_VERSION,
        "kind": f.arch.space(),
        "input": input,
        "classes": classes,
        "architecture": f.arch,
    });
    write(&best.join("architecture.json"), &pretty(&arch_json))?;
    write(
        &best.join("weights.evow"),
        &weights::to_bytes(&r.net, input, classes),
    )?;
    let model = onnx::export(&r.net, input, classes).context("exporting ONNX")?;
    write(&best.join("model.onnx"), &model)?;
    let final_cfg = problem.final_config();
    let summary = json!({
        "format_version": FORMAT_VERSION,
        "kind": "nas_summary",
        "candidate": f.id,
        "summary": f.arch.to_string(),
        "val_accuracy": f.val_accuracy,
        "test_accuracy": r.test_accuracy,
        "params": number(&f.details, "params"),
        "flops": number(&f.details, "flops"),
        "final_epochs": epochs,
        "final_learning_rate": final_cfg.learning_rate,
        "final_lr_schedule": final_cfg.schedule.name(),
        "final_augment": final_cfg.augment,
        "final_losses": r.losses,
        "candidates_trained": trained,
        "candidates_failed": failed,
        "test_images": problem.splits().test.len(),
        "files": {
            "architecture": "architecture.json",
            "weights": "weights.evow",
            "onnx": "model.onnx"
        },
        "top_k": table,
    });
    write(&best.join("summary.json"), &pretty(&summary))?;
    println!(
        "best architecture (candidate #{}): {}\n  validation accuracy {:.4} (search), test accuracy {:.4} after {epochs} epochs on train + validation, {} parameters",
        f.id,
        f.arch,
        f.val_accuracy,
        r.test_accuracy,
        f.details
            .get("params")
            .and_then(|p| p.as_f64())
            .map_or("?".into(), |p| format!("{p:.0}"))
    );
    println!("  {}", best.join("summary.json").display());
    Ok(())
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(v).expect("json");
    s.push('\n');
    s.into_bytes()
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}
