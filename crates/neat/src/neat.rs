//! NEAT as an ask/tell [`Strategy`] (Stanley & Miikkulainen 2002).
//!
//! One generation: the population is evaluated; species record their best
//! fitness (stagnation); offspring are allocated by shared fitness and bred
//! ([`crate::reproduction`]); the children are speciated against random
//! representatives of the old species ([`crate::species`]).

use serde::{Deserialize, Serialize};

use evonet_core::candidate::{best_finite, mean_finite, score};
use evonet_core::{
    derive_seed, Candidate, CandidateId, Champion, EvalRequest, Evaluated, Purpose, SeededRng,
    SpeciesRecord, Strategy, StrategyError, TellReport,
};

use crate::config::{NeatParams, Representative};
use crate::distance::Coefficients;
use crate::genome::{fixed_nodes, ConnGene, Layout, NeatGenome};
use crate::innovation::InnovationTracker;
use crate::mutation::initial_weight;
use crate::reproduction::{allocate, reproduce, sharing_fitness, Parents};
use crate::species::{speciate, steer_threshold, Species};

#[derive(Debug, Clone)]
pub struct Neat {
    params: NeatParams,
    inputs: u32,
    outputs: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeatState {
    pub seed: u64,
    pub generation: u64,
    pub next_genome_id: u64,
    pub next_species_id: u64,
    pub tracker: InnovationTracker,
    /// The generation to be evaluated next.
    pub population: Vec<NeatGenome>,
    pub species: Vec<Species>,
    pub compat_threshold: f64,
    /// Best genome of the last evaluated generation and its fitness (with
    /// `check_unchecked_species`: of its best species not offered before).
    pub champion: Option<(NeatGenome, f64)>,
    /// Species whose champion was offered for testing (sorted ids).
    #[serde(default)]
    pub checked_species: Vec<u64>,
}

impl Neat {
    /// NEAT for networks with `inputs` sensors and `outputs` outputs.
    pub fn new(params: NeatParams, inputs: usize, outputs: usize) -> Result<Self, StrategyError> {
        params.validate()?;
        if inputs == 0 || outputs == 0 {
            return Err(StrategyError::Config {
                key: "pop_size",
                message: "networks need at least one input and one output".into(),
            });
        }
        Ok(Self {
            params,
            inputs: inputs as u32,
            outputs: outputs as u32,
        })
    }

    pub fn params(&self) -> &NeatParams {
        &self.params
    }

    pub fn layout(&self) -> Layout {
        Layout {
            inputs: self.inputs,
            outputs: self.outputs,
            bias_input: self
                .params
                .bias_input
                .then_some(self.params.bias_input_value),
            recurrent: !self.params.feed_forward,
        }
    }

    fn coefficients(&self) -> Coefficients {
        let p = &self.params;
        Coefficients {
            excess: p.compatibility_excess_coefficient,
            disjoint: p.compatibility_disjoint_coefficient,
            weight: p.compatibility_weight_coefficient,
            small_genome: p.compatibility_small_genome,
        }
    }

    /// A minimal genome: every input (and the bias) linked to every output.
    pub(crate) fn initial_genome(&self, id: u64, rng: &mut SeededRng) -> NeatGenome {
        let p = &self.params;
        let layout = self.layout();
        let mut nodes = fixed_nodes(&layout, p.activation_default);
        for n in nodes.iter_mut() {
            if n.kind == crate::genome::NodeKind::Output && p.bias_init_stdev > 0.0 {
                n.bias = (rng.normal() * p.bias_init_stdev)
                    .clamp(-p.bias_max_value, p.bias_max_value) as f32;
            }
        }
        let mut conns = Vec::new();
        for from in 0..layout.first_output() {
            for to in layout.first_output()..layout.fixed_nodes() {
                conns.push(ConnGene {
                    innovation: conns.len() as u64,
                    from,
                    to,
                    weight: initial_weight(p, rng),
                    enabled: true,
                });
            }
        }
        NeatGenome {
            id,
            parents: Vec::new(),
            layout,
            nodes,
            conns,
        }
    }
}

/// The index with the highest fitness, the earliest among equals.
impl Neat {
    /// Offspring per species: explicit fitness sharing (a species' weight
    /// is the mean of its members' shared fitness) among the species that
    /// are not stagnant or are among the best `species_elitism`.
    fn offspring(&self, st: &NeatState, raw: &[f64], by_best: &[usize]) -> Vec<usize> {
        let p = &self.params;
        let mut eligible: Vec<bool> = st
            .species
            .iter()
            .map(|s| s.staleness(st.generation) < p.max_stagnation)
            .collect();
        for &i in by_best.iter().take(p.species_elitism.max(1)) {
            eligible[i] = true;
        }
        let mut shared = sharing_fitness(raw);
        if p.spawn_above_population_min {
            let min = shared.iter().copied().fold(f64::INFINITY, f64::min);
            shared.iter_mut().for_each(|f| *f -= min);
        }
        let weights: Vec<f64> = st
            .species
            .iter()
            .map(|s| s.members.iter().map(|&m| shared[m]).sum::<f64>() / s.members.len() as f64)
            .collect();
        let sizes: Vec<usize> = st.species.iter().map(|s| s.members.len()).collect();
        allocate(&weights, &sizes, &eligible, p.pop_size, p.min_species_size)
    }

    /// The next generation: representatives chosen, children bred and
    /// speciated, the threshold steered.
    fn breed(&self, st: &mut NeatState, raw: &[f64], offspring: &[usize]) {
        let p = &self.params;
        let gen = st.generation;
        for s in st.species.iter_mut() {
            let m = match p.species_representative {
                Representative::Random => {
                    let mut rng = SeededRng::for_stream(st.seed, gen, s.id, Purpose::Select);
                    s.members[rng.below(s.members.len() as u64) as usize]
                }
                Representative::Best => {
                    fittest(s.members.iter().copied(), raw).unwrap_or(s.members[0])
                }
            };
            s.representative = st.population[m].clone();
        }
        st.tracker.new_generation();
        let children = reproduce(
            p,
            &Parents {
                population: &st.population,
                fitness: raw,
                species: &st.species,
                offspring,
            },
            &mut st.tracker,
            st.seed,
            gen,
            &mut st.next_genome_id,
        );
        st.tracker.new_generation();
        debug_assert_eq!(children.len(), p.pop_size);
        let mut keep = offspring.iter().map(|&o| o > 0);
        st.species.retain(|_| keep.next().unwrap_or(false));
        if p.target_species == 0 {
            st.compat_threshold = p.compatibility_threshold;
        }
        speciate(
            &children,
            &mut st.species,
            st.compat_threshold,
            &self.coefficients(),
            &mut st.next_species_id,
            gen + 1,
        );
        st.compat_threshold = steer_threshold(
            st.compat_threshold,
            st.species.len(),
            p.target_species,
            p.compatibility_threshold_step,
            p.compatibility_threshold_min,
        );
        st.population = children;
        st.generation += 1;
    }
}

/// Each species' best fitness this generation; a species that beat its
/// record has improved now (stagnation counts from there).
fn record_improvement(st: &mut NeatState, raw: &[f64]) -> Vec<f64> {
    let best_now: Vec<f64> = st
        .species
        .iter()
        .map(|s| {
            s.members
                .iter()
                .map(|&m| raw[m])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    for (s, &b) in st.species.iter_mut().zip(&best_now) {
        if b > s.best_fitness {
            s.best_fitness = b;
            s.last_improved = st.generation;
        }
    }
    best_now
}

/// Stanley's double-pole protocol: the champion offered for the success
/// test is the best member of the best species not offered before.
fn offer_unchecked_species(st: &mut NeatState, by_best: &[usize], best_now: &[f64], raw: &[f64]) {
    let unchecked = by_best.iter().copied().find(|&i| {
        best_now[i].is_finite() && st.checked_species.binary_search(&st.species[i].id).is_err()
    });
    if let Some(i) = unchecked {
        let sp = &st.species[i];
        if let Some(m) = fittest(sp.members.iter().copied(), raw) {
            st.champion = Some((st.population[m].clone(), raw[m]));
        }
        let pos = st.checked_species.partition_point(|&x| x < sp.id);
        st.checked_species.insert(pos, sp.id);
    }
}

fn fittest(indices: impl Iterator<Item = usize>, fitness: &[f64]) -> Option<usize> {
    indices.max_by(|&a, &b| fitness[a].total_cmp(&fitness[b]).then(b.cmp(&a)))
}

fn mean_structure(population: &[NeatGenome]) -> (f64, f64) {
    let n = population.len().max(1) as f64;
    let hidden = population.iter().map(|g| g.hidden_nodes()).sum::<usize>() as f64 / n;
    let conns = population.iter().map(|g| g.enabled_conns()).sum::<usize>() as f64 / n;
    (hidden, conns)
}

impl Strategy for Neat {
    type Genome = NeatGenome;
    type State = NeatState;

    fn name(&self) -> &'static str {
        "neat"
    }

    fn init(&self, seed: u64) -> Result<NeatState, StrategyError> {
        let population: Vec<NeatGenome> = (0..self.params.pop_size as u64)
            .map(|i| {
                let mut rng = SeededRng::for_stream(seed, 0, i, Purpose::Init);
                self.initial_genome(i, &mut rng)
            })
            .collect();
        let layout = self.layout();
        let first_innovation = population[0].conns.len() as u64;
        let mut st = NeatState {
            seed,
            generation: 0,
            next_genome_id: population.len() as u64,
            next_species_id: 0,
            tracker: InnovationTracker::new(first_innovation, layout.fixed_nodes()),
            population,
            species: Vec::new(),
            compat_threshold: self.params.compatibility_threshold,
            champion: None,
            checked_species: Vec::new(),
        };
        speciate(
            &st.population,
            &mut st.species,
            st.compat_threshold,
            &self.coefficients(),
            &mut st.next_species_id,
            0,
        );
        Ok(st)
    }

    fn ask(&self, st: &mut NeatState) -> Vec<Candidate<NeatGenome>> {
        st.population
            .iter()
            .enumerate()
            .map(|(i, g)| Candidate {
                id: CandidateId(g.id),
                origin: None,
                genome: g.clone(),
                request: EvalRequest::new(derive_seed(
                    st.seed,
                    st.generation,
                    i as u64,
                    Purpose::Evaluate,
                )),
            })
            .collect()
    }

    fn tell(
        &self,
        st: &mut NeatState,
        results: Vec<Evaluated<NeatGenome>>,
    ) -> Result<TellReport, StrategyError> {
        let gen = st.generation;
        let asked: Vec<CandidateId> = st.population.iter().map(|g| CandidateId(g.id)).collect();
        let scored = score(&asked, results);
        // NaN from a problem counts as a failure.
        let raw: Vec<f64> = scored
            .fitness
            .iter()
            .map(|f| if f.is_nan() { f64::NEG_INFINITY } else { *f })
            .collect();
        if let Some(b) = fittest((0..raw.len()).filter(|&i| raw[i].is_finite()), &raw) {
            st.champion = Some((st.population[b].clone(), raw[b]));
        }
        let best_now = record_improvement(st, &raw);
        let mut by_best: Vec<usize> = (0..st.species.len()).collect();
        by_best.sort_by(|&a, &b| best_now[b].total_cmp(&best_now[a]).then(a.cmp(&b)));
        if self.params.check_unchecked_species {
            offer_unchecked_species(st, &by_best, &best_now, &raw);
        }
        let offspring = self.offspring(st, &raw, &by_best);
        let records: Vec<SpeciesRecord> = st
            .species
            .iter()
            .zip(&best_now)
            .zip(&offspring)
            .map(|((s, &b), &o)| SpeciesRecord {
                id: s.id,
                size: s.members.len(),
                best_fitness: b.is_finite().then_some(b),
                staleness: s.staleness(gen),
                offspring: o,
            })
            .collect();
        let (mean_hidden, mean_conns) = mean_structure(&st.population);
        self.breed(st, &raw, &offspring);
        let mut stats = vec![
            ("species".to_string(), records.len() as f64),
            ("compat_threshold".to_string(), st.compat_threshold),
            ("mean_hidden_nodes".to_string(), mean_hidden),
            ("mean_enabled_conns".to_string(), mean_conns),
        ];
        if let Some((g, _)) = &st.champion {
            stats.push(("champion_hidden_nodes".into(), g.hidden_nodes() as f64));
            stats.push(("champion_enabled_conns".into(), g.enabled_conns() as f64));
        }
        Ok(TellReport {
            generation_done: true,
            best_fitness: best_finite(&raw),
            mean_fitness: mean_finite(&raw),
            failed: scored.failed,
            stats,
            species: records,
        })
    }

    fn generation(&self, st: &NeatState) -> u64 {
        st.generation
    }

    fn champion(&self, st: &NeatState) -> Option<Champion<NeatGenome>> {
        st.champion.as_ref().map(|(g, f)| Champion {
            genome: g.clone(),
            fitness: *f,
        })
    }
}
