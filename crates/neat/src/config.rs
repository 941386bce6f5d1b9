//! NEAT settings with neat-python's names, and two presets:
//!
//! - `paper2002`: Stanley & Miikkulainen 2002, section 4.1 (where the paper is
//!   silent, Stanley's own C++ code and its `xor.neat`: perturbation power
//!   2.5, survival 0.2, mate-only 0.2, weight cap ±8);
//! - `neat_python`: the values of neat-python's `examples/xor/config-feedforward`,
//!   mapped onto this implementation (see docs/NEAT.md for the mapping).
//!
//! A config names a preset and overrides any field; the resolved settings
//! (every field filled in) are what a run stores.

use serde::{Deserialize, Serialize};

use evonet_core::StrategyError;
use evonet_nn::Activation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    #[default]
    Paper2002,
    NeatPython,
}

/// How offspring are mutated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutationScheme {
    /// Stanley's: add a node, else add a link, else (with
    /// `weight_mutate_rate`) perturb the genome's weights, each replaced with
    /// `weight_replace_rate`, else perturbed.
    Paper2002,
    /// neat-python's: each structural mutation tried independently, then
    /// every gene's weight (bias) perturbed with `weight_mutate_rate` or
    /// replaced with `weight_replace_rate`.
    NeatPython,
}

/// The distribution of weight perturbations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perturbation {
    /// `U(−power, power)`; replacement also draws `U(−power, power)`
    /// (Stanley's code).
    Uniform,
    /// `N(0, power²)`; replacement draws `N(0, weight_init_stdev²)`
    /// (neat-python).
    Gaussian,
}

/// How the paper scheme perturbs a genome's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMutation {
    /// The paper's text: every gene alike, replaced with
    /// `weight_replace_rate`, else perturbed.
    PerGene,
    /// Stanley's code (`Genome::mutate_link_weights`): half the genomes are
    /// shaken severely (each gene perturbed 70%, replaced 20%, kept 10%);
    /// otherwise the newest 20% of genes of genomes with ten or more are
    /// perturbed 50%, replaced 20%, kept 30%, and the rest are perturbed.
    SevereTail,
}

/// How new weights are drawn (first genomes, new links).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightInit {
    /// `N(0, weight_init_stdev²)` (neat-python's default).
    Gaussian,
    /// `U(−2σ, 2σ)` with σ = `weight_init_stdev` (neat-python's `uniform`;
    /// σ = 0.5 gives Stanley's `U(−1, 1)`).
    Uniform,
}

/// Which inherited genes may come out disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledGenes {
    /// The paper's text: any gene disabled in either parent is disabled
    /// with `disabled_gene_inherit_prob`, else enabled (so a disabled
    /// disjoint or excess gene, or one disabled in both parents, may come
    /// back).
    EitherParent,
    /// Stanley's `mate_multipoint`: a matching gene disabled in either
    /// parent is disabled with `disabled_gene_inherit_prob`, else it keeps
    /// the flag of the parent it was taken from; disjoint and excess genes
    /// keep their own flag.
    Stanley,
}

/// Which member of a species the next generation is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Representative {
    /// A random member (the paper's text).
    Random,
    /// The fittest member (Stanley's code compares with the first, that is
    /// best, organism of the old species).
    Best,
}

macro_rules! neat_settings {
    ($( $(#[doc = $doc:expr])* $name:ident : $ty:ty = ($paper:expr, $np:expr) ),* $(,)?) => {
        /// Resolved NEAT settings: every field has a value.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct NeatParams {
            $( $(#[doc = $doc])* pub $name: $ty, )*
        }

        /// NEAT settings as written in a config: a preset plus overrides.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct NeatConfig {
            /// Where unset fields come from: `paper2002` or `neat_python`.
            #[serde(default)]
            pub preset: Preset,
            $( $(#[doc = $doc])*
               #[serde(default, skip_serializing_if = "Option::is_none")]
               pub $name: Option<$ty>, )*
        }

        impl Preset {
            pub fn params(self) -> NeatParams {
                match self {
                    Preset::Paper2002 => NeatParams { $( $name: $paper, )* },
                    Preset::NeatPython => NeatParams { $( $name: $np, )* },
                }
            }
        }

        impl NeatConfig {
            /// The preset with this config's overrides applied.
            pub fn resolve(&self) -> NeatParams {
                self.apply_to(self.preset.params())
            }

            /// `base` with this config's overrides applied (its preset unused).
            pub fn apply_to(&self, base: NeatParams) -> NeatParams {
                NeatParams { $( $name: self.$name.clone().unwrap_or(base.$name), )* }
            }

            /// This config with every field written out (for the resolved
            /// `config.toml` of a run).
            pub fn filled(&self) -> NeatConfig {
                let p = self.resolve();
                NeatConfig { preset: self.preset, $( $name: Some(p.$name), )* }
            }
        }
    };
}

neat_settings! {
    /// Genomes per generation (1000 for DPNV in the paper).
    pop_size: usize = (150, 150),
    /// c1 of the compatibility distance.
    compatibility_excess_coefficient: f64 = (1.0, 1.0),
    /// c2.
    compatibility_disjoint_coefficient: f64 = (1.0, 1.0),
    /// c3, on the mean weight difference of matching genes.
    compatibility_weight_coefficient: f64 = (0.4, 0.5),
    /// δt: a genome joins the first species whose representative is closer.
    compatibility_threshold: f64 = (3.0, 3.0),
    /// N (the gene count that normalises E and D) is 1 when both genomes
    /// have fewer genes than this.
    compatibility_small_genome: usize = (20, 0),
    /// Steer δt toward this many species (0: off).
    target_species: usize = (0, 0),
    /// δt changes by this much per generation when steering.
    compatibility_threshold_step: f64 = (0.3, 0.3),
    /// δt never drops below this.
    compatibility_threshold_min: f64 = (0.3, 0.3),
    /// A species whose best fitness has not improved for this many
    /// generations stops reproducing.
    max_stagnation: u64 = (15, 20),
    /// The best this many species are never stagnant.
    species_elitism: usize = (1, 2),
    /// Champions copied unchanged into the next generation, per species.
    elitism: usize = (1, 2),
    /// ...for species with at least this many members ("more than five").
    elitism_min_species_size: usize = (6, 1),
    /// Fraction of each species (best first) allowed to reproduce.
    survival_threshold: f64 = (0.2, 0.2),
    /// Parents a species keeps at least (neat-python: 2).
    survival_min_parents: usize = (1, 2),
    /// Offspring a reproducing species gets at least.
    min_species_size: usize = (0, 2),
    /// Offspring in proportion to the species' mean fitness above the
    /// population's worst (neat-python's adjusted fitness) instead of the
    /// plain mean (the paper's explicit fitness sharing).
    spawn_above_population_min: bool = (false, true),
    /// Offspring made by mutation alone, without crossover.
    mutate_only_prob: f64 = (0.25, 0.0),
    /// Crossover offspring that are not mutated afterwards.
    mate_only_prob: f64 = (0.2, 0.0),
    /// Crossover with the champion of another species.
    interspecies_mating_rate: f64 = (0.001, 0.0),
    /// A gene disabled in either parent is disabled in the child with this
    /// probability.
    disabled_gene_inherit_prob: f64 = (0.75, 0.75),
    /// Which genes `disabled_gene_inherit_prob` applies to.
    disabled_gene_rule: DisabledGenes = (DisabledGenes::EitherParent, DisabledGenes::EitherParent),
    /// Crossovers that average the weights of matching genes instead of
    /// picking one parent's (Stanley's `mate_multipoint_avg_prob`, 0.4 in
    /// his parameter files).
    crossover_average_prob: f64 = (0.0, 0.0),
    /// Which member of each species the next generation is compared with.
    species_representative: Representative = (Representative::Random, Representative::Random),
    node_add_prob: f64 = (0.03, 0.2),
    conn_add_prob: f64 = (0.05, 0.5),
    node_delete_prob: f64 = (0.0, 0.2),
    conn_delete_prob: f64 = (0.0, 0.5),
    /// Toggle one connection's enabled flag (paper scheme) / each
    /// connection's (neat-python scheme).
    enabled_mutate_rate: f64 = (0.0, 0.01),
    mutation_scheme: MutationScheme = (MutationScheme::Paper2002, MutationScheme::NeatPython),
    weight_mutate_rate: f64 = (0.8, 0.8),
    /// Paper scheme: every gene alike, or Stanley's severe and tail modes.
    weight_mutation: WeightMutation = (WeightMutation::PerGene, WeightMutation::PerGene),
    weight_replace_rate: f64 = (0.1, 0.1),
    weight_mutate_power: f64 = (2.5, 0.5),
    weight_perturbation: Perturbation = (Perturbation::Uniform, Perturbation::Gaussian),
    weight_init_stdev: f64 = (1.0, 1.0),
    /// The distribution of new weights: `gaussian` or `uniform`.
    weight_init_type: WeightInit = (WeightInit::Gaussian, WeightInit::Gaussian),
    weight_max_value: f64 = (8.0, 30.0),
    bias_init_stdev: f64 = (0.0, 1.0),
    bias_mutate_rate: f64 = (0.0, 0.7),
    bias_replace_rate: f64 = (0.0, 0.1),
    bias_mutate_power: f64 = (0.0, 0.5),
    bias_max_value: f64 = (30.0, 30.0),
    /// Activation of hidden and output nodes.
    activation_default: Activation = (Activation::SteepenedSigmoid, Activation::SteepenedSigmoid),
    /// Feed-forward networks only; `false` allows recurrent links (DPNV).
    feed_forward: bool = (true, true),
    /// A bias input node connected like the other inputs (the paper's).
    bias_input: bool = (true, false),
    /// Its constant value (1.0; Stanley's pole code feeds 0.5).
    bias_input_value: f32 = (1.0, 1.0),
    /// With `feed_forward = false`: the probability that a new link must
    /// close a loop (a recurrent link, self-loops included); otherwise it
    /// must not (Stanley's `recur_only_prob`, 0.2 in `p2nv.neat`).
    recurrent_link_prob: f64 = (0.2, 0.2),
    /// The champion offered for the task's success test each generation is
    /// the best genome of the best species not offered before (Stanley's
    /// double-pole code: "the champion of the best unchecked species"),
    /// instead of the generation's fittest genome.
    check_unchecked_species: bool = (false, false),
    /// Attempts to find an unconnected pair when adding a link.
    add_link_tries: usize = (20, 20),
}

impl NeatParams {
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |key: &'static str, message: &str| {
            Err(StrategyError::Config {
                key,
                message: message.into(),
            })
        };
        if self.pop_size < 2 {
            return bad("pop_size", "must be at least 2");
        }
        if let Err(m) = evonet_core::limits::check_population(self.pop_size) {
            return bad("pop_size", &m);
        }
        for (k, p) in [
            ("survival_threshold", self.survival_threshold),
            ("mutate_only_prob", self.mutate_only_prob),
            ("mate_only_prob", self.mate_only_prob),
            ("interspecies_mating_rate", self.interspecies_mating_rate),
            (
                "disabled_gene_inherit_prob",
                self.disabled_gene_inherit_prob,
            ),
            ("node_add_prob", self.node_add_prob),
            ("conn_add_prob", self.conn_add_prob),
            ("node_delete_prob", self.node_delete_prob),
            ("conn_delete_prob", self.conn_delete_prob),
            ("enabled_mutate_rate", self.enabled_mutate_rate),
            ("weight_mutate_rate", self.weight_mutate_rate),
            ("weight_replace_rate", self.weight_replace_rate),
            ("bias_mutate_rate", self.bias_mutate_rate),
            ("bias_replace_rate", self.bias_replace_rate),
            ("recurrent_link_prob", self.recurrent_link_prob),
            ("crossover_average_prob", self.crossover_average_prob),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(k, "must be a probability in [0, 1]");
            }
        }
        if self.survival_threshold == 0.0 {
            return bad("survival_threshold", "must be above 0");
        }
        for (k, v) in [
            (
                "compatibility_excess_coefficient",
                self.compatibility_excess_coefficient,
            ),
            (
                "compatibility_disjoint_coefficient",
                self.compatibility_disjoint_coefficient,
            ),
            (
                "compatibility_weight_coefficient",
                self.compatibility_weight_coefficient,
            ),
            ("compatibility_threshold", self.compatibility_threshold),
            (
                "compatibility_threshold_step",
                self.compatibility_threshold_step,
            ),
            (
                "compatibility_threshold_min",
                self.compatibility_threshold_min,
            ),
            ("weight_mutate_power", self.weight_mutate_power),
            ("weight_init_stdev", self.weight_init_stdev),
            ("bias_init_stdev", self.bias_init_stdev),
            ("bias_mutate_power", self.bias_mutate_power),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(k, "must be a finite number ≥ 0");
            }
        }
        for (k, v) in [
            ("weight_max_value", self.weight_max_value),
            ("bias_max_value", self.bias_max_value),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(k, "must be a finite number > 0");
            }
        }
        if self.compatibility_threshold == 0.0 {
            return bad("compatibility_threshold", "must be above 0");
        }
        if self.max_stagnation == 0 {
            return bad("max_stagnation", "must be at least 1");
        }
        if !self.bias_input_value.is_finite() {
            return bad("bias_input_value", "must be finite");
        }
        if self.survival_min_parents == 0 {
            return bad("survival_min_parents", "must be at least 1");
        }
        if self.add_link_tries == 0 {
            return bad("add_link_tries", "must be at least 1");
        }
        if self.min_species_size > self.pop_size {
            return bad("min_species_size", "must not exceed pop_size");
        }
        Ok(())
    }

    /// Settings that cannot change when a run is resumed under an edited
    /// config: the size and shape of what was already evolved.
    pub fn resume_conflict(&self, new: &NeatParams) -> Option<String> {
        if self.pop_size != new.pop_size {
            return Some(format!(
                "`pop_size` cannot change on resume (the run has {}, the config asks for {}); start a new run instead",
                self.pop_size, new.pop_size
            ));
        }
        if self.feed_forward != new.feed_forward {
            return Some("`feed_forward` cannot change on resume".into());
        }
        if self.bias_input != new.bias_input || self.bias_input_value != new.bias_input_value {
            return Some("`bias_input` and `bias_input_value` cannot change on resume".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_hold_the_published_values() {
        let p = Preset::Paper2002.params();
        assert_eq!(
            (
                p.pop_size,
                p.compatibility_excess_coefficient,
                p.compatibility_disjoint_coefficient,
                p.compatibility_weight_coefficient,
                p.compatibility_threshold
            ),
            (150, 1.0, 1.0, 0.4, 3.0)
        );
        assert_eq!((p.node_add_prob, p.conn_add_prob), (0.03, 0.05));
        assert_eq!((p.weight_mutate_rate, p.weight_replace_rate), (0.8, 0.1));
        assert_eq!(
            (
                p.mutate_only_prob,
                p.interspecies_mating_rate,
                p.disabled_gene_inherit_prob
            ),
            (0.25, 0.001, 0.75)
        );
        assert_eq!((p.max_stagnation, p.elitism_min_species_size), (15, 6));
        let n = Preset::NeatPython.params();
        assert_eq!((n.conn_add_prob, n.node_add_prob), (0.5, 0.2));
        assert_eq!((n.weight_mutate_power, n.max_stagnation), (0.5, 20));
        p.validate().unwrap();
        n.validate().unwrap();
    }

    #[test]
    fn overrides_win_and_filled_round_trips() {
        let c = NeatConfig {
            preset: Preset::Paper2002,
            pop_size: Some(1000),
            compatibility_weight_coefficient: Some(3.0),
            ..Default::default()
        };
        let p = c.resolve();
        assert_eq!(
            (p.pop_size, p.compatibility_weight_coefficient),
            (1000, 3.0)
        );
        assert_eq!(p.node_add_prob, 0.03);
        assert_eq!(c.filled().resolve(), p);
        let bad = NeatConfig {
            survival_threshold: Some(1.5),
            ..Default::default()
        };
        assert!(matches!(
            bad.resolve().validate(),
            Err(StrategyError::Config {
                key: "survival_threshold",
                ..
            })
        ));
    }
}
