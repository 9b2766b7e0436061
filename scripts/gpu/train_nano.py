"""Train circuit-muse-nano from scratch on one GPU: a Qwen2 decoder, seeded, within one device call.

Standalone (torch + transformers only) so it runs from a carried folder on the GPU machine:

    python3 train_nano.py --tokenizer TOK_DIR --instruct instruct.jsonl.xz --corpus corpus.jsonl.xz \
        --size s --out OUT_DIR [--epochs 6] [--max-minutes 7]

Data:
- instruct.jsonl.xz: {"prompt": text rendered with the chat template up to "<|im_start|>assistant\\n",
  "completion": answer + "<|im_end|>\\n"}; loss on the completion only (what the loop asks for at inference);
- corpus.jsonl.xz: {"text": ...} HDL files from the permissive corpus; loss on every token, cut into blocks.
Both are shuffled together with a fixed seed; the learning rate follows a warm-up + cosine schedule over a
fixed number of steps. A wall-clock guard (--max-minutes) stops early and says so in the log.
Writes bf16 safetensors shards (<= 15 MB each), the tokenizer, and training.json (settings, loss curve).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import math
import os
import random
import time
from pathlib import Path

import torch
from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

SIZES = {  # name: (hidden, layers, heads, kv_heads, intermediate)
    "xs": (256, 4, 4, 2, 768),
    "s": (320, 6, 5, 1, 960),
    "m": (384, 8, 6, 2, 1152),
}


def load_inference_tokenizer(folder: Path):
    """The tokenizer exactly as the shipped model folder loads it at inference: the fitted tokenizer.json.

    The folder's tokenizer_config names PreTrainedTokenizerFast, and the hf backend loads such a folder through
    that class (AutoTokenizer would build Qwen2Tokenizer beside a qwen2 config.json and swap in Qwen2's own
    pre-tokenizer: digits one by one, NFC). Training and inference must see the same ids."""
    return PreTrainedTokenizerFast.from_pretrained(str(folder))


def read_xz_jsonl(path: Path) -> list[dict]:
    with lzma.open(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_sequences(tok, instruct: list[dict], corpus: list[dict], max_len: int, block: int,
                    corpus_epochs: int, epochs: int, rng: random.Random, repeat: dict[str, int] | None = None):
    """(train sequences as (ids, n_prompt) with n_prompt=-1 meaning full loss, val sequences, counts).
    `repeat` {family: k}: the training examples of that family (the first part of "point") appear k times
    per epoch (the validation split is drawn before repeating)."""
    repeat = repeat or {}
    prompts = tok([r["prompt"] for r in instruct], add_special_tokens=False)["input_ids"]
    comps = tok([r["completion"] for r in instruct], add_special_tokens=False)["input_ids"]
    fams = [r.get("point", "").split("/")[0] for r in instruct]
    inst = [((p + c, len(p)), f) for p, c, f in zip(prompts, comps, fams, strict=False) if len(p) + len(c) <= max_len]
    dropped = len(instruct) - len(inst)
    dropped_by_family: dict[str, int] = {}
    for p, c, f in zip(prompts, comps, fams, strict=False):
        if len(p) + len(c) > max_len:
            dropped_by_family[f] = dropped_by_family.get(f, 0) + 1
    rng.shuffle(inst)
    n_val = max(8, len(inst) // 50)
    val = [s for s, _ in inst[:n_val]]
    inst = [s for s, f in inst[n_val:] for _ in range(max(1, repeat.get(f, 1)))]
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    stream: list[int] = []
    for ids in tok([d["text"] for d in corpus], add_special_tokens=False)["input_ids"]:
        stream += ids + [eos]
    blocks = [(stream[i:i + block], -1) for i in range(0, len(stream) - block + 1, block)]
    train = inst * epochs + blocks * corpus_epochs
    rng.shuffle(train)
    counts = {"instruct_examples": len(inst), "instruct_dropped_too_long": dropped,
              "dropped_too_long_by_family": dropped_by_family, "repeat": repeat, "val_examples": len(val),
              "corpus_tokens": len(stream), "corpus_blocks": len(blocks),
              "instruct_tokens_per_epoch": sum(len(s) for s, _ in inst)}
    return train, val, counts


def batches(seqs, batch_tokens: int, rng: random.Random | None):
    """Length-bucketed batches of at most batch_tokens padded tokens, in a seeded order."""
    order = list(range(len(seqs)))
    # sort within windows of 2048 so batches are tight but the epoch order stays mixed
    out = []
    for w in range(0, len(order), 2048):
        win = sorted(order[w:w + 2048], key=lambda i: len(seqs[i][0]))
        cur: list[int] = []
        for i in win:
            longest = max([len(seqs[j][0]) for j in cur] + [len(seqs[i][0])])
            if cur and longest * (len(cur) + 1) > batch_tokens:
                out.append(cur)
                cur = []
            cur.append(i)
        if cur:
            out.append(cur)
    if rng is not None:
        rng.shuffle(out)
    return out


def collate(seqs, idx: list[int], pad_id: int, device: str):
    """Right-padded ids, labels (-100 on prompt and padding) and the padding mask (for counting tokens only).

    The model is called without the mask: with right padding, causal attention alone is exact (no real token
    sits after a pad). Passing the 2-D padding mask on the GPU machine's transformers 5.17 let padded
    batches see later tokens: train loss fell to 0.003 while the model generated garbage."""
    n = max(len(seqs[i][0]) for i in idx)
    n = (n + 63) // 64 * 64
    ids = torch.full((len(idx), n), pad_id, dtype=torch.long)
    labels = torch.full((len(idx), n), -100, dtype=torch.long)
    mask = torch.zeros((len(idx), n), dtype=torch.long)
    for r, i in enumerate(idx):
        s, n_prompt = seqs[i]
        ids[r, :len(s)] = torch.tensor(s)
        mask[r, :len(s)] = 1
        start = 0 if n_prompt < 0 else n_prompt
        labels[r, start:len(s)] = torch.tensor(s[start:])
    return ids.to(device), mask.to(device), labels.to(device)


@torch.no_grad()
def val_loss(model, val, pad_id: int, device: str, batch_tokens: int) -> float:  # noqa: D103
    model.eval()
    tot, n = 0.0, 0
    for idx in batches(val, batch_tokens, None):
        ids, mask, labels = collate(val, idx, pad_id, device)
        with torch.autocast(device, dtype=torch.bfloat16):
            out = model(input_ids=ids, labels=labels)
        k = int((labels[:, 1:] != -100).sum())
        tot += float(out.loss) * k
        n += k
    model.train()
    return tot / max(1, n)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--instruct", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--size", choices=sorted(SIZES), default="s")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--corpus-epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch-tokens", type=int, default=65536)
    ap.add_argument("--max-len", type=int, default=2048)
    ap.add_argument("--block", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-minutes", type=float, default=7.0)
    ap.add_argument("--max-steps", type=int, default=0, help="fix the step count (0: fit it to --max-minutes)")
    ap.add_argument("--limit", type=int, default=0, help="use only this many examples (smoke tests)")
    ap.add_argument("--repeat", default="", help="family=k,...: those families' examples k times per epoch")
    a = ap.parse_args()
    t0 = time.time()
    random.seed(a.seed)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"   # cpu: smoke tests only
    torch.backends.cuda.matmul.allow_tf32 = True
    tok = load_inference_tokenizer(a.tokenizer)
    pad_id, eos_id = tok.pad_token_id, tok.eos_token_id
    instruct = read_xz_jsonl(a.instruct)[:a.limit or None]
    corpus = read_xz_jsonl(a.corpus)[:a.limit or None]
    repeat = {k: int(v) for k, v in (x.split("=") for x in a.repeat.split(",") if x)}
    train, val, counts = build_sequences(tok, instruct, corpus, a.max_len, a.block, a.corpus_epochs, a.epochs, rng,
                                         repeat)
    hidden, layers, heads, kv, inter = SIZES[a.size]
    cfg = Qwen2Config(vocab_size=len(tok), hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, num_key_value_heads=kv, intermediate_size=inter,
                      max_position_embeddings=8192, tie_word_embeddings=True, rms_norm_eps=1e-6,
                      bos_token_id=None, eos_token_id=eos_id, pad_token_id=pad_id, use_cache=True)
    model = Qwen2ForCausalLM(cfg).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    plan = batches(train, a.batch_tokens, rng)
    steps = min(len(plan), a.max_steps) if a.max_steps else len(plan)
    warm = 30
    decay, no_decay = [], []
    for p in model.parameters():
        (no_decay if p.ndim < 2 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), fused=device == "cuda")
    log = {"size": a.size, "params": n_params, "config": cfg.to_dict(), "args": {k: str(v) for k, v in vars(a).items()},
           "data": {**counts, "instruct_sha256": sha256(a.instruct), "corpus_sha256": sha256(a.corpus),
                    "tokenizer_vocab": len(tok)},
           "steps_planned": steps, "curve": [], "val": []}
    print(f"[{a.size}] params={n_params} steps={steps} data={counts} prep={time.time() - t0:.1f}s", flush=True)
    model.train()
    t_train = time.time()
    tokens_seen = 0
    stopped_early = False
    for step, idx in enumerate(plan[:steps]):
        if step == 20:
            t20 = time.time()
        if step == 80 and not a.max_steps:
            # fit the schedule to the time left (step time measured after warm-up): the cosine then ends when
            # the time does; steps_done is logged, so --max-steps steps_done replays the run exactly
            per_step = (time.time() - t20) / 60
            fit = 80 + int((a.max_minutes * 60 - (time.time() - t0) - 25) / per_step)
            if fit < steps:
                steps = fit
                log["steps_fitted_to_time"] = fit
        if step >= steps:
            break
        lr = a.lr * (step + 1) / warm if step < warm else \
            a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, steps - warm))))
        for g in opt.param_groups:
            g["lr"] = lr
        ids, mask, labels = collate(train, idx, pad_id, device)
        with torch.autocast(device, dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        tokens_seen += int(mask.sum())
        if step % 25 == 0 or step == steps - 1:
            el = time.time() - t_train
            log["curve"].append({"step": step, "loss": round(float(loss), 4), "lr": lr, "tokens": tokens_seen,
                                 "s": round(el, 1)})
            if step % 200 == 0:
                print(f"[{a.size}] step {step}/{steps} loss {float(loss):.4f} {tokens_seen / max(el, 1e-9):.0f} tok/s",
                      flush=True)
        if step % 500 == 0 or step == steps - 1:
            log["val"].append({"step": step, "val_loss": round(val_loss(model, val, pad_id, device, a.batch_tokens), 4)})
        if time.time() - t0 > a.max_minutes * 60 + 30:
            stopped_early = True
            log["val"].append({"step": step, "val_loss": round(val_loss(model, val, pad_id, device, a.batch_tokens), 4)})
            break
    log.update(steps_done=step + 1 if stopped_early else steps, stopped_early=stopped_early,
               train_s=round(time.time() - t_train, 1),
               tokens_seen=tokens_seen, tokens_per_s=round(tokens_seen / max(time.time() - t_train, 1e-9)))
    a.out.mkdir(parents=True, exist_ok=True)
    model = model.to(torch.bfloat16)
    model.config.dtype = "bfloat16"
    model.generation_config = GenerationConfig(eos_token_id=eos_id, pad_token_id=pad_id, bos_token_id=None)
    model.save_pretrained(str(a.out), max_shard_size="15MB", safe_serialization=True)
    tok.save_pretrained(str(a.out))
    (a.out / "training.json").write_text(json.dumps(log, indent=1) + "\n")
    print(f"[{a.size}] done steps={log['steps_done']}/{len(plan)} early={stopped_early} total={time.time() - t0:.0f}s "
          f"val={log['val'][-1]}", flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")
    raise SystemExit(main())
