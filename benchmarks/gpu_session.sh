#!/usr/bin/env bash
# One GPU session's measurements (benchmarks/GPU_NOTES.md, "Not measured yet"), in under 9 minutes:
# correctness on CUDA, throughput (fp32 and bf16, grouped and matmul convolutions), top kernels.
#
#   OUT=gpu_out bash benchmarks/gpu_session.sh
#
# Optional: WHEELS=dir (pip-installs its wheels, e.g. platformdirs on a bare machine);
# DSPRITES_CACHE_GZ=file (a gzipped procedural dSprites grid, copied into $DISENTANGLE_DATA/cache
# so that the grid is not rendered again). Each step has its own time limit; logs go to $OUT.
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
if [ -n "${WHEELS:-}" ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/gpu-session-site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=$PWD/src:/tmp/gpu-session-site
else
  export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH}
fi
if [ -n "${DSPRITES_CACHE_GZ:-}" ]; then
  export DISENTANGLE_DATA=${DISENTANGLE_DATA:-/tmp/gpu-session-data}
  mkdir -p "$DISENTANGLE_DATA/cache"
  gunzip -c "$DSPRITES_CACHE_GZ" > "$DISENTANGLE_DATA/cache/$(basename "$DSPRITES_CACHE_GZ" .gz)"
fi

step() {  # step NAME SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  echo "== $name: exit $?, $((SECONDS - start)) s" | tee -a "$OUT/summary.txt"
  tail -n 40 "$OUT/$name.log"
}

nvidia-smi -L | tee "$OUT/summary.txt"
step check 150 $PY benchmarks/gpu_check.py --iterations 30 --k 3 --e2e-k 64 --e2e-steps 600 --out "$OUT/gpu_check.json"
step throughput 200 $PY benchmarks/train_throughput.py --device cuda --steps 20 --rounds 2 --ks 32 128 \
  --impls grouped matmul --max-seconds 100
step profile 150 $PY benchmarks/gpu_profile.py --k 128 --steps 5
