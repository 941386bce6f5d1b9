//! Architecture search: regularized evolution, the truncation GA and random
//! sampling over a search space, each candidate trained at low fidelity on
//! `[data]`; the best are retrained afterwards ([`FinalStage`]).

use std::sync::Arc;

use evonet_core::{Champion, Strategy, StrategyError, TestReport, Variation};
use evonet_nas::problem::COST_FIGURES;
use evonet_nas::{NasProblem, SearchSpace};
use evonet_strategies::{
    AgingEvolution, AgingEvolutionConfig, Alps, AlpsConfig, Nsga2, Nsga2Config, RandomSampling,
    RandomSamplingConfig, Screenable, TruncationGa, TruncationGaConfig,
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
        None => search(ctx, |space| {
            let s = AgingEvolution::new(c.clone(), space)?;
            match ctx.config.halving() {
                Some(h) => s.with_halving(h.clone()),
                None => s.screened_by(ctx.config.predictor()),
            }
        }),
    }
}

pub(crate) fn truncation_ga(
    c: &TruncationGaConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    match &ctx.config.alps {
        Some(alps) => with_alps(alps, c.crossover_rate, ctx),
        None => search(ctx, |space| {
            TruncationGa::new(c.clone(), space)?.screened_by(ctx.config.predictor())
        }),
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
    Ok(prepared(strategy, Arc::new(problem), ctx))
}

pub(crate) fn random_sampling(
    c: &RandomSamplingConfig,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    search(ctx, |space| {
        let s = RandomSampling::new(c.clone(), space)?;
        match ctx.config.halving() {
            Some(h) => s.with_halving(h.clone()),
            None => s.screened_by(ctx.config.predictor()),
        }
    })
}

/// NSGA-II over the validation error and the costs named in
/// `objectives` (each one the problem reports: [`COST_FIGURES`]); the run
/// ends with `pareto.json` besides `best/`.
pub(crate) fn nsga2(
    c: &Nsga2Config,
    ctx: &BuildContext<'_>,
) -> Result<Box<dyn Search>, BuildError> {
    if let Some(o) = c
        .objectives
        .iter()
        .find(|o| !COST_FIGURES.contains(&o.as_str()))
    {
        return Err(ctx.error(
            "strategy.objectives",
            format!(
                "`{o}` is not a cost architecture search reports; choose from {}",
                COST_FIGURES.join(", ")
            ),
        ));
    }
    let (problem, space) = nas_problem(ctx)?;
    let problem = match c.objectives.iter().any(|o| o == "latency_ms") {
        true => problem.with_latency(),
        false => problem,
    };
    let strategy = Nsga2::new(c.clone(), space).map_err(|e| ctx.strategy_error(e))?;
    let mut search = prepared_search(strategy, Arc::new(problem), ctx);
    if let Some(stage) = &mut search.final_stage {
        stage.set_pareto(c.objectives.clone(), c.reference.clone());
    }
    Ok(Box::new(search))
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
    Ok(prepared(strategy, Arc::new(problem), ctx))
}

/// Loads `[data]` and builds the problem and the search space over it.
fn nas_problem(ctx: &BuildContext<'_>) -> Result<(NasProblem, SearchSpace), BuildError> {
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
    Ok((problem, space))
}

fn prepared<S>(strategy: S, problem: Arc<NasProblem>, ctx: &BuildContext<'_>) -> Box<dyn Search>
where
    S: Strategy<Genome = Arch> + 'static,
    SearchSpace: Variation<Arch>,
{
    Box::new(prepared_search(strategy, problem, ctx))
}

/// The search with its final stage (retraining the best).
fn prepared_search<S>(strategy: S, problem: Arc<NasProblem>, ctx: &BuildContext<'_>) -> Prepared<S>
where
    S: Strategy<Genome = Arch> + 'static,
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
    prepared
}
