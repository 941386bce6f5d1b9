#!/usr/bin/env bash
# Aging evolution with and without successive halving over training epochs
# on the built-in digits, SEEDS seeds each: `plain` (configs/digits-nas.toml,
# every candidate 8 epochs), `halving` (configs/digits-nas-halving.toml:
# rounds of 9 children at 2, 6 and 18 epochs, the best third promoted) and
# `hyperband` (the same with Hyperband's brackets). Each retrains its best 3
# (60 epochs on train + validation) and scores the best by validation once
# on test. Then a table of the test accuracy, the search's training images
# (epochs x images: a deterministic measure of its compute) and wall time
# (scripts/halving_table.py).
# Usage: scripts/nas_halving_compare.sh [SEEDS] [OUT]   (default 3, runs/halving-compare)
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-3}"
OUT="${2:-runs/halving-compare}"
if [ -z "${EVONET:-}" ]; then
  cargo build --release -q -p evonet-cli
  EVONET=target/release/evonet
fi
mkdir -p "$OUT"
sed -e "s/^top_k = .*/top_k = 3/" -e "/^ensemble = /d" configs/digits-nas.toml > "$OUT/plain.toml"
cp configs/digits-nas-halving.toml "$OUT/halving.toml"
sed -e "s/^hyperband = .*/hyperband = true/" configs/digits-nas-halving.toml > "$OUT/hyperband.toml"
for seed in $(seq 0 $((SEEDS - 1))); do
  for kind in plain halving hyperband; do
    "$EVONET" run "$OUT/$kind.toml" --seed "$seed" --out "$OUT/$kind-$seed" --force --quiet > /dev/null
  done
done
python3 scripts/halving_table.py "$OUT"
