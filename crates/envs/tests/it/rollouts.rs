use evonet_envs::{Action, ActionSpace, Env, EnvId};

/// Every environment runs to truncation or termination from any seed under a
/// fixed action, with finite observations, and the time limit holds.
#[test]
fn every_env_respects_its_time_limit() {
    for id in EnvId::ALL {
        let mut env = id.make(Some(50));
        let mut obs = vec![0.0f32; env.spec().obs_dim];
        env.reset(3, &mut obs);
        let cont = vec![0.3f32; env.spec().action_space.policy_outputs()];
        let mut t = 0;
        loop {
            let a = match env.spec().action_space {
                ActionSpace::Discrete(_) => Action::Discrete(0),
                ActionSpace::Box { .. } => Action::Continuous(&cont),
            };
            let st = env.step(a, &mut obs);
            t += 1;
            assert!(
                obs.iter().all(|o| o.is_finite()),
                "{}: non-finite observation",
                id.name()
            );
            if st.terminated || st.truncated {
                assert!(t <= 50, "{}: ran past the limit", id.name());
                if st.truncated {
                    assert_eq!(t, 50, "{}: truncated early", id.name());
                }
                break;
            }
        }
    }
}

#[test]
fn resets_are_seeded() {
    for id in [
        EnvId::CartPole,
        EnvId::Acrobot,
        EnvId::MountainCar,
        EnvId::Pendulum,
    ] {
        let mut env = id.make(None);
        let (mut a, mut b, mut c) = (
            vec![0.0f32; env.spec().obs_dim],
            vec![0.0; env.spec().obs_dim],
            vec![0.0; env.spec().obs_dim],
        );
        env.reset(1, &mut a);
        env.reset(1, &mut b);
        env.reset(2, &mut c);
        assert_eq!(a, b, "{}", id.name());
        assert_ne!(a, c, "{}", id.name());
    }
}
