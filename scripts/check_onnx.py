#!/usr/bin/env python3
"""Checks an ONNX model written by evonet against evonet's own predictions.

Usage: check_onnx.py MODEL.onnx INPUTS.f32 LOGITS.f32 [--tolerance T]
       check_onnx.py MODEL.onnx INPUTS.f32 --labels LABELS.u8

INPUTS.f32 holds N images and LOGITS.f32 evonet's N x classes logits, both
raw little-endian float32 in row-major order (N follows from the model's
input shape). With --labels instead (one byte per image), the model's
accuracy is reported (an ensemble's `probabilities` output is also checked
to sum to 1 per image) for the caller to compare with evonet's figure. The model must pass onnx's full checker; onnxruntime's logits
must match evonet's within T (absolute, default 1e-4) and give the same
predicted class for every image. Prints one JSON line; exits 1 on a
mismatch. Needs `pip install onnx onnxruntime numpy` (test-time only, never
a dependency of evonet).
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
    ap.add_argument("inputs")
    ap.add_argument("logits", nargs="?")
    ap.add_argument("--labels")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    a = ap.parse_args()
    if (a.logits is None) == (a.labels is None):
        ap.error("give LOGITS.f32 or --labels LABELS.u8")

    model = onnx.load(a.model)
    onnx.checker.check_model(model, full_check=True)
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:]]
    classes = model.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    x = np.fromfile(a.inputs, dtype="<f4").reshape([-1] + dims)
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    output = model.graph.output[0].name
    got = sess.run([output], {"input": x})[0]
    if a.labels is not None:
        sys.exit(check_accuracy(model, got, np.fromfile(a.labels, dtype="u1"), output))
    want = np.fromfile(a.logits, dtype="<f4").reshape(x.shape[0], classes)
    diff = float(np.max(np.abs(got - want))) if len(x) else 0.0
    agree = int(np.sum(np.argmax(got, 1) == np.argmax(want, 1)))
    report = {
        "images": int(x.shape[0]),
        "max_abs_diff": diff,
        "same_prediction": agree,
        "opset": model.opset_import[0].version,
        "nodes": len(model.graph.node),
    }
    print(json.dumps(report))
    ok = diff <= a.tolerance and agree == x.shape[0]
    sys.exit(0 if ok else 1)


def check_accuracy(model, got, labels, output):
    """Reports the accuracy of `got` against `labels`; 1 if an ensemble's
    probabilities do not sum to 1."""
    sums = np.abs(got.sum(axis=1) - 1.0)
    report = {
        "images": int(got.shape[0]),
        "output": output,
        "right": int(np.sum(np.argmax(got, 1) == labels)),
        "max_sum_error": float(sums.max()) if len(got) else 0.0,
        "opset": model.opset_import[0].version,
        "nodes": len(model.graph.node),
    }
    print(json.dumps(report))
    return 0 if output != "probabilities" or report["max_sum_error"] < 1e-4 else 1


if __name__ == "__main__":
    main()
