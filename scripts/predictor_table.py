#!/usr/bin/env python3
"""Summarises scripts/nas_predictor_compare.sh: per kind of run (plain,
screened, measured), the mean and standard deviation over seeds of the
best validation accuracy after 100, 200 and all trained candidates, the
candidates needed to reach the plain runs' mean final best, the search's
wall time, and the predictor's final Kendall tau and Spearman rho over
every candidate it rated (`predictor_kendall_all`, `_spearman_all`).

Usage: scripts/predictor_table.py OUT   (the folder of the runs)
"""
import json
import statistics
import sys
from pathlib import Path


def load(run):
    cands, gens = [], []
    for line in open(run / "metrics.jsonl"):
        rec = json.loads(line)
        (cands if rec.get("kind") == "candidate" else gens).append(rec)
    return cands, gens


def best_so_far(cands):
    best, out = float("-inf"), []
    for c in cands:
        if c["fitness"] is not None:
            best = max(best, c["fitness"])
        out.append(best)
    return out


def fmt(values, digits=4):
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def main():
    out = Path(sys.argv[1])
    kinds = {}
    for run in sorted(out.iterdir()):
        if run.is_dir() and (run / "metrics.jsonl").exists():
            kinds.setdefault(run.name.rsplit("-", 1)[0], []).append(load(run))
    plain_final = None
    if "plain" in kinds:
        plain_final = statistics.mean(best_so_far(c)[-1] for c, _ in kinds["plain"])
    print("| runs | seeds | best after 100 | best after 200 | best at the end | candidates to the plain mean | wall s | Kendall tau (all) | Spearman rho (all) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, runs in kinds.items():
        curves = [best_so_far(c) for c, _ in runs]
        at = lambda n: [c[min(n, len(c)) - 1] for c in curves]
        reach = []
        if plain_final is not None:
            for c in curves:
                hit = next((i + 1 for i, b in enumerate(c) if b >= plain_final - 1e-12), None)
                reach.append(hit if hit is not None else float("nan"))
        wall = [g[-1]["elapsed_s"] for _, g in runs]
        tau = [g[-1]["stats"].get("predictor_kendall_all") for _, g in runs]
        rho = [g[-1]["stats"].get("predictor_spearman_all") for _, g in runs]
        tau = [t for t in tau if t is not None]
        rho = [r for r in rho if r is not None]
        reached = [r for r in reach if r == r]
        reach_text = f"{statistics.median(reached):.0f} (median, {len(reached)}/{len(reach)} reached)" if reached else "-"
        print(f"| {kind} | {len(runs)} | {fmt(at(100))} | {fmt(at(200))} | {fmt([c[-1] for c in curves])} | {reach_text} | {fmt(wall, 1)} | {fmt(tau, 3)} | {fmt(rho, 3)} |")


if __name__ == "__main__":
    main()
