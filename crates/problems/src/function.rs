//! A fitness function over a flat parameter vector: black-box optimisation
//! with the same strategies that evolve policies (CMA-ES, OpenAI-ES, Deep
//! GA, random search), and the way a Rust user brings a problem of their own
//! as a closure.
//!
//! Fitness is maximised, as everywhere in evonet: a function to minimise
//! (Rastrigin, a loss) is returned negated. The built-in benchmark
//! functions are [`rastrigin`] and [`sphere`], already negated.

use std::sync::Arc;

use evonet_core::{
    Cost, EvalError, EvalRequest, Evaluation, NoiseTable, Perturbed, PolicyParams, Problem,
    SeedChain, TestReport,
};

use crate::decode::{check_centre, SeedChainDecoder};

/// The closure type of a [`FunctionProblem`].
pub type Fitness = dyn Fn(&[f32]) -> f64 + Send + Sync;

/// A problem whose fitness is a function of the parameter vector alone
/// (deterministic: the evaluation seed is not used).
///
/// ```
/// use evonet_core::{EvalRequest, PolicyParams, Problem};
/// use evonet_problems::FunctionProblem;
/// let p = FunctionProblem::new("sum", 3, 1.0, |x| x.iter().map(|&v| v as f64).sum());
/// let g = PolicyParams { params: vec![1.0, 2.0, 3.0], obs_norm: None };
/// assert_eq!(p.evaluate(&g, &EvalRequest::new(0)).unwrap().fitness, 6.0);
/// ```
#[derive(Clone)]
pub struct FunctionProblem {
    name: String,
    dim: usize,
    init_scale: f32,
    target: Option<f64>,
    fitness: Arc<Fitness>,
    decoder: Option<Arc<SeedChainDecoder>>,
}

impl std::fmt::Debug for FunctionProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FunctionProblem({:?}, dim {}, init scale {}, target {:?})",
            self.name, self.dim, self.init_scale, self.target
        )
    }
}

impl FunctionProblem {
    /// `name` identifies the function (in fingerprints and champion files);
    /// `dim` parameters start around 0 with spread `init_scale` (the scale
    /// of Deep GA's initial vectors and of ES/CMA-ES's search).
    pub fn new(
        name: &str,
        dim: usize,
        init_scale: f32,
        fitness: impl Fn(&[f32]) -> f64 + Send + Sync + 'static,
    ) -> Self {
        Self::from_arc(name, dim, init_scale, Arc::new(fitness))
    }

    /// As [`FunctionProblem::new`], sharing an existing closure.
    pub fn from_arc(name: &str, dim: usize, init_scale: f32, fitness: Arc<Fitness>) -> Self {
        Self {
            name: name.to_string(),
            dim,
            init_scale,
            target: None,
            fitness,
            decoder: None,
        }
    }

    /// A fitness at or above `target` counts as solved.
    pub fn with_target(mut self, target: Option<f64>) -> Self {
        self.target = target;
        self
    }

    /// Enables the genomes read from the shared noise table: seed chains
    /// (Deep GA, random search; `cache` decoded parents are kept) and
    /// OpenAI-ES's perturbed centres.
    pub fn with_noise_table(mut self, table: Arc<NoiseTable>, cache: usize) -> Self {
        let scales = self.init_scales();
        self.decoder = Some(Arc::new(SeedChainDecoder::new(table, scales, cache)));
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn target(&self) -> Option<f64> {
        self.target
    }

    /// Per-parameter scale of a fresh vector.
    pub fn init_scales(&self) -> Vec<f32> {
        vec![self.init_scale; self.dim]
    }

    /// What this problem computes, one fact per line (distributed workers
    /// check that they built the same).
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!("function {self:?}")];
        if let Some(d) = &self.decoder {
            let t = d.table();
            lines.push(format!("noise {:?} probe {:016x}", t, t.probe()));
        }
        lines
    }

    /// Decodes a seed chain into its parameters.
    pub fn decode_chain(&self, chain: &SeedChain) -> Result<Arc<Vec<f32>>, EvalError> {
        self.decoder
            .as_ref()
            .map(|d| d.decode(chain))
            .ok_or_else(|| EvalError::BadGenome("seed chains need a noise table".into()))
    }

    /// An OpenAI-ES candidate's parameters: its centre plus its scaled noise.
    pub fn decode_perturbed(&self, g: &Perturbed) -> Result<Vec<f32>, EvalError> {
        let d = self.decoder.as_ref().ok_or_else(|| {
            EvalError::BadGenome("OpenAI-ES candidates need a noise table".into())
        })?;
        check_centre(g, d.table(), self.dim)?;
        let mut theta = Vec::new();
        g.params_into(d.table(), &mut theta);
        Ok(theta)
    }

    fn score(&self, x: &[f32]) -> Result<f64, EvalError> {
        if x.len() != self.dim {
            return Err(EvalError::BadGenome(format!(
                "{} parameters, the function `{}` takes {}",
                x.len(),
                self.name,
                self.dim
            )));
        }
        Ok((self.fitness)(x))
    }

    fn evaluation(&self, x: &[f32]) -> Result<Evaluation, EvalError> {
        let fitness = self.score(x)?;
        Ok(Evaluation {
            fitness,
            cost: Cost::default(),
            obs_stats: None,
            solved: self.target.is_some_and(|t| fitness >= t),
            details: Vec::new(),
            artifact: Vec::new(),
            behavior: None,
        })
    }

    fn report(&self, x: &[f32]) -> Result<TestReport, EvalError> {
        let score = self.score(x)?;
        Ok(TestReport {
            score,
            solved: self.target.is_some_and(|t| score >= t),
            env_steps: 0,
            details: Vec::new(),
        })
    }
}

impl Problem<PolicyParams> for FunctionProblem {
    fn evaluate(&self, g: &PolicyParams, _req: &EvalRequest) -> Result<Evaluation, EvalError> {
        self.evaluation(&g.params)
    }
    fn test(&self, g: &PolicyParams, _seed: u64) -> Result<TestReport, EvalError> {
        self.report(&g.params)
    }
}

impl Problem<Perturbed> for FunctionProblem {
    fn evaluate(&self, g: &Perturbed, _req: &EvalRequest) -> Result<Evaluation, EvalError> {
        self.evaluation(&self.decode_perturbed(g)?)
    }
    fn test(&self, g: &Perturbed, _seed: u64) -> Result<TestReport, EvalError> {
        self.report(&self.decode_perturbed(g)?)
    }
}

impl Problem<SeedChain> for FunctionProblem {
    fn evaluate(&self, g: &SeedChain, _req: &EvalRequest) -> Result<Evaluation, EvalError> {
        self.evaluation(&self.decode_chain(g)?)
    }
    fn test(&self, g: &SeedChain, _seed: u64) -> Result<TestReport, EvalError> {
        self.report(&self.decode_chain(g)?)
    }
}

/// Rastrigin's function, negated (maximum 0 at the origin; Rastrigin 1974,
/// in the form of Mühlenbein et al. 1991: `10 n + Σ xᵢ² − 10 cos 2π xᵢ`).
pub fn rastrigin(x: &[f32]) -> f64 {
    let sum: f64 = x
        .iter()
        .map(|&v| {
            let v = f64::from(v);
            v * v - 10.0 * (2.0 * std::f64::consts::PI * v).cos()
        })
        .sum();
    -(10.0 * x.len() as f64 + sum)
}

/// The sphere function, negated (maximum 0 at the origin).
pub fn sphere(x: &[f32]) -> f64 {
    -x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmarks_peak_at_the_origin() {
        assert_eq!(rastrigin(&[0.0; 5]), 0.0);
        assert_eq!(sphere(&[0.0; 5]), 0.0);
        assert!(rastrigin(&[1.0, 0.0]) < -0.9);
        assert_eq!(sphere(&[1.0, 2.0]), -5.0);
    }

    #[test]
    fn wrong_length_is_a_bad_genome_and_target_solves() {
        let p = FunctionProblem::new("sphere", 2, 1.0, sphere).with_target(Some(-1.0));
        let g = PolicyParams {
            params: vec![0.5, 0.5],
            obs_norm: None,
        };
        assert!(p.evaluate(&g, &EvalRequest::new(1)).unwrap().solved);
        let bad = PolicyParams {
            params: vec![0.5],
            obs_norm: None,
        };
        assert!(matches!(
            p.evaluate(&bad, &EvalRequest::new(1)),
            Err(EvalError::BadGenome(_))
        ));
    }

    #[test]
    fn seed_chains_decode_through_the_table() {
        let table = Arc::new(NoiseTable::new(4096, 7));
        let p = FunctionProblem::new("sphere", 8, 1.0, sphere).with_noise_table(table, 4);
        let chain = SeedChain::new(3);
        let e = Problem::<SeedChain>::evaluate(&p, &chain, &EvalRequest::new(0)).unwrap();
        let x = p.decode_chain(&chain).unwrap();
        assert_eq!(e.fitness, sphere(&x));
    }
}
