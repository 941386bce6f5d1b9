//! Reproduction (Stanley & Miikkulainen 2002, section 3.3): explicit fitness
//! sharing (`f'ᵢ = fᵢ / |S|`), offspring per species in proportion to the sum
//! of its members' shared fitness, the lowest members culled, champions of
//! large species copied unchanged, 25% of offspring by mutation alone, the
//! rest by crossover (rarely across species).

use evonet_core::{Purpose, SeededRng};

use crate::config::NeatParams;
use crate::crossover::{crossover, Inherit};
use crate::genome::NeatGenome;
use crate::innovation::InnovationTracker;
use crate::mutation::mutate;
use crate::species::Species;

/// Fitness made usable for sharing: failed (−∞ or NaN) evaluations count as
/// the worst finite value; if any value is negative, all are shifted so the
/// minimum is 0 (the paper's fitness functions are non-negative; this keeps
/// proportional allocation meaningful for negative returns).
pub fn sharing_fitness(raw: &[f64]) -> Vec<f64> {
    let min = raw
        .iter()
        .copied()
        .filter(|f| f.is_finite())
        .fold(f64::INFINITY, f64::min);
    let min = if min.is_finite() { min } else { 0.0 };
    let shift = if min < 0.0 { -min } else { 0.0 };
    raw.iter()
        .map(|&f| {
            if f.is_finite() {
                f + shift
            } else {
                min + shift
            }
        })
        .collect()
}

/// Offspring per species: `pop` split in proportion to `weights` among the
/// `eligible` species, each eligible one getting at least `min_each` when
/// `pop` allows; the rounding remainder goes to the largest fractional
/// parts (ties to the earlier species). With all weights 0, `sizes` decide.
pub fn allocate(
    weights: &[f64],
    sizes: &[usize],
    eligible: &[bool],
    pop: usize,
    min_each: usize,
) -> Vec<usize> {
    let k = weights.len();
    let mut out = vec![0usize; k];
    let n_eligible = eligible.iter().filter(|e| **e).count();
    if n_eligible == 0 {
        return out;
    }
    let floor_each = min_each.min(pop / n_eligible);
    for i in 0..k {
        if eligible[i] {
            out[i] = floor_each;
        }
    }
    let rest = pop - floor_each * n_eligible;
    let total: f64 = (0..k).filter(|&i| eligible[i]).map(|i| weights[i]).sum();
    let w: Vec<f64> = (0..k)
        .map(|i| {
            if !eligible[i] {
                0.0
            } else if total > 0.0 {
                weights[i] / total
            } else {
                sizes[i] as f64
                    / (0..k)
                        .filter(|&j| eligible[j])
                        .map(|j| sizes[j])
                        .sum::<usize>()
                        .max(1) as f64
            }
        })
        .collect();
    let exact: Vec<f64> = w.iter().map(|x| x * rest as f64).collect();
    let mut given = 0;
    for i in 0..k {
        let f = exact[i].floor() as usize;
        out[i] += f;
        given += f;
    }
    let mut order: Vec<usize> = (0..k).filter(|&i| eligible[i]).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().cycle().take(rest - given) {
        out[i] += 1;
    }
    out
}

/// What reproduction needs from the generation just evaluated.
pub struct Parents<'a> {
    pub population: &'a [NeatGenome],
    /// Raw fitness (for ranking and crossover).
    pub fitness: &'a [f64],
    pub species: &'a [Species],
    /// Offspring per species.
    pub offspring: &'a [usize],
}

/// Makes the next generation. Child `k` (in species order) draws from its
/// own stream `(seed, generation, k, Sample)`; ids come from `next_id`.
pub fn reproduce(
    p: &NeatParams,
    parents: &Parents<'_>,
    tracker: &mut InnovationTracker,
    seed: u64,
    generation: u64,
    next_id: &mut u64,
) -> Vec<NeatGenome> {
    let fit = parents.fitness;
    // Members of each species, best first (ties: earlier genome first).
    let ranked: Vec<Vec<usize>> = parents
        .species
        .iter()
        .map(|s| {
            let mut m = s.members.clone();
            m.sort_by(|&a, &b| fit[b].total_cmp(&fit[a]).then(a.cmp(&b)));
            m
        })
        .collect();
    let mut children = Vec::with_capacity(p.pop_size);
    let mut k = 0u64;
    for (si, members) in ranked.iter().enumerate() {
        let n = parents.offspring[si];
        if n == 0 {
            continue;
        }
        let mut made = 0;
        if members.len() >= p.elitism_min_species_size {
            for &m in members.iter().take(p.elitism.min(n)) {
                let g = &parents.population[m];
                let c = g.child(*next_id, vec![g.id]);
                *next_id += 1;
                children.push(c);
                made += 1;
                k += 1;
            }
        }
        // Stanley's `floor(threshold · size) + 1`, at least the minimum.
        let survivors = ((p.survival_threshold * members.len() as f64).floor() as usize + 1)
            .max(p.survival_min_parents)
            .min(members.len());
        let pool = &members[..survivors];
        while made < n {
            let mut rng = SeededRng::for_stream(seed, generation, k, Purpose::Sample);
            k += 1;
            let mut child = offspring_of(p, parents, &ranked, si, pool, tracker, &mut rng);
            child.id = *next_id;
            *next_id += 1;
            children.push(child);
            made += 1;
        }
    }
    children
}

/// One non-elite child of species `si`, bred from its `pool` (best first):
/// by mutation alone, or by crossover (rarely with another species'
/// champion) and then, unless mate-only, mutation.
fn offspring_of(
    p: &NeatParams,
    parents: &Parents<'_>,
    ranked: &[Vec<usize>],
    si: usize,
    pool: &[usize],
    tracker: &mut InnovationTracker,
    rng: &mut SeededRng,
) -> NeatGenome {
    let fit = parents.fitness;
    let a = pool[rng.below(pool.len() as u64) as usize];
    if pool.len() == 1 || rng.bernoulli(p.mutate_only_prob) {
        let g = &parents.population[a];
        let mut c = g.child(0, vec![g.id]);
        mutate(&mut c, p, tracker, rng);
        return c;
    }
    let b = if parents.species.len() > 1 && rng.bernoulli(p.interspecies_mating_rate) {
        // The champion of another species.
        let mut other = rng.below(parents.species.len() as u64 - 1) as usize;
        if other >= si {
            other += 1;
        }
        ranked[other][0]
    } else {
        pool[rng.below(pool.len() as u64) as usize]
    };
    let inherit = Inherit {
        disabled: p.disabled_gene_inherit_prob,
        rule: p.disabled_gene_rule,
        // No draw at 0: runs without averaging keep their streams.
        average: p.crossover_average_prob > 0.0 && rng.bernoulli(p.crossover_average_prob),
    };
    let (pa, pb) = (&parents.population[a], &parents.population[b]);
    let mut c = crossover(pa, fit[a], pb, fit[b], inherit, rng);
    if a == b || !rng.bernoulli(p.mate_only_prob) {
        mutate(&mut c, p, tracker, rng);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_proportional_and_exact() {
        let a = allocate(&[1.0, 2.0, 1.0], &[5, 5, 5], &[true, true, true], 150, 0);
        assert_eq!(a, vec![38, 75, 37]);
        assert_eq!(a.iter().sum::<usize>(), 150);
        // Stagnant species get nothing; the rest share everything.
        let a = allocate(&[1.0, 2.0, 1.0], &[5, 5, 5], &[true, false, true], 150, 0);
        assert_eq!(a, vec![75, 0, 75]);
        // All-zero fitness: by size.
        let a = allocate(&[0.0, 0.0], &[1, 3], &[true, true], 8, 0);
        assert_eq!(a, vec![2, 6]);
        // A minimum per species.
        let a = allocate(&[100.0, 0.0], &[1, 1], &[true, true], 10, 2);
        assert_eq!(a, vec![8, 2]);
    }

    #[test]
    fn sharing_fitness_handles_failures_and_negatives() {
        assert_eq!(
            sharing_fitness(&[1.0, f64::NEG_INFINITY, 3.0]),
            vec![1.0, 1.0, 3.0]
        );
        assert_eq!(
            sharing_fitness(&[-200.0, -100.0, f64::NAN]),
            vec![0.0, 100.0, 0.0]
        );
    }
}
