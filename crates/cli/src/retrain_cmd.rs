//! The end of an architecture search as the CLI shows it: the library's
//! final stage (`evonet::final_stage`) after `evonet run`, again with other
//! settings by `evonet retrain`, and `evonet eval` of the saved network.

use std::path::Path;

use anyhow::Result;
use serde_json::json;

use evonet::final_stage::FinalStage;
use evonet::search::Backend;
use evonet::train::{weights, LrSchedule};

use crate::{config_file, user};

/// Retrains the best architectures of the search in `out` and prints the
/// chosen one.
pub(crate) fn final_training(
    stage: &FinalStage,
    out: &Path,
    quiet: bool,
    backend: Backend<'_>,
) -> Result<()> {
    if let Some(front) = stage.write_pareto(out)? {
        println!(
            "Pareto front over {}: {} architectures of {} trained, hypervolume {:.6} (reference {:?})\n  {}",
            front.objectives.join(", "),
            front.front.len(),
            front.candidates_trained,
            front.hypervolume,
            front.reference,
            out.join("pareto.json").display()
        );
    }
    if stage.top_k() == 0 {
        println!("no final training (final_training.top_k = 0); `evonet retrain` does it later");
        return Ok(());
    }
    let plan = stage.plan(out)?;
    if !quiet {
        eprintln!(
            "retraining the best {} architectures for {} epochs on train + validation",
            plan.top.len(),
            stage.epochs()
        );
    }
    let progress = |p: evonet::final_stage::RetrainProgress<'_>| {
        if !quiet {
            eprintln!(
                "  retrained {}/{}: candidate #{} ({}) {}",
                p.done,
                p.total,
                p.candidate.id,
                p.candidate.arch,
                match (p.test_accuracy, p.seconds) {
                    (Some(a), Some(s)) => format!("test accuracy {a:.4} in {s:.0} s"),
                    _ => "failed".into(),
                }
            );
        }
    };
    let s = stage.execute_on(out, &plan, backend, &progress)?;
    println!(
        "best architecture (candidate #{}): {}\n  validation accuracy {:.4} (search), test accuracy {:.4} after {} epochs on train + validation, {} parameters",
        s.candidate,
        s.summary,
        s.val_accuracy,
        s.test_accuracy,
        s.final_epochs,
        s.params.map_or("?".into(), |p| format!("{p:.0}"))
    );
    if let (Some(acc), Some(members)) = (s.ensemble_test_accuracy, &s.ensemble_members) {
        let list: Vec<String> = members
            .iter()
            .map(|m| format!("#{} x{}", m.candidate, m.count))
            .collect();
        println!(
            "ensemble of {} networks ({}): test accuracy {acc:.4} (validation {:.4} from copies trained without it)",
            members.len(),
            list.join(", "),
            s.ensemble_val_accuracy.unwrap_or(f64::NAN)
        );
    }
    println!("  {}", out.join("best").join("summary.json").display());
    Ok(())
}

/// `evonet eval RUN/best` for an architecture search: the saved network's
/// accuracy on the run's test and validation splits (rebuilt from the
/// run's `config.toml`), beside what `summary.json` recorded.
pub(crate) fn eval(best: &Path, json_out: bool) -> Result<()> {
    let run = best.parent().unwrap_or(Path::new("."));
    let path = run.join("config.toml");
    let exp = config_file::read(&path)?;
    let data = exp
        .config()
        .data
        .as_ref()
        .ok_or_else(|| user(format!("{}: not an architecture search", path.display())))?;
    let splits = data
        .load(Path::new("."), exp.config().run.seed)
        .map_err(|e| user(format!("{}: `data`: {e}", path.display())))?;
    let w = best.join("weights.evow");
    let net = weights::load(&w).map_err(|e| user(e.to_string()))?;
    let test = evonet::train::accuracy(&net, &splits.test);
    let val = evonet::train::accuracy(&net, &splits.validation);
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

/// What `evonet retrain` changes in `[final_training]`.
#[derive(clap::Args, Debug)]
pub struct RetrainArgs {
    /// A finished architecture search's folder.
    pub dir: std::path::PathBuf,
    /// How many of the best distinct architectures.
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Final training epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Final learning rate.
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Final learning-rate schedule: constant or cosine.
    #[arg(long)]
    pub lr_schedule: Option<LrSchedule>,
    /// Shift the final training's images by up to this many pixels.
    #[arg(long)]
    pub augment_shift: Option<usize>,
    /// Also build an ensemble of the retrained architectures (Caruana's
    /// greedy selection on validation; needs --top-k of at least 2).
    #[arg(long)]
    pub ensemble: bool,
    /// Retraining threads (0: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// `evonet retrain DIR`: the final training of a finished search again,
/// with other settings.
pub(crate) fn retrain(a: RetrainArgs) -> Result<()> {
    let path = a.dir.join("config.toml");
    if !a.dir.is_dir() {
        return Err(user(format!("{}: no such run folder", a.dir.display())));
    }
    let _lock = evonet::RunLock::acquire(&a.dir).map_err(crate::run_cmd::lock_error)?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| user(format!("{}: cannot read: {e}", path.display())))?;
    let mut cfg = config_file::parse(&path, &text)?;
    let searched = cfg.training.as_ref().map(|t| t.augment);
    let (Some(fin), Some(searched)) = (cfg.final_training.as_mut(), searched) else {
        return Err(user(format!(
            "{}: not an architecture search",
            a.dir.display()
        )));
    };
    if let Some(k) = a.top_k {
        fin.top_k = k.max(1);
    }
    if let Some(e) = a.epochs {
        fin.epochs = e.max(1);
    }
    if let Some(l) = a.learning_rate {
        if !(l > 0.0 && l < 10.0) {
            return Err(user("--learning-rate must be in (0, 10)"));
        }
        fin.learning_rate = Some(l);
    }
    if a.lr_schedule.is_some() {
        fin.lr_schedule = a.lr_schedule;
    }
    if let Some(shift) = a.augment_shift {
        let base = fin.augment.unwrap_or(searched);
        fin.augment = Some(evonet::train::Augment { shift, ..base });
    }
    fin.ensemble |= a.ensemble;
    if let Some(t) = a.threads {
        cfg.run.threads = t;
    }
    let exp = evonet::Experiment::new(&path, cfg, &evonet::Registry::builtin())?;
    let mut threads = evonet::ThreadEvaluator::new(exp.config().run.threads)?;
    let search = exp.build_in(threads.pool()).map_err(evonet::Error::from)?;
    let stage = search
        .final_stage()
        .ok_or_else(|| user(format!("{}: not an architecture search", a.dir.display())))?;
    final_training(stage, &a.dir, false, Backend::Threads(&mut threads))
}
