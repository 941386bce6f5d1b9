"""pycma's time per generation, the baseline of crates/strategies/benches/cma_es.rs.

Usage: python scripts/bench_pycma.py N GENERATIONS
Full-covariance CMA-ES, lambda = 8, sigma 0.5, ask/tell on the sphere;
prints the mean seconds per generation. Run with OPENBLAS_NUM_THREADS=1
(the bench sets it) so both sides use one core.
"""
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import cma  # noqa: E402
import numpy as np  # noqa: E402

n, generations = int(sys.argv[1]), int(sys.argv[2])
es = cma.CMAEvolutionStrategy(np.zeros(n), 0.5, {"popsize": 8, "verbose": -9, "seed": 1})
start = time.perf_counter()
for _ in range(generations):
    xs = es.ask()
    es.tell(xs, [float(np.dot(x, x)) for x in xs])
print((time.perf_counter() - start) / generations)
