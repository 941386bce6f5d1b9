//! [`SearchSpace`]: the configured space of a search, chain or cell, as one
//! [`Variation`] over [`Arch`] for the generic strategies.

use serde::{Deserialize, Serialize};

use evonet_core::{SeededRng, Variation};
use evonet_train::Arch;

use crate::cell_space::{CellSpace, CellSpaceConfig};
use crate::chain_space::{ChainSpace, ChainSpaceConfig};

/// `[search_space]` of a config, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SearchSpaceConfig {
    Chain(ChainSpaceConfig),
    Cell(CellSpaceConfig),
}

impl SearchSpaceConfig {
    /// Checks the choices; the error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        match self {
            SearchSpaceConfig::Chain(c) => c.validate(),
            SearchSpaceConfig::Cell(c) => c.validate(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum SearchSpace {
    Chain(ChainSpace),
    Cell(CellSpace),
}

impl SearchSpace {
    /// The space of `cfg` for inputs of `input` shape and `classes`.
    pub fn new(cfg: SearchSpaceConfig, input: [usize; 3], classes: usize) -> Self {
        match cfg {
            SearchSpaceConfig::Chain(c) => SearchSpace::Chain(ChainSpace::new(c, input, classes)),
            SearchSpaceConfig::Cell(c) => SearchSpace::Cell(CellSpace::new(c, input, classes)),
        }
    }

    /// Whether `arch` is a network of this space.
    pub fn admits(&self, arch: &Arch) -> bool {
        match (self, arch) {
            (SearchSpace::Chain(s), Arch::Chain(a)) => s.admits(a),
            (SearchSpace::Cell(s), Arch::Cell(a)) => s.admits(a),
            _ => false,
        }
    }

    /// A problem of the configuration that makes the space empty or
    /// degenerate, as (key, message).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let SearchSpace::Cell(s) = self {
            let small = s.cheapest();
            if let Err(e) = small.cost(s.input, s.classes) {
                return Err(("reductions", format!("{e} (input {:?})", s.input)));
            }
            if !s.admits(&small) {
                let p = small.cost(s.input, s.classes).map_or(0, |c| c.params);
                return Err((
                    "max_params",
                    format!("is below the smallest network of the space ({p} parameters)"),
                ));
            }
        }
        Ok(())
    }
}

/// A genome of the other space: the strategies only ever hand a space its
/// own genomes, so this is a bug, not an input error.
fn wrong_space(space: &str, arch: &Arch) -> ! {
    panic!("a {space} space was given a {} architecture", arch.space())
}

impl Variation<Arch> for SearchSpace {
    fn random(&self, rng: &mut SeededRng) -> Arch {
        match self {
            SearchSpace::Chain(s) => Arch::Chain(s.random(rng)),
            SearchSpace::Cell(s) => Arch::Cell(s.random(rng)),
        }
    }

    fn mutate(&self, parent: &Arch, rng: &mut SeededRng) -> (Arch, String) {
        match (self, parent) {
            (SearchSpace::Chain(s), Arch::Chain(a)) => {
                let (c, w) = s.mutate(a, rng);
                (Arch::Chain(c), w)
            }
            (SearchSpace::Cell(s), Arch::Cell(a)) => {
                let (c, w) = s.mutate(a, rng);
                (Arch::Cell(c), w)
            }
            (SearchSpace::Chain(_), a) => wrong_space("chain", a),
            (SearchSpace::Cell(_), a) => wrong_space("cell", a),
        }
    }

    fn crossover(&self, a: &Arch, b: &Arch, rng: &mut SeededRng) -> Option<(Arch, String)> {
        match (self, a, b) {
            (SearchSpace::Chain(s), Arch::Chain(a), Arch::Chain(b)) => {
                s.crossover(a, b, rng).map(|(c, w)| (Arch::Chain(c), w))
            }
            (SearchSpace::Cell(s), Arch::Cell(a), Arch::Cell(b)) => {
                s.crossover(a, b, rng).map(|(c, w)| (Arch::Cell(c), w))
            }
            (SearchSpace::Chain(_), x, _) => wrong_space("chain", x),
            (SearchSpace::Cell(_), x, _) => wrong_space("cell", x),
        }
    }

    fn features(&self, genome: &Arch) -> Option<Vec<f64>> {
        Some(match (self, genome) {
            (SearchSpace::Chain(s), Arch::Chain(a)) => crate::features::chain_features(s, a),
            (SearchSpace::Cell(s), Arch::Cell(a)) => crate::features::cell_features(s, a),
            (SearchSpace::Chain(_), a) => wrong_space("chain", a),
            (SearchSpace::Cell(_), a) => wrong_space("cell", a),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_space_of_a_config_proposes_its_own_kind_and_checks_its_limits() {
        let cell: SearchSpaceConfig =
            serde_json::from_str(r#"{"kind":"cell","blocks":3}"#).unwrap();
        let s = SearchSpace::new(cell, [1, 8, 8], 10);
        let mut rng = SeededRng::new(0);
        let a = s.random(&mut rng);
        assert_eq!(a.space(), "cell");
        assert!(s.admits(&a));
        let (c, _) = s.mutate(&a, &mut rng);
        assert!(s.admits(&c));
        assert!(s.check().is_ok());
        let tight = SearchSpaceConfig::Cell(CellSpaceConfig {
            max_params: Some(100),
            ..CellSpaceConfig::default()
        });
        let e = SearchSpace::new(tight, [1, 8, 8], 10).check().unwrap_err();
        assert_eq!(e.0, "max_params");
        let deep = SearchSpaceConfig::Cell(CellSpaceConfig {
            reductions: 4,
            ..CellSpaceConfig::default()
        });
        let e = SearchSpace::new(deep, [1, 8, 8], 10).check().unwrap_err();
        assert!(e.1.contains("cannot reduce"), "{e:?}");
        let chain = SearchSpace::new(
            SearchSpaceConfig::Chain(ChainSpaceConfig::default()),
            [1, 8, 8],
            10,
        );
        assert!(!chain.admits(&a));
        assert_eq!(chain.random(&mut rng).space(), "chain");
    }
}
