"""Measure circuit-muse-nano (or any model spec) on held-out prompts through the real repair loop.

    python benchmarks/nano_eval.py [--model nano] [--rounds 4] [--samples 4] [--limit N] \
        [--out benchmarks/results/nano_eval.json]

Prompts: `circuit_muse.data.scale.eval_requests()` (eval design points, never trained on, phrased with
eval-only templates) and the original project's example prompts (`EXAMPLE_PROMPTS`). For each it runs
`generate_verified` and records: passed (report.passed and a functional test ran), the round it passed in,
the share of round-1 samples that passed (pass@1 estimate), wall time, tokens. Also decode tokens/s for one
sample and for `--samples` samples batched. Timing is wall clock on this machine: compare runs made here.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _results import add_output_args, output_dir  # noqa: E402 - benchmarks/ is the script's own folder

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SATURATING_BUG = """module counter (
    input  wire       clk,
    input  wire       rst,
    input  wire       en,
    output reg  [7:0] count
);
    always @(posedge clk) begin
        if (rst)
            count <= 8'd0;
        else if (en)
            count <= count + 8'd1;
    end
endmodule"""

# The original project's example prompts that name a family (README of the CircuitMuse release).
EXAMPLE_PROMPTS = {
    "counter": "Design an 8-bit counter with enable and synchronous reset.",
    "d_flip_flop": "Write a D flip-flop with asynchronous active-low reset.",
    "sync_fifo": "Design a synchronous FIFO with depth 16 and 8-bit data.",
    "updown_counter": "Design a 4-bit up/down counter with synchronous load and asynchronous reset.",
    "round_robin_arbiter": "Design a round-robin arbiter for 4 requesters.",
    "axi_valid_ready_assertion": "Write an SVA assertion that checks AXI valid stays high until ready.",
    "saturating_counter_fix": ("Fix this 8-bit saturating up counter with enable and synchronous active-high "
                               "reset: it wraps around to 0 instead of stopping at 255.\n\n```verilog\n"
                               + SATURATING_BUG + "\n```"),
}


def decode_speed(model: Any, samples: int, tokens: int = 256) -> dict[str, float]:
    """Decode tokens/s for 1 and `samples` sequences (EOS ignored so every row decodes `tokens`)."""
    from circuit_muse.loop.prompts import first_messages
    from circuit_muse.models.base import GenerationRequest

    msgs = first_messages(EXAMPLE_PROMPTS["updown_counter"])
    model.stream(GenerationRequest(messages=msgs, n=1, max_new_tokens=8, seed=0))   # load + warm up, untimed
    out = {}
    for n in (1, samples):
        req = GenerationRequest(messages=msgs, n=n, max_new_tokens=tokens, temperature=0.8, seed=0)
        t = time.monotonic()
        gen = model.stream(req)
        dt = time.monotonic() - t
        out[f"tok_s_n{n}"] = round(gen.completion_tokens / dt, 1)
        out[f"wall_s_n{n}"] = round(dt, 2)
    return out


def run_prompt(model: Any, pid: str, prompt: str, rounds: int, samples: int, seed: int) -> dict[str, Any]:
    from circuit_muse.loop import generate_verified

    r = generate_verified(prompt, model=model, max_rounds=rounds, samples=samples, seed=seed)
    functional = bool(r.report and r.report.functional_tested)
    passed_round = None
    for c in r.rounds:
        if c.passed and c.report.functional_tested:
            passed_round = c.round
            break
    first = [c for c in r.rounds if c.round == 1]
    return {"id": pid, "prompt": prompt, "passed": bool(r.passed and functional), "passed_round": passed_round,
            "round1_pass_share": sum(c.passed and c.report.functional_tested for c in first) / max(1, len(first)),
            "rounds_used": r.rounds_used, "category": r.report.category.value if r.report else None,
            "spec": (r.spec or {}).get("family"), "total_s": round(r.total_s, 2),
            "generation_s": round(r.generation_s, 2), "verification_s": round(r.verification_s, 2),
            "completion_tokens": r.completion_tokens}


def summarize(rows: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    n = len(rows)
    passed = [r for r in rows if r["passed"]]
    return {
        "prompts": n, "loop_pass_rate": round(len(passed) / max(1, n), 3),
        "pass_at_1": round(sum(r["round1_pass_share"] for r in rows) / max(1, n), 3),
        "pass_rate_after_round": [round(sum(1 for r in rows if r["passed_round"] and r["passed_round"] <= k)
                                        / max(1, n), 3) for k in range(1, rounds + 1)],
        "median_s_to_verified": round(statistics.median([r["total_s"] for r in passed]), 2) if passed else None,
        "median_s_all": round(statistics.median([r["total_s"] for r in rows]), 2) if rows else None,
    }


def main(argv: list[str] | None = None) -> int:
    from circuit_muse.data.scale import eval_requests
    from circuit_muse.models.registry import get_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="nano")
    ap.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="only the first N held-out prompts (0: all)")
    ap.add_argument("--skip-held-out", action="store_true")
    ap.add_argument("--skip-examples", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    add_output_args(ap)
    a = ap.parse_args(argv)
    out = output_dir(a, "nano_eval", ap) / "nano_eval.json"   # before any work: a refused --out costs nothing
    opts = dict(x.split("=", 1) for x in a.model_option)
    model = get_model(a.model, **opts)
    result: dict[str, Any] = {"model": a.model, "rounds": a.rounds, "samples": a.samples, "seed": a.seed,
                              "cpus": os.cpu_count()}
    t0 = time.monotonic()
    if not a.skip_speed:
        result["decode"] = decode_speed(model, a.samples)
        print("decode", result["decode"], flush=True)
    sets = []
    if not a.skip_examples:
        sets.append(("examples", list(EXAMPLE_PROMPTS.items())))
    if not a.skip_held_out:
        reqs = eval_requests()
        sets.append(("held_out", [(q["id"], q["prompt"]) for q in (reqs[:a.limit] if a.limit else reqs)]))
    for name, prompts in sets:
        rows: list[dict[str, Any]] = []
        for pid, prompt in prompts:
            rows.append(run_prompt(model, pid, prompt, a.rounds, a.samples, a.seed))
            print(json.dumps({k: rows[-1][k] for k in ("id", "passed", "passed_round", "total_s")}), flush=True)
            result[name] = {"summary": summarize(rows, a.rounds), "complete": len(rows) == len(prompts),
                            "rows": rows}
            _save(out, result, t0)   # after every prompt, so a run cut short still leaves its results
        print(name, result[name]["summary"], flush=True)
    _save(out, result, t0)
    return 0


def _save(out: Path, result: dict[str, Any], t0: float) -> None:
    result["wall_s"] = round(time.monotonic() - t0, 1)
    out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
