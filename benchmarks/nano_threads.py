"""Decode speed of the shipped nano model against torch's CPU thread count, in one process.

    python benchmarks/nano_threads.py [--tokens 64] [--out DIR | --update-results]

Greedy decode of a fixed number of tokens (min_new_tokens = max_new_tokens), batch 1 and batch 4, for 1 and
os.cpu_count() threads; the ratio between them is what matters (the machine may be shared).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _results import add_output_args, output_dir  # noqa: E402 - benchmarks/ is the script's own folder


def main(argv: list[str] | None = None) -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from circuit_muse.nano import MODEL_DIR

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=64)
    add_output_args(ap)
    a = ap.parse_args(argv)
    out = output_dir(a, "nano_threads", ap) / "nano_threads.json"   # before any work
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
    out.write_text(json.dumps({"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
