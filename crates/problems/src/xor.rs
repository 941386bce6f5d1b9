//! XOR (Stanley & Miikkulainen 2002, section 5.1): two inputs (plus NEAT's
//! bias input), one output. Fitness `(4 − Σ|out − target|)²` over the four
//! patterns, at most 16; solved when every output lies on the right side of
//! 0.5. The task is deterministic: the evaluation seed is unused.

use std::cell::RefCell;

use evonet_core::{Cost, EvalError, EvalRequest, Evaluation, Problem, TestReport};
use evonet_neat::NeatGenome;
use evonet_nn::{GraphSpec, GraphWorkspace};

pub const XOR_INPUTS: [[f32; 2]; 4] = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
pub const XOR_TARGETS: [f32; 4] = [0.0, 1.0, 1.0, 0.0];

#[derive(Debug, Clone, Copy, Default)]
pub struct XorProblem;

/// The four outputs of a network, each pattern from a fresh state (for a
/// recurrent network: activated until its depth is covered, at most 10
/// ticks, as Stanley's code does for XOR).
pub fn xor_outputs(spec: &GraphSpec) -> Result<[f32; 4], EvalError> {
    let mut w = GraphWorkspace::default();
    w.spec.clone_from(spec);
    outputs_in(&mut w)
}

/// [`xor_outputs`] of a genome, compiled in this thread's workspace: an XOR
/// evaluation takes a microsecond, and allocating the graph's buffers anew
/// each time cost a fifth of it.
pub fn xor_outputs_of(g: &NeatGenome) -> Result<[f32; 4], EvalError> {
    thread_local! {
        static WORKSPACE: RefCell<GraphWorkspace> = RefCell::default();
    }
    WORKSPACE.with_borrow_mut(|w| {
        g.write_graph(&mut w.spec)
            .map_err(|e| EvalError::BadGenome(e.to_string()))?;
        outputs_in(w)
    })
}

fn outputs_in(w: &mut GraphWorkspace) -> Result<[f32; 4], EvalError> {
    let spec = &w.spec;
    if spec.inputs != 2 || spec.outputs != 1 {
        return Err(EvalError::BadGenome(format!(
            "XOR needs 2 inputs and 1 output, the network has {} and {}",
            spec.inputs, spec.outputs
        )));
    }
    let ticks = if spec.recurrent { 10 } else { 1 };
    w.compile(4)
        .map_err(|e| EvalError::BadGenome(e.to_string()))?;
    let x: [f32; 8] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
    debug_assert!(x.chunks(2).zip(XOR_INPUTS).all(|(a, b)| a == b));
    let mut out = [0.0f32; 4];
    for _ in 0..ticks {
        w.net.forward(&x, 4, &mut w.state, &mut out);
    }
    if out.iter().any(|o| !o.is_finite()) {
        return Err(EvalError::NonFiniteFitness(f64::NAN));
    }
    Ok(out)
}

/// Fitness and whether all four patterns are classified right.
pub fn xor_score(out: &[f32; 4]) -> (f64, bool) {
    let err: f64 = out
        .iter()
        .zip(XOR_TARGETS)
        .map(|(o, t)| (*o as f64 - t as f64).abs())
        .sum();
    let solved = out
        .iter()
        .zip(XOR_TARGETS)
        .all(|(o, t)| (*o > 0.5) == (t > 0.5));
    ((4.0 - err).powi(2), solved)
}

impl Problem<NeatGenome> for XorProblem {
    fn evaluate(&self, g: &NeatGenome, _req: &EvalRequest) -> Result<Evaluation, EvalError> {
        let (fitness, solved) = xor_score(&xor_outputs_of(g)?);
        Ok(Evaluation {
            fitness,
            cost: Cost {
                env_steps: 4,
                episodes: 1,
            },
            obs_stats: None,
            details: Vec::new(),
            solved,
            artifact: Vec::new(),
            behavior: None,
        })
    }

    fn test(&self, g: &NeatGenome, _seed: u64) -> Result<TestReport, EvalError> {
        let out = xor_outputs_of(g)?;
        let (fitness, solved) = xor_score(&out);
        Ok(TestReport {
            score: fitness,
            solved,
            env_steps: 4,
            details: vec![
                ("hidden_nodes".into(), g.hidden_nodes() as f64),
                ("enabled_conns".into(), g.enabled_conns() as f64),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_wrong_outputs_score_as_in_the_paper() {
        assert_eq!(xor_score(&[0.0, 1.0, 1.0, 0.0]), (16.0, true));
        let (f, ok) = xor_score(&[0.5, 0.5, 0.5, 0.5]);
        assert_eq!((f, ok), (4.0, false));
        let (f, ok) = xor_score(&[0.4, 0.6, 0.6, 0.4]);
        assert!(ok && (f - 5.76).abs() < 1e-6);
    }
}
