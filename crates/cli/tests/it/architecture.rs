//! The dependency edges of ARCHITECTURE.md, checked over `cargo metadata`.

use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn workspace_dependency_edges_follow_the_architecture() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(crate::common::repo())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("evonet-core", &[][..]),
        ("evonet-nn", &[][..]),
        ("evonet-envs", &["evonet-core"][..]),
        ("evonet-strategies", &["evonet-core"][..]),
        ("evonet-neat", &["evonet-core", "evonet-nn"][..]),
        (
            "evonet-problems",
            &["evonet-core", "evonet-nn", "evonet-envs", "evonet-neat"][..],
        ),
        ("evonet-runner", &["evonet-core"][..]),
        // The Gymnasium bridge: Python processes behind the `Env` trait;
        // it knows environments only.
        ("evonet-gym", &["evonet-envs"][..]),
        // Generic over genomes and problems: it knows no strategy, no
        // environment and no config format.
        ("evonet-distributed", &["evonet-core", "evonet-runner"][..]),
        // The ONNX writer: no dependency at all, so every build can export.
        ("evonet-onnx", &[][..]),
        ("evonet-train", &["evonet-core", "evonet-onnx"][..]),
        // Architecture search: the only crate besides `train` that knows
        // about training; the backend itself stays behind `train`.
        ("evonet-nas", &["evonet-core", "evonet-train"][..]),
        // The library facade: the registry, sessions, champions; it knows
        // every domain crate but no TOML, clap or terminal.
        (
            "evonet",
            &[
                "evonet-core",
                "evonet-nn",
                "evonet-envs",
                "evonet-gym",
                "evonet-strategies",
                "evonet-problems",
                "evonet-neat",
                "evonet-runner",
                "evonet-distributed",
                "evonet-train",
                "evonet-nas",
                "evonet-onnx",
            ][..],
        ),
        // The binary: parse, dispatch, print, over the facade alone.
        ("evonet-cli", &["evonet"][..]),
    ]);
    // Crates that may not do IO or threads must not depend on crates for them.
    let no_io: &[&str] = &[
        "evonet-onnx",
        "evonet-core",
        "evonet-nn",
        "evonet-envs",
        "evonet-strategies",
        "evonet-neat",
        "evonet-problems",
        "evonet-nas",
    ];
    let forbidden_in_libs = ["anyhow", "clap", "toml", "tracing-subscriber", "indicatif"];
    // Only `train` may use the training backend.
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap();
        if name != "evonet-train" {
            for d in pkg["dependencies"].as_array().unwrap() {
                let d = d["name"].as_str().unwrap();
                assert!(
                    !d.starts_with("burn"),
                    "{name} must not use {d}: only evonet-train knows the backend"
                );
            }
        }
    }
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap();
        let deps: Vec<(&str, &str)> = pkg["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap(),
                    d["kind"].as_str().unwrap_or("normal"),
                )
            })
            .collect();
        let normal = deps.iter().filter(|(_, k)| *k == "normal").map(|(n, _)| *n);
        if let Some(ok) = allowed.get(name) {
            for d in normal.clone().filter(|d| d.starts_with("evonet-")) {
                assert!(ok.contains(&d), "{name} must not depend on {d}");
            }
            for d in normal.clone().filter(|_| name != "evonet-cli") {
                assert!(
                    !forbidden_in_libs.contains(&d),
                    "library crate {name} must not depend on {d}"
                );
            }
            if no_io.contains(&name) {
                assert!(
                    !normal.clone().any(|d| d == "rayon"),
                    "{name} must not spawn threads (rayon)"
                );
            }
        }
    }
}
