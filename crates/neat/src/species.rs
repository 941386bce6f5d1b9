//! Speciation (Stanley & Miikkulainen 2002, section 3.3): each genome joins
//! the first species whose representative (a random member of the previous
//! generation) lies within the compatibility threshold, or founds a new
//! species. Optionally the threshold is steered toward a target species
//! count (Stanley's `compat_mod`), and species that have not improved for
//! `max_stagnation` generations stop reproducing.

use serde::{Deserialize, Serialize};

use crate::distance::{within, Coefficients};
use crate::genome::NeatGenome;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Species {
    /// Unique within a run, never reused.
    pub id: u64,
    pub representative: NeatGenome,
    /// Indices into the current population.
    pub members: Vec<usize>,
    /// Generation of its founding.
    pub created: u64,
    /// Best raw fitness it ever reached (`f64::MIN` before any success;
    /// finite so that the state serialises to JSON too).
    pub best_fitness: f64,
    /// Generation of the last improvement of `best_fitness`.
    pub last_improved: u64,
}

impl Species {
    /// Generations since the last improvement.
    pub fn staleness(&self, generation: u64) -> u64 {
        generation.saturating_sub(self.last_improved)
    }
}

/// Assigns every genome of `population` to a species, founding new ones as
/// needed (ids from `next_id`), and drops species left without members.
pub fn speciate(
    population: &[NeatGenome],
    species: &mut Vec<Species>,
    threshold: f64,
    c: &Coefficients,
    next_id: &mut u64,
    generation: u64,
) {
    for s in species.iter_mut() {
        s.members.clear();
    }
    for (i, g) in population.iter().enumerate() {
        match species
            .iter_mut()
            .find(|s| within(g, &s.representative, c, threshold))
        {
            Some(s) => s.members.push(i),
            None => {
                species.push(Species {
                    id: *next_id,
                    representative: g.clone(),
                    members: vec![i],
                    created: generation,
                    best_fitness: f64::MIN,
                    last_improved: generation,
                });
                *next_id += 1;
            }
        }
    }
    species.retain(|s| !s.members.is_empty());
}

/// Stanley's `compat_mod`: one step toward `target` species.
pub fn steer_threshold(threshold: f64, count: usize, target: usize, step: f64, min: f64) -> f64 {
    if target == 0 {
        return threshold;
    }
    let t = if count < target {
        threshold - step
    } else if count > target {
        threshold + step
    } else {
        threshold
    };
    t.max(min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::test_genome;

    fn genome(w: f32) -> NeatGenome {
        test_genome(0, &[(0, w, true)])
    }

    #[test]
    fn genomes_join_the_first_close_species() {
        let c = Coefficients {
            excess: 1.0,
            disjoint: 1.0,
            weight: 1.0,
            small_genome: 20,
        };
        let pop = vec![genome(0.0), genome(0.5), genome(5.0), genome(5.2)];
        let mut species = Vec::new();
        let mut next = 7;
        speciate(&pop, &mut species, 1.0, &c, &mut next, 0);
        let m: Vec<(u64, Vec<usize>)> = species.iter().map(|s| (s.id, s.members.clone())).collect();
        assert_eq!(m, vec![(7, vec![0, 1]), (8, vec![2, 3])]);
        // Next generation: only far genomes; species 7 dies out, 8 lives on.
        let pop2 = vec![genome(5.1), genome(20.0)];
        speciate(&pop2, &mut species, 1.0, &c, &mut next, 1);
        let m: Vec<(u64, Vec<usize>)> = species.iter().map(|s| (s.id, s.members.clone())).collect();
        assert_eq!(m, vec![(8, vec![0]), (9, vec![1])]);
    }

    #[test]
    fn threshold_steers_toward_the_target() {
        assert_eq!(steer_threshold(3.0, 5, 10, 0.3, 0.3), 2.7);
        assert_eq!(steer_threshold(3.0, 15, 10, 0.3, 0.3), 3.3);
        assert_eq!(steer_threshold(0.4, 1, 10, 0.3, 0.3), 0.3);
        assert_eq!(steer_threshold(3.0, 1, 0, 0.3, 0.3), 3.0);
    }
}
