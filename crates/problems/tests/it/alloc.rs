//! The step loop never allocates: a rollout's allocation count does not grow
//! with the number of steps.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use evonet_core::PolicyParams;
use evonet_envs::{Env, EnvId};
use evonet_nn::Activation;
use evonet_problems::rollout::{rollout, RolloutEnv, Start};
use evonet_problems::{Policy, PolicySpec};

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

fn allocations_for(max_steps: u64, recurrent: bool) -> (usize, u64) {
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
        env: EnvId::Pendulum,
        max_steps: Some(max_steps),
        start_angle: None,
    };
    let starts = [Start::Seed(1), Start::Seed(2), Start::Seed(3)];
    let before = allocs();
    let eps = rollout(
        &renv,
        &spec,
        &Policy {
            params: &g.params,
            obs_norm: None,
        },
        &starts,
        None,
        false,
    )
    .unwrap();
    let after = allocs();
    (after - before, eps.iter().map(|e| e.steps).sum())
}

#[test]
fn rollouts_do_not_allocate_per_step() {
    for recurrent in [false, true] {
        let (short, s1) = allocations_for(10, recurrent);
        let (long, s2) = allocations_for(200, recurrent);
        assert_eq!((s1, s2), (30, 600));
        assert_eq!(
            short, long,
            "allocations grew with the number of steps (recurrent={recurrent})"
        );
    }
}
