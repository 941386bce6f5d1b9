//! Architecture search: regularized evolution, the truncation GA and random
//! sampling over a search space, each candidate trained at low fidelity on
//! `[data]`; the best are retrained afterwards ([`FinalStage`]).

use std::sync::Arc;

use evonet_core::{Champion, Strategy, StrategyError, TestReport, Variation};
use evonet_nas::{NasProblem, SearchSpace};
use evonet_strategies::{
    AgingEvolution, AgingEvolutionConfig, Alps, AlpsConfig, RandomSampling, RandomSamplingConfig,
    TruncationGa, TruncationGaConfig,
};
use evonet_train::Arch;

use crate::build::{BuildContext, BuildError};
use crate::champion::{ArchitectureChampion, ChampionBody};
use crate::final_stage::FinalStage;
use crate::registry::GenomeKind;
use crate::search::{Prepared, Search};

pub(crate) fn aging_evolution(
    c: &AgingEvolutionConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    match &ctx.config.alps {
        Some(alps) => with_alps(alps, 0.0, ctx),
        None => search(ctx, |space| AgingEvolution::new(c.clone(), space)),
    }
}

pub(crate) fn truncation_ga(
    c: &TruncationGaConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    match &ctx.config.alps {
        Some(alps) => with_alps(alps, c.crossover_rate, ctx),
        None => search(ctx, |space| TruncationGa::new(c.clone(), space)),
    }
}

/// ALPS's age layers over the search space's operators, in place of the
/// strategy's own selection.
fn with_alps(
    alps: &AlpsConfig,
    crossover_rate: f64,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    let (problem, space) = nas_problem(ctx)?;
    let strategy = Alps::new(alps.clone(), space, crossover_rate).map_err(|e| ctx.alps_error(e))?;
    Ok(prepared(strategy, problem, ctx))
}

pub(crate) fn random_sampling(
    c: &RandomSamplingConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    search(ctx, |space| RandomSampling::new(c.clone(), space))
}

/// A strategy over the search space of `[search_space]`, made by `make`.
fn search<S>(
    ctx: &BuildContext<'_>,
    make: impl FnOnce(SearchSpace) -> Result<S, StrategyError>,
) -> Result<Box<dyn Search>, BuildError>
where
    S: Strategy<Genome = Arch> + 'static,
{
    let (problem, space) = nas_problem(ctx)?;
    let strategy = make(space).map_err(|e| ctx.strategy_error(e))?;
    Ok(prepared(strategy, problem, ctx))
}

/// Loads `[data]` and builds the problem and the search space over it.
fn nas_problem(ctx: &BuildContext<'_>) -> Result<(Arc<NasProblem>, SearchSpace), BuildError> {
    let cfg = ctx.config;
    let missing = |key: &str| ctx.error(key, "missing: architecture search needs it");
    let data = cfg.data.as_ref().ok_or_else(|| missing("data"))?;
    let splits = data
        .load(ctx.data_root, cfg.run.seed)
        .map_err(|e| ctx.error("data", e.to_string()))?;
    let training = cfg.training.clone().ok_or_else(|| missing("training"))?;
    let fin = cfg
        .final_training
        .clone()
        .ok_or_else(|| missing("final_training"))?;
    let problem = NasProblem::new(splits, training, fin, cfg.run.seed);
    let space_cfg = cfg.search_space.clone().unwrap_or_else(|| {
        evonet_nas::SearchSpaceConfig::Chain(evonet_nas::ChainSpaceConfig::default())
    });
    let space = SearchSpace::new(space_cfg, problem.input(), problem.classes());
    space
        .check()
        .map_err(|(key, message)| ctx.error(&format!("search_space.{key}"), message))?;
    Ok((Arc::new(problem), space))
}

fn prepared<S>(strategy: S, problem: Arc<NasProblem>, ctx: &BuildContext<'_>) -> Box<dyn Search>
where
    S: Strategy<Genome = Arch> + 'static,
    SearchSpace: Variation<Arch>,
{
    let export = |ch: &Champion<Arch>, _t: &TestReport| {
        Ok(ChampionBody::Architecture(ArchitectureChampion {
            architecture: ch.genome.clone(),
        }))
    };
    let final_stage = FinalStage::new(Arc::clone(&problem), ctx.config.run.seed);
    let describe = problem.fingerprint_lines();
    let mut prepared = Prepared::new(
        strategy,
        GenomeKind::Architecture,
        problem,
        describe,
        Arc::new(export),
        None,
    );
    prepared.final_stage = Some(final_stage);
    Box::new(prepared)
}
