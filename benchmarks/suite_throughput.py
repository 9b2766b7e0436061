"""Candidates per second through each family's suite: the fast vector-replay tier (iverilog+vvp) vs one cocotb
run per candidate, measured in the same run on the same candidates; prints the ratio (issue 3 target: >= 5x).

Candidates per family: the reference plus mutants of it (a mix of passing and failing designs, like a batch of
model samples). Each candidate gets a fresh sandbox directory, as in verify(). Also reported: tier "both"
(replay first, cocotb only for candidates that pass it), the default for verify().

    .venv/bin/python benchmarks/suite_throughput.py [--candidates 10] [--families counter,fifo]
Writes suite_throughput.json and .md to a fresh out/benchmarks/ folder, --out DIR, or (with
--update-results) benchmarks/results/.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time

from _results import add_output_args, output_dir

from circuit_muse.engine.options import VerifyOptions
from circuit_muse.report import Category
from circuit_muse.suites import get_suite, run_suite
from circuit_muse.suites.mutate import mutants
from circuit_muse.tools.sandbox import Limits, MiB

FAMILIES = {
    "register": ("reg-en-async-low", {"WIDTH": 8}),
    "counter": ("updown-en-load-wrap-async-high", {"WIDTH": 8}),
    "fifo": ("fwft-count-almost", {"DEPTH": 16, "WIDTH": 8}),
    "async_fifo": (None, {"DEPTH": 16, "WIDTH": 8}),
    "arbiter": ("rr", {"N": 4}),
    "axi_lite": (None, {}),
}


QUICK = VerifyOptions(sim_limits=Limits(wall_s=5, cpu_s=5, address_space=4096 * MiB, file_size=64 * MiB))


def _rate(suite, sources: list[str], tier: str) -> tuple[float, list[float], int]:
    times, passed = [], 0
    for src in sources:
        t = time.perf_counter()
        out = run_suite(suite, src, tier=tier)
        times.append(time.perf_counter() - t)
        passed += out.passed
    return len(sources) / sum(times), times, passed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--candidates", type=int, default=10)
    ap.add_argument("--families", default=",".join(FAMILIES))
    add_output_args(ap)
    args = ap.parse_args(argv)
    out = output_dir(args, "suite_throughput", ap) / "suite_throughput"
    rows = {}
    for fam in args.families.split(","):
        variant, params = FAMILIES[fam]
        suite = get_suite(fam, variant, params)
        ref = suite.reference_rtl()
        pool = [m.source for m in mutants(ref)]
        step = max(1, len(pool) // max(1, args.candidates - 1))
        # candidates that loop forever cost the time limit in every tier alike: leave them out of the timing
        cands = [ref] + [src for src in pool[::step] if run_suite(suite, src, tier="fast", options=QUICK).category
                         is not Category.TIMEOUT][: args.candidates - 1]
        run_suite(suite, ref, tier="both")  # warm caches (vectors, rendered bench, imports)
        fast, fast_t, fast_pass = _rate(suite, cands, "fast")
        full, full_t, full_pass = _rate(suite, cands, "full")
        both, _, _ = _rate(suite, cands, "both")
        rows[fam] = {"variant": suite.variant, "params": suite.params, "candidates": len(cands),
                     "fast_per_s": round(fast, 2), "cocotb_per_s": round(full, 2), "both_per_s": round(both, 2),
                     "ratio_fast_vs_cocotb": round(fast / full, 2), "ratio_both_vs_cocotb": round(both / full, 2),
                     "fast_ms_median": round(1000 * statistics.median(fast_t), 1),
                     "cocotb_ms_median": round(1000 * statistics.median(full_t), 1),
                     "passed_fast": fast_pass, "passed_cocotb": full_pass}
        r = rows[fam]
        print(f"{fam:11s} fast {r['fast_per_s']:6.1f}/s ({r['fast_ms_median']:.0f} ms)  cocotb {r['cocotb_per_s']:5.2f}/s "
              f"({r['cocotb_ms_median']:.0f} ms)  both {r['both_per_s']:5.1f}/s  ratio {r['ratio_fast_vs_cocotb']:.1f}x "
              f"(both: {r['ratio_both_vs_cocotb']:.1f}x)  passed fast/cocotb {fast_pass}/{full_pass} of {len(cands)}",
              flush=True)
    worst = min(r["ratio_fast_vs_cocotb"] for r in rows.values())
    result = {"benchmark": "suite_throughput", "target": ">= 5x candidates/s (fast tier vs one cocotb run each)",
              "met": worst >= 5, "worst_ratio": worst, "python": platform.python_version(),
              "machine": platform.machine(), "families": rows}
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Suite throughput: vector-replay tier vs one cocotb run per candidate", "",
             f"Sequential, one candidate at a time, fresh sandbox each, Icarus 11, cocotb 2.1; {platform.machine()} "
             "(2 shared cores, noisy). Candidates: the reference plus mutants (mixed pass/fail).", "",
             "| family | candidates | fast /s | cocotb /s | both /s | fast vs cocotb | both vs cocotb |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for fam, r in rows.items():
        lines.append(f"| {fam} | {r['candidates']} | {r['fast_per_s']} | {r['cocotb_per_s']} | {r['both_per_s']} | "
                     f"{r['ratio_fast_vs_cocotb']}x | {r['ratio_both_vs_cocotb']}x |")
    lines += ["", f"Worst ratio: {worst}x (target >= 5x: {'met' if worst >= 5 else 'MISSED'})."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"worst fast/cocotb ratio: {worst:.1f}x ({'>= 5x' if worst >= 5 else 'below 5x'})")
    return 0 if worst >= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
