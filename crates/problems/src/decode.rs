//! Genome → parameter vector. Seed chains are decoded from the shared noise
//! table with a cache of recent vectors, so a child whose parent was decoded
//! costs one axpy (Such et al. 2017, "parents are cached"). The cache only
//! changes speed: decoding from a cached parent performs the same float
//! operations in the same order as decoding from scratch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use evonet_core::genome::decode_seed_chain;
use evonet_core::{NoiseTable, SeedChain};

pub struct SeedChainDecoder {
    table: Arc<NoiseTable>,
    init_scales: Vec<f32>,
    cache: Mutex<HashMap<u64, Arc<Vec<f32>>>>,
    capacity: usize,
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
    /// `capacity`: vectors kept (about two generations is enough).
    pub fn new(table: Arc<NoiseTable>, init_scales: Vec<f32>, capacity: usize) -> Self {
        Self {
            table,
            init_scales,
            cache: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    pub fn table(&self) -> &Arc<NoiseTable> {
        &self.table
    }

    /// The parameters of `chain`.
    pub fn decode(&self, chain: &SeedChain) -> Arc<Vec<f32>> {
        let key = chain.key();
        let n_mut = chain.mutations.len();
        let parent = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(v) = cache.get(&key) {
                return Arc::clone(v);
            }
            if n_mut > 0 {
                cache.get(&chain.prefix_key(n_mut - 1)).cloned()
            } else {
                None
            }
        };
        let mut theta = Vec::with_capacity(self.init_scales.len());
        let start = parent.as_ref().map(|p| (p.as_slice(), n_mut - 1));
        decode_seed_chain(&self.table, chain, &self.init_scales, start, &mut theta);
        let theta = Arc::new(theta);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= self.capacity {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&theta));
        theta
    }
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
}
