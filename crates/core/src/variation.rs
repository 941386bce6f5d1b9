//! How generic strategies (aging evolution, the truncation GA, random
//! sampling) make and change genomes they know nothing about. A search
//! space implements it: NAS chain and cell spaces, or a bit string in the
//! tests.

use crate::seed::SeededRng;

pub trait Variation<G>: Send + Sync {
    /// A fresh random genome.
    fn random(&self, rng: &mut SeededRng) -> G;

    /// A changed copy of `parent`, and the change in words
    /// (`"alter 2 conv3x3-16 -> conv5x5-16"`).
    fn mutate(&self, parent: &G, rng: &mut SeededRng) -> (G, String);

    /// A child mixing two parents and how it was made, or `None` when the
    /// space has no crossover. Strategies that know which parent is fitter
    /// pass it as `a` (NEAT's crossover takes disjoint and excess genes
    /// from it).
    fn crossover(&self, _a: &G, _b: &G, _rng: &mut SeededRng) -> Option<(G, String)> {
        None
    }

    /// A fixed-length numeric description of `genome` (the same length for
    /// every genome of the space, each value of order one), the input of a
    /// learned performance predictor; `None` where the space defines none.
    fn features(&self, _genome: &G) -> Option<Vec<f64>> {
        None
    }
}
