//! NEAT (Stanley & Miikkulainen 2002) on XOR or on an environment; with
//! `[alps]`, NEAT's operators under ALPS's age layers.

use std::sync::Arc;

use evonet_core::{Champion, Problem, TestReport};
use evonet_neat::{Neat, NeatConfig, NeatGenome, NeatVariation};
use evonet_problems::XorProblem;
use evonet_strategies::Alps;

use crate::build::env::{EnvSetup, PolicyChoice};
use crate::build::{BuildContext, BuildError};
use crate::champion::{ChampionBody, NeatChampion, ProblemRef, NEAT_KIND};
use crate::registry::{GenomeKind, TaskProblem};
use crate::search::{Prepared, Search};

pub(crate) fn neat(c: &NeatConfig, ctx: &BuildContext<'_>) -> Result<Box<dyn Search>, BuildError> {
    let params = c.resolve();
    let (strategy, problem, describe, problem_ref): (
        _,
        Arc<dyn Problem<NeatGenome> + Send + Sync>,
        _,
        _,
    ) = match &ctx.config.task {
        Some(task) => {
            let entry = ctx
                .registry
                .task(&task.kind)
                .map_err(|m| ctx.error("task.kind", m))?;
            match entry.make(task) {
                Ok(TaskProblem::Xor) => (
                    Neat::new(params, 2, 1).map_err(|e| ctx.strategy_error(e))?,
                    Arc::new(XorProblem),
                    vec!["problem xor".to_string()],
                    ProblemRef::Xor,
                ),
                Ok(TaskProblem::Function(_)) => return Err(ctx.error(
                    "task.kind",
                    "NEAT evolves networks, not parameter vectors: use cma_es, open_es or deep_ga",
                )),
                Err((key, m)) => return Err(ctx.error(&format!("task.{key}"), m)),
            }
        }
        None => {
            // The policy part only contributes the action head.
            let setup = EnvSetup::new(ctx, PolicyChoice::HeadOnly)?;
            let strategy = Neat::new(params, setup.spec.obs_dim, setup.policy.head.outputs())
                .map_err(|e| ctx.strategy_error(e))?;
            let problem_ref = ProblemRef::Env {
                env: setup.env,
                task: setup.task.kind,
                success_threshold: setup.task.success_threshold,
                head: setup.policy.head.clone(),
            };
            let describe = setup.problem.describe();
            (strategy, Arc::new(setup.problem), describe, problem_ref)
        }
    };
    let export = move |ch: &Champion<NeatGenome>, _t: &TestReport| {
        let graph = ch.genome.to_graph().map_err(|e| e.to_string())?;
        Ok(ChampionBody::Neat(Box::new(NeatChampion {
            kind: NEAT_KIND.into(),
            problem: problem_ref.clone(),
            graph,
            genome: ch.genome.clone(),
            strategy: "neat".into(),
        })))
    };
    let export = Arc::new(export);
    match &ctx.config.alps {
        // ALPS chooses the parents; NEAT contributes its operators.
        Some(alps) => {
            let variation = NeatVariation::new(strategy);
            let rate = variation.crossover_rate();
            let strategy =
                Alps::new(alps.clone(), variation, rate).map_err(|e| ctx.alps_error(e))?;
            Prepared::new(strategy, GenomeKind::Neat, problem, describe, export, None).boxed(ctx)
        }
        None => {
            Prepared::new(strategy, GenomeKind::Neat, problem, describe, export, None).boxed(ctx)
        }
    }
}
