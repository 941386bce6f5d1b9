//! What a worker evaluates: a [`Job`] per run, built by a [`JobFactory`]
//! from the run's published spec after [`admit`] checked it.

use std::marker::PhantomData;

use evonet_core::{Candidate, CandidateId, Cost, Outcome, Problem, Transport};
use evonet_runner::evaluate_one;

use crate::fingerprint::Fingerprint;
use crate::shared::{DecodedParts, SharedBytes};
use crate::wire::{self, RunSpec, Task, MAX_SPEC_BYTES, MAX_TASK_BYTES};

/// Evaluates the tasks of one run, one at a time, from any thread.
pub trait Job: Send + Sync {
    /// `shared`: the part of its batch the task names, if it names one. A
    /// genome that does not decode, a panic or a non-finite fitness is a
    /// failed evaluation.
    fn evaluate(&self, task: &Task, shared: Option<&SharedBytes>) -> Outcome;
}

/// A [`Job`] for a problem over genomes of type `G`.
pub struct ProblemJob<G: Transport, P> {
    problem: P,
    parts: DecodedParts<G::Shared>,
    _genome: PhantomData<fn() -> G>,
}

impl<G: Transport, P> ProblemJob<G, P> {
    pub fn new(problem: P) -> Self {
        Self {
            problem,
            parts: DecodedParts::default(),
            _genome: PhantomData,
        }
    }

    /// The task's genome: its own part joined with its shared part.
    fn genome(&self, t: &Task, shared: Option<&SharedBytes>) -> Result<G, String> {
        let own = wire::decode::<G::Own>(&t.genome, MAX_TASK_BYTES, "genome")?;
        let shared = match (t.shared, shared) {
            (None, _) => None,
            (Some(_), Some(part)) => Some(self.parts.get(part)?),
            (Some(i), None) => return Err(format!("shared part {i} of its batch is missing")),
        };
        G::join(own, shared)
    }
}

impl<G, P> Job for ProblemJob<G, P>
where
    G: Transport + Send + Sync,
    P: Problem<G> + Send + Sync,
{
    fn evaluate(&self, t: &Task, shared: Option<&SharedBytes>) -> Outcome {
        match self.genome(t, shared) {
            Ok(genome) => evaluate_one(
                &self.problem,
                &Candidate {
                    id: CandidateId(t.candidate),
                    origin: None,
                    genome,
                    request: t.request,
                },
            ),
            Err(reason) => Outcome::Failed {
                reason,
                cost: Cost::default(),
            },
        }
    }
}

/// Builds the job of a published run: parses its config, builds the
/// problem, and says what it built (the worker compares that with the
/// coordinator's fingerprint). An error is a refusal, shown to both sides.
pub trait JobFactory {
    fn prepare(
        &self,
        spec: &RunSpec,
        pool: &rayon::ThreadPool,
    ) -> Result<(Box<dyn Job>, Fingerprint), String>;
}

/// Checks a published spec and builds its job, or says why this worker
/// refuses the run: a payload over its bound, another evonet or protocol
/// version, a config this build cannot parse, or a problem that differs
/// from the one the coordinator built.
pub fn admit(
    id: &str,
    bytes: &[u8],
    version: &str,
    factory: &dyn JobFactory,
    pool: &rayon::ThreadPool,
) -> Result<Box<dyn Job>, String> {
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(format!(
            "its spec is {} bytes, over the {MAX_SPEC_BYTES}-byte bound",
            bytes.len()
        ));
    }
    let spec: RunSpec =
        serde_json::from_slice(bytes).map_err(|e| format!("malformed run spec: {e}"))?;
    if spec.protocol != wire::PROTOCOL_VERSION || spec.evonet_version != version {
        return Err(format!(
            "it was started by evonet {} (protocol {}), this worker is evonet {version} (protocol {}); run a worker of the coordinator's version",
            spec.evonet_version,
            spec.protocol,
            wire::PROTOCOL_VERSION
        ));
    }
    if spec.run_id != id {
        return Err(format!("its spec names run {}", spec.run_id));
    }
    let (job, fp) = factory.prepare(&spec, pool)?;
    if fp.hash() != spec.problem_hash {
        return Err(format!(
            "this worker builds a different problem from its config ({}); refusing rather than computing wrong numbers",
            fp.first_difference(&spec.problem)
                .unwrap_or_else(|| "hash differs".into())
        ));
    }
    Ok(job)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{spec, Echo, EchoFactory};
    use evonet_core::EvalRequest;

    fn spec_bytes(version: &str, problem: &str) -> Vec<u8> {
        serde_json::to_vec(&spec("r1", version, problem)).unwrap()
    }

    fn pool() -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
    }

    #[test]
    fn workers_refuse_other_versions_and_other_problems() {
        let p = pool();
        let cartpole = EchoFactory::new(0, "cartpole");
        let ok = admit(
            "r1",
            &spec_bytes("0.1.0", "cartpole"),
            "0.1.0",
            &cartpole,
            &p,
        );
        assert!(ok.is_ok());
        let refuse = |id: &str, bytes: &[u8], f: &EchoFactory| {
            admit(id, bytes, "0.1.0", f, &p).err().expect("refused")
        };
        let e = refuse("r1", &spec_bytes("0.2.0", "cartpole"), &cartpole);
        assert!(
            e.contains("evonet 0.2.0") && e.contains("this worker is evonet 0.1.0"),
            "{e}"
        );
        let e = refuse(
            "r1",
            &spec_bytes("0.1.0", "cartpole"),
            &EchoFactory::new(0, "acrobot"),
        );
        assert!(e.contains("`cartpole`") && e.contains("`acrobot`"), "{e}");
        let e = refuse("r2", &spec_bytes("0.1.0", "cartpole"), &cartpole);
        assert!(e.contains("names run r1"), "{e}");
        let e = refuse("r1", b"{not json", &cartpole);
        assert!(e.contains("malformed run spec"), "{e}");
        // A worker that cannot build the problem (a dataset it lacks).
        let broken = EchoFactory {
            broken: true,
            ..EchoFactory::new(0, "data/mnist: missing")
        };
        let e = refuse("r1", &spec_bytes("0.1.0", "cartpole"), &broken);
        assert!(e.contains("data/mnist: missing"), "{e}");
        let e = refuse("r1", &vec![b' '; MAX_SPEC_BYTES as usize + 1], &cartpole);
        assert!(e.contains("bound"), "{e}");
    }

    #[test]
    fn jobs_turn_bad_genomes_and_panics_into_failed_evaluations() {
        let job = ProblemJob::<f64, _>::new(Echo { delay_ms: 0 });
        let task = |candidate: u64, genome: Vec<u8>| Task {
            run: "r1".into(),
            session: 1,
            batch: 1,
            candidate,
            request: EvalRequest::new(candidate),
            shared: None,
            genome,
        };
        let enc = |x: f64| wire::encode(&x, 64, "genome").unwrap();
        assert_eq!(job.evaluate(&task(0, enc(2.5)), None).fitness(), 2.5);
        assert!(matches!(job.evaluate(&task(1, vec![1, 2]), None),
            Outcome::Failed { reason, .. } if reason.contains("malformed genome")));
        assert!(matches!(job.evaluate(&task(2, enc(13.0)), None),
            Outcome::Failed { reason, .. } if reason.contains("unlucky")));
        assert_eq!(job.evaluate(&task(3, enc(-1.0)), None).fitness(), -1.0);
    }
}
