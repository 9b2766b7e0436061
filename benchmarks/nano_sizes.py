"""Size vs pass rate for circuit-muse-nano: verify round-1 candidates sampled on the GPU (scripts/gpu/nano_sample.py).

    python benchmarks/nano_sizes.py SAMPLES.json [--out DIR | --update-results]

For each model size and prompt (held-out eval prompts and the example prompts, first-round messages exactly
as the loop builds them) it verifies the greedy answer and the 4 samples with the prompt's family suite and
the loop's verify options, and reports greedy pass rate, pass@1 (share of samples that pass) and
pass@4 within one round (any sample passes). Passing means report.passed with a functional test run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _results import add_output_args, output_dir  # noqa: E402 - benchmarks/ is the script's own folder


def _suite_for(prompt: str):
    from circuit_muse.engine.options import VerifyOptions
    from circuit_muse.loop.tasks import Task, classify_task
    from circuit_muse.suites import get_suite, match

    m = match(prompt)
    suite = get_suite(m.family, m.variant, m.params)   # what the loop's _resolve_target builds
    opts = suite.verify_options(VerifyOptions())
    if classify_task(prompt) is Task.ASSERTION and not opts.allow_assertions:
        import dataclasses

        opts = dataclasses.replace(opts, allow_assertions=True)
    return suite, opts


def main(argv: list[str] | None = None) -> int:
    from nano_eval import EXAMPLE_PROMPTS

    from circuit_muse.data.scale import eval_requests
    from circuit_muse.engine.many import verify_many

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("samples", type=Path, nargs="?", help="JSON written by scripts/gpu/nano_sample.py")
    add_output_args(ap)
    a = ap.parse_args(argv)
    out = output_dir(a, "nano_sizes", ap) / "nano_sizes.json"   # before any work
    if a.samples is None or not a.samples.is_file():
        ap.error(f"give SAMPLES, the JSON from scripts/gpu/nano_sample.py ({a.samples or 'missing'})")
    samples = json.loads(a.samples.read_text())
    prompts = {r["id"]: r["prompt"] for r in eval_requests()}
    prompts.update({f"example/{k}": v for k, v in EXAMPLE_PROMPTS.items()})
    rows: dict[str, list[dict[str, Any]]] = {}
    for pid, prompt in prompts.items():
        suite, opts = _suite_for(prompt)
        texts, owners = [], []
        for size, per in samples.items():
            texts += [per[pid]["greedy"], *per[pid]["samples"]]
            owners += [(size, "greedy")] + [(size, "sample")] * len(per[pid]["samples"])
        reps = verify_many(texts, testbench=suite, contract=suite.contract, options=opts,
                           workers=min(2, os.cpu_count() or 1))
        by_size: dict[str, dict[str, Any]] = {}
        for (size, kind), rep in zip(owners, reps, strict=True):
            ok = bool(rep.passed and rep.functional_tested)
            d = by_size.setdefault(size, {"id": pid, "greedy": None, "samples": []})
            if kind == "greedy":
                d["greedy"] = ok
                d["greedy_category"] = rep.category.value
            else:
                d["samples"].append(ok)
        for size, d in by_size.items():
            rows.setdefault(size, []).append(d)
        print(pid, {s: (d["greedy"], sum(d["samples"])) for s, d in by_size.items()}, flush=True)
    table = {}
    for size, rs in rows.items():
        held = [r for r in rs if not r["id"].startswith("example/")]
        ex = [r for r in rs if r["id"].startswith("example/")]

        def rates(group: list[dict[str, Any]]) -> dict[str, float]:
            n = max(1, len(group))
            return {"prompts": len(group), "greedy": round(sum(r["greedy"] for r in group) / n, 3),
                    "pass_at_1": round(sum(sum(r["samples"]) / max(1, len(r["samples"])) for r in group) / n, 3),
                    "pass_at_4_one_round": round(sum(any(r["samples"]) for r in group) / n, 3)}

        table[size] = {"held_out": rates(held), "examples": rates(ex)}
    out.write_text(json.dumps({"table": table, "rows": rows}, indent=1) + "\n")
    print(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
