//! Reproduces the NEAT paper's tables (Stanley & Miikkulainen 2002) and
//! times NEAT per evaluation (a bench binary; prints a summary and one JSON
//! line per run).
//!
//!     cargo bench -p evonet-problems --bench neat_paper -- xor  [--runs 100] [--preset paper2002|neat_python] [--threads N]
//!     cargo bench -p evonet-problems --bench neat_paper -- dpv  [--runs 30]
//!     cargo bench -p evonet-problems --bench neat_paper -- dpnv [--runs 30]
//!
//! Run `r` uses seed `r + 1`. A run is solved in the generation where
//! - XOR: any network classifies all four patterns (the paper's criterion);
//! - DPV: any network balances 100,000 steps (fitness = steps, capped there);
//! - DPNV: the champion of the best species not checked before (Stanley's
//!   protocol) balances 100,000 steps and then
//!   succeeds from ≥ 200 of the 625 generalisation starts.
//!
//! Evaluations to solve are generations × population, counting the
//! generation that solved it in full; the success checks are not counted.
//! Evaluation runs on a rayon pool (`--threads`, default 1: XOR networks are
//! too small to gain from threads); results do not depend on it.

use std::time::Instant;

// The allocator of the `evonet` binary, so that timings match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rayon::prelude::*;

use evonet_core::{Problem, Strategy};
use evonet_envs::{Env, EnvId};
use evonet_neat::{Neat, NeatConfig, NeatParams, Preset};
use evonet_nn::Activation;
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind, XorProblem};

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Xor,
    Dpv,
    Dpnv,
}

struct RunResult {
    seed: u64,
    solved: bool,
    generations: u64,
    evaluations: u64,
    hidden: usize,
    conns: usize,
    generalization: f64,
    secs: f64,
}

fn params(which: Which, preset: Preset) -> NeatParams {
    let mut p = preset.params();
    match which {
        Which::Xor => {}
        Which::Dpv => {
            // Stanley's pole code feeds a 0.5 bias input.
            p.bias_input_value = 0.5;
        }
        Which::Dpnv => {
            // Paper section 4.1: population 1000, c3 = 3.0, δt = 4.0, add
            // link 0.3 with the large population; recurrent links allowed.
            p.pop_size = 1000;
            p.compatibility_weight_coefficient = 3.0;
            p.compatibility_threshold = 4.0;
            p.conn_add_prob = 0.3;
            p.feed_forward = false;
            p.bias_input_value = 0.5;
            // Where the paper is silent, Stanley's `p2nv.neat`.
            p.weight_mutate_power = 1.8;
            p.survival_threshold = 0.4;
            // Stanley's protocol: test the champion of the best unchecked
            // species each generation.
            p.check_unchecked_species = true;
        }
    }
    p
}

fn env_problem(env: EnvId) -> RlProblem {
    let probe = env.make(None);
    let spec = probe.spec().clone();
    let policy = PolicySpec::new(
        spec.obs_dim,
        &spec.action_space,
        vec![],
        Activation::Identity,
        false,
    );
    RlProblem::new(
        RolloutEnv {
            env: env.into(),
            max_steps: None,
            start_angle: None,
            minatar: Default::default(),
        },
        policy,
        1,
        Task {
            kind: TaskKind::for_env(&env.into()),
            test_episodes: 1,
            success_threshold: None,
        },
    )
}

fn run(which: Which, p: &NeatParams, seed: u64, max_gens: u64) -> RunResult {
    let (inputs, outputs) = match which {
        Which::Xor => (2, 1),
        Which::Dpv => (6, 1),
        Which::Dpnv => (3, 1),
    };
    let s = Neat::new(p.clone(), inputs, outputs).expect("valid settings");
    let xor = XorProblem;
    let rl = match which {
        Which::Xor => None,
        Which::Dpv => Some(env_problem(EnvId::DoublePole)),
        Which::Dpnv => Some(env_problem(EnvId::DoublePoleNoVelocities)),
    };
    let problem: &(dyn Problem<evonet_neat::NeatGenome> + Sync) = match &rl {
        Some(r) => r,
        None => &xor,
    };
    let t0 = Instant::now();
    let mut st = s.init(seed).expect("init");
    let mut evaluations = 0;
    for gen in 0..max_gens {
        let cands = s.ask(&mut st);
        let eval = |c: evonet_core::Candidate<evonet_neat::NeatGenome>| {
            let outcome = match problem.evaluate(&c.genome, &c.request) {
                Ok(e) => evonet_core::Outcome::Done(e),
                Err(e) => evonet_core::Outcome::Failed {
                    reason: e.to_string(),
                    cost: Default::default(),
                },
            };
            evonet_core::Evaluated {
                candidate: c,
                outcome,
            }
        };
        // One thread: a plain loop, as neat-python's example evaluates.
        let results: Vec<_> = if rayon::current_num_threads() == 1 {
            cands.into_iter().map(eval).collect()
        } else {
            cands.into_par_iter().map(eval).collect()
        };
        evaluations += results.len() as u64;
        let solver = results.iter().find_map(|r| match &r.outcome {
            evonet_core::Outcome::Done(e)
                if e.solved || (which == Which::Dpv && e.fitness >= 100_000.0) =>
            {
                Some(r.candidate.genome.clone())
            }
            _ => None,
        });
        s.tell(&mut st, results).expect("tell");
        let (found, generalization) = match (which, solver) {
            (Which::Dpnv, _) => {
                let ch = s.champion(&st).expect("champion");
                let t = problem.test(&ch.genome, 0).expect("test");
                (t.solved.then_some(ch.genome), t.score)
            }
            (_, found) => (found, 0.0),
        };
        if let Some(g) = found {
            return RunResult {
                seed,
                solved: true,
                generations: gen + 1,
                evaluations,
                hidden: g.hidden_nodes(),
                conns: g.enabled_conns(),
                generalization,
                secs: t0.elapsed().as_secs_f64(),
            };
        }
    }
    RunResult {
        seed,
        solved: false,
        generations: max_gens,
        evaluations,
        hidden: 0,
        conns: 0,
        generalization: 0.0,
        secs: t0.elapsed().as_secs_f64(),
    }
}

fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len().max(1) as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, v.sqrt())
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let which = match args.first().map(String::as_str) {
        Some("dpv") => Which::Dpv,
        Some("dpnv") => Which::Dpnv,
        _ => Which::Xor,
    };
    let preset = match arg("--preset").as_deref() {
        Some("neat_python") => Preset::NeatPython,
        _ => Preset::Paper2002,
    };
    let runs: u64 = arg("--runs")
        .and_then(|r| r.parse().ok())
        .unwrap_or(match which {
            Which::Xor => 100,
            _ => 30,
        });
    let threads: usize = arg("--threads").and_then(|t| t.parse().ok()).unwrap_or(1);
    let max_gens: u64 = arg("--max-generations")
        .and_then(|t| t.parse().ok())
        .unwrap_or(match which {
            Which::Xor => 500,
            Which::Dpv => 1000,
            Which::Dpnv => 500,
        });
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("thread pool");
    let mut p = params(which, preset);
    // `--set key=value` (repeatable) overrides any NEAT setting.
    for (i, a) in args.iter().enumerate() {
        if a == "--set" {
            let kv = args.get(i + 1).expect("--set key=value");
            let (k, v) = kv.split_once('=').expect("--set key=value");
            let value: serde_json::Value =
                serde_json::from_str(v).unwrap_or(serde_json::Value::String(v.into()));
            let overrides: NeatConfig = serde_json::from_value(serde_json::json!({ k: value }))
                .unwrap_or_else(|e| panic!("--set {kv}: {e}"));
            p = overrides.apply_to(p);
        }
    }
    p.validate().expect("valid settings");
    // `--repeat R`: run the whole set R times (results are identical) and
    // time it by the median repetition, for speed comparisons.
    let repeat: usize = arg("--repeat")
        .and_then(|t| t.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut walls = Vec::new();
    let mut results: Vec<RunResult> = Vec::new();
    for rep in 0..repeat {
        let t0 = Instant::now();
        results = (0..runs)
            .map(|r| {
                let res = run(which, &p, r + 1, max_gens);
                if rep == 0 {
                    eprintln!(
                        "seed {}: solved {} after {} evaluations ({:.2} s)",
                        res.seed, res.solved, res.evaluations, res.secs
                    );
                }
                res
            })
            .collect();
        walls.push(t0.elapsed().as_secs_f64());
    }
    let wall = median(walls);
    for r in &results {
        println!(
            "{{\"seed\":{},\"solved\":{},\"generations\":{},\"evaluations\":{},\"hidden_nodes\":{},\"enabled_conns\":{},\"generalization\":{},\"seconds\":{:.6}}}",
            r.seed, r.solved, r.generations, r.evaluations, r.hidden, r.conns, r.generalization, r.secs
        );
    }
    let solved: Vec<&RunResult> = results.iter().filter(|r| r.solved).collect();
    let evals: Vec<f64> = solved.iter().map(|r| r.evaluations as f64).collect();
    let gens: Vec<f64> = solved.iter().map(|r| r.generations as f64).collect();
    let hidden: Vec<f64> = solved.iter().map(|r| r.hidden as f64).collect();
    let conns: Vec<f64> = solved.iter().map(|r| r.conns as f64).collect();
    let general: Vec<f64> = solved.iter().map(|r| r.generalization).collect();
    let (me, se) = mean_std(&evals);
    let (mg, _) = mean_std(&gens);
    let (mh, sh) = mean_std(&hidden);
    let (mc, _) = mean_std(&conns);
    let total_evals: u64 = results.iter().map(|r| r.evaluations).sum();
    let per_run: Vec<f64> = results.iter().map(|r| r.secs).collect();
    println!(
        "{} ({:?} preset, pop {}): {}/{} solved; evaluations mean {:.0} std {:.0} median {:.0} worst {:.0}; generations mean {:.1}",
        match which {
            Which::Xor => "XOR",
            Which::Dpv => "DPV",
            Which::Dpnv => "DPNV",
        },
        match preset {
            Preset::Paper2002 => "paper2002",
            Preset::NeatPython => "neat_python",
        },
        p.pop_size,
        solved.len(),
        runs,
        me,
        se,
        median(evals.clone()),
        evals.iter().copied().fold(0.0, f64::max),
        mg
    );
    println!(
        "solutions: hidden nodes mean {mh:.2} std {sh:.2}; enabled connections mean {mc:.2}{}",
        if which == Which::Dpnv {
            format!("; generalization mean {:.1}", mean_std(&general).0)
        } else {
            String::new()
        }
    );
    println!(
        "time: {wall:.2} s for {runs} runs (median of {repeat}), median {:.4} s per run, {:.0} evaluations/s ({} thread{})",
        median(per_run),
        total_evals as f64 / wall,
        threads,
        if threads == 1 { "" } else { "s" }
    );
}
