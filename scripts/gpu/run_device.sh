#!/usr/bin/env bash
# Runs on the device machine (GPU), from the repository root, with the wheels in .whl/ carried along:
#   .whl/ = bitsandbytes 0.50.2 repacked with only its CPU and CUDA 13.0 libraries (3.6 MB instead of 43 MB; the
#   machine has torch 2.11+cu130, peft and pytest already). Build it here with:
#     pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux_2_24_x86_64 -d /tmp/bnb bitsandbytes==0.50.2
#     and drop bitsandbytes/libbitsandbytes_{cuda1[12]*,cuda132,rocm*,xpu*}.so and their RECORD lines.
# 1. the GPU tests of the hf backend (nf4, and the fast decode path against transformers' generate),
# 2. benchmarks/generation_speed.py (arguments are passed on).
# Results go to $OUT (the device tool brings them back); copy them into benchmarks/results/.
set -uo pipefail
OUT=${OUT:-/tmp/circuit_muse_out}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.memory --format=csv
  python3 -c "import torch, transformers, peft, bitsandbytes; print('torch', torch.__version__,
'transformers', transformers.__version__, 'peft', peft.__version__, 'bitsandbytes', bitsandbytes.__version__,
'gpu', torch.cuda.get_device_name(0))"
} 2>&1 | tee "$OUT/env.txt"
[ -n "${SKIP_TESTS:-}" ] || CIRCUIT_MUSE_GPU_TESTS=1 timeout "${TEST_TIMEOUT:-200}" python3 -m pytest \
  ${GPU_TESTS:-tests/test_models_gpu.py tests/test_fast_decode_gpu.py} -v -p no:cacheprovider -rA \
  -W ignore::FutureWarning 2>&1 | tee "$OUT/pytest_gpu.txt"
echo "pytest exit: ${PIPESTATUS[0]}" | tee -a "$OUT/pytest_gpu.txt"
# The random 7B model (16.6 GB) is written and read back: in memory (/dev/shm) when it has room, else /tmp.
MODEL_DIR=/tmp/circuit_muse_bench/qwen2.5-vl-7b-random
[ "$(df --output=avail -B1G /dev/shm 2>/dev/null | tail -1 | tr -d ' ')" -ge 40 ] 2>/dev/null \
  && MODEL_DIR=/dev/shm/circuit_muse_bench/qwen2.5-vl-7b-random
[ -n "${SKIP_BENCH:-}" ] || {
  timeout "${BENCH_TIMEOUT:-390}" python3 benchmarks/generation_speed.py --out "$OUT" --model-dir "$MODEL_DIR" "$@" 2>&1 \
    | grep -v "Loading weights\|Writing model" | tee "$OUT/generation_speed.log"
  echo "benchmark exit: ${PIPESTATUS[0]}" | tee -a "$OUT/generation_speed.log"
}
