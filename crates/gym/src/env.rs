//! The environments a rollout steps: a lockstep group of `k` shares one
//! bridge process that made `k` copies of the environment, so that one
//! message steps every live episode (`Env::queue_step`), and the bridge
//! goes back to the source's pool when the group is dropped.

use std::sync::{Arc, Mutex};

use evonet_envs::{Action, Env, EnvSpec, Step};

use crate::process::Process;
use crate::protocol;
use crate::{lock, start, GymSettings, Layout};

/// A bridge process and the number of environments it made.
pub(crate) struct Bridge {
    pub process: Process,
    pub envs: usize,
}

/// A source's idle bridges.
pub(crate) type Pool = Arc<Mutex<Vec<Bridge>>>;

/// What the environments of one group share: their bridge and the step
/// being assembled or answered.
struct Group {
    settings: GymSettings,
    layout: Arc<Layout>,
    pool: Pool,
    size: usize,
    bridge: Option<Bridge>,
    /// The step message being assembled: a count, then queued entries.
    queued: Vec<u8>,
    /// Environments in the queued message, in order.
    order: Vec<u32>,
    /// The last reply, and where each environment's entry starts in it.
    reply: Vec<u8>,
    answer: Vec<Option<usize>>,
}

impl Drop for Group {
    /// A healthy bridge goes back to the pool.
    fn drop(&mut self) {
        if let Some(b) = self.bridge.take() {
            lock(&self.pool).push(b);
        }
    }
}

impl Group {
    fn id(&self) -> &str {
        &self.layout.spec.id
    }

    /// The group's bridge: a pooled one with room for the group, or a
    /// fresh one.
    fn bridge(&mut self) -> &mut Bridge {
        if self.bridge.is_none() {
            let pooled = {
                let mut pool = lock(&self.pool);
                let fit = pool.iter().position(|b| b.envs >= self.size);
                fit.map(|i| pool.swap_remove(i))
            };
            let b = match pooled {
                Some(b) => b,
                None => match start(&self.settings, self.size) {
                    Ok((b, _)) => b,
                    Err(e) => panic!("{}: {e}", self.id()),
                },
            };
            self.bridge = Some(b);
        }
        self.bridge.as_mut().expect("set just above")
    }

    /// Sends a request; a Python exception, a dead or hung bridge fail the
    /// evaluation (a panic the evaluator records).
    fn request(&mut self, kind: u8, body: &[u8], expect: u8) -> Vec<u8> {
        let timeout = self.settings.step_timeout();
        let id = self.id().to_string();
        let reply = self.bridge().process.request(kind, body, timeout);
        match reply {
            Ok((k, body)) if k == expect => body,
            Ok((protocol::ERROR, text)) => {
                panic!("{id}: Python raised {}", String::from_utf8_lossy(&text))
            }
            Ok((k, _)) => {
                self.bridge = None;
                panic!("{id}: the bridge sent an unexpected reply {:?}", k as char)
            }
            Err(fault) => {
                // The process is stopped; the next group starts another.
                self.bridge = None;
                panic!("{id}: {fault}")
            }
        }
    }

    fn fail(&mut self, e: String) -> ! {
        self.bridge = None;
        panic!("{}: {e}", self.id())
    }

    fn reset(&mut self, index: u32, seed: u64, obs: &mut [f32]) {
        let body = self.request(
            protocol::RESET,
            &protocol::reset_body(&[(index, seed)]),
            protocol::OBSERVATIONS,
        );
        if let Err(e) = protocol::read_obs(&body, 0, self.layout.obs_bytes, obs) {
            self.fail(e);
        }
    }

    fn queue(&mut self, index: u32, action: Action<'_>) {
        if self.order.is_empty() {
            self.queued.clear();
            self.queued.extend_from_slice(&0u32.to_le_bytes());
        }
        protocol::push_step(&mut self.queued, index, action);
        self.order.push(index);
    }

    /// Sends the queued step (every queued environment in one message)
    /// and notes where each one's entry starts in the reply.
    fn send_queued(&mut self) {
        let count = self.order.len() as u32;
        self.queued[..4].copy_from_slice(&count.to_le_bytes());
        let body = std::mem::take(&mut self.queued);
        self.reply = self.request(protocol::STEP, &body, protocol::STEPPED);
        self.queued = body;
        let entry = 10 + self.layout.obs_len();
        if self.reply.len() != entry * self.order.len() {
            let len = self.reply.len();
            self.fail(format!("a step reply of {len} bytes"));
        }
        for (i, index) in std::mem::take(&mut self.order).into_iter().enumerate() {
            self.answer[index as usize] = Some(i * entry);
        }
    }

    fn behavior(&mut self, index: u32) -> Vec<f32> {
        let body = self.request(protocol::BEHAVIOR, &index.to_le_bytes(), protocol::BEHAVED);
        protocol::read_behavior(&body).unwrap_or_else(|e| self.fail(e))
    }

    fn step(&mut self, index: u32, action: Action<'_>, obs: &mut [f32]) -> Step {
        let i = index as usize;
        if self.answer[i].is_none() {
            if !self.order.contains(&index) {
                // Not queued: this environment steps alone.
                self.order.clear();
                self.queue(index, action);
            }
            self.send_queued();
        }
        let at = self.answer[i].take().expect("answered just above");
        let bytes = self.layout.obs_bytes;
        let read = protocol::read_step(&self.reply, at).and_then(|(r, term, trunc, at)| {
            protocol::read_obs(&self.reply, at, bytes, obs).map(|_| (r, term, trunc))
        });
        match read {
            Ok((reward, terminated, truncated)) => Step {
                reward,
                terminated,
                truncated,
            },
            Err(e) => self.fail(e),
        }
    }
}

/// One environment of a rollout: environment `index` of its group's
/// bridge.
pub struct GymEnv {
    group: Arc<Mutex<Group>>,
    index: u32,
    layout: Arc<Layout>,
}

impl GymEnv {
    /// `k` environments sharing one bridge (taken when they first reset).
    pub(crate) fn group(
        settings: &GymSettings,
        layout: &Arc<Layout>,
        pool: &Pool,
        k: usize,
    ) -> Vec<GymEnv> {
        let group = Arc::new(Mutex::new(Group {
            settings: settings.clone(),
            layout: Arc::clone(layout),
            pool: Arc::clone(pool),
            size: k.max(1),
            bridge: None,
            queued: Vec::new(),
            order: Vec::new(),
            reply: Vec::new(),
            answer: vec![None; k.max(1)],
        }));
        (0..k.max(1) as u32)
            .map(|index| GymEnv {
                group: Arc::clone(&group),
                index,
                layout: Arc::clone(layout),
            })
            .collect()
    }
}

impl Env for GymEnv {
    fn spec(&self) -> &EnvSpec {
        &self.layout.spec
    }

    fn reset(&mut self, seed: u64, obs: &mut [f32]) {
        lock(&self.group).reset(self.index, seed, obs);
    }

    fn queue_step(&mut self, action: Action<'_>) {
        lock(&self.group).queue(self.index, action);
    }

    fn step(&mut self, action: Action<'_>, obs: &mut [f32]) -> Step {
        lock(&self.group).step(self.index, action, obs)
    }

    fn state(&self) -> Vec<f64> {
        Vec::new()
    }

    /// What the bridge computes at the episode's end (one message): the
    /// environment's own `behavior()`, MuJoCo's centre of mass (x, y) or
    /// Atari's RAM; empty for environments with none.
    fn behavior(&self) -> Vec<f32> {
        if self.layout.behavior.is_none() {
            return Vec::new();
        }
        lock(&self.group).behavior(self.index)
    }

    /// Bridged environments start from seeds only.
    fn set_state(&mut self, _state: &[f64], _obs: &mut [f32]) {
        panic!(
            "{}: bridged environments start from a seed only",
            self.layout.spec.id
        )
    }
}
