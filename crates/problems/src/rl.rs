//! Reinforcement-learning problems: a policy's fitness is its mean return
//! (or Gruau's fitness for DPNV) over seeded episodes.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use evonet_core::seed::sub_seed;
use evonet_core::{
    Cost, EvalError, EvalRequest, Evaluation, Perturbed, PolicyParams, Problem, RunningStats,
    SeedChain, TestReport,
};
use evonet_envs::double_pole::{generalization_starts, gruau_fitness};
use evonet_envs::{EnvId, EnvSource};

use evonet_neat::NeatGenome;
use evonet_nn::{Activation, ConvTorso, GraphNet, Mlp};

use crate::controller::{ConvController, GraphController, MlpController};
use crate::decode::{check_centre, SeedChainDecoder};
use crate::faults::{Fault, Faults};
use crate::policy::{Policy, PolicySpec};
use crate::rollout::{rollout, Episode, RolloutEnv, Start};

/// A genome decoded into something that can act.
pub enum Decoded<'a> {
    /// An MLP over flat parameters (`RlProblem`'s policy spec).
    Mlp(Policy<'a>),
    /// A graph network whose output nodes compute `output_activation`.
    Graph {
        net: GraphNet,
        output_activation: Activation,
    },
}

impl Decoded<'_> {
    /// A NEAT genome's network.
    pub fn neat(g: &NeatGenome) -> Result<Decoded<'static>, EvalError> {
        let spec = g
            .to_graph()
            .map_err(|e| EvalError::BadGenome(e.to_string()))?;
        let output_activation = spec
            .nodes
            .first()
            .map_or(Activation::Identity, |n| n.activation);
        let net = GraphNet::new(&spec).map_err(|e| EvalError::BadGenome(e.to_string()))?;
        Ok(Decoded::Graph {
            net,
            output_activation,
        })
    }
}

/// What fitness and success mean for the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Mean return; solved when the champion's mean over the test episodes
    /// reaches the threshold (Gymnasium's `reward_threshold` by default).
    Return,
    /// Double pole with velocities: fitness = steps balanced (up to
    /// 100,000); solved when the champion balances all 100,000.
    DoublePoleMarkov,
    /// Double pole without velocities: Gruau fitness over 1,000 steps;
    /// solved when the champion balances 100,000 steps and then succeeds
    /// from at least 200 of the 625 generalisation starts.
    DoublePoleNonMarkov,
    /// A goal to reach (the mazes): fitness = mean return; an evaluation
    /// whose every episode ends at the goal (terminates rather than runs
    /// out of time) solves the task, as does a champion that reaches it in
    /// every test episode.
    ReachGoal,
}

impl TaskKind {
    pub fn for_env(env: &EnvSource) -> TaskKind {
        match env.builtin() {
            Some(EnvId::DoublePole) => TaskKind::DoublePoleMarkov,
            Some(EnvId::DoublePoleNoVelocities) => TaskKind::DoublePoleNonMarkov,
            Some(EnvId::Maze { .. }) => TaskKind::ReachGoal,
            _ => TaskKind::Return,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub kind: TaskKind,
    pub test_episodes: u32,
    pub success_threshold: Option<f64>,
}

pub const DPV_SUCCESS_STEPS: u64 = 100_000;
pub const DPNV_EPISODE_STEPS: u64 = 1_000;
pub const DPNV_GENERALIZATION_NEEDED: usize = 200;

#[derive(Debug)]
pub struct RlProblem {
    renv: RolloutEnv,
    policy: PolicySpec,
    episodes: u32,
    task: Task,
    faults: Faults,
    decoder: Option<SeedChainDecoder>,
}

impl RlProblem {
    /// `episodes`: per evaluation unless a request says otherwise.
    pub fn new(renv: RolloutEnv, policy: PolicySpec, episodes: u32, task: Task) -> Self {
        Self {
            renv,
            policy,
            episodes: episodes.max(1),
            task,
            faults: Faults::default(),
            decoder: None,
        }
    }

    /// Enables the genomes read from the shared noise table: seed chains
    /// (Deep GA, random search; `cache` decoded parents are kept) and
    /// OpenAI-ES's perturbed centres.
    pub fn with_noise_table(mut self, table: Arc<evonet_core::NoiseTable>, cache: usize) -> Self {
        let scales = self.policy.init_scales();
        self.decoder = Some(SeedChainDecoder::new(table, scales, cache));
        self
    }

    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// What this problem computes, one fact per line, for checking that
    /// another process built the same problem (distributed workers).
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![
            format!("rollout {:?}", self.renv),
            format!("policy {:?}", self.policy),
            format!("episodes {}", self.episodes),
            format!("task {:?}", self.task),
            format!("faults {:?}", self.faults),
        ];
        if let Some(d) = &self.decoder {
            let t = d.table();
            lines.push(format!("noise {:?} probe {:016x}", t, t.probe()));
        }
        lines
    }

    pub fn policy_spec(&self) -> &PolicySpec {
        &self.policy
    }

    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Decodes a seed chain into its parameters.
    pub fn decode_chain(&self, chain: &SeedChain) -> Result<Arc<Vec<f32>>, EvalError> {
        self.decoder
            .as_ref()
            .map(|d| d.decode(chain))
            .ok_or_else(|| EvalError::BadGenome("seed chains need a noise table".into()))
    }

    /// An OpenAI-ES candidate's parameters: its centre plus its scaled noise.
    pub fn decode_perturbed(&self, g: &Perturbed) -> Result<Vec<f32>, EvalError> {
        let d = self.decoder.as_ref().ok_or_else(|| {
            EvalError::BadGenome("OpenAI-ES candidates need a noise table".into())
        })?;
        check_centre(g, d.table(), self.policy.n_params())?;
        let mut theta = Vec::new();
        g.params_into(d.table(), &mut theta);
        Ok(theta)
    }

    /// Plays `n` episodes from seeds derived from `seed`, in lockstep.
    pub fn play(&self, policy: &Decoded<'_>, n: u32, seed: u64) -> Result<Vec<Episode>, EvalError> {
        let starts: Vec<Start<'_>> = (0..n as u64)
            .map(|e| Start::Seed(sub_seed(seed, e)))
            .collect();
        self.run(&self.renv, policy, &starts, None, false)
    }

    /// Builds the controller for `starts.len()` rows and rolls it out.
    fn run(
        &self,
        renv: &RolloutEnv,
        policy: &Decoded<'_>,
        starts: &[Start<'_>],
        stats: Option<&mut RunningStats>,
        poison: bool,
    ) -> Result<Vec<Episode>, EvalError> {
        let head = &self.policy.head;
        match policy {
            Decoded::Mlp(p) => {
                let bad = |e: &dyn std::fmt::Display| EvalError::BadGenome(e.to_string());
                let expected = self.policy.n_params();
                if p.params.len() != expected {
                    return Err(EvalError::BadGenome(format!(
                        "expected {expected} parameters, got {}",
                        p.params.len()
                    )));
                }
                let (torso, dense) = p.params.split_at(self.policy.conv_params());
                let net = Mlp::new(&self.policy.mlp, dense).map_err(|e| bad(&e))?;
                let mlp = MlpController::new(net, &self.policy.mlp, starts.len());
                match &self.policy.conv {
                    None => {
                        let mut c = mlp;
                        rollout(renv, head, p.obs_norm, &mut c, starts, stats, poison)
                    }
                    Some(conv) => {
                        let t = ConvTorso::new(conv, torso).map_err(|e| bad(&e))?;
                        let mut c = ConvController::new(t, mlp, starts.len());
                        rollout(renv, head, p.obs_norm, &mut c, starts, stats, poison)
                    }
                }
            }
            Decoded::Graph {
                net,
                output_activation,
            } => {
                let continuous = matches!(head, crate::policy::Head::Continuous { .. });
                let mut c =
                    GraphController::new(net.clone(), starts.len(), continuous, *output_activation);
                rollout(renv, head, None, &mut c, starts, stats, poison)
            }
        }
    }

    fn evaluate_policy(
        &self,
        policy: &Decoded<'_>,
        req: &EvalRequest,
    ) -> Result<Evaluation, EvalError> {
        let fault = self.faults.draw(req.seed);
        if self.faults.delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(self.faults.delay_ms));
        }
        if fault == Some(Fault::Panic) {
            panic!("injected fault: evaluation panicked");
        }
        let n = if req.episodes == 0 {
            self.episodes
        } else {
            req.episodes
        };
        let starts: Vec<Start<'_>> = (0..n as u64)
            .map(|e| Start::Seed(sub_seed(req.seed, e)))
            .collect();
        let mut stats = req
            .record_obs
            .then(|| RunningStats::new(self.policy.obs_dim()));
        let eps = self.run(
            &self.renv,
            policy,
            &starts,
            stats.as_mut(),
            fault == Some(Fault::NanObservation),
        )?;
        let cost = Cost {
            env_steps: eps.iter().map(|e| e.steps).sum(),
            episodes: eps.len() as u64,
        };
        let per_episode = |e: &Episode| match self.task.kind {
            TaskKind::DoublePoleNonMarkov => gruau_fitness(e.steps, e.jiggle),
            _ => e.ret,
        };
        let mut fitness = eps.iter().map(per_episode).sum::<f64>() / eps.len() as f64;
        if fault == Some(Fault::NanFitness) {
            fitness = f64::NAN;
        }
        Ok(Evaluation {
            solved: self.task.kind == TaskKind::ReachGoal && eps.iter().all(|e| e.terminated),
            fitness,
            cost,
            obs_stats: stats,
            details: Vec::new(),
            artifact: Vec::new(),
            behavior: mean_behavior(&eps),
        })
    }

    /// One double-pole episode of up to 100,000 steps from the start state.
    fn balance_100k(&self, policy: &Decoded<'_>, seed: u64) -> Result<Episode, EvalError> {
        let long = RolloutEnv {
            max_steps: Some(DPV_SUCCESS_STEPS),
            ..self.renv.clone()
        };
        let mut eps = self.run(&long, policy, &[Start::Seed(seed)], None, false)?;
        Ok(eps.swap_remove(0))
    }

    fn test_policy(&self, policy: &Decoded<'_>, seed: u64) -> Result<TestReport, EvalError> {
        match self.task.kind {
            TaskKind::Return | TaskKind::ReachGoal => {
                let eps = self.play(policy, self.task.test_episodes.max(1), seed)?;
                let rets: Vec<f64> = eps.iter().map(|e| e.ret).collect();
                let s = summarize(&rets);
                let solved = match self.task.kind {
                    TaskKind::ReachGoal => eps.iter().all(|e| e.terminated),
                    _ => self.task.success_threshold.is_some_and(|t| s.mean >= t),
                };
                Ok(TestReport {
                    score: s.mean,
                    solved,
                    env_steps: eps.iter().map(|e| e.steps).sum(),
                    details: vec![
                        ("test_std".into(), s.std),
                        ("test_min".into(), s.min),
                        ("test_max".into(), s.max),
                    ],
                })
            }
            TaskKind::DoublePoleMarkov => {
                let ep = self.balance_100k(policy, seed)?;
                Ok(TestReport {
                    // Steps balanced (the failing step does not count), as the fitness.
                    score: ep.ret,
                    solved: !ep.terminated && ep.steps >= DPV_SUCCESS_STEPS,
                    env_steps: ep.steps,
                    details: vec![],
                })
            }
            TaskKind::DoublePoleNonMarkov => {
                let ep = self.balance_100k(policy, seed)?;
                let balanced = !ep.terminated && ep.steps >= DPV_SUCCESS_STEPS;
                let mut steps = ep.steps;
                let mut generalized = 0usize;
                if balanced {
                    let grid = generalization_starts();
                    let starts: Vec<Start<'_>> = grid.iter().map(|s| Start::State(s)).collect();
                    let short = RolloutEnv {
                        max_steps: Some(DPNV_EPISODE_STEPS),
                        ..self.renv.clone()
                    };
                    let eps = self.run(&short, policy, &starts, None, false)?;
                    generalized = eps.iter().filter(|e| !e.terminated).count();
                    steps += eps.iter().map(|e| e.steps).sum::<u64>();
                }
                Ok(TestReport {
                    score: generalized as f64,
                    solved: balanced && generalized >= DPNV_GENERALIZATION_NEEDED,
                    env_steps: steps,
                    details: vec![
                        ("balanced_100k".into(), if balanced { 1.0 } else { 0.0 }),
                        ("balance_steps".into(), ep.steps as f64),
                        ("generalization".into(), generalized as f64),
                    ],
                })
            }
        }
    }
}

/// The episodes' behaviour characterisations, averaged (Conti et al.'s
/// "mean BC over the rollouts"); `None` when the environment defines none
/// or the episodes disagree on its length.
fn mean_behavior(eps: &[Episode]) -> Option<Vec<f32>> {
    let first = eps.first()?;
    let n = first.behavior.len();
    if n == 0 || eps.iter().any(|e| e.behavior.len() != n) {
        return None;
    }
    if eps.len() == 1 {
        return Some(first.behavior.clone());
    }
    let mut sum = vec![0.0f64; n];
    for e in eps {
        for (s, b) in sum.iter_mut().zip(&e.behavior) {
            *s += f64::from(*b);
        }
    }
    Some(sum.iter().map(|s| (s / eps.len() as f64) as f32).collect())
}

/// Mean, standard deviation (population), min and max.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

pub fn summarize(xs: &[f64]) -> Summary {
    let n = xs.len().max(1) as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let std = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Summary {
        mean,
        std,
        min,
        max,
    }
}

fn params_policy(g: &PolicyParams) -> Decoded<'_> {
    Decoded::Mlp(Policy {
        params: &g.params,
        obs_norm: g.obs_norm.as_ref(),
    })
}

impl Problem<PolicyParams> for RlProblem {
    fn evaluate(&self, g: &PolicyParams, req: &EvalRequest) -> Result<Evaluation, EvalError> {
        self.evaluate_policy(&params_policy(g), req)
    }
    fn test(&self, g: &PolicyParams, seed: u64) -> Result<TestReport, EvalError> {
        self.test_policy(&params_policy(g), seed)
    }
}

impl Problem<SeedChain> for RlProblem {
    fn evaluate(&self, g: &SeedChain, req: &EvalRequest) -> Result<Evaluation, EvalError> {
        let theta = self.decode_chain(g)?;
        self.evaluate_policy(
            &Decoded::Mlp(Policy {
                params: &theta,
                obs_norm: None,
            }),
            req,
        )
    }
    fn test(&self, g: &SeedChain, seed: u64) -> Result<TestReport, EvalError> {
        let theta = self.decode_chain(g)?;
        self.test_policy(
            &Decoded::Mlp(Policy {
                params: &theta,
                obs_norm: None,
            }),
            seed,
        )
    }
}

impl Problem<Perturbed> for RlProblem {
    fn evaluate(&self, g: &Perturbed, req: &EvalRequest) -> Result<Evaluation, EvalError> {
        let theta = self.decode_perturbed(g)?;
        self.evaluate_policy(&perturbed_policy(&theta, g), req)
    }
    fn test(&self, g: &Perturbed, seed: u64) -> Result<TestReport, EvalError> {
        let theta = self.decode_perturbed(g)?;
        self.test_policy(&perturbed_policy(&theta, g), seed)
    }
}

fn perturbed_policy<'a>(theta: &'a [f32], g: &'a Perturbed) -> Decoded<'a> {
    Decoded::Mlp(Policy {
        params: theta,
        obs_norm: g.obs_norm(),
    })
}

impl Problem<NeatGenome> for RlProblem {
    fn evaluate(&self, g: &NeatGenome, req: &EvalRequest) -> Result<Evaluation, EvalError> {
        self.evaluate_policy(&Decoded::neat(g)?, req)
    }
    fn test(&self, g: &NeatGenome, seed: u64) -> Result<TestReport, EvalError> {
        self.test_policy(&Decoded::neat(g)?, seed)
    }
}
