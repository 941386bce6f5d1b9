//! Task semantics: evaluation seeds, success tests, seed-chain decoding.

use std::sync::Arc;

use evonet_core::genome::ObsNorm;
use evonet_core::{
    EvalRequest, NoiseTable, Perturbation, Perturbed, PolicyParams, Problem, SeedChain,
    SeedMutation,
};
use evonet_envs::{Env, EnvId};
use evonet_nn::Activation;
use evonet_problems::rollout::RolloutEnv;
use evonet_problems::{PolicySpec, RlProblem, Task, TaskKind};

fn problem(env: EnvId, hidden: Vec<usize>, episodes: u32) -> RlProblem {
    let e = env.make(None);
    let spec = PolicySpec::new(
        e.spec().obs_dim,
        &e.spec().action_space,
        hidden,
        Activation::Tanh,
        false,
    );
    let task = Task {
        kind: TaskKind::for_env(&env.into()),
        test_episodes: 10,
        success_threshold: e.spec().reward_threshold,
    };
    RlProblem::new(
        RolloutEnv {
            env: env.into(),
            max_steps: None,
            start_angle: None,
            minatar: Default::default(),
        },
        spec,
        episodes,
        task,
    )
}

#[test]
fn evaluations_are_pure_functions_of_genome_and_seed() {
    let p = problem(EnvId::CartPole, vec![8], 4);
    let g = PolicyParams {
        params: (0..p.policy_spec().mlp.n_params())
            .map(|i| (i as f32 * 0.37).sin())
            .collect(),
        obs_norm: None,
    };
    let a = p.evaluate(&g, &EvalRequest::new(5)).unwrap();
    let b = p.evaluate(&g, &EvalRequest::new(5)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.cost.episodes, 4);
    let mut more = EvalRequest::new(5);
    more.episodes = 9;
    assert_eq!(p.evaluate(&g, &more).unwrap().cost.episodes, 9);
    let mut obs = EvalRequest::new(5);
    obs.record_obs = true;
    let e = p.evaluate(&g, &obs).unwrap();
    assert_eq!(e.obs_stats.unwrap().count as u64, e.cost.env_steps);
}

#[test]
fn a_zero_policy_fails_cartpole_and_the_test_says_so() {
    let p = problem(EnvId::CartPole, vec![], 1);
    let g = PolicyParams {
        params: vec![0.0; p.policy_spec().mlp.n_params()],
        obs_norm: None,
    };
    let t = p.test(&g, 1).unwrap();
    assert!(
        !t.solved && t.score < 100.0,
        "always pushing left cannot balance: {t:?}"
    );
}

#[test]
fn seed_chains_decode_to_the_params_they_describe() {
    let p = problem(EnvId::CartPole, vec![8], 2);
    let table = Arc::new(NoiseTable::new(1 << 16, 3));
    let p = p.with_noise_table(Arc::clone(&table), 8);
    let chain = SeedChain::new(11).child(SeedMutation {
        seed: 5,
        sigma: 0.1,
    });
    let theta = p.decode_chain(&chain).unwrap();
    let as_params = PolicyParams {
        params: theta.to_vec(),
        obs_norm: None,
    };
    let req = EvalRequest::new(77);
    assert_eq!(
        p.evaluate(&chain, &req).unwrap(),
        p.evaluate(&as_params, &req).unwrap()
    );
    // Biases start at zero (their init scale is 0) until mutated.
    let root = p.decode_chain(&SeedChain::new(11)).unwrap();
    let n = p.policy_spec().mlp.n_params();
    assert_eq!(root.len(), n);
    assert!(root[4 * 8..4 * 8 + 8].iter().all(|b| *b == 0.0));
}

#[test]
fn double_pole_tests_follow_the_papers() {
    // An all-zero controller lets the poles fall: DPV not solved.
    let dpv = problem(EnvId::DoublePole, vec![], 1);
    let zero = PolicyParams {
        params: vec![0.0; dpv.policy_spec().mlp.n_params()],
        obs_norm: None,
    };
    let t = dpv.test(&zero, 0).unwrap();
    assert!(!t.solved && t.score < 200.0);
    // DPNV: Gruau fitness of a falling controller is 0.1 * t / 1000.
    let dpnv = problem(EnvId::DoublePoleNoVelocities, vec![], 1);
    let zero = PolicyParams {
        params: vec![0.0; dpnv.policy_spec().mlp.n_params()],
        obs_norm: None,
    };
    let e = dpnv.evaluate(&zero, &EvalRequest::new(0)).unwrap();
    assert!(
        (e.fitness - 0.1 * e.cost.env_steps as f64 / 1000.0).abs() < 1e-12
            || e.cost.env_steps > 100
    );
    let t = dpnv.test(&zero, 0).unwrap();
    assert!(!t.solved);
    assert!(t
        .details
        .iter()
        .any(|(k, v)| k == "balanced_100k" && *v == 0.0));
}

/// An OpenAI-ES candidate is evaluated as the parameters it stands for,
/// with its centre's normaliser; a centre made for another network is a
/// bad genome, not a panic.
#[test]
fn perturbed_centres_evaluate_as_their_parameters() {
    let p = problem(EnvId::CartPole, vec![8], 2);
    let table = Arc::new(NoiseTable::new(1 << 16, 3));
    let p = p.with_noise_table(Arc::clone(&table), 1);
    let n = p.policy_spec().mlp.n_params();
    let centre = Arc::new(PolicyParams {
        params: (0..n).map(|i| (i as f32 * 0.37).sin()).collect(),
        obs_norm: Some(ObsNorm {
            mean: vec![0.1; 4],
            std: vec![2.0; 4],
        }),
    });
    let g = Perturbed {
        centre: Arc::clone(&centre),
        noise: Some(Perturbation {
            seed: 9,
            scale: -0.05,
        }),
    };
    let eps = table.perturbation(9, n);
    let as_params = PolicyParams {
        params: centre
            .params
            .iter()
            .zip(eps)
            .map(|(t, e)| t + -0.05 * e)
            .collect(),
        obs_norm: centre.obs_norm.clone(),
    };
    let req = EvalRequest::new(5);
    assert_eq!(
        p.evaluate(&g, &req).unwrap(),
        p.evaluate(&as_params, &req).unwrap()
    );
    let centre_only = Perturbed {
        centre: Arc::clone(&centre),
        noise: None,
    };
    assert_eq!(p.decode_perturbed(&centre_only).unwrap(), centre.params);
    let wrong = Perturbed {
        centre: Arc::new(PolicyParams {
            params: vec![0.0; n + 1],
            obs_norm: None,
        }),
        noise: None,
    };
    let e = p.evaluate(&wrong, &req).unwrap_err().to_string();
    assert!(e.contains("the policy"), "{e}");
}
