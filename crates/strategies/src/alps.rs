//! ALPS, the Age-Layered Population Structure (Hornby 2006, "ALPS: the
//! age-layered population structure for reducing the problem of premature
//! convergence", GECCO, pp. 815–822), over the genomes of any [`Variation`]:
//! NEAT genomes, Deep GA seed chains, architectures.
//!
//! The population is split into layers by *age*, the number of generations
//! an individual's oldest genetic material has been evolving:
//! - a fresh random individual has age 0; a child has age 1 + its oldest
//!   parent's; an individual carried over (an elite) ages by 1 a generation;
//! - layer `l` holds individuals of age at most `age_gap × s(l)`, where `s`
//!   is the aging scheme (linear 1, 2, 3, 4…; polynomial 1, 2, 4, 9, 16…;
//!   exponential 1, 2, 4, 8…; Fibonacci 1, 2, 3, 5, 8…); the top layer has
//!   no limit;
//! - every generation, each open layer is bred again: its `elites` fittest
//!   pass unchanged (not evaluated again), the rest are children of parents
//!   drawn by tournament from the layer and the one below, so good material
//!   climbs while young material is never made to compete with old;
//! - an individual older than its layer's limit moves up, taking the place
//!   of the next layer's worst if it is fitter (or a free place), else it is
//!   dropped;
//! - every `age_gap` generations the bottom layer is replaced by fresh
//!   random individuals (its members are offered to the layer above), and
//!   a new layer opens on top until `layers` are open, as HeuristicLab's
//!   `AlpsGeneticAlgorithm` does (10 layers, polynomial aging, age gap 20,
//!   one elite per layer are its defaults and these).
//!
//! HeuristicLab selects with generalized rank selection (pressure 4);
//! evonet draws tournaments of `tournament` (4 by default), whose pressure
//! is of the same order and which needs no sort per parent.

use serde::{Deserialize, Serialize};

use evonet_core::{
    Candidate, Champion, Evaluated, Origin, Purpose, SeededRng, Strategy, StrategyError,
    TellReport, Variation,
};

use crate::members::{Book, Member};

/// How a layer's age limit grows with its index (times the age gap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgingScheme {
    /// 1, 2, 3, 4, 5…
    Linear,
    /// 1, 2, 4, 9, 16, 25… (n² from the third layer; Hornby's).
    #[default]
    Polynomial,
    /// 1, 2, 4, 8, 16…
    Exponential,
    /// 1, 2, 3, 5, 8, 13…
    Fibonacci,
}

impl AgingScheme {
    /// The multiple of the age gap that limits layer `layer`.
    pub fn factor(self, layer: usize) -> u64 {
        let l = layer as u64;
        match self {
            AgingScheme::Linear => l + 1,
            AgingScheme::Polynomial => match l {
                0 => 1,
                1 => 2,
                _ => l.saturating_mul(l),
            },
            AgingScheme::Exponential => 1u64.checked_shl(layer as u32).unwrap_or(u64::MAX),
            AgingScheme::Fibonacci => {
                let (mut a, mut b) = (1u64, 2u64);
                for _ in 0..layer {
                    (a, b) = (b, a.saturating_add(b));
                }
                a
            }
        }
    }
}

/// The `[alps]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlpsConfig {
    /// Most layers open at once (Hornby, HeuristicLab: 10).
    #[serde(default = "default_layers")]
    pub layers: usize,
    /// Individuals per layer (HeuristicLab: 100).
    #[serde(default = "default_layer_size")]
    pub layer_size: usize,
    /// Generations between reseedings of the bottom layer, and the unit of
    /// the age limits (HeuristicLab: 20).
    #[serde(default = "default_age_gap")]
    pub age_gap: u64,
    #[serde(default)]
    pub aging: AgingScheme,
    /// Fittest of a layer carried over unchanged (HeuristicLab: 1).
    #[serde(default = "default_elites")]
    pub elites: usize,
    /// Members drawn per tournament when choosing a parent.
    #[serde(default = "default_tournament")]
    pub tournament: usize,
    /// Share of children made by crossover before mutation; unset, the
    /// wrapped strategy's own (NEAT: 1 − `mutate_only_prob`; the truncation
    /// GA: its `crossover_rate`; the Deep GA and aging evolution: none).
    #[serde(default)]
    pub crossover_rate: Option<f64>,
}

fn default_layers() -> usize {
    10
}
fn default_layer_size() -> usize {
    100
}
fn default_age_gap() -> u64 {
    20
}
fn default_elites() -> usize {
    1
}
fn default_tournament() -> usize {
    4
}

impl Default for AlpsConfig {
    fn default() -> Self {
        Self {
            layers: default_layers(),
            layer_size: default_layer_size(),
            age_gap: default_age_gap(),
            aging: AgingScheme::default(),
            elites: default_elites(),
            tournament: default_tournament(),
            crossover_rate: None,
        }
    }
}

impl AlpsConfig {
    /// Checks the settings on their own (no search space needed).
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |key, message: String| Err(StrategyError::Config { key, message });
        if !(1..=64).contains(&self.layers) {
            return bad("layers", "must be between 1 and 64".into());
        }
        if self.layer_size < 2 {
            return bad("layer_size", "must be at least 2".into());
        }
        if let Err(m) =
            evonet_core::limits::check_population(self.layer_size.saturating_mul(self.layers))
        {
            return bad("layer_size", format!("layers × layer_size: {m}"));
        }
        if !(1..=1_000_000).contains(&self.age_gap) {
            return bad(
                "age_gap",
                "must be between 1 and 1,000,000 generations".into(),
            );
        }
        if self.elites >= self.layer_size {
            return bad("elites", "must be below layer_size".into());
        }
        if !(1..=self.layer_size).contains(&self.tournament) {
            return bad("tournament", "must be between 1 and layer_size".into());
        }
        if let Some(r) = self.crossover_rate {
            if !(0.0..=1.0).contains(&r) {
                return bad("crossover_rate", "must be in [0, 1]".into());
            }
        }
        Ok(())
    }

    /// The oldest age layer `layer` holds (the top open layer holds any).
    pub fn age_limit(&self, layer: usize) -> u64 {
        self.age_gap.saturating_mul(self.aging.factor(layer))
    }
}

/// A member and its age in generations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgedMember<G> {
    pub member: Member<G>,
    pub age: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlpsState<G> {
    pub book: Book<G>,
    /// The open layers, youngest first; each fittest first.
    pub layers: Vec<Vec<AgedMember<G>>>,
    /// The layer and age of each pending candidate, in ask order.
    pub slots: Vec<(usize, u64)>,
}

/// ALPS over the genomes of `V` (see the module docs).
pub struct Alps<G, V> {
    cfg: AlpsConfig,
    space: V,
    crossover_rate: f64,
    _genome: std::marker::PhantomData<fn() -> G>,
}

impl<G: Clone, V: Variation<G>> Alps<G, V> {
    /// ALPS over `space`; `crossover_rate` applies unless the config sets
    /// its own.
    pub fn new(cfg: AlpsConfig, space: V, crossover_rate: f64) -> Result<Self, StrategyError> {
        cfg.validate()?;
        let crossover_rate = cfg.crossover_rate.unwrap_or(crossover_rate);
        Ok(Self {
            cfg,
            space,
            crossover_rate,
            _genome: std::marker::PhantomData,
        })
    }

    /// Whether generation `gen` replaces the bottom layer.
    fn reseeds(&self, gen: u64) -> bool {
        gen > 0 && gen.is_multiple_of(self.cfg.age_gap)
    }

    /// Layers open in generation `gen` (one more than before when it
    /// reseeds, up to `layers`).
    fn open_layers(&self, st: &AlpsState<G>, gen: u64) -> usize {
        let open = st.layers.len().max(1);
        if self.reseeds(gen) {
            (open + 1).min(self.cfg.layers)
        } else {
            open
        }
    }

    /// The fittest of `tournament` members drawn with replacement (the
    /// first drawn wins ties).
    fn tournament<'a>(
        &self,
        pool: &[&'a AgedMember<G>],
        pick: &mut SeededRng,
    ) -> &'a AgedMember<G> {
        let mut best = pool[pick.below(pool.len() as u64) as usize];
        for _ in 1..self.cfg.tournament {
            let m = pool[pick.below(pool.len() as u64) as usize];
            if m.member.fitness > best.member.fitness {
                best = m;
            }
        }
        best
    }

    /// Child `index` of generation `gen`, from parents in `pool`: its
    /// genome, origin and age.
    fn breed(&self, pool: &[&AgedMember<G>], seed: u64, gen: u64, index: u64) -> (G, Origin, u64) {
        let mut pick = SeededRng::for_stream(seed, gen, index, Purpose::Select);
        let mut rng = SeededRng::for_stream(seed, gen, index, Purpose::Sample);
        let a = self.tournament(pool, &mut pick);
        let (mut genome, mut age) = (a.member.genome.clone(), a.age);
        let mut parents = vec![a.member.id];
        let mut words = Vec::new();
        if self.crossover_rate > 0.0 && rng.bernoulli(self.crossover_rate) {
            let b = self.tournament(pool, &mut pick);
            let (fit, other) = if b.member.fitness > a.member.fitness {
                (b, a)
            } else {
                (a, b)
            };
            if let Some((g, w)) =
                self.space
                    .crossover(&fit.member.genome, &other.member.genome, &mut rng)
            {
                genome = g;
                age = age.max(b.age);
                parents.push(b.member.id);
                words.push(w);
            }
        }
        let (genome, w) = self.space.mutate(&genome, &mut rng);
        words.push(w);
        let origin = Origin {
            parents,
            operator: words.join("; "),
        };
        (genome, origin, age + 1)
    }

    /// The children of layer `layer` in generation `gen`, numbered from
    /// `*index` on.
    fn ask_layer(
        &self,
        st: &mut AlpsState<G>,
        layer: usize,
        gen: u64,
        index: &mut u64,
    ) -> Vec<Candidate<G>> {
        let seed = st.book.seed;
        if layer == 0 && self.reseeds(gen) {
            // The bottom layer is asked first: its fresh genomes are the
            // book's random round, numbered from 0.
            debug_assert_eq!(*index, 0);
            let round = st.book.random_round(&self.space, self.cfg.layer_size, None);
            st.slots.extend(std::iter::repeat_n((0, 0), round.len()));
            *index += round.len() as u64;
            return round;
        }
        let own = st.layers.get(layer).map_or(&[][..], |v| &v[..]);
        let below = layer.checked_sub(1).and_then(|l| st.layers.get(l));
        let pool: Vec<&AgedMember<G>> = own.iter().chain(below.into_iter().flatten()).collect();
        if pool.is_empty() {
            return Vec::new();
        }
        let children = self.cfg.layer_size - self.cfg.elites.min(own.len());
        let bred: Vec<(G, Origin, u64)> = (0..children as u64)
            .map(|i| self.breed(&pool, seed, gen, *index + i))
            .collect();
        bred.into_iter()
            .map(|(g, origin, age)| {
                st.slots.push((layer, age));
                *index += 1;
                st.book.candidate(g, *index - 1, origin)
            })
            .collect()
    }

    /// Puts `m` into layer `layer` if there is room or it beats the worst.
    fn offer(&self, layer: &mut Vec<AgedMember<G>>, m: AgedMember<G>) {
        if layer.len() >= self.cfg.layer_size {
            match layer.last() {
                Some(worst) if m.member.fitness > worst.member.fitness => {
                    layer.pop();
                }
                _ => return,
            }
        }
        // After every member at least as fit: ties keep the incumbents.
        let at = layer.partition_point(|x| x.member.fitness >= m.member.fitness);
        layer.insert(at, m);
    }

    /// Moves every member older than its layer's limit up a layer, from the
    /// top down (the top open layer keeps its members).
    fn move_up(&self, layers: &mut [Vec<AgedMember<G>>]) {
        for l in (0..layers.len().saturating_sub(1)).rev() {
            let limit = self.cfg.age_limit(l);
            let (stay, go): (Vec<_>, Vec<_>) = std::mem::take(&mut layers[l])
                .into_iter()
                .partition(|m| m.age <= limit);
            layers[l] = stay;
            for m in go {
                self.offer(&mut layers[l + 1], m);
            }
        }
    }
}

fn aged<G>(mut m: AgedMember<G>) -> AgedMember<G> {
    m.age += 1;
    m
}

fn fittest_first<G>(layer: &mut [AgedMember<G>]) {
    // Stable: carried members stay ahead of equally fit children.
    layer.sort_by(|a, b| b.member.fitness.total_cmp(&a.member.fitness));
}

impl<G, V> Strategy for Alps<G, V>
where
    G: Clone + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    V: Variation<G>,
{
    type Genome = G;
    type State = AlpsState<G>;

    fn name(&self) -> &'static str {
        "alps"
    }

    fn init(&self, seed: u64) -> Result<Self::State, StrategyError> {
        Ok(AlpsState {
            book: Book::new(seed),
            layers: Vec::new(),
            slots: Vec::new(),
        })
    }

    fn ask(&self, st: &mut Self::State) -> Vec<Candidate<G>> {
        st.slots.clear();
        if st.layers.is_empty() {
            let round = st.book.random_round(&self.space, self.cfg.layer_size, None);
            st.slots = vec![(0, 0); round.len()];
            return round;
        }
        let gen = st.book.generation;
        let mut index = 0;
        (0..self.open_layers(st, gen))
            .flat_map(|l| self.ask_layer(st, l, gen, &mut index))
            .collect()
    }

    fn tell(
        &self,
        st: &mut Self::State,
        results: Vec<Evaluated<G>>,
    ) -> Result<TellReport, StrategyError> {
        let gen = st.book.generation;
        let open = if st.layers.is_empty() {
            1
        } else {
            self.open_layers(st, gen)
        };
        let (members, mut report) = st.book.close(results);
        if st.layers.is_empty() && members.iter().all(|m| !m.fitness.is_finite()) {
            return Err(StrategyError::AllFailed(gen));
        }
        let reseed = self.reseeds(gen) && !st.layers.is_empty();
        let old = std::mem::take(&mut st.layers);
        let mut layers: Vec<Vec<AgedMember<G>>> = vec![Vec::new(); open];
        for (l, members) in old.iter().enumerate() {
            if !(l == 0 && reseed) {
                let kept = members.iter().take(self.cfg.elites).cloned().map(aged);
                layers[l].extend(kept);
            }
        }
        for (member, (l, age)) in members.into_iter().zip(std::mem::take(&mut st.slots)) {
            layers[l].push(AgedMember { member, age });
        }
        layers.iter_mut().for_each(|l| fittest_first(l));
        if reseed && open > 1 {
            for m in old.into_iter().next().into_iter().flatten() {
                self.offer(&mut layers[1], aged(m));
            }
        }
        self.move_up(&mut layers);
        let oldest = layers.iter().flatten().map(|m| m.age).max().unwrap_or(0);
        report.stats.push(("layers".into(), open as f64));
        report.stats.push(("oldest_age".into(), oldest as f64));
        st.layers = layers;
        Ok(report)
    }

    fn generation(&self, st: &Self::State) -> u64 {
        st.book.generation
    }

    fn champion(&self, st: &Self::State) -> Option<Champion<G>> {
        st.book.champion()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_limits_follow_the_schemes() {
        let limits = |aging| {
            let c = AlpsConfig {
                aging,
                age_gap: 20,
                ..AlpsConfig::default()
            };
            (0..6).map(|l| c.age_limit(l) / 20).collect::<Vec<_>>()
        };
        assert_eq!(limits(AgingScheme::Linear), [1, 2, 3, 4, 5, 6]);
        assert_eq!(limits(AgingScheme::Polynomial), [1, 2, 4, 9, 16, 25]);
        assert_eq!(limits(AgingScheme::Exponential), [1, 2, 4, 8, 16, 32]);
        assert_eq!(limits(AgingScheme::Fibonacci), [1, 2, 3, 5, 8, 13]);
        assert_eq!(AgingScheme::Exponential.factor(200), u64::MAX);
    }

    #[test]
    fn bad_settings_name_their_key() {
        let key = |c: AlpsConfig| match c.validate() {
            Err(StrategyError::Config { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        let d = AlpsConfig::default;
        assert_eq!(key(AlpsConfig { layers: 0, ..d() }), "layers");
        assert_eq!(
            key(AlpsConfig {
                layer_size: 1,
                ..d()
            }),
            "layer_size"
        );
        assert_eq!(key(AlpsConfig { age_gap: 0, ..d() }), "age_gap");
        assert_eq!(key(AlpsConfig { elites: 100, ..d() }), "elites");
        assert_eq!(
            key(AlpsConfig {
                tournament: 0,
                ..d()
            }),
            "tournament"
        );
        let r = Some(f64::NAN);
        assert_eq!(
            key(AlpsConfig {
                crossover_rate: r,
                ..d()
            }),
            "crossover_rate"
        );
        assert_eq!(
            key(AlpsConfig {
                layer_size: usize::MAX / 2,
                ..d()
            }),
            "layer_size"
        );
    }
}
