"""Sample round-1 candidates from several nano sizes on the GPU, for the size-vs-pass-rate table.

    python3 nano_sample.py --prompts prompts.json --models DIR1,DIR2 --out samples.json [--n 4]

prompts.json: [{"id", "messages"}] with the loop's first-round messages (built where the engine runs).
For each model: one greedy answer and `n` samples at temperature 0.8 (what the loop asks for with 4 samples)
per prompt, all prompts batched with left padding. The candidates are verified afterwards, on the machine
that has the HDL tools (benchmarks/nano_sizes.py).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast


def generate(model, tok, texts: list[str], *, n: int, sample: bool, max_new: int, seed: int) -> list[list[str]]:
    torch.manual_seed(seed)
    enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
    kw = {"do_sample": True, "temperature": 0.8, "top_p": 1.0} if sample else {"do_sample": False}
    out = model.generate(**enc, max_new_tokens=max_new, num_return_sequences=n, pad_token_id=tok.pad_token_id,
                         eos_token_id=tok.eos_token_id, **kw)
    gen = out[:, enc["input_ids"].shape[1]:]
    dec = tok.batch_decode(gen, skip_special_tokens=True)
    return [dec[i * n:(i + 1) * n] for i in range(len(texts))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=Path, required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-new", type=int, default=1536)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    prompts = json.loads(a.prompts.read_text())
    result = {}
    for mdir in a.models.split(","):
        t = time.time()
        tok = PreTrainedTokenizerFast.from_pretrained(mdir)   # the fitted tokenizer.json, as the hf backend loads it
        tok.padding_side = "left"
        model = AutoModelForCausalLM.from_pretrained(mdir, dtype=torch.bfloat16).cuda().eval()
        texts = [tok.apply_chat_template(p["messages"], add_generation_prompt=True, tokenize=False) for p in prompts]
        with torch.no_grad():
            greedy = generate(model, tok, texts, n=1, sample=False, max_new=a.max_new, seed=a.seed)
            sampled = generate(model, tok, texts, n=a.n, sample=True, max_new=a.max_new, seed=a.seed)
        result[Path(mdir).name] = {p["id"]: {"greedy": g[0], "samples": s}
                                   for p, g, s in zip(prompts, greedy, sampled, strict=True)}
        print(Path(mdir).name, f"{time.time() - t:.1f}s", flush=True)
    a.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
