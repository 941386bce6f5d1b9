#!/usr/bin/env python3
"""gymnax's Breakout-MinAtar with MinAtar's DQN network in JAX: env steps
per second on CPU, a baseline of docs/BENCHMARKS.md section 9.

Usage: bench_gymnax_minatar.py [--envs 256] [--steps 2000] [--reps 5]
(scripts/bench_gymnax_minatar.sh makes the venv and runs evonet's side.)

256 environments are vmapped and stepped T times inside one jitted
lax.scan; each step runs the policy (conv 16 3x3 VALID, dense 128, ReLU,
argmax over the 3 actions, random weights as a first generation has) on
every environment's frame, and gymnax resets finished episodes itself.
With --population, every environment has its own random weights (a
population evaluated as evosax or EvoTorch users vmap it, as a GA or ES
generation needs); without it, all share one set (what gymnax's own
benchmarks time). Compilation is timed apart; the rate is the median over
repetitions of envs x steps / seconds. Prints one JSON line.
"""
import argparse
import json
import statistics
import time

import jax
import jax.numpy as jnp
import gymnax


def init_params(key, channels, actions):
    k1, k2, k3 = jax.random.split(key, 3)
    conv = jax.random.normal(k1, (3, 3, channels, 16)) / jnp.sqrt(9.0 * channels)
    dense = jax.random.normal(k2, (8 * 8 * 16, 128)) / jnp.sqrt(1024.0)
    out = jax.random.normal(k3, (128, actions)) / jnp.sqrt(128.0)
    return {"conv": conv, "conv_b": jnp.zeros(16), "dense": dense,
            "dense_b": jnp.zeros(128), "out": out, "out_b": jnp.zeros(actions)}


def policy(params, obs):
    x = obs.astype(jnp.float32)[None]
    y = jax.lax.conv_general_dilated(x, params["conv"], (1, 1), "VALID",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    y = jax.nn.relu(y + params["conv_b"]).reshape(-1)
    h = jax.nn.relu(y @ params["dense"] + params["dense_b"])
    return jnp.argmax(h @ params["out"] + params["out_b"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--envs", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--population", action="store_true",
                    help="one set of weights per environment")
    a = ap.parse_args()
    env, env_params = gymnax.make("Breakout-MinAtar")
    channels = env.observation_space(env_params).shape[-1]
    if a.population:
        keys_p = jax.random.split(jax.random.PRNGKey(0), a.envs)
        params = jax.vmap(init_params, in_axes=(0, None, None))(keys_p, channels, env.num_actions)
        p_axis = 0
    else:
        params = init_params(jax.random.PRNGKey(0), channels, env.num_actions)
        p_axis = None
    keys = jax.random.split(jax.random.PRNGKey(1), a.envs)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, env_params)

    def one(carry, _):
        key, obs, state = carry
        key, sub = jax.random.split(key)
        actions = jax.vmap(policy, in_axes=(p_axis, 0))(params, obs)
        obs, state, reward, terminated, truncated, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(sub, a.envs), state, actions, env_params)
        return (key, obs, state), (terminated | truncated).sum()

    @jax.jit
    def rollout(key, obs, state):
        (key, obs, state), dones = jax.lax.scan(one, (key, obs, state), None, length=a.steps)
        return key, obs, state, dones.sum()

    t = time.perf_counter()
    key, obs, state, _ = jax.block_until_ready(rollout(jax.random.PRNGKey(2), obs, state))
    compile_s = time.perf_counter() - t
    rates = []
    for _ in range(a.reps):
        t = time.perf_counter()
        key, obs, state, done = jax.block_until_ready(rollout(key, obs, state))
        rates.append(a.envs * a.steps / (time.perf_counter() - t))
    print(json.dumps({"gymnax": "Breakout-MinAtar", "jax": jax.__version__,
                      "envs": a.envs, "weights_per_env": a.population, "steps": a.steps, "compile_s": round(compile_s, 2),
                      "steps_per_s": round(statistics.median(rates)),
                      "all": [round(r) for r in rates]}))


if __name__ == "__main__":
    main()
