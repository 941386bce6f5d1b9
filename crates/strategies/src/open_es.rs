//! OpenAI Evolution Strategies (Salimans, Ho, Chen, Sidor & Sutskever 2017,
//! "Evolution Strategies as a Scalable Alternative to Reinforcement
//! Learning", arXiv 1703.03864), as in `openai/evolution-strategies-starter`:
//!
//! - mirrored sampling: each perturbation ε is evaluated at θ+σε and θ−σε,
//!   both on the same episodes (common random numbers);
//! - ε are slices of a shared noise table, addressed by a seed;
//! - centred-rank fitness shaping over all 2n returns;
//! - gradient g = Σᵢ (r⁺ᵢ − r⁻ᵢ)·εᵢ / 2n, applied by Adam to the loss
//!   −g + l2·θ;
//! - observation normalisation with running statistics collected on a
//!   fraction `obs_stats_prob` of the rollouts, merged in candidate order.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use evonet_core::candidate::{best_finite, mean_fitness, score, Scored};
use evonet_core::genome::ObsNorm;
use evonet_core::shaping::centered_ranks;
use evonet_core::{
    derive_seed, Candidate, CandidateId, Champion, EvalRequest, Evaluated, NoiseTable, Outcome,
    Perturbation, Perturbed, PolicyParams, Purpose, RunningStats, SeededRng, Strategy,
    StrategyError, TellReport,
};

use crate::adam::Adam;
use crate::ParamSpace;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenEsConfig {
    /// Candidates per generation (even: pairs of mirrored perturbations).
    pub population: usize,
    /// Noise standard deviation σ.
    pub sigma: f32,
    /// Adam step size.
    pub learning_rate: f32,
    /// L2 coefficient (weight decay) `l2coeff`.
    #[serde(default = "default_l2")]
    pub l2_coeff: f32,
    /// Whether policies normalise observations with running statistics.
    #[serde(default = "default_true")]
    pub obs_norm: bool,
    /// Fraction of rollouts whose observations update the statistics
    /// (`calc_obstat_prob`).
    #[serde(default = "default_obs_prob")]
    pub obs_stats_prob: f64,
}

fn default_l2() -> f32 {
    0.005
}
fn default_true() -> bool {
    true
}
fn default_obs_prob() -> f64 {
    0.01
}

impl OpenEsConfig {
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |key, message: &str| {
            Err(StrategyError::Config {
                key,
                message: message.into(),
            })
        };
        if let Err(m) = evonet_core::limits::check_population(self.population) {
            return bad("population", &m);
        }
        if self.population < 2 || !self.population.is_multiple_of(2) {
            return bad(
                "population",
                "must be an even number of at least 2 (mirrored pairs)",
            );
        }
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return bad("sigma", "must be a positive number");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate", "must be a positive number");
        }
        if !(self.l2_coeff.is_finite() && self.l2_coeff >= 0.0) {
            return bad("l2_coeff", "must be zero or positive");
        }
        if !(0.0..=1.0).contains(&self.obs_stats_prob) {
            return bad("obs_stats_prob", "must be in [0, 1]");
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct OpenEs {
    cfg: OpenEsConfig,
    space: ParamSpace,
    noise: Arc<NoiseTable>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenEsState {
    pub seed: u64,
    pub generation: u64,
    pub next_id: u64,
    pub theta: Vec<f32>,
    pub adam: Adam,
    pub obs_stats: RunningStats,
    pub asked: Vec<CandidateId>,
    /// Noise seed of each mirrored pair asked this generation.
    pub noise_seeds: Vec<u64>,
}

impl OpenEs {
    pub fn new(
        cfg: OpenEsConfig,
        space: ParamSpace,
        noise: Arc<NoiseTable>,
    ) -> Result<Self, StrategyError> {
        cfg.validate()?;
        if noise.len() < space.init_scales.len() {
            return Err(StrategyError::Config {
                key: "noise_table_size",
                message: format!(
                    "must be at least the {} policy parameters",
                    space.init_scales.len()
                ),
            });
        }
        Ok(Self { cfg, space, noise })
    }

    fn obs_norm(&self, st: &OpenEsState) -> Option<ObsNorm> {
        self.cfg.obs_norm.then(|| ObsNorm {
            mean: st.obs_stats.mean(),
            std: st.obs_stats.std(),
        })
    }
}

impl Strategy for OpenEs {
    type Genome = Perturbed;
    type State = OpenEsState;

    fn name(&self) -> &'static str {
        "open_es"
    }

    fn init(&self, seed: u64) -> Result<OpenEsState, StrategyError> {
        let mut rng = SeededRng::for_stream(seed, 0, 0, Purpose::Init);
        let theta = self
            .space
            .init_scales
            .iter()
            .map(|s| s * rng.normal_f32())
            .collect::<Vec<_>>();
        let dim = theta.len();
        Ok(OpenEsState {
            seed,
            generation: 0,
            next_id: 0,
            theta,
            adam: Adam::new(dim),
            obs_stats: RunningStats::with_prior(self.space.obs_dim, 1e-2),
            asked: Vec::new(),
            noise_seeds: Vec::new(),
        })
    }

    /// Every candidate of a generation shares one centre (θ and the
    /// normaliser) and adds ±σ times its pair's slice of the noise table.
    fn ask(&self, st: &mut OpenEsState) -> Vec<Candidate<Perturbed>> {
        let pairs = self.cfg.population / 2;
        let centre = Arc::new(PolicyParams {
            params: st.theta.clone(),
            obs_norm: self.obs_norm(st),
        });
        st.asked.clear();
        st.noise_seeds.clear();
        let mut out = Vec::with_capacity(self.cfg.population);
        for i in 0..pairs as u64 {
            let nseed = derive_seed(st.seed, st.generation, i, Purpose::Sample);
            st.noise_seeds.push(nseed);
            let mut request =
                EvalRequest::new(derive_seed(st.seed, st.generation, i, Purpose::Evaluate));
            request.record_obs = self.cfg.obs_norm
                && SeededRng::for_stream(st.seed, st.generation, i, Purpose::ObsStats)
                    .bernoulli(self.cfg.obs_stats_prob);
            for sign in [1.0f32, -1.0] {
                let id = CandidateId(st.next_id);
                st.next_id += 1;
                st.asked.push(id);
                out.push(Candidate {
                    id,
                    origin: None,
                    genome: Perturbed {
                        centre: Arc::clone(&centre),
                        noise: Some(Perturbation {
                            seed: nseed,
                            scale: sign * self.cfg.sigma,
                        }),
                    },
                    request,
                });
            }
        }
        out
    }

    fn tell(
        &self,
        st: &mut OpenEsState,
        results: Vec<Evaluated<Perturbed>>,
    ) -> Result<TellReport, StrategyError> {
        let Scored {
            outcomes,
            fitness,
            failed,
        } = score(&st.asked, results);
        if failed as usize == outcomes.len() {
            // Nothing to learn from; move on without an update.
            st.generation += 1;
            return Ok(TellReport {
                species: Vec::new(),
                generation_done: true,
                best_fitness: f64::NAN,
                mean_fitness: f64::NAN,
                failed,
                stats: vec![],
            });
        }
        let ranks = centered_ranks(&fitness);
        let n = st.theta.len();
        let mut g = vec![0.0f64; n];
        for (i, &nseed) in st.noise_seeds.iter().enumerate() {
            let w = ranks[2 * i] - ranks[2 * i + 1];
            if w == 0.0 {
                continue;
            }
            let eps = self.noise.slice(self.noise.offset(nseed, n), n);
            for (gj, e) in g.iter_mut().zip(eps) {
                *gj += w * *e as f64;
            }
        }
        let denom = fitness.len() as f64;
        let loss_grad: Vec<f32> = g
            .iter()
            .zip(&st.theta)
            .map(|(gj, t)| (-gj / denom) as f32 + self.cfg.l2_coeff * t)
            .collect();
        let update_norm = st
            .adam
            .step(&mut st.theta, &loss_grad, self.cfg.learning_rate);
        for o in &outcomes {
            if let Outcome::Done(e) = o {
                if let Some(s) = &e.obs_stats {
                    if s.dim() == st.obs_stats.dim() {
                        st.obs_stats.merge(s);
                    }
                }
            }
        }
        st.generation += 1;
        let best = best_finite(&fitness);
        let theta_norm = st.theta.iter().map(|t| t * t).sum::<f32>().sqrt();
        Ok(TellReport {
            species: Vec::new(),
            generation_done: true,
            best_fitness: best,
            mean_fitness: mean_fitness(&outcomes),
            failed,
            stats: vec![
                ("update_norm".into(), update_norm as f64),
                ("theta_norm".into(), theta_norm as f64),
                ("obs_count".into(), st.obs_stats.count),
            ],
        })
    }

    fn generation(&self, st: &OpenEsState) -> u64 {
        st.generation
    }

    /// The centre θ with the current normalisation: the policy ES improves.
    fn champion(&self, st: &OpenEsState) -> Option<Champion<Perturbed>> {
        Some(Champion {
            genome: Perturbed {
                centre: Arc::new(PolicyParams {
                    params: st.theta.clone(),
                    obs_norm: self.obs_norm(st),
                }),
                noise: None,
            },
            fitness: f64::NAN,
        })
    }
}
