#!/usr/bin/env bash
# Acceptance measurements of the core engine (docs/BENCHMARKS.md):
#  - Deep GA solves CartPole-v1 (mean >= 475 over 100 fresh episodes via
#    `evonet eval`), wall time of the run;
#  - OpenAI-ES solves CartPole-v1 and reaches >= -200 on Pendulum-v1;
#  - CMA-ES on DPV: evaluations to solve over 20 seeds (Igel: 895, NEAT: 3,600);
#  - CMA-ES on DPNV: evaluations and generalisation over 10 seeds.
# Usage: scripts/acceptance.sh [OUT_DIR]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/acceptance}
mkdir -p "$out"
cargo build --release -q
bin=target/release/evonet

wall() { local t0=$(date +%s.%N); "$@" > /dev/null; echo "$(date +%s.%N) - $t0" | bc; }

echo "== Deep GA, CartPole-v1 (5 seeds)"
for s in 1 2 3 4 5; do
  d=$out/cartpole-ga-$s
  w=$(wall $bin run configs/cartpole-ga.toml --out "$d" --seed $s --force --quiet)
  ev=$($bin eval "$d/best" --episodes 100 --seed 12345 --json)
  echo "seed $s: run ${w}s, $(tail -1 "$d/metrics.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("generations", r["generation"]+1, "evaluations", r["evaluations"], "solved", r["solved"])'), eval $ev"
done

for cfg in cartpole-es pendulum-es mountaincar-continuous-es acrobot-ga; do
  echo "== $cfg (3 seeds)"
  for s in 1 2 3; do
    d=$out/$cfg-$s
    w=$(wall $bin run configs/$cfg.toml --out "$d" --seed $s --force --quiet)
    ev=$($bin eval "$d/best" --episodes 100 --seed 12345 --json)
    echo "seed $s: run ${w}s, $(tail -1 "$d/metrics.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("generations", r["generation"]+1, "evaluations", r["evaluations"], "solved", r["solved"], "at", r["solved_at_evaluations"])'), eval mean_return $(echo "$ev" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["mean_return"],2))')"
  done
done

summarise() { python3 - "$@" <<'PY'
import json, sys, statistics
evals, gens, fails, extra = [], [], 0, []
for d in sys.argv[1:]:
    lines = [json.loads(l) for l in open(d + "/metrics.jsonl")]
    last = lines[-1]
    if last["solved"]:
        evals.append(last["solved_at_evaluations"])
        g = [l["stats"].get("generalization") for l in lines if l["stats"].get("generalization")]
        if g: extra.append(max(g))
    else:
        fails += 1
n = len(evals)
print(f"solved {n}/{n+fails}; evaluations to solve: mean {statistics.mean(evals):.0f}, median {statistics.median(evals):.0f}, "
      f"std {statistics.pstdev(evals):.0f}, min {min(evals)}, max {max(evals)}" if n else "none solved")
if extra: print(f"generalisation of the solving champions: mean {statistics.mean(extra):.1f} of 625")
PY
}

echo "== CMA-ES, DPV (seeds 1-20, then held-out seeds 21-40)"
for range in "1 20" "21 40"; do
  dirs=()
  for s in $(seq $range); do
    d=$out/dpv-$s; dirs+=("$d")
    $bin run configs/dpv-cmaes.toml --out "$d" --seed $s --force --quiet > /dev/null
  done
  echo -n "seeds $range: "; summarise "${dirs[@]}"
done

echo "== CMA-ES, DPNV (10 seeds)"
dirs=()
for s in $(seq 1 10); do
  d=$out/dpnv-$s; dirs+=("$d")
  $bin run configs/dpnv-cmaes.toml --out "$d" --seed $s --force --quiet > /dev/null
done
summarise "${dirs[@]}"
