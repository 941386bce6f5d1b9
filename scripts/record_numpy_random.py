#!/usr/bin/env python3
"""Records numpy's legacy RandomState draws (the generator MinAtar uses) for
evonet-envs' parity test of `numpy_random::RandomState`.

Usage: record_numpy_random.py OUT.json   (needs numpy; any 1.x or 2.x: the
legacy streams are frozen)

For each seed, one RandomState draws, in this order: 20 rand(), 20
randint(0, 10), 10 randint(-3, 7), 10 randint(0, 2**40), 10 choice of a
3-item list (the index), 5 randint(5, 6) (no draw), then 5 rand() again.
"""
import json
import sys

import numpy as np

SEEDS = [0, 1, 42, 1100, 123456789, 2**32 - 1]


def record(seed):
    r = np.random.RandomState(seed)
    items = ["a", "b", "c"]
    return {
        "seed": seed,
        "rand": [float(r.rand()) for _ in range(20)],
        "randint_0_10": [int(r.randint(0, 10)) for _ in range(20)],
        "randint_m3_7": [int(r.randint(-3, 7)) for _ in range(10)],
        "randint_0_2p40": [int(r.randint(0, 2**40)) for _ in range(10)],
        "choice_3": [items.index(r.choice(items)) for _ in range(10)],
        "randint_5_6": [int(r.randint(5, 6)) for _ in range(5)],
        "rand_after": [float(r.rand()) for _ in range(5)],
    }


def main():
    out = {"numpy": np.__version__, "draws": [record(s) for s in SEEDS]}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
