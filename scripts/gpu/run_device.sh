#!/usr/bin/env bash
# Runs on the device machine (GPU), from the repository root, with the wheels in .whl/ carried along:
#   .whl/ = bitsandbytes 0.50.2, peft 0.21.2, pyslang 12.1.0 (only the engine needs it; the models code imports without it), pytest 9.2.0 + deps.
# 1. the nf4 GPU tests of the hf backend (tests/test_models_gpu.py), 2. benchmarks/generation_speed.py.
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
  df -h /tmp | tail -1
  python3 -c "import torch, transformers, peft, bitsandbytes, huggingface_hub as h; print('torch', torch.__version__,
'transformers', transformers.__version__, 'peft', peft.__version__, 'bitsandbytes', bitsandbytes.__version__,
'hub', h.__version__, 'gpu', torch.cuda.get_device_name(0))"
} 2>&1 | tee "$OUT/env.txt"
[ -n "${SKIP_TESTS:-}" ] || CIRCUIT_MUSE_GPU_TESTS=1 timeout "${TEST_TIMEOUT:-180}" python3 -m pytest tests/test_models_gpu.py -v -p no:cacheprovider -rA \
  -W ignore::FutureWarning 2>&1 | tee "$OUT/pytest_gpu.txt"
echo "pytest exit: ${PIPESTATUS[0]}" | tee -a "$OUT/pytest_gpu.txt"
timeout "${BENCH_TIMEOUT:-390}" python3 benchmarks/generation_speed.py --out "$OUT" "$@" 2>&1 \
  | grep -v "Loading weights\|Writing model" | tee "$OUT/generation_speed.log"
echo "benchmark exit: ${PIPESTATUS[0]}" | tee -a "$OUT/generation_speed.log"
