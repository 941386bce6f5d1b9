//! The bridge's wire format: frames of a little-endian `u32` length, a
//! one-byte kind and a body. Only the first exchange (make, and the spaces
//! in reply) is JSON; resets and steps are raw little-endian arrays, and one
//! message carries several environments (lockstep episodes).

use std::collections::BTreeMap;

use serde::Deserialize;

use evonet_envs::{Action, ActionSpace};

/// Version of this protocol; the bridge reports its own in `versions`.
pub const PROTOCOL: u64 = 2;

pub const MAKE: u8 = b'M';
pub const RESET: u8 = b'R';
pub const STEP: u8 = b'T';
pub const SPACES: u8 = b'S';
pub const OBSERVATIONS: u8 = b'O';
pub const STEPPED: u8 = b'P';
pub const ERROR: u8 = b'E';
pub const BEHAVIOR: u8 = b'B';
pub const BEHAVED: u8 = b'V';

/// Largest frame either side accepts (an Atari frame stack is 28 KB).
pub const MAX_FRAME: usize = 64 << 20;

/// A space as the bridge describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Space {
    #[serde(default)]
    pub discrete: Option<u64>,
    #[serde(default, rename = "box")]
    pub bounds: Option<BoxSpace>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BoxSpace {
    pub shape: Vec<usize>,
    pub dtype: String,
    /// Bounds per value; `None` is unbounded (JSON has no infinity).
    pub low: Vec<Option<f64>>,
    pub high: Vec<Option<f64>>,
}

/// The bridge's reply to make: the spaces, limits and versions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Description {
    pub observation: Space,
    pub action: Space,
    /// `"u8"` (images travel as bytes) or `"f32"`.
    pub obs_wire: String,
    pub max_episode_steps: Option<u64>,
    pub reward_threshold: Option<f64>,
    /// Python, gymnasium, numpy and, when imported, mujoco and ale_py.
    pub versions: BTreeMap<String, serde_json::Value>,
    /// The behaviour characterisation the bridge computes at an episode's
    /// end: `method` (the environment's own `behavior()`),
    /// `centre_of_mass` (MuJoCo), `ram` (Atari); none when absent.
    #[serde(default)]
    pub behavior: Option<String>,
}

/// Why a make failed, as the bridge classifies it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MakeError {
    /// `missing_module`, `unknown_id`, `exception` or `protocol`.
    pub kind: String,
    pub message: String,
    /// What to install (`pip install "gymnasium[mujoco]"`), if anything.
    pub install: String,
}

impl Description {
    /// Observation values per step (the box's flattened size).
    pub fn obs_dim(&self) -> Result<usize, String> {
        let b = self
            .observation
            .bounds
            .as_ref()
            .ok_or("the observation space is not a Box")?;
        Ok(b.shape.iter().product())
    }

    /// Whether observations travel as bytes (images).
    pub fn obs_bytes(&self) -> bool {
        self.obs_wire == "u8"
    }

    /// Image observations as (height, width, channels): a `u8` box of two
    /// (grayscale) or three dimensions.
    pub fn frame(&self) -> Option<[usize; 3]> {
        let b = self.observation.bounds.as_ref()?;
        match (self.obs_bytes(), b.shape.as_slice()) {
            (true, [h, w]) => Some([*h, *w, 1]),
            (true, [h, w, c]) => Some([*h, *w, *c]),
            _ => None,
        }
    }

    pub fn action_space(&self) -> Result<ActionSpace, String> {
        match (&self.action.discrete, &self.action.bounds) {
            (Some(n), _) => Ok(ActionSpace::Discrete(*n as usize)),
            (None, Some(b)) => Ok(ActionSpace::Box {
                low: b
                    .low
                    .iter()
                    .map(|v| v.map_or(f32::NEG_INFINITY, |v| v as f32))
                    .collect(),
                high: b
                    .high
                    .iter()
                    .map(|v| v.map_or(f32::INFINITY, |v| v as f32))
                    .collect(),
            }),
            (None, None) => Err("the action space is neither Discrete nor Box".into()),
        }
    }

    /// `name version` per entry, sorted: what a worker must match.
    pub fn version_lines(&self) -> Vec<String> {
        self.versions
            .iter()
            .map(|(k, v)| format!("{k} {}", v.as_str().map_or(v.to_string(), str::to_string)))
            .collect()
    }
}

/// A frame: length (kind included), kind, body.
pub fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + body.len());
    frame_into(&mut out, kind, body);
    out
}

/// [`frame`] written into `out` (its old contents dropped), so that a
/// caller reuses one buffer for every request.
pub fn frame_into(out: &mut Vec<u8>, kind: u8, body: &[u8]) {
    out.clear();
    out.extend_from_slice(&(body.len() as u32 + 1).to_le_bytes());
    out.push(kind);
    out.extend_from_slice(body);
}

/// Appends the hint that ends every request after make: 1 when the bridge
/// should check for the next request for a while before it sleeps (there
/// is a core to spare), 0 when it should sleep at once.
pub fn push_spin_hint(frame: &mut Vec<u8>, spin: bool) {
    frame.push(u8::from(spin));
    let len = frame.len() as u32 - 4;
    frame[..4].copy_from_slice(&len.to_le_bytes());
}

/// A reset of environments `(index, seed)`.
pub fn reset_body(envs: &[(u32, u64)]) -> Vec<u8> {
    let mut b = Vec::with_capacity(4 + 12 * envs.len());
    b.extend_from_slice(&(envs.len() as u32).to_le_bytes());
    for (i, seed) in envs {
        b.extend_from_slice(&i.to_le_bytes());
        b.extend_from_slice(&seed.to_le_bytes());
    }
    b
}

/// A step of environments `(index, action)`.
pub fn step_body(envs: &[(u32, Action<'_>)]) -> Vec<u8> {
    let mut b = Vec::with_capacity(4 + 12 * envs.len());
    b.extend_from_slice(&(envs.len() as u32).to_le_bytes());
    for (i, a) in envs {
        push_step(&mut b, *i, *a);
    }
    b
}

/// Appends one environment's `(index, action)` to a step body (whose count
/// the caller writes).
pub fn push_step(b: &mut Vec<u8>, index: u32, action: Action<'_>) {
    b.extend_from_slice(&index.to_le_bytes());
    match action {
        Action::Discrete(a) => b.extend_from_slice(&(a as i64).to_le_bytes()),
        Action::Continuous(v) => {
            for x in v {
                b.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
}

/// Reads one observation of `out.len()` values from `body` at `at`, as
/// bytes or f32; returns the offset after it.
pub fn read_obs(body: &[u8], at: usize, bytes: bool, out: &mut [f32]) -> Result<usize, String> {
    let width = if bytes { 1 } else { 4 };
    let end = at + width * out.len();
    let src = body
        .get(at..end)
        .ok_or_else(|| format!("reply of {} bytes ends inside an observation", body.len()))?;
    if bytes {
        for (o, b) in out.iter_mut().zip(src) {
            *o = f32::from(*b);
        }
    } else {
        for (o, c) in out.iter_mut().zip(src.chunks_exact(4)) {
            *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
    }
    Ok(end)
}

/// Reads a step's reward and flags at `at`; returns them and the offset
/// after them.
pub fn read_step(body: &[u8], at: usize) -> Result<(f64, bool, bool, usize), String> {
    let b = body
        .get(at..at + 10)
        .ok_or_else(|| format!("reply of {} bytes ends inside a step", body.len()))?;
    let mut r = [0u8; 8];
    r.copy_from_slice(&b[..8]);
    Ok((f64::from_le_bytes(r), b[8] != 0, b[9] != 0, at + 10))
}

/// Reads a behaviour reply: a `u32` count, then that many f32.
pub fn read_behavior(body: &[u8]) -> Result<Vec<f32>, String> {
    let count = body
        .get(..4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .ok_or("a behaviour reply without its count")?;
    let values = &body[4..];
    if values.len() != 4 * count {
        return Err(format!(
            "a behaviour reply of {count} values in {} bytes",
            values.len()
        ));
    }
    Ok(values
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviours_are_counted_f32() {
        let mut b = 2u32.to_le_bytes().to_vec();
        b.extend_from_slice(&1.5f32.to_le_bytes());
        b.extend_from_slice(&(-3.0f32).to_le_bytes());
        assert_eq!(read_behavior(&b).unwrap(), vec![1.5, -3.0]);
        assert!(read_behavior(&b[..7]).is_err());
        assert!(read_behavior(&[1, 0]).is_err());
    }

    #[test]
    fn bodies_are_little_endian_and_counted() {
        let b = reset_body(&[(0, 7), (1, u64::MAX)]);
        assert_eq!(b.len(), 4 + 2 * 12);
        assert_eq!(&b[..4], &2u32.to_le_bytes());
        assert_eq!(&b[20..28], &u64::MAX.to_le_bytes());
        let s = step_body(&[(3, Action::Continuous(&[1.5, -2.0]))]);
        assert_eq!(s.len(), 4 + 4 + 8);
        assert_eq!(&s[8..12], &1.5f32.to_le_bytes());
        let f = frame(STEP, &s);
        assert_eq!(&f[..4], &(s.len() as u32 + 1).to_le_bytes());
        assert_eq!(f[4], STEP);
    }

    #[test]
    fn observations_and_steps_are_read_back_or_refused() {
        let mut body = Vec::new();
        body.extend_from_slice(&0.25f64.to_le_bytes());
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(-3.5f32).to_le_bytes());
        body.extend_from_slice(&7f32.to_le_bytes());
        let (r, term, trunc, at) = read_step(&body, 0).unwrap();
        assert_eq!((r, term, trunc, at), (0.25, true, false, 10));
        let mut obs = [0.0; 2];
        assert_eq!(read_obs(&body, at, false, &mut obs).unwrap(), 18);
        assert_eq!(obs, [-3.5, 7.0]);
        let mut big = [0.0; 3];
        assert!(read_obs(&body, at, false, &mut big)
            .unwrap_err()
            .contains("ends inside"));
        let mut img = [0.0; 2];
        read_obs(&[0, 255], 0, true, &mut img).unwrap();
        assert_eq!(img, [0.0, 255.0]);
    }
}
