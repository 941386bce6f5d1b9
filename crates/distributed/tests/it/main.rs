//! Coordinator and workers in one process against a real Redis
//! (`EVONET_TEST_REDIS=redis://:PASSWORD@127.0.0.1:PORT`, without a
//! database; in CI a missing URL fails instead of skipping).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use evonet_core::{
    Candidate, CandidateId, Cost, EvalError, EvalRequest, Evaluation, Problem, TestReport,
};
use evonet_distributed::{
    Fingerprint, Job, JobFactory, Link, ProblemJob, RedisEvaluator, RedisTarget, RunSpec, Worker,
    WorkerOptions, PROTOCOL_VERSION,
};
use evonet_runner::Evaluator;

fn redis_url(db: u8) -> Option<String> {
    match std::env::var("EVONET_TEST_REDIS") {
        Ok(u) if !u.trim().is_empty() => {
            let url = format!("{}/{db}", u.trim().trim_end_matches('/'));
            let mut link = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
            link.call(|con| redis::cmd("FLUSHDB").query::<()>(con))
                .unwrap();
            Some(url)
        }
        _ if std::env::var_os("CI").is_some() => panic!("EVONET_TEST_REDIS is not set"),
        _ => {
            eprintln!("skipped: EVONET_TEST_REDIS is not set");
            None
        }
    }
}

/// Fitness = genome, after sleeping `ms`.
struct Slow {
    ms: u64,
}

impl Problem<f64> for Slow {
    fn evaluate(&self, g: &f64, _r: &EvalRequest) -> Result<Evaluation, EvalError> {
        std::thread::sleep(Duration::from_millis(self.ms));
        Ok(Evaluation {
            fitness: *g,
            cost: Cost {
                env_steps: 1,
                episodes: 1,
            },
            obs_stats: None,
            solved: false,
        })
    }
    fn test(&self, _g: &f64, _s: u64) -> Result<TestReport, EvalError> {
        unreachable!()
    }
}

struct Factory {
    ms: u64,
    problem: &'static str,
}

impl JobFactory for Factory {
    fn prepare(
        &self,
        _spec: &RunSpec,
        _pool: &rayon::ThreadPool,
    ) -> Result<(Box<dyn Job>, Fingerprint), String> {
        Ok((
            Box::new(ProblemJob::<f64, _>::new(Slow { ms: self.ms })),
            Fingerprint::new([self.problem.to_string()]),
        ))
    }
}

fn spec(run: &str, problem: &str) -> RunSpec {
    let fp = Fingerprint::new([problem.to_string()]);
    RunSpec {
        protocol: PROTOCOL_VERSION,
        evonet_version: "test".into(),
        run_id: run.into(),
        config: String::new(),
        problem_hash: fp.hash(),
        problem: fp.text,
        origin: "test".into(),
    }
}

/// Starts `n` in-process workers; returns their stop flag and handles
/// (each yields how many tasks it evaluated).
fn workers(
    url: &str,
    n: usize,
    factory: impl Fn() -> Factory,
) -> (Arc<AtomicBool>, Vec<std::thread::JoinHandle<u64>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let handles = (0..n)
        .map(|i| {
            let link = Link::connect(&RedisTarget::new(url, None).unwrap()).unwrap();
            let opts = WorkerOptions {
                name: format!("w{i}"),
                threads: 1,
                version: "test".into(),
                idle_exit: None,
                stop: Arc::clone(&stop),
            };
            let f = factory();
            std::thread::spawn(move || {
                let mut w = Worker::new(link, opts, f).unwrap();
                w.run().unwrap();
                w.evaluated
            })
        })
        .collect();
    (stop, handles)
}

#[test]
fn a_busy_worker_keeps_its_tasks_past_the_lease() {
    let Some(url) = redis_url(8) else { return };
    let (stop, handles) = workers(&url, 3, || Factory {
        ms: 3_000,
        problem: "slow",
    });
    let link = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
    // Evaluations take 3 s, the lease is 2 s: only the renewal by the
    // busy workers keeps the idle third one from taking their tasks.
    let mut coordinator: RedisEvaluator<f64> =
        RedisEvaluator::new(link, spec("lease", "slow"), Some(2_000));
    let candidates: Vec<Candidate<f64>> = (0..2)
        .map(|i| Candidate {
            id: CandidateId(i),
            genome: i as f64 + 0.5,
            request: EvalRequest::new(i),
        })
        .collect();
    let start = Instant::now();
    let results = coordinator.evaluate(&Slow { ms: 0 }, candidates).unwrap();
    let took = start.elapsed();
    coordinator.retire().unwrap();
    stop.store(true, Ordering::SeqCst);
    let evaluated: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(
        results
            .iter()
            .map(|r| r.outcome.fitness())
            .collect::<Vec<_>>(),
        vec![0.5, 1.5]
    );
    assert_eq!(coordinator.duplicates, 0, "a task was evaluated twice");
    assert_eq!(evaluated, 2, "a task was taken over from a live worker");
    assert!(took < Duration::from_secs(9), "{took:?}");
}

#[test]
fn a_worker_refuses_a_run_whose_problem_it_builds_differently() {
    let Some(url) = redis_url(9) else { return };
    let (stop, handles) = workers(&url, 1, || Factory {
        ms: 0,
        problem: "acrobot",
    });
    let link = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
    let mut coordinator: RedisEvaluator<f64> =
        RedisEvaluator::new(link, spec("refused", "cartpole"), None);
    coordinator.publish(true).unwrap();
    let mut check = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
    let start = Instant::now();
    let why = loop {
        let v: Option<String> = check
            .call(|con| {
                redis::cmd("HGET")
                    .arg("evonet:v1:run:refused:refusals")
                    .arg("w0")
                    .query(con)
            })
            .unwrap();
        if let Some(v) = v {
            break v;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no refusal");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        why.contains("`cartpole`") && why.contains("`acrobot`"),
        "{why}"
    );
    coordinator.retire().unwrap();
    stop.store(true, Ordering::SeqCst);
    for h in handles {
        assert_eq!(h.join().unwrap(), 0);
    }
}
