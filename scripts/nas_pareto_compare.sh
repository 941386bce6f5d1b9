#!/usr/bin/env bash
# NSGA-II against random search (and single-objective aging evolution) on
# the built-in digits, over validation error and parameter count, at the
# same budget of low-fidelity trained candidates, SEEDS seeds each; then
# the hypervolume of each run's front (every candidate it trained) against
# one reference point, per run and per strategy (scripts/pareto_table.py).
# Usage: scripts/nas_pareto_compare.sh [SEEDS] [OUT]   (default 5, runs/pareto-compare)
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-5}"
OUT="${2:-runs/pareto-compare}"
BUDGET="${BUDGET:-480}"
if [ -z "${EVONET:-}" ]; then
  cargo build --release -q -p evonet-cli
  EVONET=target/release/evonet
fi
mkdir -p "$OUT"
for kind in nsga digits-nas-random digits-nas; do
  case $kind in
    nsga) src=configs/digits-nsga.toml ;;
    *) src=configs/$kind.toml ;;
  esac
  # The search alone: no final training, the same budget for all.
  sed -e "s/^top_k = .*/top_k = 0/" -e "s/^max_evaluations = .*/max_evaluations = $BUDGET/" \
    "$src" > "$OUT/$kind.toml"
  for seed in $(seq 0 $((SEEDS - 1))); do
    "$EVONET" run "$OUT/$kind.toml" --seed "$seed" --out "$OUT/$kind-$seed" --force --quiet > /dev/null
  done
done
python3 scripts/pareto_table.py --reference 0.5 50000 "$OUT"/*-[0-9]*
