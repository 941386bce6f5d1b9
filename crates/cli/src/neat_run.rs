//! Wiring a NEAT config: the problem (XOR or an environment), the strategy
//! with the network's input and output counts, and the champion export.

use anyhow::Result;

use evonet_core::{Champion, TestReport};
use evonet_neat::{Neat, NeatConfig, NeatGenome};
use evonet_nn::Activation;
use evonet_problems::XorProblem;

use crate::champion::{NeatChampionFile, ProblemRef, Provenance, NEAT_KIND};
use crate::config::Config;
use crate::run_cmd::{env_ref, Drive, EnvSetup};

pub(crate) fn execute(cfg: &Config, c: &NeatConfig, ctx: Drive<'_>) -> Result<u8> {
    let params = c.resolve();
    if cfg.task.is_some() {
        let s = Neat::new(params, 2, 1)?;
        let export = |ch: &Champion<NeatGenome>, _t: &TestReport| export(ProblemRef::Xor, ch);
        return ctx.drive(&s, &XorProblem, &export);
    }
    // The policy part only contributes the action head.
    let setup = EnvSetup::new(cfg, Vec::new(), Activation::Identity, false);
    let problem_ref = ProblemRef::Env {
        env: env_ref(cfg, setup.env_id),
        task: setup.task.kind,
        success_threshold: setup.task.success_threshold,
        head: setup.policy.head.clone(),
    };
    let s = Neat::new(params, setup.spec.obs_dim, setup.policy.head.outputs())?;
    let export = |ch: &Champion<NeatGenome>, _t: &TestReport| export(problem_ref.clone(), ch);
    ctx.drive(&s, &setup.problem, &export)
}

fn export(problem: ProblemRef, ch: &Champion<NeatGenome>) -> serde_json::Value {
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
