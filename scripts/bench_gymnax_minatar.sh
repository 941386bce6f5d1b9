#!/usr/bin/env bash
# Side by side on this machine: gymnax's Breakout-MinAtar with a jitted JAX
# DQN network over 256 vmapped environments (scripts/bench_gymnax_minatar.py,
# in a venv of its own with jax[cpu] and gymnax), then evonet's MinAtar
# bench (benches/minatar.rs: the same network on MinAtar/Breakout-v1, 1 and
# 2 threads). Report the ratio in docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/gymnax-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "jax[cpu]" gymnax six
fi
"$VENV/bin/python" scripts/bench_gymnax_minatar.py "$@"
"$VENV/bin/python" scripts/bench_gymnax_minatar.py --population "$@"
cargo bench -p evonet-problems --bench minatar -- dqn_rollout
