#!/usr/bin/env python3
"""Summarises scripts/nas_halving_compare.sh: per run, the retrained best's
test accuracy, its search validation accuracy and epochs, the images the
search trained on (epochs x images, from the last generation line's
env_steps) and the search's wall time; then the mean per kind.

Usage: scripts/halving_table.py OUT   (the folder of the runs)
"""
import json
import statistics
import sys
from pathlib import Path


def main():
    out = Path(sys.argv[1])
    rows = {}
    print("| run | test accuracy | search validation accuracy (epochs) | images trained (millions) | search wall s |")
    print("|---|---|---|---|---|")
    for run in sorted(out.iterdir()):
        summary = run / "best" / "summary.json"
        if not summary.exists():
            continue
        s = json.load(open(summary))
        lines = [json.loads(l) for l in open(run / "metrics.jsonl")]
        gens = [l for l in lines if l.get("kind") != "candidate"]
        best = next(l for l in lines if l.get("kind") == "candidate" and l["candidate"] == s["candidate"])
        epochs = best["details"].get("epochs", "8")
        images = gens[-1]["env_steps"] / 1e6
        wall = gens[-1]["elapsed_s"]
        print(f"| {run.name} | {s['test_accuracy']:.4f} | {s['val_accuracy']:.4f} ({epochs:g}) | {images:.2f} | {wall:.0f} |"
              if not isinstance(epochs, str) else
              f"| {run.name} | {s['test_accuracy']:.4f} | {s['val_accuracy']:.4f} (8) | {images:.2f} | {wall:.0f} |")
        rows.setdefault(run.name.rsplit("-", 1)[0], []).append((s["test_accuracy"], images, wall))
    for kind, r in rows.items():
        mean = lambda i: statistics.mean(x[i] for x in r)
        print(f"| **{kind}** (mean of {len(r)}) | {mean(0):.4f} | | {mean(1):.2f} | {mean(2):.0f} |")


if __name__ == "__main__":
    main()
