//! One bridge process: Python running the shipped bridge script, talked to
//! over its pipes. A request writes a frame and reads the reply on the
//! calling thread, after `poll` says it has begun to arrive within the
//! timeout (no thread hand-off on the hot path); a thread keeps the last
//! lines of its stderr (warnings, a traceback) for messages and the log.
//!
//! The process dies with evonet: its stdin closes when evonet exits, even
//! SIGKILLed, and the bridge leaves as soon as its parent is gone even when
//! it is stuck inside a step (it watches its parent pid). It runs in its own
//! process group, so Ctrl-C in a terminal reaches evonet only, which then
//! ends its evaluations cleanly.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::protocol::{self, MAX_FRAME};

/// The bridge script, shipped inside the binary and passed with `-c`.
pub const BRIDGE_PY: &str = include_str!("bridge.py");

/// How long a request checks for its reply before it sleeps: 1.25 times
/// the last reply's time, within these bounds, while every waiting
/// request and its bridge can have a core of their own; `SPIN` when they
/// cannot (a waiting request that keeps checking would then take a core
/// from a bridge at work).
const SPIN: Duration = Duration::from_micros(200);
const MAX_SPIN: Duration = Duration::from_millis(1);

/// Requests waiting for their reply now, over all bridges.
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// A request counted in [`WAITING`] while it lives.
struct Waiting {
    /// Whether every waiting request and its bridge can have a core.
    spare_core: bool,
}

impl Waiting {
    fn enter() -> Self {
        let waiting = WAITING.fetch_add(1, Ordering::Relaxed) + 1;
        Self {
            spare_core: 2 * waiting <= cores(),
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The machine's cores (the affinity mask's), read once.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Lines of stderr kept for messages.
const STDERR_LINES: usize = 20;

/// Why a request got no reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// No reply within the timeout (the process was killed).
    Timeout(Duration),
    /// The process ended or its pipes broke; its last stderr line, if any.
    Died(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Timeout(d) => write!(
                f,
                "the bridge process gave no reply within {:.1} s (env.step_timeout_s) and was stopped",
                d.as_secs_f64()
            ),
            Fault::Died(last) if last.is_empty() => write!(f, "the bridge process died"),
            Fault::Died(last) => write!(f, "the bridge process died: {last}"),
        }
    }
}

type Reply = Result<(u8, Vec<u8>), String>;

pub struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// The request being written, reused from step to step.
    frame: Vec<u8>,
    /// How long the last reply took to begin arriving.
    last_reply: Duration,
}

impl Process {
    /// Starts `python -c <bridge script>`, with `python_path` before
    /// `PYTHONPATH`.
    pub fn spawn(python: &str, python_path: &[String]) -> std::io::Result<Self> {
        let mut command = Command::new(python);
        if !python_path.is_empty() {
            let mut paths = python_path.to_vec();
            if let Ok(p) = std::env::var("PYTHONPATH") {
                paths.push(p);
            }
            command.env("PYTHONPATH", paths.join(":"));
        }
        let mut child = command
            .arg("-u")
            .arg("-c")
            .arg(BRIDGE_PY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let kept = Arc::clone(&lines);
        std::thread::Builder::new()
            .name("evonet-gym-stderr".into())
            .spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    tracing::debug!(target: "evonet_gym::python", "{line}");
                    let mut k = kept.lock().unwrap_or_else(|p| p.into_inner());
                    k.push_back(line);
                    while k.len() > STDERR_LINES {
                        k.pop_front();
                    }
                }
            })?;
        Ok(Self {
            stdin: child.stdin.take(),
            stdout: BufReader::with_capacity(1 << 16, stdout),
            child,
            stderr: lines,
            frame: Vec::new(),
            last_reply: Duration::ZERO,
        })
    }

    /// Sends a request and waits up to `timeout` for its reply. After a
    /// fault the process is gone: drop it.
    pub fn request(
        &mut self,
        kind: u8,
        body: &[u8],
        timeout: Duration,
    ) -> Result<(u8, Vec<u8>), Fault> {
        let waiting = Waiting::enter();
        protocol::frame_into(&mut self.frame, kind, body);
        if kind != protocol::MAKE {
            protocol::push_spin_hint(&mut self.frame, waiting.spare_core);
        }
        let sent = match self.stdin.as_mut() {
            Some(s) => s.write_all(&self.frame).and_then(|_| s.flush()),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        };
        if sent.is_err() {
            return Err(self.died());
        }
        let ready = self.wait_readable(timeout, waiting.spare_core);
        drop(waiting);
        match ready {
            Ok(true) => match read_frame(&mut self.stdout) {
                Ok(reply) => Ok(reply),
                Err(_) => Err(self.died()),
            },
            Ok(false) => {
                self.stop();
                Err(Fault::Timeout(timeout))
            }
            Err(_) => Err(self.died()),
        }
    }

    /// Whether the reply has begun to arrive (or the pipe closed) within
    /// `timeout`; with a `spare_core`, checking for it for longer before
    /// sleeping.
    fn wait_readable(&mut self, timeout: Duration, spare_core: bool) -> std::io::Result<bool> {
        if !self.stdout.buffer().is_empty() {
            return Ok(true);
        }
        // Replies come after about as long as the last one took (tens of
        // microseconds for CartPole, hundreds for 8 MuJoCo steps): check
        // for one, yielding the core in between, for a little longer than
        // that before sleeping in poll (whose wake-up costs tens of
        // microseconds more).
        let started = Instant::now();
        let spin = if spare_core {
            (self.last_reply + self.last_reply / 4).clamp(SPIN, MAX_SPIN)
        } else {
            SPIN
        };
        let spin_until = started + spin;
        while Instant::now() < spin_until {
            if poll_readable(self.stdout.get_ref().as_raw_fd(), 0)? {
                self.last_reply = started.elapsed();
                return Ok(true);
            }
            std::thread::yield_now();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            if poll_readable(self.stdout.get_ref().as_raw_fd(), ms)? {
                self.last_reply = started.elapsed();
                return Ok(true);
            }
            if left.is_zero() {
                return Ok(false);
            }
        }
    }

    /// The last line the process wrote to stderr.
    pub fn last_stderr_line(&self) -> String {
        let k = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        k.iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .cloned()
            .unwrap_or_default()
    }

    fn died(&mut self) -> Fault {
        self.stop();
        // The stderr thread may still be draining the last lines.
        std::thread::sleep(Duration::from_millis(20));
        Fault::Died(self.last_stderr_line())
    }

    fn stop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The operating system's id of the process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether `fd` has data (or is closed) within `ms` milliseconds.
fn poll_readable(fd: i32, ms: i32) -> std::io::Result<bool> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the duration of the call.
    match unsafe { libc::poll(&mut p, 1, ms) } {
        n if n > 0 => Ok(true),
        0 => Ok(false),
        _ => {
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::Interrupted => Ok(false),
                _ => Err(e),
            }
        }
    }
}

fn read_frame(r: &mut impl Read) -> Reply {
    // The length (kind included) and the kind, then the body.
    let mut head = [0u8; 5];
    r.read_exact(&mut head).map_err(|e| e.to_string())?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(format!("a frame of {len} bytes"));
    }
    let mut body = vec![0u8; len - 1];
    r.read_exact(&mut body).map_err(|e| e.to_string())?;
    Ok((head[4], body))
}
