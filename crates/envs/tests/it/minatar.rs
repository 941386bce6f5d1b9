//! Replays MinAtar trajectories recorded from the Python package
//! (`scripts/record_minatar_fixtures.sh`): every `minatar-*.jsonl.gz` in the
//! parity folder. Each episode's environment is seeded with the recorded
//! `reset_seed`; the recorded actions go in; the action carried out after
//! stickiness, every frame (as the sorted true cells), reward and terminal
//! flag must match exactly.

use std::io::{BufRead, BufReader};
use std::path::Path;

use evonet_envs::minatar::asterix::Asterix;
use evonet_envs::minatar::breakout::Breakout;
use evonet_envs::minatar::env::{MinAtarGame, MinAtarSettings};
use evonet_envs::minatar::freeway::Freeway;
use evonet_envs::minatar::seaquest::Seaquest;
use evonet_envs::minatar::space_invaders::SpaceInvaders;
use evonet_envs::minatar::{Game, MinAtar, SIDE};
use evonet_envs::{Action, AnyEnv, Env, EnvId};
use serde_json::Value;

use crate::parity::fixture_files;

/// The true cells of a frame as `[row, col, channel]`, sorted (numpy's
/// `argwhere` order).
fn cells(frame: &[bool], channels: usize) -> Vec<[u64; 3]> {
    let mut out = vec![];
    for (i, &on) in frame.iter().enumerate() {
        if on {
            let (rc, ch) = (i / channels, i % channels);
            out.push([(rc / SIDE) as u64, (rc % SIDE) as u64, ch as u64]);
        }
    }
    out
}

fn recorded_cells(v: &Value, ctx: &str) -> Vec<[u64; 3]> {
    v.as_array()
        .unwrap_or_else(|| panic!("{ctx}: `obs` is not a list"))
        .iter()
        .map(|c| {
            let c: Vec<u64> = c
                .as_array()
                .unwrap_or_else(|| panic!("{ctx}: a cell is not a list"))
                .iter()
                .map(|x| x.as_u64().expect("cell index"))
                .collect();
            [c[0], c[1], c[2]]
        })
        .collect()
}

fn u64s(v: &Value, what: &str) -> Vec<u64> {
    v.as_array()
        .unwrap_or_else(|| panic!("`{what}` is not a list"))
        .iter()
        .map(|x| {
            x.as_u64()
                .unwrap_or_else(|| panic!("`{what}` holds a non-integer"))
        })
        .collect()
}

/// Replays one file for game `G`; returns the steps checked.
fn replay<G: Game>(
    name: &str,
    lines: impl Iterator<Item = (usize, Value)>,
    header: &Value,
) -> usize {
    let sticky = header["sticky_action_prob"]
        .as_f64()
        .expect("sticky_action_prob");
    let ramping = header["difficulty_ramping"]
        .as_bool()
        .expect("difficulty_ramping");
    let shape = u64s(&header["state_shape"], "state_shape");
    assert_eq!(shape, [10, 10, G::CHANNELS as u64], "{name}: state_shape");
    let minimal = u64s(&header["minimal_action_set"], "minimal_action_set");
    let want: Vec<u64> = G::MINIMAL_ACTIONS.iter().map(|&a| a as u64).collect();
    assert_eq!(minimal, want, "{name}: minimal_action_set");
    let mut frame = vec![false; SIDE * SIDE * G::CHANNELS];
    let mut env: Option<MinAtar<G>> = None;
    // The registered environment (`-v0`: the recorded actions are of the
    // full set) must play the same episodes through the `Env` interface.
    let game = MinAtarGame::ALL
        .into_iter()
        .find(|g| g.package_name() == G::NAME)
        .expect("a registered game");
    let settings = MinAtarSettings {
        sticky_action_prob: sticky,
        difficulty_ramping: ramping,
        minimal_action_set: None,
    };
    let mut registered: AnyEnv = EnvId::MinAtar {
        game,
        minimal: false,
    }
    .make_with(None, &settings);
    let mut obs = vec![0.0f32; registered.spec().obs_dim];
    let as_frame = |obs: &[f32]| obs.iter().map(|&o| o == 1.0).collect::<Vec<bool>>();
    let mut steps = 0;
    for (n, v) in lines {
        let ctx = format!("{name}:{n}");
        match v["type"].as_str() {
            Some("reset") => {
                let seed = v["reset_seed"].as_u64().expect("reset_seed") as u32;
                let e = MinAtar::<G>::new(sticky, ramping, seed);
                e.frame(&mut frame);
                registered.reset(u64::from(seed), &mut obs);
                assert_eq!(as_frame(&obs), frame, "{ctx}: the registered env's reset");
                assert_eq!(
                    cells(&frame, G::CHANNELS),
                    recorded_cells(&v["obs"], &ctx),
                    "{ctx}"
                );
                env = Some(e);
            }
            Some("step") => {
                let e = env
                    .as_mut()
                    .unwrap_or_else(|| panic!("{ctx}: step before reset"));
                let a = v["action"].as_u64().expect("action") as usize;
                let (r, term) = e.act(a);
                let st = registered.step(Action::Discrete(a), &mut obs);
                assert_eq!(
                    (st.reward, st.terminated),
                    (r, term),
                    "{ctx}: registered env"
                );
                let effective = v["effective_action"].as_u64().expect("effective_action");
                assert_eq!(e.last_action() as u64, effective, "{ctx}: effective action");
                e.frame(&mut frame);
                assert_eq!(as_frame(&obs), frame, "{ctx}: the registered env's frame");
                assert_eq!(
                    cells(&frame, G::CHANNELS),
                    recorded_cells(&v["obs"], &ctx),
                    "{ctx}"
                );
                assert_eq!(r, v["reward"].as_f64().expect("reward"), "{ctx}: reward");
                assert_eq!(
                    term,
                    v["terminated"].as_bool().expect("terminated"),
                    "{ctx}"
                );
                steps += 1;
            }
            other => panic!("{ctx}: unknown line type {other:?}"),
        }
    }
    steps
}

fn replay_file(path: &Path) -> usize {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut lines = BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .enumerate()
        .map(|(n, l)| {
            let l = l.unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1));
            let v: Value =
                serde_json::from_str(&l).unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1));
            (n + 1, v)
        });
    let (_, header) = lines.next().unwrap_or_else(|| panic!("{name}: empty"));
    assert_eq!(
        header["type"], "header",
        "{name}: the first line is not a header"
    );
    match header["env"].as_str() {
        Some(Asterix::NAME) => replay::<Asterix>(&name, lines, &header),
        Some(Breakout::NAME) => replay::<Breakout>(&name, lines, &header),
        Some(Freeway::NAME) => replay::<Freeway>(&name, lines, &header),
        Some(Seaquest::NAME) => replay::<Seaquest>(&name, lines, &header),
        Some(SpaceInvaders::NAME) => replay::<SpaceInvaders>(&name, lines, &header),
        other => panic!("{name}: unknown MinAtar game {other:?}"),
    }
}

#[test]
fn minatar_trajectories_replay_exactly() {
    let files = fixture_files(|f| f.starts_with("minatar-"), "minatar-*.jsonl.gz");
    for f in &files {
        let n = replay_file(f);
        assert!(n > 0, "{}: no steps", f.display());
        eprintln!("{}: {n} steps match", f.display());
    }
}
