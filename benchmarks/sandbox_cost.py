"""What the OS sandbox costs per tool call: the same calls through sandbox.run with bwrap and with rlimits only.

Both modes run in the same process, interleaved call by call, so machine load hits them alike. Calls: an
empty command (`true`: pure launch cost), an iverilog compile of a small design + bench, and a vvp run
of that image (fed on stdin, as the engine runs it). Reported: median ms per call, the ratio
bwrap/rlimits and the added ms, plus the load average seen.

    .venv/bin/python benchmarks/sandbox_cost.py [--repeat 30] [--out benchmarks/results/sandbox_cost.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from circuit_muse.tools import sandbox
from circuit_muse.tools.invoke import run_tool
from circuit_muse.tools.registry import require, versions
from circuit_muse.tools.sandbox import Limits

DESIGN = """module dut(input clk, input rst, output reg [7:0] q);
  always @(posedge clk) if (rst) q <= 0; else q <= q + 1;
endmodule
"""
BENCH = """module tb; reg clk = 0, rst = 1; wire [7:0] q; integer i;
  dut u(.clk(clk), .rst(rst), .q(q));
  always #5 clk = ~clk;
  initial begin @(negedge clk) rst = 0; for (i = 0; i < 100; i = i + 1) @(posedge clk);
    $display("CM_RESULT pass=%0d fail=0", i); $finish; end
endmodule
"""
LIMITS = Limits(wall_s=60, cpu_s=60)


def calls(work: Path) -> dict[str, Callable[[], None]]:
    (work / "design.sv").write_text(DESIGN)
    (work / "tb.sv").write_text(BENCH)

    def launch() -> None:
        assert sandbox.run(["true"], cwd=work, limits=LIMITS).returncode == 0

    def compile_() -> None:
        res = run_tool("iverilog", ["-g2012", "-o", "sim.vvp", "design.sv", "tb.sv"], cwd=work, limits=LIMITS)
        assert res.returncode == 0, res.output

    def simulate() -> None:
        res = run_tool("vvp", ["-n", "/dev/stdin"], cwd=work, limits=LIMITS, stdin=(work / "sim.vvp").read_bytes())
        assert "CM_RESULT pass=100" in res.stdout, res.output

    compile_()
    return {"launch (`true`)": launch, "iverilog compile": compile_, "vvp run": simulate}


def timed(fn: Callable[[], None], mode: str) -> float:
    os.environ[sandbox.MODE_ENV] = mode
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "sandbox_cost.json"))
    args = ap.parse_args()
    require("iverilog")
    os.environ[sandbox.MODE_ENV] = "bwrap"
    iso = str(sandbox.isolation())  # fails loudly if bwrap cannot run here
    load_before = os.getloadavg()
    rows = {}
    with sandbox.workdir(prefix="cm-bench-") as work:
        for name, fn in calls(work).items():
            for mode in ("bwrap", "rlimits"):  # warm both paths
                timed(fn, mode)
            samples: dict[str, list[float]] = {"bwrap": [], "rlimits": []}
            for _ in range(args.repeat):
                for mode in ("bwrap", "rlimits"):
                    samples[mode].append(timed(fn, mode))
            b, r = statistics.median(samples["bwrap"]), statistics.median(samples["rlimits"])
            rows[name] = {"bwrap_ms": round(b, 2), "rlimits_ms": round(r, 2), "ratio": round(b / r, 2),
                          "added_ms": round(b - r, 2)}
    res = {"repeat": args.repeat, "isolation": iso, "rows": rows, "tools": versions(),
           "loadavg_before": [round(x, 2) for x in load_before],
           "loadavg_after": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
           "python": platform.python_version()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    lines = ["# Sandbox cost per tool call (bwrap vs rlimits only)", "",
             f"Median of {args.repeat} interleaved calls each; {os.cpu_count()} cores; load average "
             f"{res['loadavg_before'][0]} before, {res['loadavg_after'][0]} after; isolation: {iso}.", "",
             "| call | bwrap ms | rlimits ms | ratio | added ms |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {v['bwrap_ms']} | {v['rlimits_ms']} | {v['ratio']} | {v['added_ms']} |" for k, v in rows.items()]
    lines += ["", f"Reproduce: `.venv/bin/python benchmarks/sandbox_cost.py --repeat {args.repeat}`"]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
