"""The plain Python loops the Gymnasium bridge is measured against
(crates/gym/benches/bridge.rs): a numpy 64-64 tanh MLP policy over
`gymnasium.make` (one environment, one step at a time) or, with ENVS above
1, over `gymnasium.make_vec(..., vectorization_mode="sync")` (ENVS copies
stepped in turn by one process, the policy's forward pass batched over
them; episodes restart by the vector environment's autoreset). Prints env
steps per second.

    python scripts/bench_gym_python.py ENV_ID STEPS [ENVS]
"""

import sys
import time

import gymnasium as gym
import numpy as np


def network(inputs, outputs):
    rng = np.random.default_rng(0)
    dims = [inputs, 64, 64, outputs]
    return [(rng.uniform(-0.15, 0.15, (a, b)).astype(np.float32)) for a, b in zip(dims, dims[1:])]


def forward(layers, obs):
    h = np.asarray(obs, dtype=np.float32)
    for i, w in enumerate(layers):
        h = h @ w
        if i + 1 < len(layers):
            h = np.tanh(h)
    return h


def single(env_id, steps):
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    outputs = env.action_space.n if discrete else int(np.prod(env.action_space.shape))
    layers = network(obs.size, outputs)
    episode = 0
    start = time.perf_counter()
    for _ in range(steps):
        h = forward(layers, np.asarray(obs).ravel())
        action = int(np.argmax(h)) if discrete else np.tanh(h)
        obs, _r, terminated, truncated, _info = env.step(action)
        if terminated or truncated:
            episode += 1
            obs, _ = env.reset(seed=episode)
    return steps / (time.perf_counter() - start)


def vectorised(env_id, steps, envs):
    env = gym.make_vec(env_id, num_envs=envs, vectorization_mode="sync")
    obs, _ = env.reset(seed=0)
    space = env.single_action_space
    discrete = isinstance(space, gym.spaces.Discrete)
    outputs = space.n if discrete else int(np.prod(space.shape))
    layers = network(obs[0].size, outputs)
    rounds = max(1, steps // envs)
    start = time.perf_counter()
    for _ in range(rounds):
        h = forward(layers, obs.reshape(envs, -1))
        actions = np.argmax(h, axis=1) if discrete else np.tanh(h)
        obs, _r, _terminated, _truncated, _info = env.step(actions)
    return rounds * envs / (time.perf_counter() - start)


def main():
    env_id, steps = sys.argv[1], int(sys.argv[2])
    envs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    print(single(env_id, steps) if envs == 1 else vectorised(env_id, steps, envs))


if __name__ == "__main__":
    main()
