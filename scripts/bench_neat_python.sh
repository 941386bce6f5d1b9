#!/usr/bin/env bash
# Speed of NEAT on XOR: neat-python 2.0 (its own examples/xor config and
# fitness) against evonet (the `neat_python` preset, and the paper preset),
# same machine, same session, same seeds.
#
#   scripts/bench_neat_python.sh [RUNS]     (default 20 seeds: 1..RUNS)
#
# Prints per-run wall time and evaluations per second for each. evonet is
# timed in-process (the bench binary, serial evaluation like neat-python's
# example) and through the CLI (`evonet run`, which also writes metrics,
# checkpoints and champions with fsync).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
VENV=target/neat-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "neat-python==2.0.0"
fi
echo "== neat-python $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("neat-python"))'), examples/xor config, fitness 4 - sum err^2 >= 3.9"
"$VENV/bin/python" scripts/bench_neat_python.py --runs "$RUNS"
echo "== evonet in-process, neat_python preset (paper fitness, solved = all 4 patterns right)"
cargo bench -q -p evonet-problems --bench neat_paper -- xor --runs "$RUNS" --preset neat_python | tail -3
echo "== evonet in-process, paper2002 preset"
cargo bench -q -p evonet-problems --bench neat_paper -- xor --runs "$RUNS" | tail -3
echo "== evonet CLI: evonet run configs/xor-neat.toml, seeds 1..$RUNS"
cargo build -q --release
out=$(mktemp -d)
start=$(date +%s.%N)
evals=0
for s in $(seq 1 "$RUNS"); do
  ./target/release/evonet run configs/xor-neat.toml --seed "$s" --out "$out/$s" -q > /dev/null
  e=$(tail -1 "$out/$s/metrics.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["evaluations"])')
  evals=$((evals + e))
done
end=$(date +%s.%N)
python3 -c "t=$end-$start; print(f'CLI: {t:.2f} s for $RUNS runs, {t/$RUNS:.4f} s per run (process start and file writes included), {$evals/t:.0f} evaluations/s')"
rm -rf "$out"
