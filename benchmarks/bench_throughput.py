"""All VerilogEval v2 references through `circuit-muse bench` vs VerilogEval's own raw serial flow.

Raw flow (VerilogEval v2's scripts/sv-iv-analyze, one problem after another):
    iverilog -Wall -Winfloop -Wno-timescale -g2012 -s tb -o S S.sv P_test.sv P_ref.sv ; timeout 30 vvp S
Harness: run_bench(--model reference, --workers W), result cache off, with `--checks functional` (what the
verdict needs) and `--checks full` (Verilator lint + Yosys synth reported beside). Both run in this one
process, interleaved raw / functional / full / raw, and the load average is recorded with them.
Target (issue 10): harness wall time <= 0.5x the raw serial flow with 2 workers.
Floor: the raw flow's own per-problem times, packed onto W workers longest-first with zero overhead, give the
best wall time any harness running the same simulations could reach; a single long simulation
(Prob144_conwaylife) can hold that floor at or above 0.5x on its own. Recorded as `floor_ratio`.

    .venv/bin/python benchmarks/bench_throughput.py --verilog-eval ~/verilog-eval [--workers 2] [--out DIR | --update-results]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from circuit_muse.bench.harness import BenchConfig, run_bench
from circuit_muse.bench.suites import load_suite
from circuit_muse.tools.registry import require, versions

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import add_output_args, output_dir  # noqa: E402 - benchmarks/ is the script's own folder


def raw_serial(suite_path: str) -> dict:
    suite = load_suite(f"verilog-eval:{suite_path}")
    iverilog, vvp = require("iverilog").path, require("vvp").path
    passed, t0, times = 0, time.monotonic(), {}
    for p in suite.problems:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="ve-raw-") as d:
            w = Path(d)
            (w / "S.sv").write_text(p.reference)
            (w / "test.sv").write_text(p.data["test"])
            (w / "ref.sv").write_text(p.data["support"][0][1])
            comp = subprocess.run([iverilog, "-Wall", "-Winfloop", "-Wno-timescale", "-g2012", "-s", "tb", "-o", "S",
                                   "S.sv", "test.sv", "ref.sv"], cwd=w, capture_output=True, text=True)
            if comp.returncode == 0:
                try:
                    sim = subprocess.run(["timeout", "30", vvp, "S"], cwd=w, capture_output=True, text=True,
                                         timeout=60)
                    passed += bool(re.search(r"^Mismatches: 0 in \d+ samples$", sim.stdout, re.M))
                except subprocess.TimeoutExpired:
                    pass
        times[p.id] = time.monotonic() - started
    return {"wall_s": round(time.monotonic() - t0, 2), "passed": passed, "problems": len(suite.problems),
            "per_problem_s": {k: round(v, 4) for k, v in times.items()}}


def floor_wall(times: list[float], workers: int) -> float:
    """Longest-first makespan of `times` on `workers` slots: the wall time of a zero-overhead harness."""
    slots = [0.0] * workers
    for t in sorted(times, reverse=True):
        slots[slots.index(min(slots))] += t
    return max(slots)


def harness(suite_path: str, workers: int, checks: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="ve-bench-") as out:
        t0 = time.monotonic()
        run = run_bench(BenchConfig(suite=f"verilog-eval:{suite_path}", model="reference", out=Path(out),
                                    workers=workers, checks=checks, use_cache=False))
        wall = time.monotonic() - t0
    failed = sorted(r["problem"] for r in run.records if r["c"] == 0)
    return {"wall_s": round(wall, 2), "passed": run.metrics["passed_problems"], "problems": len(run.records),
            "failed": failed}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--verilog-eval", default=os.environ.get("CIRCUIT_MUSE_VERILOG_EVAL"),
                    help="a VerilogEval v2 clone (or $CIRCUIT_MUSE_VERILOG_EVAL)")
    ap.add_argument("--workers", type=int, default=2)
    add_output_args(ap)
    args = ap.parse_args()
    out = output_dir(args, "bench_throughput", ap) / "bench_throughput.json"   # before any work
    if not args.verilog_eval:
        print("bench_throughput: give --verilog-eval PATH (a VerilogEval v2 clone)", file=sys.stderr)
        return 2
    load = [os.getloadavg()[0]]
    raw1 = raw_serial(args.verilog_eval)
    load.append(os.getloadavg()[0])
    func = harness(args.verilog_eval, args.workers, "functional")
    load.append(os.getloadavg()[0])
    full = harness(args.verilog_eval, args.workers, "full")
    load.append(os.getloadavg()[0])
    raw2 = raw_serial(args.verilog_eval)
    load.append(os.getloadavg()[0])
    raw_wall = (raw1["wall_s"] + raw2["wall_s"]) / 2
    per = {k: (raw1["per_problem_s"][k] + raw2["per_problem_s"][k]) / 2 for k in raw1["per_problem_s"]}
    floor = floor_wall(list(per.values()), args.workers)
    longest = max(per, key=per.get)
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg_1m": load},
        "tools": versions(("iverilog", "vvp", "verilator", "yosys")), "workers": args.workers,
        "raw_serial": [raw1, raw2], "raw_serial_mean_s": round(raw_wall, 2),
        "harness_functional": func, "harness_full": full,
        "ratio_functional": round(func["wall_s"] / raw_wall, 3), "ratio_full": round(full["wall_s"] / raw_wall, 3),
        "target_ratio": 0.5, "floor_wall_s": round(floor, 2), "floor_ratio": round(floor / raw_wall, 3),
        "longest_problem": {"id": longest, "raw_s": round(per[longest], 3), "share_of_raw": round(per[longest] / raw_wall, 3)},
    }
    out.write_text(json.dumps(result, indent=1))
    md = out.with_suffix(".md")
    md.write_text(
        f"# VerilogEval v2 references: harness vs raw serial flow\n\n"
        f"{os.cpu_count()} CPUs, load average (1 min) during the run: {', '.join(f'{x:.1f}' for x in load)}; "
        f"{args.workers} workers; tools {result['tools']}\n\n"
        "| flow | wall s | passed | ratio to raw |\n|---|---|---|---|\n"
        f"| raw serial iverilog+vvp (mean of 2) | {raw_wall:.1f} | {raw1['passed']}/{raw1['problems']} | 1.00 |\n"
        f"| harness, --checks functional | {func['wall_s']:.1f} | {func['passed']}/{func['problems']} | "
        f"{result['ratio_functional']:.2f} |\n"
        f"| harness, --checks full | {full['wall_s']:.1f} | {full['passed']}/{full['problems']} | {result['ratio_full']:.2f} |\n\n"
        f"Harness failures (functional): {', '.join(func['failed']) or 'none'}\n\n"
        f"Floor: the raw flow's own per-problem times packed onto {args.workers} workers longest-first with zero "
        f"overhead take {floor:.1f} s, {result['floor_ratio']:.2f}x of raw; the longest problem, {longest}, alone "
        f"takes {per[longest]:.1f} s ({100 * per[longest] / raw_wall:.0f}% of the serial raw time).\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
