#!/usr/bin/env bash
# The GPU checks in one call, for a machine with an NVIDIA GPU and PyTorch (nothing is installed):
# the CUDA tests (the recorded step against the plain step, no host waits, previews, checkpoints,
# resume, the fallback; the batched linear AR), then the benchmarks. Logs go to $OUT (default
# ./gpu-out); each part has its own time limit, so a slow part leaves the others' results.
#
#     bash bench/gpu_check.sh                 # everything (at most 7.5 minutes: each part has its own limit)
#     bash bench/gpu_check.sh "tests sampling"    # some parts: tests throughput sampling presets scale
set -u
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 GENLIB_SCORE=0
PY=${PYTHON:-python3}
DEV=${DEVICE:-cuda}       # DEVICE=cpu: a dry run of every part on a processor
part=${1:-all}

$PY - <<'EOF' 2>&1 | tee "$OUT/device.txt"
import platform, torch
print("PyTorch", torch.__version__, "CUDA", torch.version.cuda, "| GPU", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
      "| CPU cores", __import__("os").cpu_count(), "| Python", platform.python_version())
EOF

on() { [ "$part" = all ] || [[ " $part " == *" $1 "* ]]; }
if on tests; then
  echo "== CUDA tests"
  timeout 120 $PY -m pytest -q -p no:cacheprovider -rs --durations=8 --continue-on-collection-errors tests/test_graphstep.py tests/test_train.py tests/models/test_fast_step.py tests/test_device.py \
    tests/forecast/test_linear_scale.py tests/forecast/test_neural.py tests/forecast/test_global.py 2>&1 | tee "$OUT/tests.log" | tail -25
fi
if on throughput; then
  echo "== training throughput"
  timeout 90 $PY bench/train_throughput.py --device $DEV --models gan --batches 64 256 1024 \
    --loops plain step fit eager 2>&1 | tee "$OUT/throughput.log"
  timeout 45 $PY bench/train_throughput.py --device $DEV --models vae --batches 128 512 \
    --loops plain step fit eager 2>&1 | tee -a "$OUT/throughput.log" | grep -v "^#"
  timeout 45 $PY bench/train_throughput.py --device $DEV --models pixelcnn --batches 64 256 \
    --steps 100 --loops step fit eager 2>&1 | tee -a "$OUT/throughput.log" | grep -v "^#"
fi
if on sampling; then
  echo "== sampling"
  timeout 30 $PY bench/sampling.py --device $DEV --shape 1 28 28 --n 1024 2>&1 | tee "$OUT/sampling.log"
fi
if on presets; then
  echo "== preset times"
  timeout 75 $PY bench/preset_times.py --device $DEV --max-steps 600 2>&1 | tee "$OUT/presets.log"
fi
if on scale; then
  echo "== 100,000 series"
  timeout 45 $PY bench/forecast_scale.py --baseline 200 --no-table 2>&1 | tee "$OUT/scale.log" | tail -12
fi
