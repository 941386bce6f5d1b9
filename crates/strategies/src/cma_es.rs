//! CMA-ES (Hansen & Ostermeier 2001; Hansen 2016, "The CMA Evolution
//! Strategy: A Tutorial", arXiv 1604.00772), with rank-μ and rank-one
//! updates and cumulative step-size adaptation, maximising fitness.
//!
//! `separable = true` gives sep-CMA-ES (Ros & Hansen 2008): a diagonal
//! covariance with learning rates scaled by (n+2)/3, linear in the number of
//! parameters, for networks too large for a full covariance.
//!
//! With `restarts > 0` it is IPOP-CMA-ES (Auger & Hansen 2005, "A Restart
//! CMA Evolution Strategy With Increasing Population Size"): a stalled search
//! restarts with σ₀ and twice the population.
//!
//! Igel (2003) used CMA-ES for double-pole balancing (papers.md section 9).

use serde::{Deserialize, Serialize};

use evonet_core::candidate::{best_finite, mean_fitness, score, Scored};
use evonet_core::shaping::argsort_desc;
use evonet_core::{
    derive_seed, Candidate, CandidateId, Champion, EvalRequest, Evaluated, PolicyParams, Purpose,
    SeededRng, Strategy, StrategyError, TellReport,
};

use crate::cma_linalg;
use crate::ParamSpace;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmaEsConfig {
    /// λ; 0 = the default 4 + ⌊3 ln n⌋.
    #[serde(default)]
    pub population: usize,
    /// Initial step size σ₀.
    pub sigma: f64,
    /// Diagonal covariance (sep-CMA-ES).
    #[serde(default)]
    pub separable: bool,
    /// Standard deviation of the initial mean around 0, as a multiple of each
    /// parameter's initialisation scale (0 = start at the origin).
    #[serde(default)]
    pub init_scale: f64,
    /// IPOP restarts (Auger & Hansen 2005): when the search stalls (flat
    /// fitness over 10 + ⌈30n/λ⌉ generations, or σ collapsed), start again
    /// from a new random mean with σ₀ and a doubled population, up to this
    /// many times. 0 = plain CMA-ES.
    #[serde(default)]
    pub restarts: u32,
    /// Largest dimension full-covariance CMA-ES accepts (its covariance is
    /// n×n and each decomposition O(n³)); sep-CMA-ES has no limit.
    #[serde(default = "default_max_dimension")]
    pub max_dimension: usize,
}

/// Default of [`CmaEsConfig::max_dimension`].
pub const DEFAULT_MAX_DIMENSION: usize = 5_000;

fn default_max_dimension() -> usize {
    DEFAULT_MAX_DIMENSION
}

impl CmaEsConfig {
    pub fn validate(&self) -> Result<(), StrategyError> {
        if !(self.sigma.is_finite() && self.sigma > 0.0) {
            return Err(StrategyError::Config {
                key: "sigma",
                message: "must be a positive number".into(),
            });
        }
        if self.population == 1 {
            return Err(StrategyError::Config {
                key: "population",
                message: "must be 0 (default) or at least 2".into(),
            });
        }
        if let Err(message) = evonet_core::limits::check_population(self.population) {
            return Err(StrategyError::Config {
                key: "population",
                message,
            });
        }
        if !(self.init_scale.is_finite() && self.init_scale >= 0.0) {
            return Err(StrategyError::Config {
                key: "init_scale",
                message: "must be zero or positive".into(),
            });
        }
        Ok(())
    }
}

/// Constants derived from n and λ (Hansen's tutorial, table 1).
#[derive(Debug, Clone)]
struct Params {
    n: usize,
    lambda: usize,
    mu: usize,
    weights: Vec<f64>,
    mueff: f64,
    cc: f64,
    cs: f64,
    c1: f64,
    cmu: f64,
    damps: f64,
    chi_n: f64,
}

impl Params {
    fn new(n: usize, lambda: usize, separable: bool) -> Self {
        let nf = n as f64;
        let mu = lambda / 2;
        let raw: Vec<f64> = (0..mu)
            .map(|i| (mu as f64 + 0.5).ln() - ((i + 1) as f64).ln())
            .collect();
        let sum: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / sum).collect();
        let mueff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let cc = (4.0 + mueff / nf) / (nf + 4.0 + 2.0 * mueff / nf);
        let cs = (mueff + 2.0) / (nf + mueff + 5.0);
        let mut c1 = 2.0 / ((nf + 1.3).powi(2) + mueff);
        let mut cmu =
            (1.0 - c1).min(2.0 * (mueff - 2.0 + 1.0 / mueff) / ((nf + 2.0).powi(2) + mueff));
        if separable {
            let f = (nf + 2.0) / 3.0;
            c1 = (c1 * f).min(1.0);
            cmu = (cmu * f).min(1.0 - c1);
        }
        let damps = 1.0 + 2.0 * (((mueff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + cs;
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        Self {
            n,
            lambda,
            mu,
            weights,
            mueff,
            cc,
            cs,
            c1,
            cmu,
            damps,
            chi_n,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CmaEs {
    cfg: CmaEsConfig,
    space: ParamSpace,
    n: usize,
    /// λ of the first run (doubled at each restart).
    base_lambda: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmaEsState {
    pub seed: u64,
    pub generation: u64,
    pub next_id: u64,
    pub mean: Vec<f64>,
    pub sigma: f64,
    /// Full covariance (row-major n×n), or its diagonal when separable.
    pub cov: Vec<f64>,
    /// Eigenvectors (columns, row-major n×n); empty when separable.
    pub basis: Vec<f64>,
    /// Square roots of the eigenvalues (axis lengths).
    pub axes: Vec<f64>,
    pub pc: Vec<f64>,
    pub ps: Vec<f64>,
    pub asked: Vec<CandidateId>,
    /// Sampled points of the generation in flight.
    pub points: Vec<Vec<f64>>,
    pub best: Option<(Vec<f32>, f64)>,
    /// Restarts so far (λ = base λ · 2^restarts).
    pub restarts: u32,
    /// Generations since the last (re)start.
    pub run_generations: u64,
    /// `run_generations` when `basis` and `axes` were last computed (the
    /// decomposition is lazy: every `1/((c1+cμ)·n·10)` generations).
    pub decomposed_at: u64,
    /// Best fitness of the recent generations of this run (stall test).
    pub recent_best: std::collections::VecDeque<f64>,
    /// Best fitness of this run and the generations since it improved.
    pub run_best: f64,
    pub since_improvement: u64,
}

impl CmaEs {
    pub fn new(cfg: CmaEsConfig, space: ParamSpace) -> Result<Self, StrategyError> {
        cfg.validate()?;
        let n = space.init_scales.len();
        if n == 0 {
            return Err(StrategyError::Config {
                key: "policy",
                message: "has no parameters".into(),
            });
        }
        if !cfg.separable && n > cfg.max_dimension {
            let mb = (n as f64).powi(2) * 8.0 * 2.0 / 1e6;
            return Err(StrategyError::Config {
                key: "separable",
                message: format!(
                    "the policy has {n} parameters, more than full-covariance CMA-ES's \
                     max_dimension ({}): its covariance and eigenvectors would take {mb:.0} MB \
                     and every decomposition O(n³); set separable = true (sep-CMA-ES, linear \
                     in n), use open_es or deep_ga, or raise max_dimension",
                    cfg.max_dimension
                ),
            });
        }
        let lambda = if cfg.population == 0 {
            4 + (3.0 * (n as f64).ln()).floor() as usize
        } else {
            cfg.population
        };
        Ok(Self {
            cfg,
            space,
            n,
            base_lambda: lambda,
        })
    }

    /// λ of the first run.
    pub fn lambda(&self) -> usize {
        self.base_lambda
    }

    fn params(&self, st: &CmaEsState) -> Params {
        Params::new(self.n, self.base_lambda << st.restarts, self.cfg.separable)
    }

    /// Generations of flat fitness after which a run counts as stalled.
    fn stall_window(&self, lambda: usize) -> usize {
        10 + (30 * self.n).div_ceil(lambda)
    }

    /// A fresh search: new mean, σ₀, identity covariance, zero paths.
    fn fresh_search(&self, st: &mut CmaEsState) {
        let n = self.n;
        let mut rng =
            SeededRng::for_stream(st.seed, st.generation, st.restarts as u64, Purpose::Init);
        st.mean = self
            .space
            .init_scales
            .iter()
            .map(|s| self.cfg.init_scale * *s as f64 * rng.normal())
            .collect();
        st.sigma = self.cfg.sigma;
        if self.cfg.separable {
            st.cov = vec![1.0; n];
            st.basis = Vec::new();
        } else {
            let mut c = vec![0.0; n * n];
            for i in 0..n {
                c[i * n + i] = 1.0;
            }
            st.cov = c.clone();
            st.basis = c;
        }
        st.axes = vec![1.0; n];
        st.pc = vec![0.0; n];
        st.ps = vec![0.0; n];
        st.run_generations = 0;
        st.decomposed_at = 0;
        st.recent_best.clear();
        st.run_best = f64::NEG_INFINITY;
        st.since_improvement = 0;
    }

    /// IPOP's stall tests (Hansen's TolFun, TolX, TolUpSigma and
    /// TolStagnation): flat best fitness over the window and a flat
    /// generation, a step size collapsed below 1e-12·σ₀ or grown above
    /// 1e12·σ₀, or no improvement of the run's best for 120 + ⌈30n/λ⌉
    /// generations.
    fn stalled(&self, st: &CmaEsState, gen_fitness: &[f64], lambda: usize) -> bool {
        let w = self.stall_window(lambda);
        let stagnant = st.since_improvement >= 120 + (30 * self.n).div_ceil(lambda) as u64;
        let spread = st.sigma * st.axes.iter().copied().fold(0.0, f64::max);
        // TolUpSigma: a step size that ran away (flat or diverging landscape).
        let runaway = spread > 1e12 * self.cfg.sigma;
        let tiny = stagnant || runaway || spread < 1e-12 * self.cfg.sigma;
        if st.recent_best.len() < w {
            return tiny;
        }
        let (lo, hi) = st
            .recent_best
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(*v), h.max(*v))
            });
        let finite: Vec<f64> = gen_fitness
            .iter()
            .copied()
            .filter(|f| f.is_finite())
            .collect();
        let (glo, ghi) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(*v), h.max(*v))
            });
        let flat = hi - lo <= 1e-12 * hi.abs().max(1.0) && ghi - glo <= 1e-12 * ghi.abs().max(1.0);
        flat || tiny
    }

    /// y = B·D·z (or D·z when separable) for each sample z.
    fn transform(&self, st: &CmaEsState, zs: &[Vec<f64>]) -> Vec<Vec<f64>> {
        if self.cfg.separable {
            return zs
                .iter()
                .map(|z| z.iter().zip(&st.axes).map(|(z, d)| z * d).collect())
                .collect();
        }
        cma_linalg::transform_all(&st.basis, &st.axes, zs)
    }

    /// C^{-1/2}·y.
    fn inv_sqrt(&self, st: &CmaEsState, y: &[f64]) -> Vec<f64> {
        if self.cfg.separable {
            return y.iter().zip(&st.axes).map(|(y, d)| y / d).collect();
        }
        cma_linalg::inv_sqrt(&st.basis, &st.axes, y)
    }

    /// B and D from C after `generations` of this run: every generation
    /// when separable (a diagonal), else when the lazy interval has passed.
    fn decompose(&self, st: &mut CmaEsState, p: &Params, generations: u64) {
        if self.cfg.separable {
            st.axes = st.cov.iter().map(|c| c.max(1e-300).sqrt()).collect();
            return;
        }
        let every = cma_linalg::decomposition_interval(p.c1, p.cmu, self.n);
        if generations < st.decomposed_at + every {
            return;
        }
        match cma_linalg::decompose(&mut st.cov, self.n) {
            Some((axes, basis)) => {
                st.axes = axes;
                st.basis = basis;
                st.decomposed_at = generations;
            }
            None => tracing::warn!(
                generation = st.generation,
                "the covariance did not decompose; sampling goes on with the last decomposition"
            ),
        }
    }
}

impl Strategy for CmaEs {
    type Genome = PolicyParams;
    type State = CmaEsState;

    fn name(&self) -> &'static str {
        if self.cfg.separable {
            "sep_cma_es"
        } else {
            "cma_es"
        }
    }

    fn init(&self, seed: u64) -> Result<CmaEsState, StrategyError> {
        let mut st = CmaEsState {
            seed,
            generation: 0,
            next_id: 0,
            mean: Vec::new(),
            sigma: self.cfg.sigma,
            cov: Vec::new(),
            basis: Vec::new(),
            axes: Vec::new(),
            pc: Vec::new(),
            ps: Vec::new(),
            asked: Vec::new(),
            points: Vec::new(),
            best: None,
            restarts: 0,
            run_generations: 0,
            decomposed_at: 0,
            recent_best: Default::default(),
            run_best: f64::NEG_INFINITY,
            since_improvement: 0,
        };
        self.fresh_search(&mut st);
        Ok(st)
    }

    fn ask(&self, st: &mut CmaEsState) -> Vec<Candidate<PolicyParams>> {
        st.asked.clear();
        st.points.clear();
        let lambda = self.params(st).lambda;
        let mut out = Vec::with_capacity(lambda);
        let zs: Vec<Vec<f64>> = (0..lambda as u64)
            .map(|k| {
                let mut rng = SeededRng::for_stream(st.seed, st.generation, k, Purpose::Sample);
                (0..self.n).map(|_| rng.normal()).collect()
            })
            .collect();
        let ys = self.transform(st, &zs);
        for (k, y) in (0..lambda as u64).zip(ys) {
            let x: Vec<f64> = st
                .mean
                .iter()
                .zip(&y)
                .map(|(m, y)| m + st.sigma * y)
                .collect();
            let id = CandidateId(st.next_id);
            st.next_id += 1;
            st.asked.push(id);
            let request =
                EvalRequest::new(derive_seed(st.seed, st.generation, k, Purpose::Evaluate));
            out.push(Candidate {
                id,
                origin: None,
                genome: PolicyParams {
                    params: x.iter().map(|v| *v as f32).collect(),
                    obs_norm: None,
                },
                request,
            });
            st.points.push(x);
        }
        out
    }

    fn tell(
        &self,
        st: &mut CmaEsState,
        results: Vec<Evaluated<PolicyParams>>,
    ) -> Result<TellReport, StrategyError> {
        let Scored {
            outcomes,
            fitness,
            failed,
        } = score(&st.asked, results);
        let order = argsort_desc(&fitness);
        let p = &self.params(st);
        let n = p.n;
        let top = order[0];
        if fitness[top].is_finite() && st.best.as_ref().is_none_or(|(_, f)| fitness[top] > *f) {
            st.best = Some((
                st.points[top].iter().map(|v| *v as f32).collect(),
                fitness[top],
            ));
        }
        if (failed as usize) < outcomes.len() {
            let old = st.mean.clone();
            let mut mean = vec![0.0; n];
            for (w, &i) in p.weights.iter().zip(&order) {
                for (m, x) in mean.iter_mut().zip(&st.points[i]) {
                    *m += w * x;
                }
            }
            let yw: Vec<f64> = mean
                .iter()
                .zip(&old)
                .map(|(m, o)| (m - o) / st.sigma)
                .collect();
            let cy = self.inv_sqrt(st, &yw);
            let csn = (p.cs * (2.0 - p.cs) * p.mueff).sqrt();
            for (ps, c) in st.ps.iter_mut().zip(&cy) {
                *ps = (1.0 - p.cs) * *ps + csn * c;
            }
            let ps_norm = st.ps.iter().map(|v| v * v).sum::<f64>().sqrt();
            let gen = (st.run_generations + 1).min(1 << 20) as i32;
            let hsig = ps_norm / (1.0 - (1.0 - p.cs).powi(2 * gen)).sqrt() / p.chi_n
                < 1.4 + 2.0 / (n as f64 + 1.0);
            let hs = if hsig { 1.0 } else { 0.0 };
            let ccn = (p.cc * (2.0 - p.cc) * p.mueff).sqrt();
            for (pc, y) in st.pc.iter_mut().zip(&yw) {
                *pc = (1.0 - p.cc) * *pc + hs * ccn * y;
            }
            let ys: Vec<Vec<f64>> = order[..p.mu]
                .iter()
                .map(|&i| {
                    st.points[i]
                        .iter()
                        .zip(&old)
                        .map(|(x, o)| (x - o) / st.sigma)
                        .collect()
                })
                .collect();
            let decay = 1.0 - p.c1 - p.cmu;
            let lost = (1.0 - hs) * p.cc * (2.0 - p.cc);
            if self.cfg.separable {
                for j in 0..n {
                    let rank_mu: f64 = p
                        .weights
                        .iter()
                        .zip(&ys)
                        .map(|(w, y)| w * y[j] * y[j])
                        .sum();
                    st.cov[j] = decay * st.cov[j]
                        + p.c1 * (st.pc[j] * st.pc[j] + lost * st.cov[j])
                        + p.cmu * rank_mu;
                }
            } else {
                let mut terms: Vec<(f64, &[f64])> = vec![(p.c1, &st.pc)];
                terms.extend(p.weights.iter().zip(&ys).map(|(w, y)| (p.cmu * w, &y[..])));
                cma_linalg::update_covariance(&mut st.cov, n, decay + p.c1 * lost, &terms);
            }
            st.sigma *= ((p.cs / p.damps) * (ps_norm / p.chi_n - 1.0)).exp();
            st.mean = mean;
            self.decompose(st, p, st.run_generations + 1);
        }
        st.generation += 1;
        st.run_generations += 1;
        let best = best_finite(&fitness);
        let window = self.stall_window(p.lambda);
        st.recent_best.push_back(if best.is_nan() {
            f64::NEG_INFINITY
        } else {
            best
        });
        while st.recent_best.len() > window {
            st.recent_best.pop_front();
        }
        if best > st.run_best {
            st.run_best = best;
            st.since_improvement = 0;
        } else {
            st.since_improvement += 1;
        }
        let sigma = st.sigma;
        let lambda = p.lambda;
        if st.restarts < self.cfg.restarts && self.stalled(st, &fitness, lambda) {
            st.restarts += 1;
            self.fresh_search(st);
        }
        Ok(TellReport {
            species: Vec::new(),
            generation_done: true,
            best_fitness: best,
            mean_fitness: mean_fitness(&outcomes),
            failed,
            stats: vec![
                ("sigma".into(), sigma),
                ("lambda".into(), lambda as f64),
                ("restarts".into(), st.restarts as f64),
            ],
        })
    }

    fn generation(&self, st: &CmaEsState) -> u64 {
        st.generation
    }

    /// The best candidate evaluated so far.
    fn champion(&self, st: &CmaEsState) -> Option<Champion<PolicyParams>> {
        st.best.as_ref().map(|(x, f)| Champion {
            genome: PolicyParams {
                params: x.clone(),
                obs_norm: None,
            },
            fitness: *f,
        })
    }
}
