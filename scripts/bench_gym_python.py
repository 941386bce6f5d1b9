"""The plain Python loop the Gymnasium bridge is measured against
(crates/gym/benches/bridge.rs): gymnasium.make, a numpy 64-64 tanh MLP
policy, one step at a time. Prints env steps per second.

    python scripts/bench_gym_python.py ENV_ID STEPS
"""

import sys
import time

import gymnasium as gym
import numpy as np


def main():
    env_id, steps = sys.argv[1], int(sys.argv[2])
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    outputs = env.action_space.n if discrete else int(np.prod(env.action_space.shape))
    rng = np.random.default_rng(0)
    dims = [obs.size, 64, 64, outputs]
    layers = [(rng.uniform(-0.15, 0.15, (a, b)).astype(np.float32)) for a, b in zip(dims, dims[1:])]
    episode = 0
    start = time.perf_counter()
    for _ in range(steps):
        h = np.asarray(obs, dtype=np.float32).ravel()
        for i, w in enumerate(layers):
            h = h @ w
            if i + 1 < len(layers):
                h = np.tanh(h)
        action = int(np.argmax(h)) if discrete else np.tanh(h)
        obs, _r, terminated, truncated, _info = env.step(action)
        if terminated or truncated:
            episode += 1
            obs, _ = env.reset(seed=episode)
    print(steps / (time.perf_counter() - start))


if __name__ == "__main__":
    main()
