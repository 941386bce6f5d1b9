#!/usr/bin/env bash
# Runs the Python baseline of docs/BENCHMARKS.md in a venv of its own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${VENV:-$here/../target/gym-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "gymnasium==1.2.0" "numpy>=2"
OPENBLAS_NUM_THREADS=1 "$venv/bin/python" "$here/bench_python_baseline.py" "$@"
