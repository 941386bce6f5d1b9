#!/usr/bin/env python3
"""Record Gymnasium trajectories for evonet's environment parity test.

Usage:  python scripts/record_gym_fixtures.py [--out DIR] [--episodes N]
        (scripts/record_gym_fixtures.sh makes a venv with gymnasium first)

Writes one gzipped JSON-lines file per environment:
  {"type":"header","env":"CartPole-v1","gymnasium":"1.2.0","numpy":"...","episodes":N}
  {"type":"reset","episode":0,"obs":[...],"state":[...]}
  {"type":"step","episode":0,"t":0,"action":0 or [0.08],"obs":[...],"reward":1.0,
   "terminated":false,"truncated":false,"state":[...]}
`state` is Gymnasium's internal state (env.unwrapped.state) as float64.
Actions are random from a seeded action space, so episodes reach both
termination and truncation across the set.
"""
import argparse
import gzip
import json
import os

import gymnasium as gym
import numpy as np

ENVS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]


def fl(xs):
    return [float(x) for x in np.asarray(xs, dtype=np.float64).ravel()]


def biased_action(env_id, space, rng, t):
    """A uniformly random action."""
    if env_id == "MountainCar-v0":
        return int(rng.integers(0, 3))
    return space.sample()


def record(env_id, episodes, out_dir):
    env = gym.make(env_id)
    env.action_space.seed(1234)
    rng = np.random.default_rng(99)
    path = os.path.join(out_dir, f"{env_id}.jsonl.gz")
    with gzip.open(path, "wt") as f:
        header = {"type": "header", "env": env_id, "gymnasium": gym.__version__,
                  "numpy": np.__version__, "episodes": episodes}
        f.write(json.dumps(header) + "\n")
        for ep in range(episodes):
            obs, _ = env.reset(seed=1000 + ep)
            f.write(json.dumps({"type": "reset", "episode": ep, "obs": fl(obs),
                                "state": fl(env.unwrapped.state)}) + "\n")
            t = 0
            # For the mountain cars, pump: push with the velocity on some episodes.
            # Odd episodes use a simple controller so that the set covers both
            # termination and truncation: balance CartPole, pump the others.
            pump = ep % 2 == 1 and env_id != "Pendulum-v1"
            while True:
                if pump and env_id == "CartPole-v1":
                    s = env.unwrapped.state
                    action = 1 if s[2] + 0.5 * s[3] + 0.01 * s[0] + 0.1 * s[1] > 0 else 0
                elif pump and env_id == "Acrobot-v1":
                    action = 2 if float(env.unwrapped.state[3]) > 0 else 0
                elif pump:
                    v = float(env.unwrapped.state[1])
                    if env_id == "MountainCar-v0":
                        action = 2 if v >= 0 else 0
                    else:
                        noise = env.action_space.sample()
                        action = np.clip(np.array([1.0 if v >= 0 else -1.0], dtype=np.float32) * 0.9 + 0.1 * noise, -1, 1).astype(np.float32)
                else:
                    action = biased_action(env_id, env.action_space, rng, t)
                obs, reward, terminated, truncated, _ = env.step(action)
                act = int(action) if np.isscalar(action) or np.asarray(action).ndim == 0 else fl(action)
                f.write(json.dumps({"type": "step", "episode": ep, "t": t, "action": act,
                                    "obs": fl(obs), "reward": float(reward),
                                    "terminated": bool(terminated), "truncated": bool(truncated),
                                    "state": fl(env.unwrapped.state)}) + "\n")
                t += 1
                if terminated or truncated:
                    break
    return path


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "crates", "envs", "tests", "fixtures"))
    ap.add_argument("--episodes", type=int, default=6)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for e in ENVS:
        print(record(e, args.episodes, args.out))


if __name__ == "__main__":
    main()
