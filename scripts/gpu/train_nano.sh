#!/usr/bin/env bash
# Train the nano sizes side by side on one GPU (small models leave most of an H200 idle), optionally sample
# round-1 candidates from each for the size-vs-pass-rate table (when size_prompts.json is here), then pack
# what comes back through the device tool: each size's weight shards in $OUT/<size>/, samples.json, and
# everything else (config, tokenizer, training.json with the loss curve, logs) in $OUT/meta.tar.
# Usage (from the staged folder): bash train_nano.sh "xs s m" [MAX_MINUTES] [REPEAT]
# REPEAT (e.g. "assertion=2,axi_lite=2") repeats those families' examples per epoch (train_nano.py --repeat).
set -u
SIZES=${1:-"xs s m"}
MINUTES=${2:-7}
REPEAT=${3:-""}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
for s in $SIZES; do
  lr=2e-3; [ "$s" = m ] && lr=1.5e-3
  python3 train_nano.py --tokenizer tokenizer --instruct instruct.jsonl.xz --corpus corpus.jsonl.xz \
    --size "$s" --lr "$lr" --epochs 10 --max-len 4736 --out "/tmp/nano_$s" --max-minutes "$MINUTES" \
    --repeat "$REPEAT" \
    > "/tmp/train_$s.log" 2>&1 &
done
wait
if [ -f size_prompts.json ]; then
  for s in $SIZES; do
    python3 nano_sample.py --prompts size_prompts.json --models "/tmp/nano_$s" --out "/tmp/samples_$s.json" \
      > "/tmp/sample_$s.log" 2>&1 &
  done
  wait
  python3 -c "import json,sys; json.dump({k: v for f in sys.argv[2:] for k, v in json.load(open(f)).items()}, open(sys.argv[1], 'w'))" \
    "$OUT/samples.json" /tmp/samples_*.json
fi
for s in $SIZES; do
  tail -3 "/tmp/train_$s.log"; tail -2 "/tmp/sample_$s.log" 2>/dev/null
  mkdir -p "$OUT/$s" && mv /tmp/nano_"$s"/*.safetensors "$OUT/$s/" && cp "/tmp/train_$s.log" "/tmp/nano_$s/train.log"
done
tar -C /tmp -cf "$OUT/meta.tar" $(for s in $SIZES; do echo "nano_$s"; done)
ls -la "$OUT" "$OUT"/*
