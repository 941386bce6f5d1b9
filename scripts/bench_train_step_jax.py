#!/usr/bin/env python3
"""One training step of the small CNN of crates/train/benches/train_step.rs
in JAX (jit, CPU): conv3x3-32 relu max2/2 conv3x3-64 relu max2/2 fc128 relu
-> 10, softmax cross-entropy, Adam (optax), batch 128 of 28x28 images.

Usage: bench_train_step_jax.py [--reps N] [--steps S] [--threads T]
Prints the median milliseconds per step over N repetitions of S steps, as
JSON. Needs `pip install "jax[cpu]" optax` (test-time only). The thread
count is set through XLA flags before JAX starts.
"""
import argparse
import json
import os
import time

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--layout", choices=["nchw", "nhwc"], default="nhwc",
                help="image layout (NHWC is XLA's fast one on CPU; evonet uses NCHW)")
a = ap.parse_args()
os.environ["XLA_FLAGS"] = (
    f"--xla_cpu_multi_thread_eigen={'true' if a.threads > 1 else 'false'} "
    f"intra_op_parallelism_threads={a.threads}"
)
os.environ["OMP_NUM_THREADS"] = str(a.threads)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402


def init(key):
    k = jax.random.split(key, 4)

    def u(k, shape, fan_in):
        b = (6.0 / fan_in) ** 0.5
        return jax.random.uniform(k, shape, jnp.float32, -b, b)

    return {
        "c1": (u(k[0], KSHAPE(32, 1), 9), jnp.zeros(32)),
        "c2": (u(k[1], KSHAPE(64, 32), 288), jnp.zeros(64)),
        "d1": (u(k[2], (64 * 7 * 7, 128), 3136), jnp.zeros(128)),
        "h": (u(k[3], (128, 10), 128), jnp.zeros(10)),
    }


NHWC = a.layout == "nhwc"


def KSHAPE(o, i):
    return (3, 3, i, o) if NHWC else (o, i, 3, 3)


def conv(x, wb):
    w, b = wb
    dn = ("NHWC", "HWIO", "NHWC") if NHWC else ("NCHW", "OIHW", "NCHW")
    y = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=dn)
    return y + (b[None, None, None, :] if NHWC else b[None, :, None, None])


def pool(x):
    win = (1, 2, 2, 1) if NHWC else (1, 1, 2, 2)
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, win, win, "VALID")


def forward(p, x):
    x = pool(jax.nn.relu(conv(x, p["c1"])))
    x = pool(jax.nn.relu(conv(x, p["c2"])))
    x = x.reshape(x.shape[0], -1)
    x = jax.nn.relu(x @ p["d1"][0] + p["d1"][1])
    return x @ p["h"][0] + p["h"][1]


def loss(p, x, y):
    return optax.softmax_cross_entropy_with_integer_labels(forward(p, x), y).mean()


opt = optax.adam(1e-3)


@jax.jit
def step(p, s, x, y):
    l, g = jax.value_and_grad(loss)(p, x, y)
    u, s = opt.update(g, s, p)
    return optax.apply_updates(p, u), s, l


key = jax.random.PRNGKey(0)
p = init(key)
s = opt.init(p)
batch = 128
xs = jax.random.uniform(key, (a.steps, batch, 28, 28, 1) if NHWC else (a.steps, batch, 1, 28, 28))
ys = jnp.arange(a.steps * batch).reshape(a.steps, batch) % 10
p, s, l = step(p, s, xs[0], ys[0])  # compile
l.block_until_ready()
times = []
for _ in range(a.reps):
    t = time.perf_counter()
    for i in range(a.steps):
        p, s, l = step(p, s, xs[i], ys[i])
    l.block_until_ready()
    times.append((time.perf_counter() - t) * 1e3 / a.steps)
times.sort()
print(json.dumps({
    "framework": f"jax {jax.__version__} (jit, cpu, {a.layout})",
    "threads": a.threads,
    "batch": batch,
    "steps": a.steps,
    "reps": a.reps,
    "median_ms_per_step": round(times[len(times) // 2], 2),
    "min": round(times[0], 2),
    "max": round(times[-1], 2),
}))
