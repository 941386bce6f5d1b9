#!/usr/bin/env python3
"""The random-action score of an Atari game under evonet's Atari protocol.

The baseline beside a Deep GA run through the Gymnasium bridge
(docs/BENCHMARKS.md section 11): the same game, the same wrappers
(AtariPreprocessing: frame skip 4 with max-pooling, 84x84 grayscale, up to
30 no-ops at reset; sticky actions as given) and the same episode cutoff,
with a uniformly random action at every step. Each episode is reset with
its own seed (1..N), and the actions come from a NumPy generator seeded
with the same number, so the figure is reproducible.

    python scripts/atari_random.py --game ALE/Frostbite-v5 --episodes 30

Needs `pip install ale-py opencv-python-headless gymnasium`.
"""
import argparse
import statistics

import ale_py
import gymnasium as gym
import numpy as np


def episode(game, seed, max_steps, sticky):
    env = gym.make(game, frameskip=1, repeat_action_probability=sticky)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    total, steps = 0.0, 0
    while steps < max_steps:
        _, reward, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        total += float(reward)
        steps += 1
        if terminated or truncated:
            break
    env.close()
    return total, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--game", default="ALE/Frostbite-v5")
    ap.add_argument("--episodes", type=int, default=30)
    ap.add_argument("--max-steps", type=int, default=5000, help="agent steps (4 frames each)")
    ap.add_argument("--sticky", type=float, default=0.0, help="repeat_action_probability")
    a = ap.parse_args()
    gym.register_envs(ale_py)
    results = [episode(a.game, s, a.max_steps, a.sticky) for s in range(1, a.episodes + 1)]
    returns = [r for r, _ in results]
    steps = [n for _, n in results]
    print(f"{a.game}: random actions over {a.episodes} episodes (seeds 1-{a.episodes}): "
          f"mean {statistics.mean(returns):.1f}, sd {statistics.pstdev(returns):.1f}, "
          f"min {min(returns):.0f}, max {max(returns):.0f}; "
          f"mean episode {statistics.mean(steps):.0f} steps")


if __name__ == "__main__":
    main()
