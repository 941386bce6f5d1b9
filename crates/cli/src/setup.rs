//! From a config to what a run evaluates: the strategy, its problem, and
//! how its champion is exported. The coordinator and every distributed
//! worker build through here, so both arrive at the same problem (checked
//! by its fingerprint).

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use evonet_core::{Champion, NoiseTable, PolicyParams, SeedChain, Strategy, TestReport};
use evonet_distributed::{Fingerprint, Job, ProblemJob, PROTOCOL_VERSION};
use evonet_nas::{NasProblem, SearchSpace};
use evonet_neat::{Neat, NeatGenome};
use evonet_nn::Activation;
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind, XorProblem};
use evonet_strategies::{
    random_search, AgingEvolution, CmaEs, DeepGa, OpenEs, ParamSpace, RandomSampling, TruncationGa,
};
use evonet_train::Arch;

use crate::champion::{
    ChampionFile, EnvRef, NeatChampionFile, ProblemRef, Provenance, KIND, NEAT_KIND,
};
use crate::config::{Config, StrategyConfig};
use crate::run_cmd::Drive;
use crate::user;

/// A config built into a strategy and its problem.
pub(crate) enum Built {
    /// Deep GA, or random search (a Deep GA without parents).
    SeedChains {
        strategy: DeepGa,
        problem: RlProblem,
        base: ChampionBase,
    },
    OpenEs {
        strategy: OpenEs,
        problem: RlProblem,
        base: ChampionBase,
    },
    CmaEs {
        strategy: CmaEs,
        problem: RlProblem,
        base: ChampionBase,
    },
    NeatXor {
        strategy: Neat,
    },
    NeatEnv {
        strategy: Neat,
        problem: RlProblem,
        problem_ref: ProblemRef,
    },
    /// Architecture search over a chain space.
    Nas {
        strategy: NasStrategy,
        problem: Box<NasProblem>,
        /// Threads of the final retraining (0 = all cores).
        threads: usize,
        seed: u64,
    },
}

/// The strategies that search architectures.
pub(crate) enum NasStrategy {
    Aging(AgingEvolution<Arch, SearchSpace>),
    Ga(TruncationGa<Arch, SearchSpace>),
    Random(RandomSampling<Arch, SearchSpace>),
}

impl NasStrategy {
    fn name(&self) -> &'static str {
        match self {
            NasStrategy::Aging(s) => s.name(),
            NasStrategy::Ga(s) => s.name(),
            NasStrategy::Random(s) => s.name(),
        }
    }
}

/// Loads `[data]` and builds the search.
fn nas(cfg: &Config, file: &Path) -> Result<Built> {
    let data = cfg.data.as_ref().expect("validated");
    let splits = data
        .load(Path::new("."), cfg.run.seed)
        .map_err(|e| user(format!("{}: `data`: {e}", file.display())))?;
    let problem = NasProblem::new(
        splits,
        cfg.training.clone().expect("validated"),
        cfg.final_training.clone().expect("validated"),
        cfg.run.seed,
    );
    let space = cfg
        .search_space
        .clone()
        .expect("filled in by Config::parse");
    let space = SearchSpace::new(space, problem.input(), problem.classes());
    space.check().map_err(|(key, message)| {
        user(format!(
            "{}: `search_space.{key}`: {message}",
            file.display()
        ))
    })?;
    let strategy = match &cfg.strategy {
        StrategyConfig::AgingEvolution(c) => {
            NasStrategy::Aging(AgingEvolution::new(c.clone(), space)?)
        }
        StrategyConfig::TruncationGa(c) => NasStrategy::Ga(TruncationGa::new(c.clone(), space)?),
        StrategyConfig::RandomSampling(c) => {
            NasStrategy::Random(RandomSampling::new(c.clone(), space)?)
        }
        _ => unreachable!("is_nas"),
    };
    Ok(Built::Nas {
        strategy,
        problem: Box::new(problem),
        threads: cfg.run.threads,
        seed: cfg.run.seed,
    })
}

impl Built {
    /// `pool` builds the noise table; `file` is named in errors.
    pub(crate) fn new(cfg: &Config, pool: &rayon::ThreadPool, file: &Path) -> Result<Self> {
        if cfg.strategy.is_nas() {
            return nas(cfg, file);
        }
        if let StrategyConfig::Neat(c) = &cfg.strategy {
            let params = c.resolve();
            if cfg.task.is_some() {
                return Ok(Built::NeatXor {
                    strategy: Neat::new(params, 2, 1)?,
                });
            }
            // The policy part only contributes the action head.
            let setup = EnvSetup::new(cfg, Vec::new(), Activation::Identity, false);
            let problem_ref = ProblemRef::Env {
                env: env_ref(cfg, setup.env_id),
                task: setup.task.kind,
                success_threshold: setup.task.success_threshold,
                head: setup.policy.head.clone(),
            };
            let strategy = Neat::new(params, setup.spec.obs_dim, setup.policy.head.outputs())?;
            return Ok(Built::NeatEnv {
                strategy,
                problem: setup.problem,
                problem_ref,
            });
        }
        let p = cfg.policy();
        let EnvSetup {
            env_id,
            spec,
            policy,
            task,
            mut problem,
        } = EnvSetup::new(cfg, p.hidden, p.activation, p.recurrent);
        let needs_noise = matches!(
            cfg.strategy,
            StrategyConfig::DeepGa(_) | StrategyConfig::RandomSearch(_) | StrategyConfig::OpenEs(_)
        );
        let noise = if needs_noise {
            if cfg.run.noise_table_size < policy.mlp.n_params() {
                return Err(user(format!(
                    "{}: `run.noise_table_size`: must be at least the policy's {} parameters",
                    file.display(),
                    policy.mlp.n_params()
                )));
            }
            Some(Arc::new(pool.install(|| {
                build_noise(cfg.run.noise_table_size, cfg.run.noise_seed)
            })))
        } else {
            None
        };
        let base = ChampionBase {
            env: env_ref(cfg, env_id),
            task,
            policy: policy.clone(),
            strategy: cfg.strategy.kind().into(),
        };
        let space = ParamSpace {
            init_scales: policy.mlp.init_scales(),
            obs_dim: spec.obs_dim,
        };
        Ok(match &cfg.strategy {
            StrategyConfig::DeepGa(_) | StrategyConfig::RandomSearch(_) => {
                let (strategy, pop) = match &cfg.strategy {
                    StrategyConfig::DeepGa(c) => (DeepGa::new(c.clone())?, c.population),
                    StrategyConfig::RandomSearch(c) => (random_search(c)?, c.population),
                    _ => unreachable!(),
                };
                problem = problem.with_seed_chains(noise.expect("noise table"), 2 * pop + 16);
                Built::SeedChains {
                    strategy,
                    problem,
                    base,
                }
            }
            StrategyConfig::OpenEs(c) => Built::OpenEs {
                strategy: OpenEs::new(c.clone(), space, noise.expect("noise table"))?,
                problem,
                base,
            },
            StrategyConfig::CmaEs(c) => Built::CmaEs {
                strategy: CmaEs::new(c.clone(), space)?,
                problem,
                base,
            },
            _ => unreachable!("handled above"),
        })
    }

    /// What a worker must build identically: versions, strategy, genome
    /// type and the problem's parameters.
    pub(crate) fn fingerprint(&self) -> Fingerprint {
        let (strategy, genome, problem) = match self {
            Built::SeedChains {
                strategy, problem, ..
            } => (
                strategy.name(),
                std::any::type_name::<SeedChain>(),
                problem.describe(),
            ),
            Built::OpenEs {
                strategy, problem, ..
            } => (
                strategy.name(),
                std::any::type_name::<PolicyParams>(),
                problem.describe(),
            ),
            Built::CmaEs {
                strategy, problem, ..
            } => (
                strategy.name(),
                std::any::type_name::<PolicyParams>(),
                problem.describe(),
            ),
            Built::NeatXor { strategy } => (
                strategy.name(),
                std::any::type_name::<NeatGenome>(),
                vec!["problem xor".to_string()],
            ),
            Built::NeatEnv {
                strategy, problem, ..
            } => (
                strategy.name(),
                std::any::type_name::<NeatGenome>(),
                problem.describe(),
            ),
            Built::Nas {
                strategy, problem, ..
            } => (
                strategy.name(),
                std::any::type_name::<Arch>(),
                problem.fingerprint_lines(),
            ),
        };
        let mut lines = vec![
            format!("evonet {}", env!("CARGO_PKG_VERSION")),
            format!("protocol {PROTOCOL_VERSION}"),
            format!("strategy {strategy}"),
            format!("genome {genome}"),
        ];
        lines.extend(problem);
        Fingerprint::new(lines)
    }

    /// The problem alone, for a worker.
    pub(crate) fn into_job(self) -> Box<dyn Job> {
        match self {
            Built::SeedChains { problem, .. } => Box::new(ProblemJob::<SeedChain, _>::new(problem)),
            Built::OpenEs { problem, .. } | Built::CmaEs { problem, .. } => {
                Box::new(ProblemJob::<PolicyParams, _>::new(problem))
            }
            Built::NeatXor { .. } => Box::new(ProblemJob::<NeatGenome, _>::new(XorProblem)),
            Built::NeatEnv { problem, .. } => Box::new(ProblemJob::<NeatGenome, _>::new(problem)),
            Built::Nas { problem, .. } => Box::new(ProblemJob::<Arch, _>::new(*problem)),
        }
    }

    /// Runs the search.
    pub(crate) fn drive(&self, ctx: Drive<'_>) -> Result<u8> {
        match self {
            Built::SeedChains {
                strategy,
                problem,
                base,
            } => ctx.drive(strategy, problem, &|ch, t| base.chain_json(problem, ch, t)),
            Built::OpenEs {
                strategy,
                problem,
                base,
            } => ctx.drive(strategy, problem, &|ch, t| base.params_json(ch, t)),
            Built::CmaEs {
                strategy,
                problem,
                base,
            } => ctx.drive(strategy, problem, &|ch, t| base.params_json(ch, t)),
            Built::NeatXor { strategy } => ctx.drive(strategy, &XorProblem, &|ch, _t| {
                neat_json(ProblemRef::Xor, ch)
            }),
            Built::NeatEnv {
                strategy,
                problem,
                problem_ref,
            } => ctx.drive(strategy, problem, &|ch, _t| {
                neat_json(problem_ref.clone(), ch)
            }),
            Built::Nas {
                strategy,
                problem,
                threads,
                seed,
            } => {
                let out = ctx.out().to_path_buf();
                let quiet = ctx.quiet();
                let export = &|ch: &Champion<Arch>, _t: &TestReport| serde_json::json!({ "architecture": ch.genome, "fitness": ch.fitness });
                let p: &NasProblem = problem;
                let code = match strategy {
                    NasStrategy::Aging(s) => ctx.drive(s, p, export)?,
                    NasStrategy::Ga(s) => ctx.drive(s, p, export)?,
                    NasStrategy::Random(s) => ctx.drive(s, p, export)?,
                };
                if code == 0 {
                    crate::nas_final::finalize(&out, p, *seed, *threads, quiet)?;
                }
                Ok(code)
            }
        }
    }
}

/// An environment problem built from `[env]`, with a policy of the given
/// shape (NEAT passes no hidden layers: only the action head is used).
pub(crate) struct EnvSetup {
    pub env_id: evonet_envs::EnvId,
    pub spec: evonet_envs::EnvSpec,
    pub policy: PolicySpec,
    pub task: Task,
    pub problem: RlProblem,
}

impl EnvSetup {
    pub(crate) fn new(
        cfg: &Config,
        hidden: Vec<usize>,
        activation: Activation,
        recurrent: bool,
    ) -> Self {
        let env = cfg.env();
        let env_id = cfg.env_id();
        let probe = env_id.make(env.max_steps);
        let spec = evonet_envs::Env::spec(&probe).clone();
        let policy = PolicySpec::new(
            spec.obs_dim,
            &spec.action_space,
            hidden,
            activation,
            recurrent,
        );
        let task = Task {
            kind: TaskKind::for_env(env_id),
            test_episodes: env.test_episodes,
            success_threshold: env.success_threshold.or(spec.reward_threshold),
        };
        let renv = RolloutEnv {
            env: env_id,
            max_steps: env.max_steps,
            start_angle: env.start_angle_deg.map(f64::to_radians),
        };
        let problem = RlProblem::new(renv, policy.clone(), env.episodes, task.clone())
            .with_faults(env.faults.clone());
        Self {
            env_id,
            spec,
            policy,
            task,
            problem,
        }
    }
}

pub(crate) fn env_ref(cfg: &Config, env_id: evonet_envs::EnvId) -> EnvRef {
    EnvRef {
        id: env_id.name().into(),
        max_steps: cfg.env().max_steps,
        start_angle_deg: cfg.env().start_angle_deg,
    }
}

/// Builds the noise table in parallel; its values do not depend on threads.
fn build_noise(len: usize, seed: u64) -> NoiseTable {
    use rayon::prelude::*;
    let mut v = vec![0.0f32; len];
    v.par_chunks_mut(evonet_core::noise::BLOCK)
        .enumerate()
        .for_each(|(b, c)| NoiseTable::fill_block(seed, b, c));
    NoiseTable::from_vec(v, seed)
}

pub(crate) struct ChampionBase {
    env: EnvRef,
    task: Task,
    policy: PolicySpec,
    strategy: String,
}

impl ChampionBase {
    fn file(
        &self,
        params: Vec<f32>,
        obs_norm: Option<evonet_core::genome::ObsNorm>,
        genome: serde_json::Value,
    ) -> ChampionFile {
        ChampionFile {
            format_version: evonet_runner::FORMAT_VERSION,
            kind: KIND.into(),
            env: self.env.clone(),
            task: self.task.kind,
            success_threshold: self.task.success_threshold,
            policy: self.policy.clone(),
            params,
            obs_norm,
            strategy: self.strategy.clone(),
            genome,
            provenance: Provenance::default(),
        }
    }

    fn chain_json(
        &self,
        p: &RlProblem,
        ch: &Champion<SeedChain>,
        _t: &TestReport,
    ) -> serde_json::Value {
        // Seed-chain strategies always run with a decoder (see `Built::new`).
        let params = p
            .decode_chain(&ch.genome)
            .expect("seed chains are decodable")
            .to_vec();
        serde_json::to_value(self.file(
            params,
            None,
            serde_json::json!({ "seed_chain": ch.genome }),
        ))
        .expect("json")
    }

    fn params_json(&self, ch: &Champion<PolicyParams>, _t: &TestReport) -> serde_json::Value {
        serde_json::to_value(self.file(
            ch.genome.params.clone(),
            ch.genome.obs_norm.clone(),
            serde_json::json!("params"),
        ))
        .expect("json")
    }
}

fn neat_json(problem: ProblemRef, ch: &Champion<NeatGenome>) -> serde_json::Value {
    let graph = ch
        .genome
        .to_graph()
        .expect("genomes of a run decode (they were just evaluated)");
    serde_json::to_value(NeatChampionFile {
        format_version: evonet_runner::FORMAT_VERSION,
        kind: NEAT_KIND.into(),
        problem,
        graph,
        genome: ch.genome.clone(),
        strategy: "neat".into(),
        provenance: Provenance::default(),
    })
    .expect("json")
}
