//! The deceptive maze's cost (a bench binary; prints medians).
//!
//!     cargo bench -p evonet-problems --bench maze [-- --quick] [SECTION...]
//!
//! 1. `maze_env`: Maze/Hard-v0 steps per second under random actions (the
//!    robot's sensors and collision test: 6 rangefinders and 13 walls),
//!    beside CartPole-v1 under random actions in the same process as the
//!    baseline.
//! 2. `maze_neat`: NEAT networks of the hard-maze config's first
//!    generation (10 inputs, 2 outputs, random weights, recurrent links
//!    allowed) evaluated on Maze/Hard-v0: evaluations (400 steps each) per
//!    second on one thread, and what 250,000 evaluations would take.

#[path = "common/mod.rs"]
#[allow(dead_code)]
mod common;

use std::hint::black_box;
use std::time::Instant;

use common::{median, Args};
use evonet_core::{EvalRequest, Problem, SeededRng};
use evonet_envs::maze::{InputLayout, MazeMap};
use evonet_envs::{Action, Env, EnvId};
use evonet_neat::{Neat, NeatConfig};
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HARD: EnvId = EnvId::Maze {
    map: MazeMap::Hard,
    layout: InputLayout::Fixed,
};

/// Steps per second of `id` under uniform random actions.
fn env_rate(id: EnvId, steps: u64) -> f64 {
    let mut env = id.make(None);
    let d = env.spec().obs_dim;
    let continuous = matches!(
        env.spec().action_space,
        evonet_envs::ActionSpace::Box { .. }
    );
    let mut obs = vec![0.0f32; d];
    let mut rng = SeededRng::new(7);
    env.reset(0, &mut obs);
    let t = Instant::now();
    let mut episode = 0;
    for _ in 0..steps {
        let a = [rng.uniform() as f32, rng.uniform() as f32];
        let action = if continuous {
            Action::Continuous(&a)
        } else {
            Action::Discrete(usize::from(a[0] > 0.5))
        };
        if env.step(action, &mut obs).done() {
            episode += 1;
            env.reset(episode, &mut obs);
        }
        black_box(&obs);
    }
    steps as f64 / t.elapsed().as_secs_f64()
}

fn maze_env(args: &Args, reps: usize) {
    let steps = if args.quick { 200_000 } else { 2_000_000 };
    let maze = median((0..reps).map(|_| env_rate(HARD, steps)).collect());
    let cart = median(
        (0..reps)
            .map(|_| env_rate(EnvId::CartPole, steps))
            .collect(),
    );
    println!("\n## maze_env: random actions, one thread");
    println!("| environment | steps/s | ratio to CartPole-v1 |");
    println!("|---|---|---|");
    println!("| Maze/Hard-v0 | {maze:.0} | {:.3} |", maze / cart);
    println!("| CartPole-v1 | {cart:.0} | 1 |");
}

fn maze_neat(args: &Args, reps: usize) {
    // The hard-maze configs' population and topology settings.
    let cfg = NeatConfig {
        pop_size: Some(250),
        feed_forward: Some(false),
        conn_add_prob: Some(0.1),
        recurrent_link_prob: Some(0.15),
        ..NeatConfig::default()
    };
    let env = HARD.make(None);
    let spec = env.spec().clone();
    let policy = PolicySpec::new(
        spec.obs_dim,
        &spec.action_space,
        vec![],
        evonet_nn::Activation::Tanh,
        false,
    );
    let problem = RlProblem::new(
        evonet_problems::rollout::RolloutEnv {
            env: HARD.into(),
            max_steps: None,
            start_angle: None,
            minatar: Default::default(),
        },
        policy,
        1,
        Task {
            kind: TaskKind::ReachGoal,
            test_episodes: 1,
            success_threshold: None,
        },
    );
    let neat = Neat::new(cfg.resolve(), spec.obs_dim, 2).expect("NEAT settings");
    let mut st = evonet_core::Strategy::init(&neat, 1).expect("init");
    let genomes: Vec<_> = evonet_core::Strategy::ask(&neat, &mut st)
        .into_iter()
        .map(|c| c.genome)
        .collect();
    let n = if args.quick { 50 } else { genomes.len() };
    let rates: Vec<f64> = (0..reps)
        .map(|rep| {
            let t = Instant::now();
            for (i, g) in genomes[..n].iter().enumerate() {
                black_box(
                    problem
                        .evaluate(g, &EvalRequest::new((rep * n + i) as u64))
                        .expect("evaluation"),
                );
            }
            n as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    let rate = median(rates);
    println!("\n## maze_neat: first-generation NEAT networks on Maze/Hard-v0, one thread");
    println!("| evaluations/s | env steps/s | 250,000 evaluations |");
    println!("|---|---|---|");
    println!(
        "| {rate:.0} | {:.0} | {:.1} s |",
        rate * 400.0,
        250_000.0 / rate
    );
}

fn main() {
    let args = Args::parse();
    let reps = if args.quick { 3 } else { 5 };
    args.banner("maze bench", reps);
    if args.selected("maze_env") {
        maze_env(&args, reps);
    }
    if args.selected("maze_neat") {
        maze_neat(&args, reps);
    }
}
