#!/usr/bin/env python3
"""Python baseline for evonet's throughput benchmark (docs/BENCHMARKS.md).

Runs a 4-64-64-2 tanh MLP policy (numpy, float32, argmax) on gymnasium's
CartPole-v1, one env, the loop most Python neuroevolution code runs, and
prints the median env steps per second over repetitions.

    scripts/bench_python_baseline.sh      # makes a venv with gymnasium + numpy
"""
import argparse
import json
import time

import gymnasium as gym
import numpy as np


def mlp_policy(rng):
    sizes = [4, 64, 64, 2]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers.append(((rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32), np.zeros(b, np.float32)))
    def act(obs):
        h = obs.astype(np.float32)
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < len(layers) - 1:
                h = np.tanh(h)
        return int(np.argmax(h))
    return act


def run(steps):
    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(0)
    policy = mlp_policy(rng)
    obs, _ = env.reset(seed=0)
    t = time.perf_counter()
    ep = 0
    for _ in range(steps):
        obs, r, term, trunc, _ = env.step(policy(obs))
        if term or trunc:
            ep += 1
            policy = mlp_policy(rng)
            obs, _ = env.reset(seed=ep)
    return steps / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    rates = sorted(run(a.steps) for _ in range(a.reps))
    med = rates[len(rates) // 2]
    print(json.dumps({"benchmark": "gymnasium CartPole-v1 + numpy 4-64-64-2 MLP, 1 env, 1 process",
                      "median_steps_per_s": round(med), "all": [round(r) for r in rates]}))


if __name__ == "__main__":
    main()
