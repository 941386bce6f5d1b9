#!/usr/bin/env python3
"""The deceptive-maze table of docs/BENCHMARKS.md: runs each maze config
over seeds 1..N (default 20) with the release binary, then prints, per
config, the runs solved (a robot ending within 5 units of the goal within
the 250,000-evaluation budget), the mean and standard deviation of the
evaluations to solve over the solved runs, and the mean wall time.

Runs that already finished are kept, so the script can be stopped and
started again.

Usage: scripts/maze_table.py [--seeds N] [--out DIR] [CONFIG...]
       (default: the four configs/maze-*-neat-*.toml; EVONET=path/to/evonet)
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = [
    "configs/maze-medium-neat-novelty.toml",
    "configs/maze-medium-neat-fitness.toml",
    "configs/maze-hard-neat-novelty.toml",
    "configs/maze-hard-neat-fitness.toml",
]


def last_record(run):
    last = None
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("kind") is None:
                last = rec
    return last


def run_one(evonet, config, seed, run):
    done = os.path.join(run, "wall.json")
    if os.path.exists(done):
        with open(done) as f:
            return json.load(f)["wall_s"]
    start = time.monotonic()
    subprocess.run(
        [evonet, "run", config, "--seed", str(seed), "--out", run, "--force", "--quiet"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.monotonic() - start
    with open(done, "w") as f:
        json.dump({"format_version": 1, "wall_s": wall}, f)
    return wall


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "maze-table"))
    p.add_argument("configs", nargs="*", default=DEFAULT)
    a = p.parse_args()
    evonet = os.environ.get("EVONET", os.path.join(ROOT, "target", "release", "evonet"))
    os.makedirs(a.out, exist_ok=True)
    print("| config | solved | evaluations to solve, mean (sd) | median | wall s per run |")
    print("|---|---|---|---|---|")
    for config in a.configs:
        name = os.path.splitext(os.path.basename(config))[0]
        solved, walls = [], []
        for seed in range(1, a.seeds + 1):
            run = os.path.join(a.out, "%s-s%d" % (name, seed))
            walls.append(run_one(evonet, os.path.join(ROOT, config), seed, run))
            rec = last_record(run)
            if rec and rec["solved"]:
                solved.append(rec["solved_at_evaluations"])
        if solved:
            sd = statistics.stdev(solved) if len(solved) > 1 else 0.0
            evals = "%s (%s)" % (format(round(statistics.mean(solved)), ","), format(round(sd), ","))
            med = format(round(statistics.median(solved)), ",")
        else:
            evals, med = "-", "-"
        print(
            "| %s | %d/%d | %s | %s | %.1f |"
            % (name, len(solved), a.seeds, evals, med, statistics.mean(walls))
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
