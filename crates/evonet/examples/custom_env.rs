//! Your own environment, evolved by the Deep GA, resumed from its
//! checkpoint and replayed.
//!
//! `PointGoal-v0` below is a point mass on a plane that must reach a goal
//! drawn at reset: observations are its position, velocity and the goal,
//! actions are a force in x and y (continuous, in [-1, 1]), the reward is
//! minus the distance to the goal at each step, and an episode ends at the
//! goal or after 100 steps. Any type implementing [`evonet::envs::Env`]
//! works the same way once registered under an id of your choosing.
//!
//! ```sh
//! cargo run -p evonet --example custom_env
//! ```

use evonet::core::SeededRng;
use evonet::envs::{Action, ActionSpace, Env, EnvSpec, Step};
use evonet::replay;
use evonet::strategies::DeepGaConfig;
use evonet::{
    Experiment, ExperimentConfig, GenerationRecord, PolicyConfig, Registry, StrategyConfig,
};

const DT: f64 = 0.1;

struct PointGoal {
    spec: EnvSpec,
    /// x, y, vx, vy, goal x, goal y.
    state: [f64; 6],
    steps: u64,
}

impl PointGoal {
    fn new(max_steps: Option<u64>) -> Self {
        Self {
            spec: EnvSpec {
                id: "PointGoal-v0".into(),
                obs_dim: 6,
                frame: None,
                action_space: ActionSpace::Box {
                    low: vec![-1.0; 2],
                    high: vec![1.0; 2],
                },
                max_episode_steps: max_steps.unwrap_or(100),
                reward_threshold: Some(-60.0),
            },
            state: [0.0; 6],
            steps: 0,
        }
    }

    fn observe(&self, obs: &mut [f32]) {
        for (o, s) in obs.iter_mut().zip(self.state) {
            *o = s as f32;
        }
    }

    fn distance(&self) -> f64 {
        let [x, y, _, _, gx, gy] = self.state;
        ((x - gx).powi(2) + (y - gy).powi(2)).sqrt()
    }
}

impl Env for PointGoal {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        // Every random draw comes from the episode's seed: runs stay
        // bit-identical for any thread or worker count.
        let mut rng = SeededRng::new(seed);
        let angle = rng.uniform_range(0.0, std::f64::consts::TAU);
        self.state = [0.0, 0.0, 0.0, 0.0, 2.0 * angle.cos(), 2.0 * angle.sin()];
        self.steps = 0;
        self.observe(obs);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        let Action::Continuous(force) = action else {
            unreachable!("the action space is a box")
        };
        let [x, y, vx, vy, gx, gy] = self.state;
        let (ax, ay) = (f64::from(force[0]), f64::from(force[1]));
        let (vx, vy) = (0.9 * vx + ax * DT, 0.9 * vy + ay * DT);
        self.state = [x + vx * DT, y + vy * DT, vx, vy, gx, gy];
        self.steps += 1;
        self.observe(obs);
        let d = self.distance();
        Step {
            reward: -d,
            terminated: d < 0.1,
            truncated: self.steps >= self.spec.max_episode_steps,
        }
    }

    fn state(&self) -> Vec<f64> {
        self.state.to_vec()
    }

    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        self.state.copy_from_slice(&state[..6]);
        self.steps = 0;
        self.observe(obs);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut registry = Registry::builtin();
    registry.register_env("PointGoal-v0", |max_steps| {
        Box::new(PointGoal::new(max_steps))
    })?;

    let ga = StrategyConfig::DeepGa(DeepGaConfig {
        population: 64,
        truncation: 12,
        sigma: 0.1,
        elite_candidates: 4,
        elite_episodes: 8,
    });
    let mut config = ExperimentConfig::on_env("PointGoal-v0", ga, 30);
    config.policy = Some(PolicyConfig {
        hidden: vec![16],
        ..PolicyConfig::default()
    });
    config.run.seed = 7;
    config.run.noise_table_size = 1 << 20;
    config.run.stop_when_solved = false;
    config.run.checkpoint_every = 4;
    if let Some(env) = config.env.as_mut() {
        env.episodes = 4;
    }
    let exp = Experiment::new("custom_env", config, &registry)?;

    let base = std::env::temp_dir().join(format!("evonet-custom-env-{}", std::process::id()));
    let (interrupted, straight) = (base.join("resumed"), base.join("straight"));

    // Half the budget, then a resume from the checkpoint for the rest.
    let mut log = |r: &GenerationRecord| {
        println!(
            "generation {:>2}: best {:>8.2}  champion test {:>8.2}",
            r.generation,
            r.best_fitness.unwrap_or(f64::NAN),
            r.test_score.unwrap_or(f64::NAN)
        )
    };
    exp.session(&interrupted)
        .max_generations(15)
        .observer(&mut log)
        .run()?;
    println!(
        "-- resumed from {}",
        interrupted.join("checkpoints").display()
    );
    let resumed = exp.session(&interrupted).observer(&mut log).resume()?;

    // The same run without the interruption ends in the same place.
    exp.session(&straight).run()?;
    let read = |dir: &std::path::Path| std::fs::read_to_string(dir.join("best/champion.json"));
    assert_eq!(read(&interrupted)?, read(&straight)?, "resume is exact");
    println!(
        "{} generations; the resumed run's champion equals the uninterrupted run's",
        resumed.state().generation
    );

    // Replay the champion on 20 fresh episodes with the same registry.
    let best = interrupted.join("best");
    let replay::Loaded::Mlp(champion) = replay::load(&best)? else {
        unreachable!("an MLP policy")
    };
    let report = replay::replay_mlp(&best, &champion.body, &registry, 20, 1)?;
    println!(
        "champion of generation {} on 20 fresh episodes: mean return {:.2} (threshold {:?}, solved {:?})",
        champion.provenance.generation,
        report.mean_return,
        report.success_threshold,
        report.solved
    );
    std::fs::remove_dir_all(&base)?;
    Ok(())
}
