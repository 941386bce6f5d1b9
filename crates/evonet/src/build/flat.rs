//! Strategies over flat parameter vectors: Deep GA (alone or under ALPS's
//! age layers) and random search (seed chains), OpenAI-ES and CMA-ES (the
//! vectors themselves), on an environment's MLP policy or on a task's
//! fitness function.

use std::sync::Arc;

use evonet_core::{
    Champion, EvalError, EvalRequest, Evaluation, NoiseTable, Perturbed, PolicyParams, Problem,
    SeedChain, Strategy, TestReport, Transport,
};
use evonet_problems::{FunctionProblem, RlProblem};
use evonet_strategies::{
    random_search as random_search_strategy, Alps, CmaEs, CmaEsConfig, DeepGa, DeepGaConfig,
    OpenEs, OpenEsConfig, ParamSpace, RandomSearchConfig, SeedChainSpace,
};

use crate::build::env::{EnvSetup, PolicyChoice};
use crate::build::{BuildContext, BuildError};
use crate::champion::{
    ChampionBody, EnvRef, GenomeRecord, MlpChampion, ParamsMarker, VectorChampion, MLP_KIND,
    VECTOR_KIND,
};
use crate::registry::{GenomeKind, TaskProblem};
use crate::search::{Prepared, Search};

/// The problem of a flat-vector strategy.
enum Flat {
    /// An MLP policy acting in an environment.
    Policy {
        problem: Box<RlProblem>,
        env: EnvRef,
        obs_dim: usize,
    },
    /// A task's fitness function.
    Function(FunctionProblem),
}

impl Flat {
    fn new(ctx: &BuildContext<'_>) -> Result<Self, BuildError> {
        if let Some(task) = &ctx.config.task {
            let entry = ctx
                .registry
                .task(&task.kind)
                .map_err(|m| ctx.error("task.kind", m))?;
            return match entry.make(task) {
                Ok(TaskProblem::Function(f)) => Ok(Flat::Function(f)),
                Ok(TaskProblem::Xor) => Err(ctx.error(
                    "task.kind",
                    "XOR evolves topologies: use strategy.kind = \"neat\"",
                )),
                Err((key, m)) => Err(ctx.error(&format!("task.{key}"), m)),
            };
        }
        let setup = EnvSetup::new(ctx, PolicyChoice::Config(ctx.config.policy.as_ref()))?;
        Ok(Flat::Policy {
            problem: Box::new(setup.problem),
            env: setup.env,
            obs_dim: setup.spec.obs_dim,
        })
    }

    fn space(&self) -> ParamSpace {
        match self {
            Flat::Policy {
                problem, obs_dim, ..
            } => ParamSpace {
                init_scales: problem.policy_spec().init_scales(),
                obs_dim: *obs_dim,
            },
            Flat::Function(f) => ParamSpace {
                init_scales: f.init_scales(),
                obs_dim: 0,
            },
        }
    }

    fn parameters(&self) -> usize {
        match self {
            Flat::Policy { problem, .. } => problem.policy_spec().n_params(),
            Flat::Function(f) => f.dim(),
        }
    }

    fn with_noise_table(self, table: Arc<NoiseTable>, cache: usize) -> Self {
        match self {
            Flat::Policy {
                problem,
                env,
                obs_dim,
            } => Flat::Policy {
                problem: Box::new(problem.with_noise_table(table, cache)),
                env,
                obs_dim,
            },
            Flat::Function(f) => Flat::Function(f.with_noise_table(table, cache)),
        }
    }

    fn describe(&self) -> Vec<String> {
        match self {
            Flat::Policy { problem, .. } => problem.describe(),
            Flat::Function(f) => f.describe(),
        }
    }

    fn decode_perturbed(&self, g: &Perturbed) -> Result<Vec<f32>, EvalError> {
        match self {
            Flat::Policy { problem, .. } => problem.decode_perturbed(g),
            Flat::Function(f) => f.decode_perturbed(g),
        }
    }

    fn decode_chain(&self, chain: &SeedChain) -> Result<Arc<Vec<f32>>, EvalError> {
        match self {
            Flat::Policy { problem, .. } => problem.decode_chain(chain),
            Flat::Function(f) => f.decode_chain(chain),
        }
    }

    /// The champion file's body for these parameters.
    fn body(
        &self,
        strategy: &str,
        params: Vec<f32>,
        obs_norm: Option<evonet_core::genome::ObsNorm>,
        genome: GenomeRecord,
    ) -> ChampionBody {
        match self {
            Flat::Policy { problem, env, .. } => ChampionBody::Mlp(Box::new(MlpChampion {
                kind: MLP_KIND.into(),
                env: env.clone(),
                task: problem.task().kind,
                success_threshold: problem.task().success_threshold,
                policy: problem.policy_spec().clone(),
                params,
                obs_norm,
                strategy: strategy.into(),
                genome,
            })),
            Flat::Function(f) => ChampionBody::Vector(VectorChampion {
                kind: VECTOR_KIND.into(),
                task: f.name().into(),
                params,
                strategy: strategy.into(),
                genome,
            }),
        }
    }
}

macro_rules! delegate_problem {
    ($($g:ty),*) => {$(
        impl Problem<$g> for Flat {
            fn evaluate(&self, g: &$g, req: &EvalRequest) -> Result<Evaluation, EvalError> {
                match self {
                    Flat::Policy { problem, .. } => problem.evaluate(g, req),
                    Flat::Function(f) => f.evaluate(g, req),
                }
            }
            fn test(&self, g: &$g, seed: u64) -> Result<TestReport, EvalError> {
                match self {
                    Flat::Policy { problem, .. } => problem.test(g, seed),
                    Flat::Function(f) => f.test(g, seed),
                }
            }
        }
    )*};
}
delegate_problem!(PolicyParams, SeedChain, Perturbed);

/// The shared noise table (Deep GA, random search, OpenAI-ES), built in
/// parallel; its values do not depend on the thread count.
fn noise_table(ctx: &BuildContext<'_>, parameters: usize) -> Result<Arc<NoiseTable>, BuildError> {
    let run = &ctx.config.run;
    if run.noise_table_size < parameters {
        return Err(ctx.error(
            "run.noise_table_size",
            format!("must be at least the policy's {parameters} parameters"),
        ));
    }
    let (len, seed) = (run.noise_table_size, run.noise_seed);
    Ok(Arc::new(ctx.pool.install(|| {
        use rayon::prelude::*;
        let mut v = vec![0.0f32; len];
        v.par_chunks_mut(evonet_core::noise::BLOCK)
            .enumerate()
            .for_each(|(b, c)| NoiseTable::fill_block(seed, b, c));
        NoiseTable::from_vec(v, seed)
    })))
}

pub(crate) fn deep_ga(
    c: &DeepGaConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    let strategy = DeepGa::new(c.clone()).map_err(|e| ctx.strategy_error(e))?;
    let Some(alps) = &ctx.config.alps else {
        return seed_chains(strategy, |_| 2 * c.truncation + 16, ctx);
    };
    // ALPS chooses the parents; the Deep GA contributes its mutation.
    let space = SeedChainSpace::new(c.sigma).map_err(|e| ctx.strategy_error(e))?;
    let strategy = Alps::new(alps.clone(), space, 0.0).map_err(|e| ctx.alps_error(e))?;
    // Any member of any layer may be a parent: cache them all, within 1 GiB.
    let members = alps.layers * alps.layer_size;
    let cache = |parameters: usize| members.min((1 << 30) / (4 * parameters.max(1))).max(16);
    seed_chains(strategy, cache, ctx)
}

pub(crate) fn random_search(
    c: &RandomSearchConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    let strategy = random_search_strategy(c).map_err(|e| ctx.strategy_error(e))?;
    // Every candidate is a fresh root: there are no parents to keep.
    seed_chains(strategy, |_| 1, ctx)
}

/// Deep GA machinery over seed chains, decoded with a cache of as many
/// parent vectors as `parents` gives for the parameter count.
fn seed_chains<S: Strategy<Genome = SeedChain> + 'static>(
    strategy: S,
    parents: impl FnOnce(usize) -> usize,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    let flat = Flat::new(ctx)?;
    let noise = noise_table(ctx, flat.parameters())?;
    let cache = parents(flat.parameters());
    let flat = Arc::new(flat.with_noise_table(noise, cache));
    let kind = ctx.config.strategy.kind();
    let shared = Arc::clone(&flat);
    let export = move |ch: &Champion<SeedChain>, _t: &TestReport| {
        let params = shared.decode_chain(&ch.genome).map_err(|e| e.to_string())?;
        let genome = GenomeRecord::SeedChain {
            seed_chain: ch.genome.clone(),
        };
        Ok(shared.body(kind, params.to_vec(), None, genome))
    };
    prepared(strategy, GenomeKind::SeedChain, flat, Arc::new(export), ctx)
}

pub(crate) fn open_es(
    c: &OpenEsConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    let flat = Flat::new(ctx)?;
    let noise = noise_table(ctx, flat.parameters())?;
    let strategy = OpenEs::new(c.clone(), flat.space(), Arc::clone(&noise))
        .map_err(|e| ctx.strategy_error(e))?;
    // Candidates are read from the table; there are no parents to cache.
    let flat = Arc::new(flat.with_noise_table(noise, 1));
    let kind = ctx.config.strategy.kind();
    let shared = Arc::clone(&flat);
    let export = move |ch: &Champion<Perturbed>, _t: &TestReport| {
        let params = shared
            .decode_perturbed(&ch.genome)
            .map_err(|e| e.to_string())?;
        let genome = GenomeRecord::Params(ParamsMarker::Params);
        Ok(shared.body(kind, params, ch.genome.obs_norm().cloned(), genome))
    };
    prepared(strategy, GenomeKind::Params, flat, Arc::new(export), ctx)
}

pub(crate) fn cma_es(
    c: &CmaEsConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    let flat = Flat::new(ctx)?;
    let strategy = CmaEs::new(c.clone(), flat.space()).map_err(|e| ctx.strategy_error(e))?;
    let (n, lambda) = (flat.parameters() as u128, strategy.lambda() as u128);
    // The covariance, its eigenvectors and a copy during the update (n² f64
    // each), unless separable; plus λ samples of n.
    let matrices = if c.separable { 4 * n } else { 3 * n * n };
    let needed = 8 * (matrices + lambda * n);
    let what = format!("CMA-ES over {n} parameters with a population of {lambda}");
    crate::memory::check_fits(needed, &what).map_err(|m| ctx.error("strategy.population", m))?;
    params(strategy, flat, ctx)
}

/// A strategy whose genomes are the parameter vectors themselves.
fn params<S: Strategy<Genome = PolicyParams> + 'static>(
    strategy: S,
    flat: Flat,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    let flat = Arc::new(flat);
    let kind = ctx.config.strategy.kind();
    let shared = Arc::clone(&flat);
    let export = move |ch: &Champion<PolicyParams>, _t: &TestReport| {
        let genome = GenomeRecord::Params(ParamsMarker::Params);
        Ok(shared.body(
            kind,
            ch.genome.params.clone(),
            ch.genome.obs_norm.clone(),
            genome,
        ))
    };
    prepared(strategy, GenomeKind::Params, flat, Arc::new(export), ctx)
}

fn prepared<S>(
    strategy: S,
    genome: GenomeKind,
    flat: Arc<Flat>,
    export: crate::search::Export<S::Genome>,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError>
where
    S: Strategy + 'static,
    S::Genome: Transport,
    Flat: Problem<S::Genome>,
{
    let (describe, parameters) = (flat.describe(), Some(flat.parameters()));
    let network = match &*flat {
        Flat::Policy { problem, .. } => Some(problem.policy_spec().summary()),
        Flat::Function(_) => None,
    };
    let mut p = Prepared::new(strategy, genome, flat, describe, export, parameters);
    p.network = network;
    p.boxed(ctx)
}
