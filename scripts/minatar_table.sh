#!/usr/bin/env bash
# Runs the MinAtar table of docs/MINATAR.md (Such et al.'s comparison at MinAtar
# scale): 5 games x Deep GA / random search / OpenAI-ES x seeds 1..3, each
# on the same 10 M frame budget (configs/minatar-<game>-<strategy>.toml),
# then replays every champion on 100 fresh episodes and writes the table
# (scripts/minatar_table.py). Runs that already finished are kept, so the
# script can be stopped and started again.
#
# Usage: scripts/minatar_table.sh [OUT_DIR] [SEEDS...]
#        (default runs/minatar-table, seeds 1 2 3; EVONET=path/to/evonet)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/minatar-table}
shift || true
SEEDS=${*:-1 2 3}
EVONET=${EVONET:-target/release/evonet}
if [ ! -x "$EVONET" ]; then
  cargo build --release -p evonet-cli
fi
mkdir -p "$OUT"
for game in breakout asterix freeway seaquest space-invaders; do
  for strategy in ga random es; do
    for seed in $SEEDS; do
      run="$OUT/$game-$strategy-s$seed"
      if [ -f "$run/eval.json" ]; then
        continue
      fi
      start=$(date +%s%N)
      "$EVONET" run "configs/minatar-$game-$strategy.toml" --seed "$seed" \
        --out "$run" --force --quiet > "$run.log" 2>&1
      end=$(date +%s%N)
      echo "{\"wall_ms\": $(( (end - start) / 1000000 ))}" > "$run/wall.json"
      "$EVONET" eval "$run/best" --episodes 100 --seed 1000 --json > "$run/eval.json"
      echo "$run: $(cat "$run/eval.json")"
    done
  done
done
python3 scripts/minatar_table.py "$OUT"
