#!/bin/sh
# Builds models/twinlens_generic_v1/embedder.int8.onnx from embedder.onnx (one command, from the repo root,
# after `make build`; needs /usr/bin/python3 with python3-onnx + numpy, and node_modules' onnxruntime-node).
#   sh models/quantize/build.sh [WORKDIR]
# Steps: ORT 'basic' graph (constant folding) -> fold Pads into Convs, drop the local-feature branch ->
# activation statistics over catalog images + simulated photos (never benchmark photos) in onnxruntime-node ->
# QDQ insertion (quantize.py qdq). ~15 min on 2 quiet cores, most of it in calibrate.mjs.
set -e
W=${1:-/tmp/twinlens-int8}
SRC=models/twinlens_generic_v1/embedder.onnx
OUT=${INT8_OUT:-models/twinlens_generic_v1/embedder.int8.onnx}
# Nodes whose name matches stay float (quantize.py --fp32-match); FP32_MATCH= quantizes the top block too.
FP32_MATCH=${FP32_MATCH-/twin/top/}
mkdir -p "$W"
[ -f "$W/watches-calib.done" ] || { sh models/quantize/make-calib.sh "$W"; touch "$W/watches-calib.done"; }
node models/quantize/ort-optimize.mjs "$SRC" "$W/fp32_basic.onnx" basic
/usr/bin/python3 models/quantize/quantize.py prepare "$W/fp32_basic.onnx" "$W/fp32_prep.onnx" "$W/calib.onnx" "$W/tensors.json"
node models/quantize/calibrate.mjs "$W/calib.onnx" "$W/tensors.json" "$W/stats.json" "$W/calib-grocery" "$W/calib-watches"
/usr/bin/python3 models/quantize/quantize.py qdq "$W/fp32_prep.onnx" "$W/stats.json" "$OUT" \
  --method mse --weights int8r7 ${FP32_MATCH:+--fp32-match "$FP32_MATCH"}
# checks: ORT fuses the QDQ pairs (QLinearConv / QLinearAdd), agreement with the float model on the check sets
node models/quantize/ort-optimize.mjs "$OUT" "$W/int8_ort_all.onnx" all
/usr/bin/python3 -c "import onnx, collections, sys; print(dict(collections.Counter(n.op_type for n in onnx.load(sys.argv[1]).graph.node)))" "$W/int8_ort_all.onnx"
node models/quantize/agree.mjs "$SRC" "$OUT" -- "$W/check-grocery" "$W/check-watches"
