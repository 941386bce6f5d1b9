"""Hypervolume of architecture searches over (validation error, params).

For each run folder (an `evonet run` of an architecture search): the front
of every candidate it trained (metrics.jsonl) over validation error
(1 - fitness) and parameter count, and its hypervolume against the given
reference point as a fraction of the box from the origin to that point;
then a Markdown table per strategy (mean +- std over its runs) and per run.
Usage: python3 scripts/pareto_table.py --reference ERR PARAMS RUN...
"""
import argparse
import json
import pathlib
import statistics
import tomllib


def points(run):
    pts = []
    for line in (run / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r.get("kind") == "candidate" and r.get("fitness") is not None:
            pts.append((1.0 - r["fitness"], r["details"]["params"]))
    return pts


def front(pts):
    """The non-dominated points, by increasing error (decreasing params)."""
    stairs = []
    for err, params in sorted(pts):
        if not stairs or params < stairs[-1][1]:
            stairs.append((err, params))
    return stairs


def hypervolume(pts, ref):
    """Exact 2-D hypervolume dominated by `pts` up to `ref` (minimised)."""
    stairs = front([p for p in pts if p[0] < ref[0] and p[1] < ref[1]])
    volume = 0.0
    for i, (err, params) in enumerate(stairs):
        upper = stairs[i + 1][0] if i + 1 < len(stairs) else ref[0]
        volume += (upper - err) * (ref[1] - params)
    return volume


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", nargs=2, type=float, required=True)
    ap.add_argument("runs", nargs="+", type=pathlib.Path)
    a = ap.parse_args()
    box = a.reference[0] * a.reference[1]
    rows = []
    for run in a.runs:
        kind = tomllib.loads((run / "config.toml").read_text())["strategy"]["kind"]
        pts = points(run)
        hv = hypervolume(pts, a.reference) / box
        f = front(pts)
        rows.append((kind, run, len(pts), len(f), hv, 1.0 - f[0][0]))
    print(f"| strategy | runs | hypervolume (fraction of the box to {a.reference}), mean ± std | min | max |")
    print("|---|---|---|---|---|")
    for kind in sorted({r[0] for r in rows}):
        v = [r[4] for r in rows if r[0] == kind]
        sd = statistics.stdev(v) if len(v) > 1 else 0.0
        print(f"| {kind} | {len(v)} | {statistics.mean(v):.4f} ± {sd:.4f} | {min(v):.4f} | {max(v):.4f} |")
    print()
    print("| run | strategy | candidates | front | hypervolume | best validation accuracy |")
    print("|---|---|---|---|---|---|")
    for kind, run, n, f, hv, best in rows:
        print(f"| {run} | {kind} | {n} | {f} | {hv:.4f} | {best:.4f} |")


if __name__ == "__main__":
    main()
