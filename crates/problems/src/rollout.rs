//! Policy rollouts, several episodes of one policy in lockstep: at each step
//! the live episodes' observations form one batch for the forward pass.
//! Nothing is allocated inside the step loop.

use evonet_core::genome::ObsNorm;
use evonet_core::{EvalError, RunningStats};
use evonet_envs::minatar::env::MinAtarSettings;
use evonet_envs::{AnyEnv, Env, EnvSource};
use evonet_nn::normalize::normalize_in_place;

use crate::controller::Controller;
use crate::policy::Head;

/// The result of one episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub ret: f64,
    pub steps: u64,
    pub terminated: bool,
    pub truncated: bool,
    /// Double pole only: Gruau's jiggle sum over the last 100 steps.
    pub jiggle: f64,
    /// The environment's behaviour characterisation at the episode's end
    /// (empty where it defines none).
    pub behavior: Vec<f32>,
}

/// How an episode starts.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    /// `env.reset(seed)`.
    Seed(u64),
    /// `env.set_state(state)`.
    State(&'a [f64]),
}

/// Options of a rollout that are not the policy.
#[derive(Debug, Clone)]
pub struct RolloutEnv {
    pub env: EnvSource,
    pub max_steps: Option<u64>,
    /// Double pole: the initial angle of the long pole.
    pub start_angle: Option<f64>,
    /// MinAtar games: sticky actions, difficulty ramping, action set.
    pub minatar: MinAtarSettings,
}

impl RolloutEnv {
    pub fn make(&self) -> AnyEnv {
        let mut e = self.env.make_with(self.max_steps, &self.minatar);
        self.set_start(&mut e);
        e
    }

    /// The environments of `k` lockstep episodes (stepped together where
    /// the environment can: see `Env::queue_step`).
    pub fn make_group(&self, k: usize) -> Vec<AnyEnv> {
        let mut envs = self.env.make_group(k, self.max_steps, &self.minatar);
        envs.iter_mut().for_each(|e| self.set_start(e));
        envs
    }

    fn set_start(&self, e: &mut AnyEnv) {
        if let (AnyEnv::DoublePole(dp), Some(a)) = (e, self.start_angle) {
            dp.set_start_angle(a);
        }
    }
}

/// Runs one episode per start, in lockstep. `poison_first_obs` replaces the
/// first observation by NaN (fault injection for tests).
/// The controller must hold state for `starts.len()` rows.
#[allow(clippy::too_many_arguments)]
pub fn rollout<C: Controller>(
    renv: &RolloutEnv,
    head: &Head,
    obs_norm: Option<&ObsNorm>,
    net: &mut C,
    starts: &[Start<'_>],
    mut stats: Option<&mut RunningStats>,
    poison_first_obs: bool,
) -> Result<Vec<Episode>, EvalError> {
    let k = starts.len();
    let mut envs: Vec<AnyEnv> = renv.make_group(k);
    // Only a user's environments (the Gymnasium bridge among them) may
    // queue steps; the built-in ones step in place.
    let queued = k > 1 && matches!(envs.first(), Some(AnyEnv::Custom(_)));
    let d = net.inputs();
    let o = net.outputs();
    if o != head.outputs() {
        return Err(EvalError::BadGenome(format!(
            "network has {o} outputs, the action head needs {}",
            head.outputs()
        )));
    }
    if envs.first().is_some_and(|e| e.spec().obs_dim != d) {
        return Err(EvalError::BadGenome(format!(
            "policy takes {d} inputs, environment gives {}",
            envs[0].spec().obs_dim
        )));
    }
    let mut obs = vec![0.0f32; k * d];
    for (i, (e, s)) in envs.iter_mut().zip(starts).enumerate() {
        match s {
            Start::Seed(seed) => e.reset(*seed, &mut obs[i * d..(i + 1) * d]),
            Start::State(st) => e.set_state(st, &mut obs[i * d..(i + 1) * d]),
        }
    }
    if poison_first_obs && k > 0 {
        obs[0] = f32::NAN;
    }
    let mut results = vec![
        Episode {
            ret: 0.0,
            steps: 0,
            terminated: false,
            truncated: false,
            jiggle: 0.0,
            behavior: Vec::new(),
        };
        k
    ];
    // Row r of the batch is episode live[r].
    let mut live: Vec<usize> = (0..k).collect();
    let mut x = vec![0.0f32; k * d];
    let mut act = vec![0.0f32; o];
    while !live.is_empty() {
        let rows = live.len();
        for (r, &ep) in live.iter().enumerate() {
            let src = &obs[ep * d..(ep + 1) * d];
            if src.iter().any(|v| !v.is_finite()) {
                return Err(EvalError::NonFiniteObservation {
                    episode: ep as u32,
                    step: results[ep].steps,
                });
            }
            if let Some(s) = stats.as_deref_mut() {
                s.push(src);
            }
            let dst = &mut x[r * d..(r + 1) * d];
            dst.copy_from_slice(src);
            if let Some(n) = obs_norm {
                normalize_in_place(dst, &n.mean, &n.std);
            }
        }
        for &ep in &live {
            envs[ep].prepare_step();
        }
        let out = net.forward(&x[..rows * d], rows);
        if queued {
            // Environments stepped elsewhere get every action first, so
            // that the live episodes step in one message.
            for (r, &ep) in live.iter().enumerate() {
                envs[ep].queue_step(head.action(&out[r * o..(r + 1) * o], &mut act));
            }
        }
        let mut ended = false;
        for (r, &ep) in live.iter().enumerate() {
            let a = head.action(&out[r * o..(r + 1) * o], &mut act);
            let st = envs[ep].step(a, &mut obs[ep * d..(ep + 1) * d]);
            let res = &mut results[ep];
            res.ret += st.reward;
            res.steps += 1;
            if st.done() {
                res.terminated = st.terminated;
                res.truncated = st.truncated;
                if let AnyEnv::DoublePole(dp) = &envs[ep] {
                    res.jiggle = dp.jiggle_sum();
                }
                res.behavior = envs[ep].behavior();
                ended = true;
            }
        }
        if ended {
            // Compact the batch, keeping each row's recurrent state.
            let mut w = 0;
            for r in 0..rows {
                let ep = live[r];
                if !(results[ep].terminated || results[ep].truncated) {
                    if w != r {
                        net.move_row(r, w);
                    }
                    live[w] = ep;
                    w += 1;
                }
            }
            live.truncate(w);
        }
    }
    Ok(results)
}
