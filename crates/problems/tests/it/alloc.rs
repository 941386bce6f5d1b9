//! The step loop never allocates: a rollout's allocation count does not grow
//! with the number of steps.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use evonet_core::PolicyParams;
use evonet_envs::{Env, EnvId};
use evonet_nn::{Activation, GraphEdge, GraphNet, GraphNode, GraphSpec, Mlp};
use evonet_problems::controller::{GraphController, MlpController};
use evonet_problems::rollout::{rollout, RolloutEnv, Start};
use evonet_problems::PolicySpec;

struct Counting;

thread_local! {
    // Per thread: tests of this binary run in parallel and allocate too.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn allocs() -> usize {
    ALLOCS.with(|c| c.get())
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_for(max_steps: u64, recurrent: bool, graph: bool) -> (usize, u64) {
    let env = EnvId::Pendulum.make(Some(max_steps));
    let spec = PolicySpec::new(
        env.spec().obs_dim,
        &env.spec().action_space,
        vec![16, 16],
        Activation::Tanh,
        recurrent,
    );
    let g = PolicyParams {
        params: vec![0.01; spec.mlp.n_params()],
        obs_norm: None,
    };
    let renv = RolloutEnv {
        env: EnvId::Pendulum.into(),
        max_steps: Some(max_steps),
        start_angle: None,
        minatar: Default::default(),
    };
    let starts = [Start::Seed(1), Start::Seed(2), Start::Seed(3)];
    // A small graph with a hidden node (and a self-loop when recurrent).
    let edge = |from, to, weight| GraphEdge { from, to, weight };
    let gspec = GraphSpec {
        inputs: 3,
        bias_input: Some(1.0),
        outputs: 1,
        nodes: vec![
            GraphNode {
                activation: Activation::SteepenedSigmoid,
                bias: 0.0,
            };
            2
        ],
        edges: vec![
            edge(0, 5, 0.3),
            edge(1, 5, -0.2),
            edge(3, 4, 0.1),
            edge(5, 4, 1.0),
            edge(5, if recurrent { 5 } else { 4 }, 0.5),
        ],
        recurrent,
    };
    let mut mlp_ctrl = MlpController::new(
        Mlp::new(&spec.mlp, &g.params).unwrap(),
        &spec.mlp,
        starts.len(),
    );
    let mut graph_ctrl = GraphController::new(
        GraphNet::new(&gspec).unwrap(),
        starts.len(),
        true,
        Activation::SteepenedSigmoid,
    );
    let before = allocs();
    let eps = if graph {
        rollout(
            &renv,
            &spec.head,
            None,
            &mut graph_ctrl,
            &starts,
            None,
            false,
        )
    } else {
        rollout(&renv, &spec.head, None, &mut mlp_ctrl, &starts, None, false)
    }
    .unwrap();
    let after = allocs();
    (after - before, eps.iter().map(|e| e.steps).sum())
}

#[test]
fn rollouts_do_not_allocate_per_step() {
    for graph in [false, true] {
        for recurrent in [false, true] {
            let (short, s1) = allocations_for(10, recurrent, graph);
            let (long, s2) = allocations_for(200, recurrent, graph);
            assert_eq!((s1, s2), (30, 600));
            assert_eq!(
                short, long,
                "allocations grew with the number of steps (graph={graph}, recurrent={recurrent})"
            );
        }
    }
}
