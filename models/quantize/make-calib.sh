#!/bin/sh
# Calibration and check image sets for the int8 model: catalog images + simulated photos of them.
# Never benchmark photos: grocery-dev contributes only its catalog (product) images, which the service
# itself sees at ingest; the photos are simulated by `twinlens simulate` (seeds unlike eval's).
# Usage: sh models/quantize/make-calib.sh OUTDIR   (from the repo root, after building dist/)
set -e
OUT=${1:-/tmp/twinlens-int8}
CAT=${GROCERY_CATALOG:-../shared/data/grocery-dev/catalog.csv}
mkdir -p "$OUT"
node models/quantize/write-watches.mjs "$OUT/watches" 60 4242
# calibration: seed 101; check set (settings are chosen on it, never on benchmark photos): seed 202
node dist/src/cli/main.js simulate --catalog "$CAT" --views 4 --seed 101 --out "$OUT/calib-grocery"
node dist/src/cli/main.js simulate --catalog "$OUT/watches" --views 3 --seed 101 --out "$OUT/calib-watches"
node dist/src/cli/main.js simulate --catalog "$CAT" --views 2 --seed 202 --out "$OUT/check-grocery"
node dist/src/cli/main.js simulate --catalog "$OUT/watches" --views 2 --seed 202 --out "$OUT/check-watches"
