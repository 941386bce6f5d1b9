//! Coordinator and workers in one process against a real Redis
//! (`EVONET_TEST_REDIS=redis://:PASSWORD@127.0.0.1:PORT`, without a
//! database; in CI a missing URL fails instead of skipping).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use evonet_core::{Candidate, CandidateId, EvalRequest, Perturbation, Perturbed, PolicyParams};
use evonet_distributed::testing::{spec, Echo, EchoFactory};
use evonet_distributed::{Link, RedisEvaluator, RedisTarget, Worker, WorkerOptions};
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

/// Starts `n` in-process workers; returns their stop flag and handles
/// (each yields how many tasks it evaluated).
fn workers(
    url: &str,
    n: usize,
    factory: impl Fn() -> EchoFactory,
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
    let (stop, handles) = workers(&url, 3, || EchoFactory::new(3_000, "slow"));
    let link = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
    // Evaluations take 3 s, the lease is 2 s: only the renewal by the
    // busy workers keeps the idle third one from taking their tasks.
    let mut coordinator: RedisEvaluator<f64> =
        RedisEvaluator::new(link, spec("lease", "test", "slow"), Some(2_000));
    let candidates: Vec<Candidate<f64>> = (0..2)
        .map(|i| Candidate {
            id: CandidateId(i),
            origin: None,
            genome: i as f64 + 0.5,
            request: EvalRequest::new(i),
        })
        .collect();
    let start = Instant::now();
    let results = coordinator
        .evaluate(&Echo { delay_ms: 0 }, candidates)
        .unwrap();
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
    let (stop, handles) = workers(&url, 1, || EchoFactory::new(0, "acrobot"));
    let link = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
    let mut coordinator: RedisEvaluator<f64> =
        RedisEvaluator::new(link, spec("refused", "test", "cartpole"), None);
    coordinator.publish(true).unwrap();
    let mut check = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
    let start = Instant::now();
    let why = loop {
        let v: Option<String> = check
            .call(|con| {
                redis::cmd("HGET")
                    .arg(evonet_distributed::keys::refusals("refused"))
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

/// OpenAI-ES candidates around a centre of `dim` copies of `value`.
fn perturbed_batch(value: f32, dim: usize, from: u64, n: u64) -> Vec<Candidate<Perturbed>> {
    let centre = Arc::new(PolicyParams {
        params: vec![value; dim],
        obs_norm: None,
    });
    (from..from + n)
        .map(|i| Candidate {
            id: CandidateId(i),
            origin: None,
            genome: Perturbed {
                centre: Arc::clone(&centre),
                noise: Some(Perturbation {
                    seed: i,
                    scale: if i % 2 == 0 { 0.25 } else { -0.25 },
                }),
            },
            request: EvalRequest::new(i),
        })
        .collect()
}

fn shared_keys_left(url: &str) -> Vec<String> {
    let mut link = Link::connect(&RedisTarget::new(url, None).unwrap()).unwrap();
    link.call(|con| redis::cmd("KEYS").arg("evonet:*:shared:*").query(con))
        .unwrap()
}

/// The centre travels once per batch; each batch's tasks get their own
/// batch's centre, and nothing of it stays in Redis after the batch.
#[test]
fn open_es_centres_travel_once_per_batch() {
    let Some(url) = redis_url(10) else { return };
    let (stop, handles) = workers(&url, 2, || EchoFactory {
        perturbed: true,
        ..EchoFactory::new(0, "es")
    });
    let link = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
    let mut coordinator: RedisEvaluator<Perturbed> =
        RedisEvaluator::new(link, spec("es", "test", "es"), None);
    for (g, value) in [1.0f32, 2.0, 3.0].into_iter().enumerate() {
        let batch = perturbed_batch(value, 132_179, 10 * g as u64, 10);
        let results = coordinator.evaluate(&Echo { delay_ms: 0 }, batch).unwrap();
        let fitness: Vec<f64> = results.iter().map(|r| r.outcome.fitness()).collect();
        let want: Vec<f64> = (0..10)
            .map(|i| value as f64 + if i % 2 == 0 { 0.25 } else { -0.25 })
            .collect();
        assert_eq!(fitness, want, "batch {g}");
        assert_eq!(shared_keys_left(&url), Vec::<String>::new());
    }
    coordinator.retire().unwrap();
    stop.store(true, Ordering::SeqCst);
    let evaluated: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(evaluated, 30);
}

/// A server that loses everything mid-batch: the coordinator publishes the
/// run again, writes the centre again and re-sends what is missing.
#[test]
fn a_lost_centre_is_written_again() {
    let Some(url) = redis_url(11) else { return };
    let (stop, handles) = workers(&url, 2, || EchoFactory {
        perturbed: true,
        ..EchoFactory::new(300, "es")
    });
    let link = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
    let mut coordinator: RedisEvaluator<Perturbed> =
        RedisEvaluator::new(link, spec("es-lost", "test", "es"), None);
    // Warm-up: the workers join the run.
    coordinator
        .evaluate(&Echo { delay_ms: 0 }, perturbed_batch(0.0, 1000, 0, 2))
        .unwrap();
    let flusher = {
        let url = url.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(450));
            let mut link = Link::connect(&RedisTarget::new(&url, None).unwrap()).unwrap();
            link.call(|con| redis::cmd("FLUSHDB").query::<()>(con))
                .unwrap();
        })
    };
    // Without the centre written again, the workers would drop the re-sent
    // tasks and the batch would never end: bound the wait.
    let (tx, rx) = std::sync::mpsc::channel();
    let waiting = std::thread::spawn(move || {
        let r = coordinator
            .evaluate(&Echo { delay_ms: 0 }, perturbed_batch(5.0, 1000, 2, 8))
            .unwrap();
        tx.send(r).unwrap();
        coordinator
    });
    let results = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the batch ended after the server lost its data");
    let mut coordinator = waiting.join().unwrap();
    flusher.join().unwrap();
    let fitness: Vec<f64> = results.iter().map(|r| r.outcome.fitness()).collect();
    let want: Vec<f64> = (2..10)
        .map(|i| 5.0 + if i % 2 == 0 { 0.25 } else { -0.25 })
        .collect();
    assert_eq!(fitness, want);
    coordinator.retire().unwrap();
    stop.store(true, Ordering::SeqCst);
    for h in handles {
        h.join().unwrap();
    }
}
