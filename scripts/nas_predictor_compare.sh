#!/usr/bin/env bash
# Aging evolution with and without a learned predictor screening its
# children, on the built-in digits at the same budget of low-fidelity
# trained candidates, SEEDS seeds each: `plain` (configs/digits-nas.toml),
# `screened` (configs/digits-nas-predictor.toml, 4 proposals per trained
# child) and `measured` (the same predictor with pool = 1: every child is
# trained, so its rank correlations are over unselected candidates). Then
# a table of the best validation accuracy after N candidates, wall time
# and the predictor's Kendall tau and Spearman rho
# (scripts/predictor_table.py).
# Usage: scripts/nas_predictor_compare.sh [SEEDS] [OUT]   (default 5, runs/predictor-compare)
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-5}"
OUT="${2:-runs/predictor-compare}"
if [ -z "${EVONET:-}" ]; then
  cargo build --release -q -p evonet-cli
  EVONET=target/release/evonet
fi
mkdir -p "$OUT"
# The search alone: no final training.
search_only() { sed -e "s/^top_k = .*/top_k = 0/" -e "/^ensemble = /d" "$1"; }
search_only configs/digits-nas.toml > "$OUT/plain.toml"
search_only configs/digits-nas-predictor.toml > "$OUT/screened.toml"
search_only configs/digits-nas-predictor.toml | sed -e "s/^pool = .*/pool = 1/" > "$OUT/measured.toml"
for seed in $(seq 0 $((SEEDS - 1))); do
  for kind in plain screened measured; do
    "$EVONET" run "$OUT/$kind.toml" --seed "$seed" --out "$OUT/$kind-$seed" --force --quiet > /dev/null
  done
done
python3 scripts/predictor_table.py "$OUT"
