#!/usr/bin/env bash
# Records MinAtar 1.0.15 trajectories into crates/envs/tests/fixtures (or
# the folder given) in a venv of its own: random play (record_minatar_fixtures.py)
# and scripted players that get further (record_minatar_heuristic.py).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-crates/envs/tests/fixtures}
VENV=target/minatar-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "minatar==1.0.15"
fi
"$VENV/bin/python" scripts/record_minatar_fixtures.py "$OUT" "${@:2}"
"$VENV/bin/python" scripts/record_minatar_heuristic.py "$OUT" asterix breakout seaquest space_invaders --episodes 12
