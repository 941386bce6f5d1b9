//! `evonet export --onnx`: evolved policies as ONNX models, checked against
//! onnxruntime on observations recorded by playing the champion with
//! evonet's own networks (`scripts/check_policy_onnx.py`, max abs
//! difference 1e-5).

use std::path::Path;

use evonet::champion::{MlpChampion, NeatChampion, ProblemRef};
use evonet::envs::{Action, Env, EnvId};
use evonet::nn::{Activation, ConvBuffers, ConvTorso, GraphNet, Mlp, MlpBuffers};
use evonet::problems::Head;
use evonet::replay::{load, Loaded};
use serde_json::{json, Value};

use crate::common::*;

const STEPS: usize = 200;

fn action_json(a: Action<'_>) -> Value {
    match a {
        Action::Discrete(i) => json!(i),
        Action::Continuous(v) => json!(v),
    }
}

/// One episode of an MLP champion (with its convolutional torso, if any)
/// as evonet plays it.
fn mlp_trace(c: &MlpChampion) -> Value {
    let spec = &c.policy.mlp;
    let (torso_params, dense) = c.params.split_at(c.policy.conv_params());
    let net = Mlp::new(spec, dense).unwrap();
    let mut buf = MlpBuffers::new(spec, 1);
    let torso = c.policy.conv.as_ref().map(|conv| {
        (
            ConvTorso::new(conv, torso_params).unwrap(),
            ConvBuffers::new(conv),
            vec![0.0f32; conv.features()],
        )
    });
    let mut torso = torso;
    let mut env = EnvId::parse(&c.env.id)
        .unwrap()
        .make_with(c.env.max_steps, &c.env.minatar);
    let mut obs = vec![0.0f32; c.policy.obs_dim()];
    env.reset(7, &mut obs);
    let (mut observations, mut outputs, mut actions) = (vec![], vec![], vec![]);
    for _ in 0..STEPS {
        observations.push(obs.clone());
        let mut x = obs.clone();
        if let Some(n) = &c.obs_norm {
            evonet::nn::normalize::normalize_in_place(&mut x, &n.mean, &n.std);
        }
        if let Some((t, tb, features)) = &mut torso {
            t.forward(&x, 1, tb, features);
            x = features.clone();
        }
        let out = net.forward(&x, 1, &mut buf).to_vec();
        let mut scratch = vec![0.0; out.len()];
        let action = c.policy.head.action(&out, &mut scratch);
        outputs.push(out.clone());
        actions.push(action_json(action));
        if env.step(action, &mut obs).done() {
            break;
        }
    }
    let widths = if spec.recurrent {
        spec.hidden.clone()
    } else {
        vec![]
    };
    json!({
        "observations": observations, "outputs": outputs, "actions": actions,
        "discrete": matches!(c.policy.head, Head::Discrete { .. }), "state_widths": widths,
    })
}

/// A NEAT champion on its environment's episode, or on XOR's patterns.
fn neat_trace(c: &NeatChampion) -> Value {
    let net = GraphNet::new(&c.graph).unwrap();
    let mut state = net.state(1);
    let mut out = vec![0.0f32; net.outputs()];
    let (mut observations, mut outputs, mut actions) = (vec![], vec![], vec![]);
    let ProblemRef::Env { env, head, .. } = &c.problem else {
        for x in [[0.0f32, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] {
            net.forward(&x, 1, &mut state, &mut out);
            observations.push(x.to_vec());
            outputs.push(out.clone());
            actions.push(Value::Null);
        }
        return json!({"observations": observations, "outputs": outputs, "actions": actions, "discrete": true});
    };
    let mut e = EnvId::parse(&env.id).unwrap().make(env.max_steps);
    let mut obs = vec![0.0f32; net.inputs()];
    e.reset(7, &mut obs);
    let unit = c.graph.nodes[0].activation.range() == Activation::Sigmoid.range();
    for _ in 0..STEPS {
        net.forward(&obs, 1, &mut state, &mut out);
        observations.push(obs.clone());
        outputs.push(out.clone());
        let mapped: Vec<f32> = match head {
            Head::Continuous { .. } if unit => out.iter().map(|o| 2.0 * o - 1.0).collect(),
            Head::Continuous { .. } => out.iter().map(|o| o.clamp(-1.0, 1.0)).collect(),
            Head::Discrete { .. } => out.clone(),
        };
        let mut scratch = vec![0.0; mapped.len()];
        let action = head.action(&mapped, &mut scratch);
        actions.push(action_json(action));
        if e.step(action, &mut obs).done() {
            break;
        }
    }
    json!({
        "observations": observations, "outputs": outputs, "actions": actions,
        "discrete": matches!(head, Head::Discrete { .. }),
    })
}

fn check(python: &std::ffi::OsStr, model: &Path, trace: &Value, what: &str) {
    let t = model.with_extension("trace.json");
    std::fs::write(&t, trace.to_string()).unwrap();
    let out = std::process::Command::new(python)
        .arg(repo().join("scripts/check_policy_onnx.py"))
        .args([model, &t])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: {report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{what}: {report}");
}

#[test]
fn evolved_policies_export_to_onnx_and_match_onnxruntime() {
    let d = tmp("export");
    // Observation normalisation (ES), recurrence and a continuous head
    // (DPNV), a continuous head over a box (Pendulum), NEAT on an
    // environment and on XOR, MinAtar's DQN network.
    let runs = [
        ("cartpole-es", "2"),
        ("dpnv-cmaes", "2"),
        ("pendulum-es", "2"),
        ("cartpole-neat", "3"),
        ("xor-neat", "3"),
        // A convolutional torso over MinAtar frames.
        ("minatar-breakout-ga", "2"),
    ];
    let mut traces = vec![];
    for (config, generations) in runs {
        let out = d.join(config);
        let cfg = repo().join(format!("configs/{config}.toml"));
        run_into(&cfg, &out, &["--max-generations", generations]);
        let model = d.join(format!("{config}.onnx"));
        run_ok(&["export", &path(&out.join("best")), "--onnx", &path(&model)]);
        assert!(std::fs::metadata(&model).unwrap().len() > 100);
        let trace = match load(&out.join("best")).unwrap() {
            Loaded::Mlp(c) => mlp_trace(&c.body),
            Loaded::Neat(c) => neat_trace(&c.body),
            Loaded::Vector(_) => unreachable!("policies only"),
        };
        traces.push((config, model, trace));
    }
    match std::env::var_os("EVONET_PYTHON") {
        Some(python) => {
            for (config, model, trace) in &traces {
                check(&python, model, trace, config);
            }
        }
        None if std::env::var_os("CI").is_some() => panic!("CI must set EVONET_PYTHON"),
        None => eprintln!("ONNX check skipped: set EVONET_PYTHON to a python with onnxruntime"),
    }
    // A task's parameter vector is no network.
    let bad = bin()
        .args([
            "export",
            &path(&d.join("nope")),
            "--onnx",
            &path(&d.join("x.onnx")),
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_dir_all(&d).unwrap();
}
