//! Distributed evaluation through Redis, measured on loopback
//! (docs/BENCHMARKS.md section 5).
//!
//! `cargo bench -p evonet-cli --bench distributed -- [--reps N] [--skip-efficiency] [--parts 1,2,3,4] [--bin PATH]`
//!
//! Starts a private, password-protected `redis-server` on a free port
//! (Debian's `redis-server` must be on PATH) and measures:
//! 1. overhead per task: a batch of trivial tasks through Redis and one
//!    in-process worker thread, against the same batch on one local thread;
//!    plus the round trip of a batch of one task;
//! 2. throughput efficiency with 1, 2 and 4 `evonet worker` processes on
//!    evaluations of about 10 ms, against `evonet run --threads 1`;
//! 3. bytes sent per candidate by Deep GA at generation 100 against the
//!    decoded parameter vector, and by OpenAI-ES (a noise index per task,
//!    the centre once per batch);
//! 4. throughput efficiency as in 2, for OpenAI-ES over MinAtar's DQN
//!    network (132,179 parameters).
//!
//! `--bin PATH` runs another `evonet` binary in parts 2 and 4 (an earlier
//! build, for a before/after comparison on the same machine).
//!
//! Every figure is a median over `--reps` repetitions.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use evonet::core::{Candidate, CandidateId, Cost, EvalRequest, Evaluation, SeedChain, Strategy};
use evonet::distributed::testing::{spec, Echo, EchoFactory};
use evonet::distributed::wire::{self, Task};
use evonet::distributed::{Link, RedisEvaluator, RedisTarget, Worker, WorkerOptions};
use evonet::runner::{Evaluator, ThreadEvaluator};

const PASSWORD: &str = "bench-secret";

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--requirepass",
                PASSWORD,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (apt-get install redis-server)");
        let s = Self { child, port };
        let start = Instant::now();
        while RedisTarget::new(&s.url(0), None)
            .and_then(|t| Link::connect(&t))
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    fn url(&self, db: u8) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

// ---------------------------------------------------------------- part 1

/// Fitness = the genome: evaluation costs nothing, so what remains is the
/// transport.
const TRIVIAL: Echo = Echo { delay_ms: 0 };

fn batch(n: usize, from: u64) -> Vec<Candidate<f64>> {
    (0..n as u64)
        .map(|i| Candidate {
            id: CandidateId(from + i),
            origin: None,
            genome: (from + i) as f64,
            request: EvalRequest::new(from + i),
        })
        .collect()
}

fn overhead(server: &Server, reps: usize) {
    let url = server.url(1);
    let target = RedisTarget::new(&url, None).unwrap();
    let spec = spec("bench-overhead", "bench", "bench trivial");
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let link = Link::connect(&target).unwrap();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let opts = WorkerOptions {
                name: "bench-worker".into(),
                threads: 1,
                version: "bench".into(),
                idle_exit: None,
                stop,
            };
            Worker::new(link, opts, EchoFactory::new(0, "bench trivial"))
                .unwrap()
                .run()
                .unwrap();
        })
    };
    let mut remote: RedisEvaluator<f64> =
        RedisEvaluator::new(Link::connect(&target).unwrap(), spec, None);
    let mut local = ThreadEvaluator::new(1).unwrap();
    let n = 2000;
    let mut next = 0u64;
    // Warm-up: the worker joins the run (it looks for runs once a second).
    remote.evaluate(&TRIVIAL, batch(n, next)).unwrap();
    next += n as u64;
    let (mut per_task_remote, mut per_task_local, mut round_trip) = (vec![], vec![], vec![]);
    for _ in 0..reps {
        let t = Instant::now();
        let r = remote.evaluate(&TRIVIAL, batch(n, next)).unwrap();
        per_task_remote.push(t.elapsed().as_secs_f64() / n as f64);
        assert_eq!(r.len(), n);
        next += n as u64;
        let t = Instant::now();
        local.evaluate(&TRIVIAL, batch(n, next)).unwrap();
        per_task_local.push(t.elapsed().as_secs_f64() / n as f64);
        let mut one = vec![];
        for _ in 0..50 {
            let t = Instant::now();
            remote.evaluate(&TRIVIAL, batch(1, next)).unwrap();
            one.push(t.elapsed().as_secs_f64());
            next += 1;
        }
        round_trip.push(median(one));
    }
    remote.retire().unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    worker.join().unwrap();
    let (r, l) = (median(per_task_remote), median(per_task_local));
    println!("## 1. overhead per task on loopback (median of {reps})");
    println!("batch of {n} trivial tasks, 1 worker thread: {:.1} µs per task through Redis, {:.3} µs on a local thread: overhead {:.1} µs per task", r * 1e6, l * 1e6, (r - l) * 1e6);
    println!(
        "batch of 1 task (round trip coordinator → worker → coordinator): {:.0} µs",
        median(round_trip) * 1e6
    );
}

// ---------------------------------------------------------------- part 2

const EFFICIENCY_CONFIG: &str = r#"
# About 10 ms per evaluation: Pendulum-v1 (200 steps, never ends early)
# with a 256x256 MLP, eleven episodes.
[run]
seed = 3
max_generations = 10
stop_when_solved = false
test_every = 1000
checkpoint_every = 1000
noise_table_size = 2000000
[env]
id = "Pendulum-v1"
episodes = 11
test_episodes = 1
[policy]
hidden = [256, 256]
[strategy]
kind = "deep_ga"
population = 64
truncation = 10
sigma = 0.02
elite_candidates = 2
elite_episodes = 1
"#;

const EFFICIENCY_ES_CONFIG: &str = r#"
# OpenAI-ES over MinAtar's DQN network (132,179 parameters): the centre
# travels once per generation, each task is a noise index and a sign.
# Episodes of an untrained policy are short: 100 per evaluation make it
# about 6 ms.
[run]
seed = 3
max_generations = 10
stop_when_solved = false
test_every = 1000
checkpoint_every = 1000
[env]
id = "MinAtar/Breakout-v1"
episodes = 100
test_episodes = 1
[policy]
activation = "relu"
hidden = [128]
conv = [{ filters = 16, kernel = 3, stride = 1 }]
[strategy]
kind = "open_es"
population = 64
sigma = 0.02
learning_rate = 0.01
obs_norm = false
"#;

/// Median evaluations per second over the middle generations (the first
/// includes workers joining, the last the champion test).
fn evals_per_s(out: &Path) -> (f64, f64) {
    let text = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mid = &recs[1..recs.len() - 1];
    let rates = mid
        .iter()
        .map(|r| r["evals_per_s"].as_f64().unwrap())
        .collect();
    let evals = recs.last().unwrap()["evaluations"].as_f64().unwrap() / recs.len() as f64;
    (median(rates), evals)
}

/// The binary under test: this build's, or the one `--bin PATH` names (to
/// compare with an earlier evonet on the same machine).
fn evonet() -> Command {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--bin") {
        Some(i) => Command::new(&args[i + 1]),
        None => Command::new(env!("CARGO_BIN_EXE_evonet")),
    }
}

fn run_config(cfg: &Path, out: &Path, extra: &[&str]) {
    let _ = std::fs::remove_dir_all(out);
    let st = evonet()
        .arg("run")
        .arg(cfg)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
}

/// The efficiency table of `config` (`part`: the section's number and
/// title).
fn efficiency(server: &Server, reps: usize, dir: &Path, part: &str, config: &str) {
    let cfg = dir.join("efficiency.toml");
    std::fs::write(&cfg, config).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let url = server.url(2);
    let mut rows: Vec<(String, Vec<f64>)> = vec![
        ("local, --threads 1".into(), vec![]),
        ("local, --threads 2".into(), vec![]),
        ("1 worker process".into(), vec![]),
        ("2 worker processes".into(), vec![]),
        ("4 worker processes".into(), vec![]),
    ];
    let mut eval_ms = vec![];
    for _ in 0..reps {
        for (i, (_, v)) in rows.iter_mut().enumerate() {
            let out = dir.join(format!("eff{i}"));
            match i {
                0 | 1 => {
                    let t = (i + 1).to_string();
                    run_config(&cfg, &out, &["--threads", &t]);
                }
                _ => {
                    let n = [1, 2, 4][i - 2];
                    let mut workers: Vec<Child> = (0..n)
                        .map(|_| {
                            evonet()
                                .args(["worker", "--redis", &url, "--threads", "1"])
                                .stderr(Stdio::null())
                                .spawn()
                                .unwrap()
                        })
                        .collect();
                    run_config(&cfg, &out, &["--redis", &url]);
                    for w in &mut workers {
                        let _ = w.kill();
                        let _ = w.wait();
                    }
                }
            }
            let (rate, _) = evals_per_s(&out);
            if i == 0 {
                eval_ms.push(1e3 / rate);
            }
            v.push(rate);
        }
    }
    // Efficiency per repetition, against that repetition's own one-thread
    // baseline (the machine's load drifts between repetitions).
    println!(
        "\n## {part}, evaluations of {:.1} ms (median of {reps}), {cores} cores",
        median(eval_ms)
    );
    println!("| setting | evaluations/s | ideal | efficiency (median) | per repetition |");
    println!("|---|---|---|---|---|");
    for (i, (name, v)) in rows.iter().enumerate() {
        let units = match i {
            0 => 1,
            1 => 2.min(cores),
            _ => [1, 2, 4][i - 2].min(cores),
        };
        let eff: Vec<f64> = v
            .iter()
            .zip(&rows[0].1)
            .map(|(r, b)| 100.0 * r / (b * units as f64))
            .collect();
        let each: Vec<String> = eff.iter().map(|e| format!("{e:.0}")).collect();
        println!(
            "| {name} | {:.1} | {units} × {:.1} | {:.1}% | {}% |",
            median(v.clone()),
            median(rows[0].1.clone()),
            median(eff.clone()),
            each.join(", ")
        );
    }
}

// ---------------------------------------------------------------- part 3

fn bytes_per_candidate() {
    use evonet::strategies::{DeepGa, DeepGaConfig};
    let ga = DeepGa::new(DeepGaConfig {
        population: 100,
        truncation: 20,
        sigma: 0.05,
        elite_candidates: 10,
        elite_episodes: 30,
    })
    .unwrap();
    let mut st = ga.init(1).unwrap();
    let mut at_100: Vec<usize> = vec![];
    while ga.generation(&st) <= 100 {
        let cands: Vec<Candidate<SeedChain>> = ga.ask(&mut st);
        if ga.generation(&st) == 100 {
            for c in &cands {
                let task = Task {
                    run: "0123456789abcdef".into(),
                    session: 1,
                    batch: 1,
                    candidate: c.id.0,
                    request: c.request,
                    shared: None,
                    genome: wire::encode(&c.genome, wire::MAX_TASK_BYTES, "genome").unwrap(),
                };
                at_100.push(
                    wire::encode(&task, wire::MAX_TASK_BYTES, "task")
                        .unwrap()
                        .len(),
                );
            }
        }
        // A fitness that rewards some seeds: selection keeps lineages.
        let results = cands
            .into_iter()
            .map(|c| {
                let f = (c.request.seed % 1000) as f64;
                evonet::core::Evaluated {
                    candidate: c,
                    outcome: evonet::core::Outcome::Done(Evaluation {
                        fitness: f,
                        cost: Cost::default(),
                        obs_stats: None,
                        details: Vec::new(),
                        solved: false,
                        artifact: Vec::new(),
                        behavior: None,
                    }),
                }
            })
            .collect();
        ga.tell(&mut st, results).unwrap();
    }
    let mean = at_100.iter().sum::<usize>() as f64 / at_100.len() as f64;
    let max = *at_100.iter().max().unwrap();
    println!("\n## 3. bytes per Deep GA candidate at generation 100");
    println!(
        "task payload: mean {mean:.0} bytes, max {max} bytes ({} tasks)",
        at_100.len()
    );
    // CMA-ES sends the parameter vector itself; OpenAI-ES a noise index,
    // its centre once per batch.
    let cartpole = 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2;
    let genome = evonet::core::PolicyParams {
        params: vec![0.0; cartpole],
        obs_norm: Some(evonet::core::genome::ObsNorm {
            mean: vec![0.0; 4],
            std: vec![1.0; 4],
        }),
    };
    let task = Task {
        run: "0123456789abcdef".into(),
        session: 1,
        batch: 1,
        candidate: 0,
        request: EvalRequest::new(0),
        shared: None,
        genome: wire::encode(&genome, wire::MAX_TASK_BYTES, "genome").unwrap(),
    };
    println!(
        "CMA-ES task, a 4-64-64-2 policy ({cartpole} parameters and observation normalisation): {} bytes, at any generation",
        wire::encode(&task, wire::MAX_TASK_BYTES, "task").unwrap().len()
    );
    for (name, cfg) in [
        ("configs/cartpole-es.toml", "cartpole-es.toml"),
        (
            "configs/minatar-breakout-es.toml",
            "minatar-breakout-es.toml",
        ),
    ] {
        let (tasks, shared, params) = es_batch(cfg);
        let mean = tasks.iter().sum::<usize>() as f64 / tasks.len() as f64;
        println!(
            "OpenAI-ES, {name} ({params} parameters): task {mean:.0} bytes mean, {} max; centre {} bytes once per batch of {}; {:.0} bytes per candidate in all (the whole vector: {} bytes)",
            tasks.iter().max().unwrap(),
            shared,
            tasks.len(),
            mean + shared as f64 / tasks.len() as f64,
            4 * params
        );
    }
    for (name, params) in [
        (
            "configs/cartpole-ga.toml policy (4-64-64-2)",
            4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2,
        ),
        (
            "Such et al. Atari network (\"over four million\" parameters; 4,000,000 taken)",
            4_000_000usize,
        ),
    ] {
        let bytes = params * 4;
        println!(
            "{name}: decoded {bytes} bytes, {:.0}x the task",
            bytes as f64 / mean
        );
    }
}

/// What OpenAI-ES sends for the first batch of a shipped config: each
/// task's payload size, the shared part's size and the parameter count.
fn es_batch(config: &str) -> (Vec<usize>, usize, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs")
        .join(config);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut cfg: evonet::ExperimentConfig = toml::from_str(&text).unwrap();
    // A small table: only the parameter count is needed here.
    cfg.run.noise_table_size = 1 << 18;
    let es = match &cfg.strategy {
        evonet::StrategyConfig::OpenEs(c) => c.clone(),
        _ => panic!("{config} is not an OpenAI-ES config"),
    };
    let exp = evonet::Experiment::new(&path, cfg, &evonet::Registry::builtin()).unwrap();
    let n = exp.build().unwrap().parameters().unwrap();
    let space = evonet::strategies::ParamSpace {
        init_scales: vec![0.1; n],
        obs_dim: 0,
    };
    let table = Arc::new(evonet::core::NoiseTable::new(n + 1000, 1));
    let strategy = evonet::strategies::OpenEs::new(es, space, table).unwrap();
    let mut st = strategy.init(1).unwrap();
    let batch = evonet::distributed::shared::encode_batch(
        &strategy.ask(&mut st),
        "0123456789abcdef",
        u64::MAX,
        1,
    )
    .unwrap();
    assert_eq!(batch.shared.len(), 1);
    let sizes = batch.tasks.iter().map(Vec::len).collect();
    (sizes, batch.shared[0].len(), n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(5usize);
    let skip_eff = args.iter().any(|a| a == "--skip-efficiency");
    // `--parts 3,4`: only those parts.
    let parts: Vec<u32> = args
        .iter()
        .position(|a| a == "--parts")
        .and_then(|i| args.get(i + 1))
        .map_or(vec![1, 2, 3, 4], |s| {
            s.split(',').filter_map(|p| p.trim().parse().ok()).collect()
        });
    let part = |n: u32| parts.contains(&n) && !(skip_eff && (n == 2 || n == 4));
    let dir: PathBuf =
        std::env::temp_dir().join(format!("evonet-bench-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Server::start();
    if part(1) {
        overhead(&server, reps);
    }
    if part(2) {
        efficiency(
            &server,
            reps,
            &dir,
            "2. throughput efficiency, Deep GA",
            EFFICIENCY_CONFIG,
        );
    }
    if part(3) {
        bytes_per_candidate();
    }
    if part(4) {
        efficiency(
            &server,
            reps,
            &dir,
            "4. throughput efficiency, OpenAI-ES over MinAtar's DQN network (132,179 parameters)",
            EFFICIENCY_ES_CONFIG,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
