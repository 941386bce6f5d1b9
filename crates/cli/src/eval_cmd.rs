//! `evonet eval`: replay a saved champion on fresh episodes (or, for XOR,
//! on the four patterns). Loading and replaying are the library's
//! (`evonet::replay`); this prints.

use std::path::Path;

use anyhow::Result;

use evonet::champion::{NeatChampion, ProblemRef};
use evonet::problems::xor::{xor_outputs, xor_score, XOR_INPUTS};
use evonet::replay::{self, Loaded, ReplayReport};

use crate::user;

/// `env`: replay on another environment id than the champion's.
pub fn eval(path: &Path, episodes: u32, seed: u64, json: bool, env: Option<&str>) -> Result<()> {
    if episodes == 0 {
        return Err(user("--episodes must be at least 1"));
    }
    #[cfg(feature = "nas")]
    if path.join("weights.evow").exists() {
        return crate::retrain_cmd::eval(path, json);
    }
    let file = replay::champion_path(path);
    let registry = evonet::Registry::builtin();
    let mut loaded = replay::load(path).map_err(|e| user(e.to_string()))?;
    if let Some(id) = env {
        loaded.move_to_env(id);
    }
    let report = match loaded {
        Loaded::Mlp(c) => replay::replay_mlp(&file, &c.body, &registry, episodes, seed),
        Loaded::Neat(c) if c.body.problem == ProblemRef::Xor => return eval_xor(&c.body, json),
        Loaded::Neat(c) => replay::replay_neat(&file, &c.body, &registry, episodes, seed),
        Loaded::Vector(c) => {
            return Err(user(format!(
            "{}: a parameter vector of task `{}`: evaluate it with that task's fitness function",
            file.display(),
            c.body.task
        )))
        }
    }
    // A champion that does not fit its environment is the file's fault.
    .map_err(|e| user(e.to_string()))?;
    print_report(&report, json);
    Ok(())
}

/// `evonet export PATH --onnx FILE`.
pub fn export(path: &Path, onnx: &Path) -> Result<()> {
    let bytes = if path.join("weights.evow").exists() {
        network_onnx(path)?
    } else if is_architecture_file(path) {
        untrained_onnx(path)?
    } else {
        let file = replay::champion_path(path);
        let fail = |e: evonet::export::ExportError| user(format!("{}: {e}", file.display()));
        match replay::load(path).map_err(|e| user(e.to_string()))? {
            Loaded::Mlp(c) => evonet::export::mlp_policy(&c.body).map_err(fail)?,
            Loaded::Neat(c) => evonet::export::neat_network(&c.body).map_err(fail)?,
            Loaded::Vector(c) => {
                return Err(user(format!(
                    "{}: a parameter vector of task `{}` is no network: nothing to export",
                    file.display(),
                    c.body.task
                )))
            }
        }
    };
    evonet::runner::atomic::write_atomic(onnx, &bytes)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", onnx.display()))?;
    println!("{} ({} bytes)", onnx.display(), bytes.len());
    Ok(())
}

/// Whether `path` is an architecture file (a front member's
/// `pareto/candidate-ID.json`, `best/architecture.json`).
fn is_architecture_file(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    path.is_file()
        && serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|v| v.get("architecture").is_some() && v.get("classes").is_some())
}

/// The ONNX model of an architecture with its initial weights, for
/// timing or loading elsewhere (said on stderr).
#[cfg(feature = "nas")]
fn untrained_onnx(path: &Path) -> Result<Vec<u8>> {
    let file = evonet::final_stage::read_architecture(path).map_err(user)?;
    eprintln!(
        "{}: an architecture without trained weights: exported with its initial weights (for timing and loading checks, not for predictions)",
        path.display()
    );
    evonet::train::onnx::export_untrained(&file.architecture, file.input, file.classes)
        .map_err(|e| user(format!("{}: {e}", path.display())))
}

#[cfg(not(feature = "nas"))]
fn untrained_onnx(path: &Path) -> Result<Vec<u8>> {
    network_onnx(path)
}

/// The ONNX model of a search's trained best network.
#[cfg(feature = "nas")]
fn network_onnx(best: &Path) -> Result<Vec<u8>> {
    let w = best.join("weights.evow");
    let net = evonet::train::weights::load(&w).map_err(|e| user(e.to_string()))?;
    let (input, classes) = net_shape(best)?;
    evonet::train::onnx::export(&net, input, classes).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(not(feature = "nas"))]
fn network_onnx(best: &Path) -> Result<Vec<u8>> {
    Err(user(format!(
        "{}: a trained architecture; this evonet was built without architecture search (feature `nas`)",
        best.display()
    )))
}

/// The input shape and classes of a search's best network, from
/// `architecture.json`.
#[cfg(feature = "nas")]
fn net_shape(best: &Path) -> Result<([usize; 3], usize)> {
    let p = best.join("architecture.json");
    let text = std::fs::read_to_string(&p)
        .map_err(|e| user(format!("{}: cannot read: {e}", p.display())))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| user(format!("{}: {e}", p.display())))?;
    let input: Option<[usize; 3]> = serde_json::from_value(v["input"].clone()).ok();
    match (input, v["classes"].as_u64()) {
        (Some(i), Some(c)) => Ok((i, c as usize)),
        _ => Err(user(format!(
            "{}: `input` or `classes` missing",
            p.display()
        ))),
    }
}

fn print_report(r: &ReplayReport, json: bool) {
    if json {
        // A struct of numbers and strings: serialising cannot fail.
        println!("{}", serde_json::to_string(r).unwrap_or_default());
        return;
    }
    println!("{} over {} episodes (seed {}):", r.env, r.episodes, r.seed);
    println!(
        "  mean {:.3}  std {:.3}  min {:.3}  max {:.3}",
        r.mean_return, r.std_return, r.min_return, r.max_return
    );
    if let (Some(t), Some(ok)) = (r.success_threshold, r.solved) {
        println!(
            "  {} the success threshold {t}",
            if ok { "meets" } else { "misses" }
        );
    }
}

fn eval_xor(c: &NeatChampion, json: bool) -> Result<()> {
    let out = xor_outputs(&c.graph).map_err(|e| anyhow::anyhow!("XOR replay failed: {e}"))?;
    let (fitness, solved) = xor_score(&out);
    if json {
        println!(
            "{}",
            serde_json::json!({
                "format_version": evonet::runner::FORMAT_VERSION,
                "task": "xor",
                "outputs": out,
                "fitness": fitness,
                "solved": solved,
                "hidden_nodes": c.graph.hidden(),
                "enabled_conns": c.graph.edges.len(),
            })
        );
    } else {
        println!("XOR:");
        for (x, o) in XOR_INPUTS.iter().zip(out) {
            println!("  {} {} -> {o:.4}", x[0], x[1]);
        }
        println!(
            "  fitness {fitness:.4} of 16, {} ({} hidden nodes, {} enabled connections)",
            if solved { "solved" } else { "not solved" },
            c.graph.hidden(),
            c.graph.edges.len()
        );
    }
    Ok(())
}
