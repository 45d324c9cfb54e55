#!/usr/bin/env bash
# The GPU checks in one call, for a machine with an NVIDIA GPU and PyTorch (nothing is installed):
# the CUDA tests (the recorded step against the plain step, no host waits, previews, checkpoints,
# resume, the fallback; the batched linear AR), then the benchmarks. Logs go to $OUT (default
# ./gpu-out); each part has its own time limit, so a slow part leaves the others' results.
#
#     bash bench/gpu_check.sh                 # everything (about 5 minutes on one H200)
#     bash bench/gpu_check.sh "tests sampling"    # some parts: tests throughput sampling presets scale
set -u
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 GENLIB_SCORE=0
PY=${PYTHON:-python3}
part=${1:-all}

$PY - <<'EOF' 2>&1 | tee "$OUT/device.txt"
import platform, torch
print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "| GPU", torch.cuda.get_device_name(0),
      "| CPU cores", __import__("os").cpu_count(), "| Python", platform.python_version())
EOF

on() { [ "$part" = all ] || [[ " $part " == *" $1 "* ]]; }
if on tests; then
  echo "== CUDA tests"
  timeout 200 $PY -m pytest -q -p no:cacheprovider -rs --continue-on-collection-errors tests/test_graphstep.py tests/test_train.py \
    tests/forecast/test_linear_scale.py 2>&1 | tee "$OUT/tests.log" | tail -25
fi
if on throughput; then
  echo "== training throughput"
  timeout 200 $PY bench/train_throughput.py --device cuda --models gan --batches 64 256 1024 \
    --loops plain step fit eager 2>&1 | tee "$OUT/throughput.log"
  timeout 120 $PY bench/train_throughput.py --device cuda --models vae --batches 128 512 \
    --loops plain step fit eager 2>&1 | tee -a "$OUT/throughput.log" | grep -v "^#"
  timeout 120 $PY bench/train_throughput.py --device cuda --models pixelcnn --batches 64 256 \
    --steps 100 --loops step fit eager 2>&1 | tee -a "$OUT/throughput.log" | grep -v "^#"
fi
if on sampling; then
  echo "== sampling"
  timeout 90 $PY bench/sampling.py --device cuda --shape 1 28 28 --n 1024 2>&1 | tee "$OUT/sampling.log"
fi
if on presets; then
  echo "== preset times"
  timeout 120 $PY bench/preset_times.py --device cuda 2>&1 | tee "$OUT/presets.log"
fi
if on scale; then
  echo "== 100,000 series"
  timeout 90 $PY bench/forecast_scale.py --baseline 200 --no-table 2>&1 | tee "$OUT/scale.log" | tail -12
fi
