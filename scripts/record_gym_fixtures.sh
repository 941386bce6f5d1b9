#!/usr/bin/env bash
# Makes a venv with Gymnasium and records the parity fixtures of evonet-envs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${VENV:-$here/../target/gym-venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "gymnasium==1.2.0" "numpy>=2"
"$venv/bin/python" "$here/record_gym_fixtures.py" "$@"
