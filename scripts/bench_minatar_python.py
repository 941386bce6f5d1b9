#!/usr/bin/env python3
"""The Python MinAtar loop with a numpy DQN network: env steps per second
of MinAtar 1.0.15's Breakout (minimal action set, sticky actions 0.1) played
by MinAtar's DQN network (conv 16 3x3 valid, dense 128, ReLU, argmax) in
numpy, one frame at a time, random weights; a baseline of docs/BENCHMARKS.md
section 9. Run it in the venv of scripts/record_minatar_fixtures.sh.

Usage: bench_minatar_python.py [--steps 20000] [--reps 5]
Prints one JSON line.
"""
import argparse
import json
import statistics
import time

import numpy as np
from minatar import Environment


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    env = Environment("breakout", sticky_action_prob=0.1, difficulty_ramping=True)
    actions = env.minimal_action_set()
    c = env.state_shape()[2]
    rng = np.random.default_rng(0)
    conv = (rng.standard_normal((9 * c, 16)) / np.sqrt(9 * c)).astype(np.float32)
    dense = (rng.standard_normal((1024, 128)) / 32.0).astype(np.float32)
    out = (rng.standard_normal((128, len(actions))) / np.sqrt(128)).astype(np.float32)
    # im2col indices of the 8x8 output positions' 3x3 windows.
    ys, xs = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    win = [(ys + dy, xs + dx) for dy in range(3) for dx in range(3)]

    def act(frame):
        f = frame.astype(np.float32)
        cols = np.concatenate([f[wy, wx, :] for wy, wx in win], axis=-1).reshape(64, 9 * c)
        h = np.maximum(cols @ conv, 0).reshape(-1)
        h = np.maximum(h @ dense, 0)
        return actions[int(np.argmax(h @ out))]

    rates = []
    seed = 0
    for _ in range(a.reps):
        env.seed(seed)
        env.reset()
        t = time.perf_counter()
        for _ in range(a.steps):
            _, done = env.act(act(env.state()))
            if done:
                seed += 1
                env.seed(seed)
                env.reset()
        rates.append(a.steps / (time.perf_counter() - t))
    print(json.dumps({"python_minatar": "breakout", "numpy": np.__version__,
                      "steps_per_s": round(statistics.median(rates)),
                      "all": [round(r) for r in rates]}))


if __name__ == "__main__":
    main()
