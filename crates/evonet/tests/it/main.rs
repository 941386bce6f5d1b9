//! The library as a Rust user drives it: the registry, user environments
//! and fitness functions, sessions, resume and observers.

use std::path::{Path, PathBuf};

use evonet::core::SeededRng;
use evonet::envs::{Action, ActionSpace, Env, EnvSpec, Step};
use evonet::strategies::{CmaEsConfig, DeepGaConfig, OpenEsConfig};
use evonet::{
    Experiment, ExperimentConfig, GenerationRecord, GenomeKind, Registry, StrategyConfig,
    STRATEGIES,
};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("evonet-lib-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A 1-D walk to a target drawn at reset: observation (position, target),
/// actions left / stay / right, reward −|distance|, 30 steps.
struct Walk {
    spec: EnvSpec,
    pos: f64,
    target: f64,
    steps: u64,
}

impl Walk {
    fn new(max_steps: Option<u64>) -> Self {
        Self {
            spec: EnvSpec {
                id: "Walk-v0".into(),
                obs_dim: 2,
                frame: None,
                action_space: ActionSpace::Discrete(3),
                max_episode_steps: max_steps.unwrap_or(30),
                reward_threshold: None,
            },
            pos: 0.0,
            target: 0.0,
            steps: 0,
        }
    }
    fn observe(&self, obs: &mut [f32]) {
        obs[0] = self.pos as f32;
        obs[1] = self.target as f32;
    }
}

impl Env for Walk {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        self.target = SeededRng::new(seed).uniform_range(-3.0, 3.0);
        self.pos = 0.0;
        self.steps = 0;
        self.observe(obs);
    }
    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        if let Action::Discrete(a) = action {
            self.pos += 0.25 * (a as f64 - 1.0);
        }
        self.steps += 1;
        self.observe(obs);
        Step {
            reward: -(self.pos - self.target).abs(),
            terminated: false,
            truncated: self.steps >= self.spec.max_episode_steps,
        }
    }
    fn state(&self) -> Vec<f64> {
        vec![self.pos, self.target]
    }
    fn set_state(&mut self, state: &[f64], obs: &mut [f32]) {
        (self.pos, self.target, self.steps) = (state[0], state[1], 0);
        self.observe(obs);
    }
}

fn registry() -> Registry {
    let mut r = Registry::builtin();
    r.register_env("Walk-v0", |m| Box::new(Walk::new(m)))
        .unwrap();
    r
}

fn walk_ga(generations: u64, threads: usize) -> ExperimentConfig {
    let ga = StrategyConfig::DeepGa(DeepGaConfig {
        population: 24,
        truncation: 6,
        sigma: 0.1,
        elite_candidates: 3,
        elite_episodes: 4,
    });
    let mut c = ExperimentConfig::on_env("Walk-v0", ga, generations);
    c.run.seed = 11;
    c.run.threads = threads;
    c.run.noise_table_size = 1 << 16;
    c.run.stop_when_solved = false;
    c.run.checkpoint_every = 2;
    c.policy = Some(evonet::PolicyConfig {
        hidden: vec![8],
        ..Default::default()
    });
    c.env.as_mut().unwrap().episodes = 3;
    c.env.as_mut().unwrap().test_episodes = 10;
    c
}

/// `metrics.jsonl` without the timings, and the champion file.
fn results(dir: &Path) -> (Vec<serde_json::Value>, String) {
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    let lines = metrics
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("elapsed_s");
            o.remove("evals_per_s");
            v
        })
        .collect();
    let champion = std::fs::read_to_string(dir.join("best/champion.json")).unwrap();
    (lines, champion)
}

#[test]
fn user_env_runs_resume_exactly_on_any_thread_count() {
    let reg = registry();
    let straight = tmp("walk-straight");
    Experiment::new("walk", walk_ga(6, 1), &reg)
        .unwrap()
        .session(&straight)
        .run()
        .unwrap();
    let resumed = tmp("walk-resumed");
    let exp = Experiment::new("walk", walk_ga(6, 2), &reg).unwrap();
    let first = exp.session(&resumed).max_generations(3).run().unwrap();
    assert_eq!(first.state().generation, 3);
    let done = exp.session(&resumed).resume().unwrap();
    assert_eq!(done.state().generation, 6);
    let (a, b) = (results(&straight), results(&resumed));
    assert_eq!(a.0.len(), 6);
    assert_eq!(a, b, "interrupted on 2 threads = straight on 1 thread");
    // The champion replays through the same registry.
    let best = resumed.join("best");
    let evonet::replay::Loaded::Mlp(c) = evonet::replay::load(&best).unwrap() else {
        panic!("an MLP champion")
    };
    assert_eq!(c.body.env.id, "Walk-v0");
    let r = evonet::replay::replay_mlp(&best, &c.body, &reg, 5, 3).unwrap();
    assert!(r.mean_return.is_finite() && r.mean_return <= 0.0);
    // Without the registration, the id is unknown and the message lists
    // what is known.
    let e = evonet::replay::replay_mlp(&best, &c.body, &Registry::builtin(), 5, 3).unwrap_err();
    assert!(e.to_string().contains("Walk-v0") && e.to_string().contains("CartPole-v1"));
    for d in [straight, resumed] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn fitness_closures_are_optimised_by_cma_es_and_es() {
    let mut reg = Registry::builtin();
    reg.register_fitness("shifted_sphere", 8, 1.0, |x| {
        -x.iter().map(|&v| (f64::from(v) - 0.5).powi(2)).sum::<f64>()
    })
    .unwrap();
    let cma = StrategyConfig::CmaEs(CmaEsConfig {
        population: 0,
        sigma: 0.5,
        separable: false,
        init_scale: 1.0,
        restarts: 0,
        max_dimension: 5_000,
    });
    let es = StrategyConfig::OpenEs(OpenEsConfig {
        population: 100,
        sigma: 0.05,
        learning_rate: 0.02,
        l2_coeff: 0.0,
        obs_norm: false,
        obs_stats_prob: 0.0,
    });
    for (name, strategy, generations, reach) in [("cma", cma, 150, -1e-8), ("es", es, 300, -1e-2)] {
        let mut cfg = ExperimentConfig::on_task("shifted_sphere", strategy, generations);
        cfg.run.stop_when_solved = false;
        let exp = Experiment::new(name, cfg, &reg).unwrap();
        let search = exp.build().unwrap();
        assert_eq!(search.genome(), GenomeKind::Params);
        assert_eq!(search.parameters(), Some(8));
        let out = tmp(&format!("closure-{name}"));
        let mut seen = 0u64;
        let mut count = |_: &GenerationRecord| seen += 1;
        let done = exp.session(&out).observer(&mut count).run().unwrap();
        assert_eq!(seen, generations);
        let best = done.state().best_test.unwrap();
        assert!(best > reach, "{name}: {best}");
        let champion: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("best/champion.json")).unwrap())
                .unwrap();
        assert_eq!(champion["kind"], "parameter_vector");
        assert_eq!(champion["task"], "shifted_sphere");
        assert_eq!(champion["params"].as_array().unwrap().len(), 8);
        std::fs::remove_dir_all(out).unwrap();
    }
}

#[test]
fn deep_ga_evolves_a_builtin_benchmark_through_seed_chains() {
    let ga = StrategyConfig::DeepGa(DeepGaConfig {
        population: 40,
        truncation: 8,
        sigma: 0.1,
        elite_candidates: 2,
        elite_episodes: 1,
    });
    let mut cfg = ExperimentConfig::on_task("sphere", ga, 40);
    cfg.task.as_mut().unwrap().dim = Some(5);
    cfg.task.as_mut().unwrap().target = Some(-0.05);
    cfg.run.noise_table_size = 1 << 14;
    let exp = Experiment::new("ga-sphere", cfg, &Registry::builtin()).unwrap();
    let out = tmp("ga-sphere");
    let done = exp.session(&out).run().unwrap();
    let rs = done.state();
    assert!(rs.solved, "reaches the target: {rs:?}");
    assert!(rs.generation < 40);
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn the_registry_checks_names_and_genomes() {
    let reg = registry();
    let cma = || {
        StrategyConfig::CmaEs(CmaEsConfig {
            population: 0,
            sigma: 0.5,
            separable: false,
            init_scale: 1.0,
            restarts: 0,
            max_dimension: 5_000,
        })
    };
    // XOR evolves topologies: a vector strategy is refused by key.
    let e = Experiment::new("x.toml", ExperimentConfig::on_task("xor", cma(), 5), &reg)
        .err()
        .unwrap();
    assert_eq!(e.key, "task.kind");
    assert!(e.to_string().starts_with("x.toml: `task.kind`"), "{e}");
    // NEAT does not take a fitness over vectors.
    let neat = StrategyConfig::Neat(Default::default());
    let e = Experiment::new("x.toml", ExperimentConfig::on_task("sphere", neat, 5), &reg)
        .err()
        .unwrap();
    assert_eq!(e.key, "task.kind");
    // Unknown names list what is registered, user ids included.
    let e = Experiment::new(
        "x.toml",
        ExperimentConfig::on_env("Nope-v0", cma(), 5),
        &reg,
    )
    .err()
    .unwrap();
    assert_eq!(e.key, "env.id");
    assert!(e.message.contains("Walk-v0") && e.message.contains("Pendulum-v1"));
    let e = Experiment::new("x.toml", ExperimentConfig::on_task("nope", cma(), 5), &reg)
        .err()
        .unwrap();
    assert!(e.message.contains("rastrigin") && e.message.contains("xor"));
    // A task's own settings are checked by the task.
    let mut c = ExperimentConfig::on_task("sphere", cma(), 5);
    c.task.as_mut().unwrap().dim = Some(0);
    let e = Experiment::new("x.toml", c, &reg).err().unwrap();
    assert_eq!(e.key, "task.dim");
    // Names are taken once; built-in ids cannot be shadowed.
    let mut r = registry();
    assert!(r
        .register_env("Walk-v0", |m| Box::new(Walk::new(m)))
        .is_err());
    assert!(r
        .register_env("CartPole-v1", |m| Box::new(Walk::new(m)))
        .is_err());
    assert!(r.register_fitness("sphere", 3, 1.0, |_| 0.0).is_err());
}

#[test]
fn every_strategy_is_registered_once_with_its_example() {
    let mut kinds: Vec<&str> = STRATEGIES.iter().map(|e| e.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), STRATEGIES.len(), "kinds are unique");
    for e in STRATEGIES {
        assert!(
            e.example.contains(&format!("kind = \"{}\"", e.kind)),
            "{}: its example config uses it",
            e.kind
        );
        assert!(
            e.example.starts_with('#'),
            "{}: the example is documented",
            e.kind
        );
        assert_eq!(
            evonet::registry::strategy(e.kind).map(|s| s.kind),
            Some(e.kind)
        );
    }
    for g in [
        GenomeKind::Params,
        GenomeKind::SeedChain,
        GenomeKind::Neat,
        GenomeKind::Architecture,
    ] {
        assert!(!evonet::registry::kinds_for(g).is_empty(), "{g:?}");
    }
}
