"""Decode speed of the shipped nano model against torch's CPU thread count, in one process.

    python benchmarks/nano_threads.py [--tokens 64] [--out benchmarks/results/nano_threads.json]

Greedy decode of a fixed number of tokens (min_new_tokens = max_new_tokens), batch 1 and batch 4, for 1 and
os.cpu_count() threads; the ratio between them is what matters (the machine may be shared).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from circuit_muse.nano import MODEL_DIR

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "nano_threads.json")
    a = ap.parse_args(argv)
    tok = AutoTokenizer.from_pretrained(str(MODEL_DIR))
    model = AutoModelForCausalLM.from_pretrained(str(MODEL_DIR), dtype=torch.float32).eval()
    ids = tok("module counter (\n    input clk,", return_tensors="pt").input_ids
    rows = []
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for batch in (1, 4):
            x = ids.repeat(batch, 1)
            with torch.no_grad():
                model.generate(x, max_new_tokens=4, do_sample=False)
                t = time.monotonic()
                model.generate(x, max_new_tokens=a.tokens, min_new_tokens=a.tokens, do_sample=False)
                dt = time.monotonic() - t
            rows.append({"threads": threads, "batch": batch, "tok_s": round(batch * a.tokens / dt, 1)})
            print(rows[-1], flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
