#!/usr/bin/env python3
"""Writes the MinAtar table from the runs of scripts/minatar_table.sh.

Usage: minatar_table.py RUNS_DIR  (prints Markdown; also writes
RUNS_DIR/table.md and RUNS_DIR/table.json)

For each game and strategy: the champion's mean return over 100 fresh
episodes (mean ± standard deviation over seeds), the frames used (env steps
of evaluations, tests excluded) and the wall time of a run, from each run's
eval.json, metrics.jsonl and wall.json.
"""
import json
import os
import statistics
import sys

GAMES = ["breakout", "asterix", "freeway", "seaquest", "space-invaders"]
STRATEGIES = [("ga", "Deep GA"), ("random", "random search"), ("es", "OpenAI-ES")]


def last_metrics(run):
    last = None
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            if line.strip():
                last = json.loads(line)
    return last


def collect(root):
    rows = {}
    for name in sorted(os.listdir(root)):
        run = os.path.join(root, name)
        if not os.path.isfile(os.path.join(run, "eval.json")):
            continue
        game, rest = name.rsplit("-s", 1)[0], name.rsplit("-s", 1)[1]
        game, strategy = game.rsplit("-", 1)
        ev = json.load(open(os.path.join(run, "eval.json")))
        m = last_metrics(run)
        wall = json.load(open(os.path.join(run, "wall.json")))["wall_ms"] / 1000
        rows.setdefault((game, strategy), []).append(
            {"seed": int(rest), "return": ev["mean_return"], "frames": m["env_steps"],
             "wall_s": wall, "generations": m["generation"] + 1})
    return rows


def fmt(xs, digits=2):
    if len(xs) == 1:
        return f"{xs[0]:.{digits}f}"
    return f"{statistics.mean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}"


def main():
    root = sys.argv[1]
    rows = collect(root)
    out = ["| game | strategy | return (100 episodes) | seeds | frames per run | wall time per run |",
           "|---|---|---|---|---|---|"]
    for g in GAMES:
        for s, label in STRATEGIES:
            r = rows.get((g, s))
            if not r:
                continue
            ret = [x["return"] for x in r]
            frames = statistics.mean(x["frames"] for x in r) / 1e6
            wall = statistics.mean(x["wall_s"] for x in r)
            out.append(f"| {g} | {label} | {fmt(ret)} | {len(r)} | {frames:.1f} M | {wall:.0f} s |")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(root, "table.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(root, "table.json"), "w") as f:
        json.dump({f"{g}/{s}": v for (g, s), v in rows.items()}, f, indent=1)


if __name__ == "__main__":
    main()
