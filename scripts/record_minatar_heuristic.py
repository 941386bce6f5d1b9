#!/usr/bin/env python3
"""Records MinAtar trajectories of scripted players that reach what random
play rarely does (Breakout's cleared wall, Seaquest's surfacing with divers,
Space Invaders' later waves, Asterix's difficulty ramp), in the format of
record_minatar_fixtures.py; the action of each step comes from the player
instead of default_rng(action_seed): a scripted player with a short look
ahead on a copy of the game, and a random action 5% of the time.

Usage: record_minatar_heuristic.py OUT_DIR [--episodes N]
Writes OUT_DIR/minatar-<game>-scripted.jsonl.gz (the parity test replays
every minatar-*.jsonl.gz).
"""
import argparse
import copy
import gzip
import json
import os
import numpy as np
from minatar import Environment

from record_minatar_fixtures import header, play

N, L, U, R, D, F = range(6)


def toward(a, b, less, more):
    return less if b < a else more if b > a else N


def breakout(g):
    dx = [-1, 1, 1, -1][g.ball_dir]
    return toward(g.pos, min(9, max(0, g.ball_x + dx)), L, R)


def seaquest(g):
    if g.sub_y > 0 and (g.diver_count >= 6 or g.oxygen < 40):
        return U
    if g.sub_y == 0 and g.diver_count == 0 and not g.divers:
        return N if g.surface else D
    for e in g.e_fish + g.e_subs:
        if e[1] == g.sub_y and g.shot_timer == 0:
            facing = e[0] > g.sub_x if g.sub_or else e[0] < g.sub_x
            return F if facing else (R if e[0] > g.sub_x else L)
    if g.divers:
        d = min(g.divers, key=lambda d: abs(d[0] - g.sub_x) + abs(d[1] - g.sub_y))
        if d[1] != g.sub_y:
            return toward(g.sub_y, d[1], U, D)
        return toward(g.sub_x, d[0], L, R)
    return D if g.sub_y < 4 else N


def space_invaders(g):
    cols = np.flatnonzero(g.alien_map.sum(axis=0))
    if g.shot_timer == 0 and g.alien_map[:, g.pos].any():
        return F
    if len(cols) == 0:
        return N
    target = cols[np.argmin(np.abs(cols - g.pos))]
    return toward(g.pos, target, L, R)


def asterix(g):
    for e in g.entities:
        if e is not None and e[1] == g.player_y and not e[3] and abs(e[0] - g.player_x) <= 2:
            return U if g.player_y > 1 else D
    golds = [e for e in g.entities if e is not None and e[3]]
    if golds:
        e = golds[0]
        if e[1] != g.player_y:
            return toward(g.player_y, e[1], U, D)
        return toward(g.player_x, e[0], L, R)
    return N


def freeway(g):
    return U


def lookahead(game, horizon=12):
    """The scripted player with a look ahead: each action of the minimal set
    is tried on a copy of the game, followed by the scripted player for
    `horizon` steps; the best (reward, minus 100 for an ended episode) wins,
    the scripted choice on a tie."""
    script = PLAYERS[game]

    def play(g, actions):
        best, best_score = script(g), None
        for a in [best] + [a for a in actions if a != best]:
            sim = copy.deepcopy(g)
            score, (r, term) = 0.0, sim.act(a)
            score += r
            for _ in range(horizon):
                if term:
                    break
                r, term = sim.act(script(sim))
                score += r
            score -= 100 * term
            if best_score is None or score > best_score:
                best, best_score = a, score
        return best
    return play


PLAYERS = {"asterix": asterix, "breakout": breakout, "freeway": freeway,
           "seaquest": seaquest, "space_invaders": space_invaders}


def record(game, episodes, out_dir):
    path = os.path.join(out_dir, f"minatar-{game}-scripted.jsonl.gz")
    player = lookahead(game)
    actions = Environment(game).minimal_action_set()
    steps = 0
    with gzip.open(path, "wt") as f:
        def put(obj):
            f.write(json.dumps(obj) + "\n")
        put(header(game, episodes, actions="scripted player, 5% random"))
        for ep in range(episodes):
            noise = np.random.default_rng(1300 + ep)

            def choose(env, t):
                if noise.random() < 0.05:
                    return noise.integers(6)
                return player(env.env, actions)
            steps += play(put, game, ep, 300 + ep, 1300 + ep, choose)
    return path, steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("games", nargs="*", default=sorted(PLAYERS))
    ap.add_argument("--episodes", type=int, default=5)
    a = ap.parse_args()
    for g in a.games:
        print(*record(g, a.episodes, a.out_dir))


if __name__ == "__main__":
    main()
