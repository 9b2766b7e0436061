"""Candidates per second through the whole verify() pipeline vs plain iverilog+vvp on the same designs.

Pipeline: extract, screen, parse (pyslang), lint (iverilog + verilator), synth (yosys), simulate (a
small self-checking bench under iverilog+vvp), over a process pool with one worker per core (and, for
comparison, one more worker than cores, and the same pool with no OS sandbox: CIRCUIT_MUSE_SANDBOX=rlimits).
Every row of one repeat runs in the same minute, one after the other.
Baseline, in the same run: `iverilog` + `vvp` subprocess calls on the same design + bench files.
Targets (issues 2 and 8, the latter with the sandbox on): pipeline rate >= 0.5x the raw rate; a cache hit < 1 ms.

    .venv/bin/python benchmarks/verify_throughput.py [--designs 40] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import add_output_args, output_dir

import circuit_muse as cm
from circuit_muse.engine.many import shutdown_pool
from circuit_muse.testbench import VerilogTestbench
from circuit_muse.tools.registry import require, versions
from circuit_muse.tools.sandbox import MODE_ENV

BENCH = """`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1, en = 0;
  wire [{w1}:0] q;
  reg [{w1}:0] model;
  integer i, fails = 0;
  dut u(.clk(clk), .rst(rst), .en(en), .q(q));
  always #5 clk = ~clk;
  initial begin
    model = 0;
    @(negedge clk) rst = 0;
    for (i = 0; i < 100; i = i + 1) begin
      en = (i % 3) != 0;
      @(posedge clk) #1;
      if (en) model = model + {step};
      if (q !== model) fails = fails + 1;
      @(negedge clk);
    end
    $display("CM_RESULT pass=%0d fail=%0d", 100 - fails, fails);
    $finish;
  end
endmodule
"""

DESIGN = """module dut(input clk, input rst, input en, output reg [{w1}:0] q);
  always @(posedge clk)
    if (rst) q <= {w}'d0;
    else if (en) q <= q + {w}'d{step};
endmodule
"""


def workload(n: int) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        w, step = 4 + i % 13, 1 + i % 3
        out.append((DESIGN.format(w=w, w1=w - 1, step=step), BENCH.format(w1=w - 1, step=step)))
    return out


def raw_rate(items: list[tuple[str, str]]) -> float:
    iverilog, vvp = require("iverilog").path, require("vvp").path
    t0 = time.perf_counter()
    for design, bench in items:
        with tempfile.TemporaryDirectory() as d:
            Path(d, "design.sv").write_text(design)
            Path(d, "tb.sv").write_text(bench)
            subprocess.run([iverilog, "-g2012", "-o", "sim.vvp", "-s", "tb", "design.sv", "tb.sv"], cwd=d,
                           check=True, capture_output=True, timeout=30)
            out = subprocess.run([vvp, "-n", "sim.vvp"], cwd=d, check=True, capture_output=True, text=True,
                                 timeout=30).stdout
            assert "fail=0" in out, out
    return len(items) / (time.perf_counter() - t0)


def pipeline_rate(items: list[tuple[str, str]], workers: int) -> float:
    # Each design has its own bench, so group by bench: verify_many takes one testbench per call.
    t0 = time.perf_counter()
    reports = []
    for design, bench in items:
        reports += cm.verify_many([design], testbench=VerilogTestbench(bench), workers=workers, use_cache=False)
    assert all(r.passed for r in reports), [r.category for r in reports if not r.passed]
    return len(items) / (time.perf_counter() - t0)


def pipeline_rate_per_candidate(items: list[tuple[str, str]], workers: int) -> float:
    """Every design with its own bench, in one verify_many call ((design, testbench) tuples)."""
    t0 = time.perf_counter()
    reports = cm.verify_many([(d, VerilogTestbench(b)) for d, b in items], workers=workers, use_cache=False)
    assert all(r.passed for r in reports), [r.category for r in reports if not r.passed]
    return len(items) / (time.perf_counter() - t0)


def pipeline_rate_batched(items: list[tuple[str, str]], workers: int) -> float:
    """Candidates for one bench, verified as one batch (the repair loop's shape: k samples per round)."""
    bench = items[0][1]
    designs = [items[0][0].replace("endmodule", f"// sample {i}\nendmodule") for i in range(len(items))]
    t0 = time.perf_counter()
    reports = cm.verify_many(designs, testbench=VerilogTestbench(bench), workers=workers, use_cache=False)
    assert all(r.passed for r in reports)
    return len(designs) / (time.perf_counter() - t0)


def without_sandbox(fn, *args):  # type: ignore[no-untyped-def]
    """fn(*args) with CIRCUIT_MUSE_SANDBOX=rlimits (the workers take the caller's environment per request)."""
    old = os.environ.get(MODE_ENV)
    os.environ[MODE_ENV] = "rlimits"
    try:
        return fn(*args)
    finally:
        if old is None:
            os.environ.pop(MODE_ENV, None)
        else:
            os.environ[MODE_ENV] = old


def cache_hit_ms(design: str, bench: str, n: int = 200) -> float:
    tb = VerilogTestbench(bench)
    cm.verify(design, testbench=tb)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        rep = cm.verify(design, testbench=tb)
        times.append((time.perf_counter() - t0) * 1000)
        assert rep.cache_hit
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--designs", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    add_output_args(ap)
    args = ap.parse_args(argv)
    out = output_dir(args, "verify_throughput", ap) / "verify_throughput.json"
    items = workload(args.designs)
    workers = os.cpu_count() or 1
    pipeline_rate(items[:4], workers)  # warm the pool and the tools
    raw, pipe, pipe1, batch, per, extra, bare = [], [], [], [], [], [], []
    load_before = os.getloadavg()
    for _ in range(args.repeat):
        raw.append(raw_rate(items))
        pipe.append(pipeline_rate_batched(items, workers))
        per.append(pipeline_rate_per_candidate(items, workers))
        pipe1.append(pipeline_rate(items, 1))
        batch.append(pipeline_rate(items, workers))
        extra.append(pipeline_rate_batched(items, workers + 1))
        bare.append(without_sandbox(pipeline_rate_batched, items, workers))
    shutdown_pool()
    res = {
        "designs": args.designs, "repeat": args.repeat, "workers": workers, "cpu_count": os.cpu_count(),
        "machine": platform.machine(), "python": sys.version.split()[0], "tools": versions(),
        "raw_iverilog_vvp_per_s": statistics.median(raw),
        "pipeline_batch_pool_per_s": statistics.median(pipe),
        "pipeline_serial_1worker_per_s": statistics.median(pipe1),
        "pipeline_one_call_per_design_pool_per_s": statistics.median(batch),
        "pipeline_per_candidate_bench_pool_per_s": statistics.median(per),
        "pipeline_batch_pool_one_more_worker_per_s": statistics.median(extra),
        "pipeline_batch_pool_rlimits_only_per_s": statistics.median(bare),
        "ratio_pool_vs_raw_per_repeat": [round(p / r, 3) for p, r in zip(pipe, raw, strict=True)],
        "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cache_hit_ms_median": cache_hit_ms(*items[0]),
    }
    res["ratio_pool_vs_raw"] = res["pipeline_batch_pool_per_s"] / res["raw_iverilog_vvp_per_s"]
    res["ratio_per_candidate_vs_raw"] = res["pipeline_per_candidate_bench_pool_per_s"] / res["raw_iverilog_vvp_per_s"]
    res["ratio_serial_vs_raw"] = res["pipeline_serial_1worker_per_s"] / res["raw_iverilog_vvp_per_s"]
    res["ratio_one_more_worker_vs_raw"] = (res["pipeline_batch_pool_one_more_worker_per_s"]
                                           / res["raw_iverilog_vvp_per_s"])
    res["ratio_rlimits_only_vs_raw"] = res["pipeline_batch_pool_rlimits_only_per_s"] / res["raw_iverilog_vvp_per_s"]
    out.write_text(json.dumps(res, indent=2) + "\n")
    out.with_suffix(".md").write_text(
        "# verify() throughput vs raw iverilog+vvp\n\n"
        f"{args.designs} small designs, each with a 100-cycle self-checking bench; median of {args.repeat} runs; "
        f"{workers} workers on {os.cpu_count()} cores; tools {res['tools']}.\n\n"
        "| pipeline | designs/s | ratio to raw |\n|---|---|---|\n"
        f"| raw `iverilog` + `vvp` subprocesses (serial) | {res['raw_iverilog_vvp_per_s']:.1f} | 1.00 |\n"
        f"| full verify(), batch over the process pool | {res['pipeline_batch_pool_per_s']:.1f} | "
        f"{res['ratio_pool_vs_raw']:.2f} |\n"
        f"| full verify(), own bench per design, one verify_many call | "
        f"{res['pipeline_per_candidate_bench_pool_per_s']:.1f} | {res['ratio_per_candidate_vs_raw']:.2f} |\n"
        f"| full verify(), serial, 1 worker | {res['pipeline_serial_1worker_per_s']:.1f} | "
        f"{res['ratio_serial_vs_raw']:.2f} |\n"
        f"| full verify(), batch, {workers + 1} workers (one more than cores) | "
        f"{res['pipeline_batch_pool_one_more_worker_per_s']:.1f} | {res['ratio_one_more_worker_vs_raw']:.2f} |\n"
        f"| control: full verify(), batch, {workers} workers, no OS sandbox (rlimits only) | "
        f"{res['pipeline_batch_pool_rlimits_only_per_s']:.1f} | {res['ratio_rlimits_only_vs_raw']:.2f} |\n\n"
        f"Batch ratio per repeat: {res['ratio_pool_vs_raw_per_repeat']}; load average (1 min) before/after: "
        f"{res['loadavg_1m_before_after']}; sandbox: {res['tools'].get('sandbox')}.\n\n"
        f"Cache hit: {res['cache_hit_ms_median']:.3f} ms median.\n\n"
        "Reproduce: `.venv/bin/python benchmarks/verify_throughput.py --update-results` (on an otherwise idle machine).\n")
    print(f"raw iverilog+vvp:            {res['raw_iverilog_vvp_per_s']:6.1f} designs/s (serial)")
    print(f"pipeline, batch over pool:   {res['pipeline_batch_pool_per_s']:6.1f} designs/s ({workers} workers)"
          f"  ratio {res['ratio_pool_vs_raw']:.2f}x  (target >= 0.5x)")
    print(f"pipeline, bench per design:  {res['pipeline_per_candidate_bench_pool_per_s']:6.1f} designs/s"
          f"  ratio {res['ratio_per_candidate_vs_raw']:.2f}x")
    print(f"load average (1 min) before/after: {res['loadavg_1m_before_after']}")
    print(f"pipeline, serial, 1 worker:  {res['pipeline_serial_1worker_per_s']:6.1f} designs/s"
          f"  ratio {res['ratio_serial_vs_raw']:.2f}x")
    print(f"pipeline, {workers + 1} workers:        {res['pipeline_batch_pool_one_more_worker_per_s']:6.1f} designs/s"
          f"  ratio {res['ratio_one_more_worker_vs_raw']:.2f}x")
    print(f"control, no OS sandbox:      {res['pipeline_batch_pool_rlimits_only_per_s']:6.1f} designs/s"
          f"  ratio {res['ratio_rlimits_only_vs_raw']:.2f}x")
    print(f"cache hit:                   {res['cache_hit_ms_median']:.3f} ms median (target < 1 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
