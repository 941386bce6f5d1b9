//! `evonet`: evolve neural networks from the command line.
//!
//! Exit status: 0 success, 2 user error (bad config, missing or corrupt
//! checkpoint, bad arguments), 1 anything else, 130 interrupted.

mod config_file;
#[cfg(test)]
mod config_fuzz;
mod draw;
mod eval_cmd;
mod plot_cmd;
mod plot_curves;
mod plot_maze;
#[cfg(feature = "nas")]
mod plot_pareto;
mod progress;
#[cfg(feature = "redis")]
mod remote;
#[cfg(feature = "nas")]
mod retrain_cmd;
mod run_cmd;
mod svg;
#[cfg(feature = "redis")]
mod worker_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// NEAT and the runner allocate many small objects; mimalloc halves their
// cost against glibc's allocator (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A user fault: printed as one line, exit status 2.
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UserError {}

/// Shorthand for a user error.
pub fn user(msg: impl Into<String>) -> anyhow::Error {
    UserError(msg.into()).into()
}

/// A library error, as a user error (exit 2) where a setting or a file is
/// the user's to fix.
pub fn library_error(e: evonet::Error) -> anyhow::Error {
    if e.is_user_error() {
        user(e.to_string())
    } else {
        anyhow::Error::new(e)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "evonet",
    version,
    about = "Evolve neural networks: neuroevolution for RL and architecture search"
)]
struct Cli {
    /// Log more (repeat for more detail).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a run from a TOML config.
    Run(run_cmd::RunArgs),
    /// Continue a run from its latest checkpoint.
    Resume(run_cmd::ResumeArgs),
    /// Evaluate candidates of runs published on a Redis server, with all
    /// local cores, until stopped.
    #[cfg(feature = "redis")]
    Worker(worker_cmd::WorkerArgs),
    /// Replay a saved champion on fresh episodes.
    Eval {
        /// A run's `best/` folder or a champion JSON file.
        path: PathBuf,
        /// Episodes to play.
        #[arg(long, default_value_t = 100)]
        episodes: u32,
        /// Seed of the episodes (the same seed replays the same episodes).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Print one JSON line instead of text.
        #[arg(long)]
        json: bool,
        /// Play on this environment instead of the champion's (the same
        /// spaces): `gym:CartPole-v1` replays a native champion through
        /// the Gymnasium bridge.
        #[arg(long, value_name = "ID")]
        env: Option<String>,
    },
    /// Export a champion: an MLP policy, a feed-forward NEAT network or a
    /// trained architecture as an ONNX model (an architecture file without
    /// weights, such as `pareto/candidate-ID.json`, with its initial
    /// weights: for timing and loading checks).
    Export {
        /// A run's `best/` folder, a champion JSON file or an architecture
        /// file.
        path: PathBuf,
        /// The ONNX file to write.
        #[arg(long, value_name = "FILE")]
        onnx: PathBuf,
    },
    /// Draw a NEAT champion as Graphviz DOT and standalone SVG.
    Draw {
        /// A run's `best/` folder or a champion JSON file.
        path: PathBuf,
        /// Folder for the .dot and .svg files (default: next to the champion).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the documented example config of a registered strategy (without
    /// KIND: list the strategies, tasks and environments).
    Config {
        /// The strategy's `kind`: deep_ga, random_search, open_es, cma_es,
        /// neat, aging_evolution, truncation_ga, random_sampling or nsga2.
        kind: Option<String>,
    },
    /// Plot runs, per strategy (SVG), with a Markdown table: architecture
    /// searches as best validation accuracy so far against candidates
    /// trained; weight-evolution runs as best, mean and test return against
    /// frames (mean over runs, band from lowest to highest); multi-objective
    /// searches (runs with `pareto.json`) as their Pareto fronts.
    Plot {
        /// Folders of runs: architecture searches, or RL runs.
        runs: Vec<PathBuf>,
        /// The SVG to write.
        #[arg(long, default_value = "search.svg")]
        out: PathBuf,
        /// Compare at this many candidates (default: the fewest any run has).
        #[arg(long)]
        budget: Option<usize>,
        /// Draw one run on a Maze/* environment instead: the maze with the
        /// final position of every evaluated robot, coloured by generation.
        #[arg(long)]
        maze: bool,
    },
    /// Retrain the best architectures of a finished search at full
    /// fidelity and test them again, with other settings.
    #[cfg(feature = "nas")]
    Retrain(retrain_cmd::RetrainArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `evonet config | head` ends quietly when the reader closes the pipe, as
/// Unix tools do, instead of panicking on the failed write (Rust ignores
/// SIGPIPE by default). Sockets are unaffected: the standard library sends
/// with `MSG_NOSIGNAL`.
#[cfg(unix)]
fn end_quietly_on_a_closed_pipe() {
    // SAFETY: restores the default action of one signal, before any
    // thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    end_quietly_on_a_closed_pipe();
    let cli = Cli::parse();
    // A worker says what it joins and takes over.
    #[cfg(feature = "redis")]
    let quiet_default = !matches!(cli.command, Command::Worker(_));
    #[cfg(not(feature = "redis"))]
    let quiet_default = true;
    let level = match cli.verbose {
        0 if quiet_default => tracing::Level::WARN,
        0 => tracing::Level::INFO,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let result = match cli.command {
        Command::Run(args) => run_cmd::run(args),
        Command::Resume(args) => run_cmd::resume(args),
        #[cfg(feature = "redis")]
        Command::Worker(args) => worker_cmd::worker(args),
        Command::Export { path, onnx } => eval_cmd::export(&path, &onnx).map(|_| 0),
        Command::Draw { path, out } => draw::draw(&path, out.as_deref()).map(|_| 0),
        Command::Eval {
            path,
            episodes,
            seed,
            json,
            env,
        } => eval_cmd::eval(&path, episodes, seed, json, env.as_deref()).map(|_| 0),
        Command::Config { kind: Some(kind) } => run_cmd::print_example(&kind).map(|_| 0),
        Command::Config { kind: None } => {
            run_cmd::print_registry();
            Ok(0)
        }
        Command::Plot {
            runs,
            out,
            maze: true,
            ..
        } => match runs.as_slice() {
            [run] => plot_maze::plot(run, &out).map(|_| 0),
            _ => Err(user("`--maze` draws one run: name one run folder")),
        },
        Command::Plot {
            runs, out, budget, ..
        } => plot_cmd::plot(&runs, &out, budget).map(|_| 0),
        #[cfg(feature = "nas")]
        Command::Retrain(args) => retrain_cmd::retrain(args).map(|_| 0),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "evonet", &mut std::io::stdout());
            Ok(0)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let user_fault = e.downcast_ref::<UserError>().is_some()
                || e.downcast_ref::<evonet::ConfigError>().is_some();
            eprintln!("error: {}", e);
            for cause in e.chain().skip(1) {
                if !user_fault {
                    eprintln!("  caused by: {cause}");
                }
            }
            ExitCode::from(if user_fault { 2 } else { 1 })
        }
    }
}
