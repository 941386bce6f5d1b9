//! Integration tests of evonet-runner: the loop on a toy problem.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use evonet_core::{EvalError, EvalRequest, Evaluation, PolicyParams, Problem, TestReport};
use evonet_runner::metrics::read_all;
use evonet_runner::{
    run, ChampionEvent, ChampionRecord, Checkpoint, CheckpointEvent, GenerationRecord, Observed,
    Observer, RunOutcome, RunSettings, ThreadEvaluator,
};
use evonet_strategies::{CmaEs, CmaEsConfig, ParamSpace};

/// Maximise −Σ(x−1)²; panics on a chosen evaluation seed.
struct Sphere;

impl Problem<PolicyParams> for Sphere {
    fn evaluate(&self, g: &PolicyParams, req: &EvalRequest) -> Result<Evaluation, EvalError> {
        if req.seed % 17 == 3 {
            panic!("toy panic");
        }
        let f = -g
            .params
            .iter()
            .map(|x| (*x as f64 - 1.0).powi(2))
            .sum::<f64>();
        Ok(Evaluation {
            solved: false,
            fitness: f,
            cost: evonet_core::Cost {
                env_steps: 1,
                episodes: 1,
            },
            obs_stats: None,
            details: Vec::new(),
            artifact: Vec::new(),
            behavior: None,
        })
    }
    fn test(&self, g: &PolicyParams, _seed: u64) -> Result<TestReport, EvalError> {
        let f = self.evaluate(g, &EvalRequest::new(0))?.fitness;
        Ok(TestReport {
            score: f,
            solved: f > -1e-3,
            env_steps: 0,
            details: vec![],
        })
    }
}

fn strategy() -> CmaEs {
    let cfg = CmaEsConfig {
        population: 8,
        sigma: 0.5,
        separable: false,
        init_scale: 0.0,
        restarts: 0,
        max_dimension: 5_000,
    };
    CmaEs::new(
        cfg,
        ParamSpace {
            init_scales: vec![1.0; 4],
            obs_dim: 1,
        },
    )
    .unwrap()
}

fn settings(dir: &str, gens: u64) -> RunSettings {
    let out = std::env::temp_dir().join(format!("evonet-runner-it-{dir}-{}", std::process::id()));
    RunSettings {
        run_id: "test".into(),
        test_champion: true,
        out_dir: out,
        seed: 3,
        max_generations: gens,
        max_evaluations: None,
        max_env_steps: None,
        stop_when_solved: false,
        test_every: 1,
        checkpoint_every: 2,
        record_behaviors: false,
        config_text: "toy".into(),
        stop: Arc::new(AtomicBool::new(false)),
    }
}

fn export(
    c: &evonet_core::Champion<PolicyParams>,
    _t: &TestReport,
) -> Result<serde_json::Value, String> {
    Ok(serde_json::json!({ "params": c.genome.params }))
}

/// Counts generations, better champions (with the best test score seen)
/// and checkpoints (with the generation of each).
#[derive(Default)]
struct Count {
    generations: usize,
    champions: Vec<f64>,
    checkpoints: Vec<u64>,
}
impl Observer for Count {
    fn on_generation(&mut self, _r: &GenerationRecord) -> Observed {
        self.generations += 1;
        Ok(())
    }
    fn on_champion(&mut self, e: &ChampionEvent<'_>) -> Observed {
        let on_disk: ChampionRecord<serde_json::Value> = serde_json::from_str(e.document).unwrap();
        assert_eq!(on_disk.provenance.generation, e.generation);
        self.champions.push(e.test.score);
        Ok(())
    }
    fn on_checkpoint(&mut self, e: &CheckpointEvent<'_>) -> Observed {
        let on_disk = evonet_runner::Checkpoint::read(e.path).expect("told after it is written");
        assert_eq!(on_disk.runner, e.checkpoint.runner);
        self.checkpoints.push(e.checkpoint.runner.generation);
        Ok(())
    }
}

fn strip(dir: &std::path::Path) -> Vec<GenerationRecord> {
    read_all(&dir.join("metrics.jsonl"))
        .unwrap()
        .into_iter()
        .map(|mut r| {
            r.elapsed_s = 0.0;
            r.evals_per_s = 0.0;
            r
        })
        .collect()
}

#[test]
fn resume_continues_exactly_and_failures_are_counted() {
    let s = strategy();
    let mut ev = ThreadEvaluator::new(2).unwrap();
    let full = settings("full", 12);
    let mut count = Count::default();
    let out = run(
        &s,
        &Sphere,
        &mut ev,
        &full,
        &export,
        None,
        &mut [&mut count],
    )
    .unwrap();
    assert!(matches!(out, RunOutcome::Finished(ref r) if r.generation == 12));
    assert_eq!(count.generations, 12);
    // Checkpoints every 2 generations and at the end (12 again).
    assert_eq!(count.checkpoints, vec![2, 4, 6, 8, 10, 12, 12]);
    // Each better champion, in increasing order of test score; the last is
    // the run's best.
    assert!(!count.champions.is_empty());
    assert!(count.champions.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(
        count.champions.last().copied(),
        match &out {
            RunOutcome::Finished(r) => r.best_test,
            RunOutcome::Interrupted(_) => None,
        }
    );
    let full_metrics = strip(&full.out_dir);
    assert!(
        full_metrics.iter().map(|r| r.failed).sum::<u64>() > 0,
        "the toy panics must be recorded as failures"
    );

    let part = settings("part", 5);
    run(&s, &Sphere, &mut ev, &part, &export, None, &mut []).unwrap();
    let ck = Checkpoint::read(&Checkpoint::latest_path(&part.out_dir)).unwrap();
    assert_eq!(ck.runner.generation, 5);
    let more = RunSettings {
        max_generations: 12,
        ..part.clone()
    };
    run(&s, &Sphere, &mut ev, &more, &export, Some(ck), &mut []).unwrap();
    assert_eq!(strip(&part.out_dir), full_metrics);
    for d in [&full.out_dir, &part.out_dir] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn the_stop_flag_interrupts_with_a_checkpoint() {
    let s = strategy();
    let mut ev = ThreadEvaluator::new(1).unwrap();
    let st = settings("stop", 50);
    st.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let out = run(&s, &Sphere, &mut ev, &st, &export, None, &mut []).unwrap();
    assert!(matches!(out, RunOutcome::Interrupted(ref r) if r.generation == 0));
    assert!(Checkpoint::latest_path(&st.out_dir).exists());
    std::fs::remove_dir_all(&st.out_dir).unwrap();
}
