#!/usr/bin/env bash
# Speed of NEAT on XOR: neat-python 2.0 (its own examples/xor config and
# fitness) against evonet (the `neat_python` preset and the paper preset),
# same machine, same session, same seeds, in alternating rounds.
#
#   scripts/bench_neat_python.sh [RUNS] [ROUNDS]    (default: seeds 1..20, 3 rounds)
#
# Each round times neat-python, evonet in-process (the bench binary, serial
# evaluation like neat-python's example, median of 5 repetitions) and the evonet CLI (`evonet run`,
# which also writes metrics, checkpoints and champions; process start
# included). The summary gives per-round evaluations per second and the
# median ratio to neat-python.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
ROUNDS=${2:-3}
VENV=target/neat-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "neat-python==2.0.0"
fi
cargo build -q --release
cargo bench -q -p evonet-problems --bench neat_paper --no-run 2>/dev/null
log=$(mktemp)
evals_per_s() { grep -o '[0-9]* evaluations/s' | tail -1 | cut -d' ' -f1; }
for r in $(seq 1 "$ROUNDS"); do
  np=$("$VENV/bin/python" scripts/bench_neat_python.py --runs "$RUNS" | tail -1)
  echo "round $r neat-python: $np"
  echo "np $(echo "$np" | evals_per_s)" >> "$log"
  for preset in neat_python paper2002; do
    ev=$(cargo bench -q -p evonet-problems --bench neat_paper -- xor --runs "$RUNS" --preset "$preset" --repeat 5 2>/dev/null | tail -3 | tr '\n' ' ')
    echo "round $r evonet $preset: $ev"
    echo "$preset $(echo "$ev" | evals_per_s)" >> "$log"
  done
  out=$(mktemp -d)
  start=$(date +%s.%N)
  for s in $(seq 1 "$RUNS"); do
    ./target/release/evonet run configs/xor-neat.toml --seed "$s" --out "$out/$s" -q > /dev/null
  done
  end=$(date +%s.%N)
  evals=0
  for s in $(seq 1 "$RUNS"); do
    e=$(tail -1 "$out/$s/metrics.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["evaluations"])')
    evals=$((evals + e))
  done
  cli=$(python3 -c "print(round($evals/($end-$start)))")
  echo "round $r evonet CLI (configs/xor-neat.toml): $cli evaluations/s, $(python3 -c "print(round(($end-$start)/$RUNS, 4))") s per run"
  echo "cli $cli" >> "$log"
  rm -rf "$out"
done
python3 - "$log" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for k, v in rows:
    by.setdefault(k, []).append(float(v))
print(f"median evaluations/s: neat-python {statistics.median(by['np']):.0f}")
for k, name in [("neat_python", "evonet in-process, neat_python preset"),
                ("paper2002", "evonet in-process, paper2002 preset"),
                ("cli", "evonet CLI, paper2002 preset")]:
    # Ratios within a round (same machine load), then their median.
    ratios = [e / n for e, n in zip(by[k], by["np"])]
    print(f"{name}: median {statistics.median(by[k]):.0f} evaluations/s; ratio to neat-python per round "
          f"{', '.join(f'{r:.0f}x' for r in ratios)}; median {statistics.median(ratios):.0f}x")
PY
rm -f "$log"
