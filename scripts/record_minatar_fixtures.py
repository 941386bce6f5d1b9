#!/usr/bin/env python3
"""Records MinAtar trajectories for evonet-envs' parity test.

Usage: record_minatar_fixtures.py OUT_DIR [GAME ...] [--episodes N]
       (scripts/record_minatar_fixtures.sh makes the venv with MinAtar 1.0.15)

Writes OUT_DIR/minatar-<game>.jsonl.gz for each game (default: every game
evonet implements natively), one JSON object per line:
- a header: {"type": "header", "env": game, "suite": "minatar",
  "minatar": version, "sticky_action_prob": 0.1, "difficulty_ramping": true,
  "state_shape": [...], "minimal_action_set": [...], "episodes": N};
- per episode, a new Environment seeded with reset_seed = 100 + episode,
  then reset: {"type": "reset", "episode", "reset_seed", "action_seed",
  "obs"}, where obs lists the [row, col, channel] of the true cells of
  env.state() (numpy argwhere, sorted);
- per step, with a drawn from numpy.random.default_rng(action_seed) =
  1100 + episode: {"type": "step", "episode", "t", "action",
  "effective_action", "obs", "reward", "terminated", "truncated": false}
  after r, term = env.act(a). Episodes end when terminated.
"""
import argparse
import gzip
import json
import os
from importlib.metadata import version

import numpy as np
from minatar import Environment

GAMES = ["asterix", "breakout", "freeway", "seaquest", "space_invaders"]


def cells(state):
    return sorted(np.argwhere(state).tolist())


def header(game, episodes, **extra):
    """The header line of a recording of `game`."""
    probe = Environment(game, sticky_action_prob=0.1, difficulty_ramping=True)
    return {"type": "header", "env": game, "suite": "minatar", "minatar": version("minatar"),
            "sticky_action_prob": 0.1, "difficulty_ramping": True,
            "state_shape": list(probe.state_shape()),
            "minimal_action_set": [int(a) for a in probe.minimal_action_set()],
            "episodes": episodes, **extra}


def play(put, game, ep, reset_seed, action_seed, choose):
    """One episode in a new Environment seeded with reset_seed; `choose(env,
    t)` gives each step's action. Writes the reset and step lines; returns
    the steps."""
    env = Environment(game, sticky_action_prob=0.1, difficulty_ramping=True)
    env.seed(reset_seed)
    env.reset()
    put({"type": "reset", "episode": ep, "reset_seed": reset_seed,
         "action_seed": action_seed, "obs": cells(env.state())})
    t, term = 0, False
    while not term:
        a = int(choose(env, t))
        r, term = env.act(a)
        put({"type": "step", "episode": ep, "t": t, "action": a,
             "effective_action": int(env.last_action), "obs": cells(env.state()),
             "reward": float(r), "terminated": bool(term), "truncated": False})
        t += 1
    return t


def record(game, episodes, out_dir):
    path = os.path.join(out_dir, f"minatar-{game}.jsonl.gz")
    with gzip.open(path, "wt") as f:
        def put(obj):
            f.write(json.dumps(obj) + "\n")
        put(header(game, episodes))
        for ep in range(episodes):
            actions = np.random.default_rng(1100 + ep)
            play(put, game, ep, 100 + ep, 1100 + ep, lambda env, t: actions.integers(6))
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("games", nargs="*", default=GAMES)
    ap.add_argument("--episodes", type=int, default=None,
                    help="episodes per game (default 20; Freeway, whose episodes "
                         "all last 2,501 steps, 5)")
    a = ap.parse_args()
    for g in a.games:
        n = a.episodes if a.episodes is not None else (5 if g == "freeway" else 20)
        print(record(g, n, a.out_dir))


if __name__ == "__main__":
    main()
