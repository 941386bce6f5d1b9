#!/usr/bin/env python3
"""Checks an evolved policy exported by `evonet export --onnx` against
evonet's own outputs on recorded observations.

Usage: check_policy_onnx.py MODEL.onnx TRACE.json [--tolerance T]

TRACE.json: {"observations": [[...], ...], "outputs": [[...], ...],
"actions": [...], "discrete": bool, "state_widths": [w0, w1, ...]}, one
entry per step of one episode as evonet played it. The model must pass
onnx's full checker; its outputs must match evonet's within T (absolute,
default 1e-5) at every step, its actions likewise (discrete: equal, or
tied within T in evonet's outputs). A
recurrent model gets zeros as its first state, then its own state outputs.
Prints one JSON line; exits 1 on a mismatch. Needs `pip install onnx
onnxruntime numpy` (test-time only, never a dependency of evonet).
"""
import argparse
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("trace")
    ap.add_argument("--tolerance", type=float, default=1e-5)
    a = ap.parse_args()

    model = onnx.load(a.model)
    onnx.checker.check_model(model, full_check=True)
    trace = json.load(open(a.trace))
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    widths = trace.get("state_widths", [])
    state = [np.zeros((1, w), dtype=np.float32) for w in widths]
    out_diff = act_diff = 0.0
    same_action = ties = 0
    for obs, want, want_action in zip(trace["observations"], trace["outputs"], trace["actions"]):
        feed = {"observation": np.asarray([obs], dtype=np.float32)}
        for i, s in enumerate(state):
            feed[f"state_in_{i}"] = s
        got = dict(zip(names, sess.run(names, feed)))
        out_diff = max(out_diff, float(np.max(np.abs(got["outputs"][0] - np.asarray(want, dtype=np.float32)))))
        if "action" in got:
            if trace["discrete"]:
                # An action chosen by a difference below the tolerance (two
                # saturated sigmoids, say) is a tie: either choice agrees.
                got_action = int(got["action"][0])
                want_out = np.asarray(want, dtype=np.float32)
                tie = want_out[int(want_action)] - want_out[got_action] <= a.tolerance
                ties += int(got_action != int(want_action) and tie)
                same_action += int(got_action == int(want_action) or tie)
            else:
                d = float(np.max(np.abs(got["action"][0] - np.asarray(want_action, dtype=np.float32))))
                act_diff = max(act_diff, d)
                same_action += int(d <= a.tolerance)
        else:
            same_action += 1
        state = [got[f"state_out_{i}"] for i in range(len(widths))]
    steps = len(trace["observations"])
    report = {
        "steps": steps,
        "max_abs_diff": out_diff,
        "max_action_diff": act_diff,
        "same_action": same_action,
        "ties": ties,
        "opset": model.opset_import[0].version,
        "nodes": len(model.graph.node),
    }
    print(json.dumps(report))
    ok = out_diff <= a.tolerance and same_action == steps and steps > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
