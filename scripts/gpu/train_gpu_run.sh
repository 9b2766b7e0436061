#!/usr/bin/env bash
# The GPU half of issue 5, in one device call (see scripts/gpu/train_gpu_check.py and benchmarks/train_speed.py):
#   carry .whl (bitsandbytes, peft) and .whl_train (transformers 5.23.0, the pinned version), then
#   bash scripts/gpu/train_gpu_run.sh "$OUT"
set -u
OUT=${1:?output folder}
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .whl/*.whl .whl_train/*.whl || exit 2
export PYTHONPATH=/tmp/site
if ! python3 -c "import transformers" 2>/dev/null; then  # fall back to the machine's transformers
    rm -rf /tmp/site/transformers /tmp/site/transformers-*
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, transformers, peft, bitsandbytes as b; print(torch.__version__, transformers.__version__, peft.__version__, b.__version__)" | tee -a "$OUT/gpu.txt"
timeout 200 python3 scripts/gpu/train_gpu_check.py --out "$OUT" 2>&1 | tee "$OUT/check.log" | grep -v -E "it/s\]|Writing|Loading" | tail -c 6000
echo "check rc=${PIPESTATUS[0]}"
timeout 330 python3 benchmarks/train_speed.py --out "$OUT" --work /tmp/bench --batch-sizes 1,2,4 --seq-len 1024 \
    --steps 6 --warmup 2 2>&1 | tee "$OUT/bench.log" | grep -v -E "it/s\]|Writing|Loading" | tail -c 5000
echo "bench rc=${PIPESTATUS[0]}"
