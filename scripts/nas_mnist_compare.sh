#!/usr/bin/env bash
# Regularized evolution against random search on MNIST (Real et al. 2019),
# at the same budget of low-fidelity trained candidates, SEEDS seeds each;
# then a plot and table of the best validation accuracy so far, and the
# full-fidelity retraining of the best architecture found (tested once).
# Usage: scripts/nas_mnist_compare.sh [SEEDS] [OUT]   (default 5, runs/mnist-compare)
# SPACE=cell compares over NASNet-style cells (configs/mnist-cell-*.toml)
# instead of chains; EPOCHS=0 skips the final retraining; JOBS=2 runs two
# searches at once.
# Needs MNIST where configs/mnist-nas.toml points (../shared/data/mnist).
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS="${1:-5}"
OUT="${2:-runs/mnist-compare}"
case "${SPACE:-chain}" in
  chain) PREFIX=mnist ;;
  cell) PREFIX=mnist-cell ;;
  *) echo "SPACE must be chain or cell" >&2; exit 2 ;;
esac
# EVONET=path uses that binary instead of building one.
if [ -z "${EVONET:-}" ]; then
  cargo build --release -q -p evonet-cli
  EVONET=target/release/evonet
fi
mkdir -p "$OUT"
# JOBS=2 runs two searches at once with one thread each (results do not
# depend on it; it keeps both cores busy when one candidate of a
# generation trains longer than the other).
JOBS="${JOBS:-1}"
THREADS=()
if [ "$JOBS" -gt 1 ]; then THREADS=(--threads 1); fi
one() {
  local kind="$1" seed="$2" dir="$OUT/$1-$2"
  if [ -f "$dir/checkpoints/latest.evock" ]; then
    "$EVONET" resume "$dir" -q "${THREADS[@]}"   # finishes (or re-finalizes) an earlier run
  else
    "$EVONET" run "configs/$PREFIX-$kind.toml" --seed "$seed" --out "$dir" -q "${THREADS[@]}"
  fi
}
running=0
for seed in $(seq 0 $((SEEDS - 1))); do
  for kind in nas random; do
    one "$kind" "$seed" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
      wait -n
      running=$((running - 1))
    fi
  done
done
wait
"$EVONET" plot "$OUT"/nas-* "$OUT"/random-* --out "$OUT/best-so-far.svg" | tee "$OUT/table.md"
# The best run by validation accuracy, retrained at full fidelity.
best=$(for d in "$OUT"/nas-* "$OUT"/random-*; do
  python3 -c 'import json,sys
b=max((json.loads(l)["fitness"] or 0) for l in open(sys.argv[1]+"/metrics.jsonl") if l.startswith("{\"kind\":\"candidate\""))
print(b, sys.argv[1])' "$d"
done | sort -g | tail -1 | cut -d' ' -f2)
if [ "${EPOCHS:-}" = 0 ]; then exit 0; fi
echo "retraining the best architecture of $best"
# The final training settings are the config's [final_training]; EPOCHS
# overrides its epochs.
"$EVONET" retrain "$best" --top-k 1 ${EPOCHS:+--epochs "$EPOCHS"} | tee "$OUT/retrain.txt"
cp "$best/best/summary.json" "$OUT/best-summary.json"
