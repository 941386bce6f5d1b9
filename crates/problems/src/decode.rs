//! Genome → parameter vector. Seed chains are decoded from the shared noise
//! table with a cache of parents (Such et al. 2017: "parents are cached"),
//! so a child costs one axpy over its parent's vector. Only ancestors are
//! cached, never the children being evaluated: at a generation's start the
//! first child of each parent decodes that parent (from its own cached
//! parent, one axpy) and caches it; the other children reuse it. The cache
//! keeps the most recently decoded parents, first in first out, so its
//! memory is `capacity` vectors whatever the population (a Deep GA of 1,000
//! candidates over a 132,000-parameter network keeps its 20 parents of two
//! generations, not 1,000 vectors). The cache only changes speed: decoding
//! from a cached ancestor performs the same float operations in the same
//! order as decoding from scratch.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use evonet_core::genome::decode_seed_chain;
use evonet_core::{EvalError, NoiseTable, Perturbed, SeedChain};

pub struct SeedChainDecoder {
    table: Arc<NoiseTable>,
    init_scales: Vec<f32>,
    cache: Mutex<ParentCache>,
}

/// Decoded ancestors by chain key, evicted in insertion order.
#[derive(Default)]
struct ParentCache {
    vectors: HashMap<u64, Arc<Vec<f32>>>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl ParentCache {
    fn get(&self, key: u64) -> Option<Arc<Vec<f32>>> {
        self.vectors.get(&key).cloned()
    }

    fn insert(&mut self, key: u64, v: Arc<Vec<f32>>) {
        if self.vectors.insert(key, v).is_some() {
            return;
        }
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.vectors.remove(&old);
            }
        }
    }
}

impl std::fmt::Debug for SeedChainDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SeedChainDecoder({:?}, {} params)",
            self.table,
            self.init_scales.len()
        )
    }
}

impl SeedChainDecoder {
    /// `capacity`: parent vectors kept (two generations of parents is
    /// enough).
    pub fn new(table: Arc<NoiseTable>, init_scales: Vec<f32>, capacity: usize) -> Self {
        Self {
            table,
            init_scales,
            cache: Mutex::new(ParentCache {
                capacity: capacity.max(1),
                ..ParentCache::default()
            }),
        }
    }

    pub fn table(&self) -> &Arc<NoiseTable> {
        &self.table
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ParentCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The parameters of `chain`.
    pub fn decode(&self, chain: &SeedChain) -> Arc<Vec<f32>> {
        let n_mut = chain.mutations.len();
        let keys = chain.prefix_keys();
        let mut theta = Vec::with_capacity(self.init_scales.len());
        if let Some(v) = self.cache().get(keys[n_mut]) {
            return v;
        }
        if n_mut == 0 {
            decode_seed_chain(&self.table, chain, &self.init_scales, None, &mut theta);
            return Arc::new(theta);
        }
        let parent = self.parent(chain, &keys);
        decode_seed_chain(
            &self.table,
            chain,
            &self.init_scales,
            Some((parent.as_slice(), n_mut - 1)),
            &mut theta,
        );
        Arc::new(theta)
    }

    /// The vector of `chain` without its last mutation, from the cache or
    /// decoded from its longest cached ancestor and then cached.
    fn parent(&self, chain: &SeedChain, keys: &[u64]) -> Arc<Vec<f32>> {
        let p = keys.len() - 2;
        let (ancestor, k) = {
            let cache = self.cache();
            if let Some(v) = cache.get(keys[p]) {
                return v;
            }
            (0..p)
                .rev()
                .find_map(|k| cache.get(keys[k]).map(|v| (Some(v), k)))
                .unwrap_or((None, 0))
        };
        let prefix = SeedChain {
            init: chain.init,
            mutations: chain.mutations[..p].to_vec(),
        };
        let mut v = Vec::with_capacity(self.init_scales.len());
        let start = ancestor.as_ref().map(|a| (a.as_slice(), k));
        decode_seed_chain(&self.table, &prefix, &self.init_scales, start, &mut v);
        let v = Arc::new(v);
        self.cache().insert(keys[p], Arc::clone(&v));
        v
    }
}

/// Refuses an OpenAI-ES candidate whose centre is not `n` parameters (a
/// centre made for another network) or too large for the noise table.
pub(crate) fn check_centre(g: &Perturbed, table: &NoiseTable, n: usize) -> Result<(), EvalError> {
    let len = g.centre.params.len();
    if len != n {
        return Err(EvalError::BadGenome(format!(
            "the centre has {len} parameters, the policy {n}"
        )));
    }
    if len > table.len() {
        return Err(EvalError::BadGenome(format!(
            "the centre's {len} parameters exceed the noise table's {}",
            table.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use evonet_core::SeedMutation;

    #[test]
    fn cached_and_uncached_decoding_agree_bitwise() {
        let t = Arc::new(NoiseTable::new(10_000, 1));
        let scales = vec![0.5f32; 100];
        let dec = SeedChainDecoder::new(Arc::clone(&t), scales.clone(), 16);
        let mut c = SeedChain::new(9);
        for i in 0..20 {
            c = c.child(SeedMutation {
                seed: i * 31 + 7,
                sigma: 0.01,
            });
            let cached = dec.decode(&c);
            let mut fresh = Vec::new();
            decode_seed_chain(&t, &c, &scales, None, &mut fresh);
            assert_eq!(*cached, fresh);
        }
    }

    /// Children are never cached, parents are, and the cache holds at most
    /// its capacity: memory does not grow with the population.
    #[test]
    fn only_parents_are_kept_up_to_the_capacity() {
        let t = Arc::new(NoiseTable::new(10_000, 1));
        let dec = SeedChainDecoder::new(Arc::clone(&t), vec![0.5f32; 50], 3);
        let child = |p: &SeedChain, s: u64| {
            p.child(SeedMutation {
                seed: s,
                sigma: 0.01,
            })
        };
        let parents: Vec<SeedChain> = (0..5).map(|i| child(&SeedChain::new(i), 100 + i)).collect();
        for (i, p) in parents.iter().enumerate() {
            for k in 0..10 {
                dec.decode(&child(p, 1000 * i as u64 + k));
            }
            let cache = dec.cache();
            assert!(cache.vectors.contains_key(&p.key()), "parent {i} cached");
            assert!(cache.vectors.len() <= 3 && cache.order.len() == cache.vectors.len());
        }
        // Parent 0 was evicted first in, first out; its children still
        // decode to the same bits.
        assert!(!dec.cache().vectors.contains_key(&parents[0].key()));
        let c = child(&parents[0], 7);
        let mut fresh = Vec::new();
        decode_seed_chain(&t, &c, &[0.5f32; 50], None, &mut fresh);
        assert_eq!(*dec.decode(&c), fresh);
    }
}
