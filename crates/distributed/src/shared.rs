//! What the tasks of a batch share ([`Transport::Shared`]: OpenAI-ES's
//! centre). The coordinator writes each shared part once per batch, before
//! the tasks that name it; a worker fetches it once and keeps the last few;
//! a job decodes it once. So an OpenAI-ES task is a noise index and a sign
//! whatever the network's size, as in Salimans et al.'s system (2017).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;

use evonet_core::{Candidate, Transport};

use crate::error::DistError;
use crate::wire::{self, Task, MAX_SHARED_BYTES, MAX_TASK_BYTES};

/// Shared parts a worker keeps per run, and a job keeps decoded: the
/// current batch's and the one before (a late task of the last batch).
const KEEP: usize = 2;

/// Names a shared part within a run: unique to one batch of one
/// coordinator process, so a cached part is never taken for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedKey {
    pub session: u64,
    pub batch: u64,
    pub index: u32,
}

impl SharedKey {
    /// The shared part `task` names, if any.
    pub fn of(task: &Task) -> Option<Self> {
        task.shared.map(|index| Self {
            session: task.session,
            batch: task.batch,
            index,
        })
    }

    /// Its Redis key in run `run`.
    pub fn redis_key(&self, run: &str) -> String {
        crate::keys::shared(run, self.session, self.batch, self.index)
    }
}

/// A shared part as a worker received it.
#[derive(Debug, Clone)]
pub struct SharedBytes {
    pub key: SharedKey,
    pub bytes: Arc<[u8]>,
}

/// A batch ready to send: one payload per task, in the candidates' order,
/// and the shared parts the tasks name by index.
pub struct EncodedBatch {
    pub tasks: Vec<Vec<u8>>,
    pub shared: Vec<Vec<u8>>,
}

/// Splits each candidate's genome into its own part (in its task) and its
/// shared part (encoded once per distinct `Arc`).
pub fn encode_batch<G: Transport>(
    candidates: &[Candidate<G>],
    run: &str,
    session: u64,
    batch: u64,
) -> Result<EncodedBatch, DistError> {
    let mut tasks = Vec::with_capacity(candidates.len());
    let mut shared = Vec::new();
    let mut seen: Vec<*const G::Shared> = Vec::new();
    for c in candidates {
        let fail = |e: String| DistError::Payload(format!("candidate {}: {e}", c.id));
        let (own, part) = c.genome.split();
        let index = match part {
            None => None,
            Some(arc) => {
                let ptr = Arc::as_ptr(arc);
                Some(match seen.iter().position(|p| *p == ptr) {
                    Some(i) => i,
                    None => {
                        shared.push(
                            wire::encode(&**arc, MAX_SHARED_BYTES, "shared part").map_err(fail)?,
                        );
                        seen.push(ptr);
                        seen.len() - 1
                    }
                } as u32)
            }
        };
        let task = Task {
            run: run.to_string(),
            session,
            batch,
            candidate: c.id.0,
            request: c.request,
            shared: index,
            genome: wire::encode(&*own, MAX_TASK_BYTES - 256, "genome").map_err(fail)?,
        };
        tasks.push(wire::encode(&task, MAX_TASK_BYTES, "task").map_err(fail)?);
    }
    Ok(EncodedBatch { tasks, shared })
}

/// The shared parts a worker fetched for one run, the newest last.
#[derive(Debug, Default)]
pub(crate) struct SharedCache {
    parts: VecDeque<SharedBytes>,
}

impl SharedCache {
    pub fn get(&self, key: SharedKey) -> Option<SharedBytes> {
        self.parts.iter().find(|p| p.key == key).cloned()
    }

    pub fn insert(&mut self, part: SharedBytes) {
        self.parts.push_back(part);
        while self.parts.len() > KEEP {
            self.parts.pop_front();
        }
    }
}

/// A job's shared parts, decoded once each.
pub(crate) struct DecodedParts<T> {
    parts: Mutex<VecDeque<(SharedKey, Arc<T>)>>,
}

impl<T> Default for DecodedParts<T> {
    fn default() -> Self {
        Self {
            parts: Mutex::new(VecDeque::new()),
        }
    }
}

impl<T: DeserializeOwned> DecodedParts<T> {
    /// `part` decoded, from the cache or now (other threads wanting it
    /// meanwhile wait rather than decode it again).
    pub fn get(&self, part: &SharedBytes) -> Result<Arc<T>, String> {
        let mut parts = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, v)) = parts.iter().find(|(k, _)| *k == part.key) {
            return Ok(Arc::clone(v));
        }
        let v: Arc<T> = Arc::new(wire::decode(&part.bytes, MAX_SHARED_BYTES, "shared part")?);
        parts.push_back((part.key, Arc::clone(&v)));
        while parts.len() > KEEP {
            parts.pop_front();
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evonet_core::{CandidateId, EvalRequest, Perturbation, Perturbed, PolicyParams};

    fn candidates(centres: &[Arc<PolicyParams>]) -> Vec<Candidate<Perturbed>> {
        (0..6)
            .map(|i| Candidate {
                id: CandidateId(i),
                origin: None,
                genome: Perturbed {
                    centre: Arc::clone(&centres[i as usize % centres.len()]),
                    noise: Some(Perturbation {
                        seed: u64::MAX - i,
                        scale: if i % 2 == 0 { 0.02 } else { -0.02 },
                    }),
                },
                request: EvalRequest::new(i),
            })
            .collect()
    }

    #[test]
    fn a_shared_centre_is_sent_once_and_tasks_stay_small() {
        let centre = Arc::new(PolicyParams {
            params: vec![0.5; 132_179],
            obs_norm: None,
        });
        let b = encode_batch(&candidates(&[centre]), "0123456789abcdef", 7, 3).unwrap();
        assert_eq!(b.shared.len(), 1);
        assert!(b.shared[0].len() > 4 * 132_179);
        for t in &b.tasks {
            assert!(t.len() < 100, "task of {} bytes", t.len());
            let task: Task = wire::decode(t, MAX_TASK_BYTES, "task").unwrap();
            assert_eq!(task.shared, Some(0));
        }
        // Two centres in one batch: two parts, named by index.
        let two = [
            Arc::new(PolicyParams {
                params: vec![1.0],
                obs_norm: None,
            }),
            Arc::new(PolicyParams {
                params: vec![2.0],
                obs_norm: None,
            }),
        ];
        let b = encode_batch(&candidates(&two), "r", 7, 3).unwrap();
        assert_eq!(b.shared.len(), 2);
        let idx: Vec<Option<u32>> = b
            .tasks
            .iter()
            .map(|t| {
                wire::decode::<Task>(t, MAX_TASK_BYTES, "task")
                    .unwrap()
                    .shared
            })
            .collect();
        assert_eq!(idx, [0, 1, 0, 1, 0, 1].map(Some));
    }

    #[test]
    fn caches_keep_the_last_two_parts() {
        let key = |batch| SharedKey {
            session: 1,
            batch,
            index: 0,
        };
        let part = |batch: u64| SharedBytes {
            key: key(batch),
            bytes: wire::encode(&(batch as f64), 64, "x").unwrap().into(),
        };
        let mut cache = SharedCache::default();
        let decoded = DecodedParts::<f64>::default();
        for b in 0..3 {
            cache.insert(part(b));
            assert_eq!(*decoded.get(&part(b)).unwrap(), b as f64);
        }
        assert!(cache.get(key(0)).is_none());
        assert!(cache.get(key(2)).is_some());
        let other_session = SharedKey {
            session: 2,
            ..key(2)
        };
        assert!(cache.get(other_session).is_none());
        let bad = SharedBytes {
            key: key(9),
            bytes: vec![0xff; 3].into(),
        };
        assert!(decoded.get(&bad).unwrap_err().contains("malformed"));
    }
}
