"""evonet's `latency_ms` against onnxruntime's, for a run's Pareto front.

For each member of RUN/pareto.json (a search that minimised `latency_ms`,
or any front: evonet's figure is then left blank), exports the
architecture with its initial weights (`evonet export
RUN/pareto/candidate-ID.json --onnx ...`), times one image through it in
onnxruntime (one thread, median of PASSES runs after 10 warm-up runs) and
prints a Markdown table with both figures and their Spearman rank
correlation. Needs `pip install onnxruntime numpy`.
Usage: python3 scripts/pareto_latency.py RUN [--evonet PATH] [--passes N]
"""
import argparse
import json
import pathlib
import subprocess
import tempfile
import time

import numpy as np
import onnxruntime as ort


def ranks(v):
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(len(v))
    return r


def onnx_latency_ms(model, shape, passes):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    x = np.zeros([1] + shape, dtype=np.float32)
    for _ in range(10):
        sess.run(None, {"input": x})
    times = []
    for _ in range(passes):
        t = time.perf_counter()
        sess.run(None, {"input": x})
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=pathlib.Path)
    ap.add_argument("--evonet", default="target/release/evonet")
    ap.add_argument("--passes", type=int, default=200)
    a = ap.parse_args()
    front = json.loads((a.run / "pareto.json").read_text())
    names = front["objectives"]
    at = names.index("latency_ms") if "latency_ms" in names else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in front["front"]:
            arch = a.run / m["architecture"]
            shape = json.loads(arch.read_text())["input"]
            model = pathlib.Path(tmp) / f"{m['candidate']}.onnx"
            subprocess.run([a.evonet, "export", str(arch), "--onnx", str(model)],
                           check=True, capture_output=True)
            ours = m["objectives"][at] if at is not None else float("nan")
            rows.append((m["candidate"], m["summary"], ours, onnx_latency_ms(str(model), shape, a.passes)))
    print("| candidate | architecture | evonet latency_ms | onnxruntime ms (1 thread) |")
    print("|---|---|---|---|")
    for c, s, ours, theirs in rows:
        print(f"| {c} | {s} | {ours:.4f} | {theirs:.4f} |")
    if at is not None and len(rows) > 2:
        ours = np.array([r[2] for r in rows])
        theirs = np.array([r[3] for r in rows])
        rho = np.corrcoef(ranks(ours), ranks(theirs))[0, 1]
        print(f"\nSpearman rank correlation over {len(rows)} architectures: {rho:.3f}")


if __name__ == "__main__":
    main()
