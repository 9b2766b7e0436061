"""What the OS sandbox costs per tool call: the same calls through sandbox.run with bwrap and with rlimits only.

All modes run in the same process, interleaved call by call, so machine load hits them alike. The process
first does what a verify worker does (sandbox.enter_private_network), so the bwrap calls are the ones verify
makes. Modes: `bwrap` (what verify uses: cm-launch where it could be built), `bwrap, prlimit+setpriv`
(CIRCUIT_MUSE_LAUNCHER=off, the launch before cm-launch; root callers only) and `rlimits` (no sandbox).
Calls: an empty command (`true`: pure launch cost), an iverilog compile of a small design + bench, a vvp run
of that image (fed on stdin, as the engine runs it), and the static tools of one verify run (iverilog -Wall,
verilator --lint-only, yosys) as one batch call, as verify runs them, and as three calls. Reported: median
wall ms per call and, where the cpuacct cgroup is writable (root), mean CPU ms of the call and everything it
started; the added cost of each sandbox mode over rlimits; the load average seen.

    .venv/bin/python benchmarks/sandbox_cost.py [--repeat 30] [--out DIR | --update-results]
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

from _results import add_output_args, output_dir  # noqa: E402 - benchmarks/ is the script's own folder

from circuit_muse.engine.lint import iverilog_lint_args, verilator_lint_args
from circuit_muse.engine.synth import yosys_args
from circuit_muse.tools import sandbox
from circuit_muse.tools.invoke import run_tool, run_tools
from circuit_muse.tools.launcher import LAUNCHER_ENV, launcher
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
CGROUP = Path("/sys/fs/cgroup/cpuacct/circuit_muse_sandbox_cost")


def calls(work: Path) -> dict[str, Callable[[], None]]:
    (work / "design.sv").write_text(DESIGN)
    (work / "tb.sv").write_text(BENCH)
    static = [("iverilog", iverilog_lint_args(["design.sv", "tb.sv"], "tb", "lint.vvp")),
              ("verilator", verilator_lint_args(["design.sv"], "dut")),
              ("yosys", yosys_args(work, ["design.sv"], "dut"))]

    def launch() -> None:
        assert sandbox.run(["true"], cwd=work, limits=LIMITS).returncode == 0

    def compile_() -> None:
        res = run_tool("iverilog", ["-g2012", "-o", "sim.vvp", "design.sv", "tb.sv"], cwd=work, limits=LIMITS)
        assert res.returncode == 0, res.output

    def simulate() -> None:
        res = run_tool("vvp", ["-n", "/dev/stdin"], cwd=work, limits=LIMITS, stdin=(work / "sim.vvp").read_bytes())
        assert "CM_RESULT pass=100" in res.stdout, res.output

    def static_batch() -> None:
        results = run_tools(static, cwd=work, limits=LIMITS.scaled(wall_s=3 * LIMITS.wall_s), concurrent=True)
        assert all(r is not None and r.returncode == 0 for r in results), results

    def static_calls() -> None:
        for name, args in static:
            assert run_tool(name, args, cwd=work, limits=LIMITS).returncode == 0

    compile_()
    return {"launch (`true`)": launch, "iverilog compile": compile_, "vvp run": simulate,
            "static tools of one run, one call": static_batch, "static tools of one run, three calls": static_calls}


def _cpu_meter() -> Callable[[], float] | None:
    """Milliseconds of CPU used so far by this process and everything it started (cpuacct), if available."""
    try:
        CGROUP.mkdir(exist_ok=True)
        (CGROUP / "tasks").write_text(str(os.getpid()))
        fd = os.open(CGROUP / "cpuacct.usage", os.O_RDONLY)
    except OSError:
        return None
    return lambda: int(os.pread(fd, 64, 0)) / 1e6


def timed(fn: Callable[[], None], mode: str, cpu: Callable[[], float] | None) -> tuple[float, float | None]:
    os.environ[sandbox.MODE_ENV] = "rlimits" if mode == "rlimits" else "bwrap"
    os.environ[LAUNCHER_ENV] = "off" if mode == "bwrap, prlimit+setpriv" else ""
    c = cpu() if cpu else 0.0
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000, (cpu() - c) if cpu else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    add_output_args(ap)
    args = ap.parse_args()
    out_dir = output_dir(args, "sandbox_cost", ap)  # before any work: a refused --out costs nothing
    require("iverilog")
    os.environ[sandbox.MODE_ENV] = "bwrap"
    iso = str(sandbox.isolation())  # fails loudly if bwrap cannot run here
    private_net = sandbox.enter_private_network()
    modes = ["bwrap", *(["bwrap, prlimit+setpriv"] if launcher() else []), "rlimits"]
    cpu = _cpu_meter()
    load_before = os.getloadavg()
    rows = {}
    with sandbox.workdir(prefix="cm-bench-") as work:
        for name, fn in calls(work).items():
            for mode in modes:  # warm every path
                timed(fn, mode, cpu)
            samples: dict[str, list[tuple[float, float | None]]] = {m: [] for m in modes}
            for _ in range(args.repeat):
                for mode in modes:
                    samples[mode].append(timed(fn, mode, cpu))
            row: dict[str, float | None] = {}
            for mode in modes:
                row[f"{mode} ms"] = round(statistics.median(s[0] for s in samples[mode]), 2)
                row[f"{mode} cpu ms"] = (round(statistics.mean(s[1] for s in samples[mode] if s[1] is not None), 2)
                                         if cpu else None)
            for mode in modes[:-1]:
                row[f"{mode} added ms"] = round(row[f"{mode} ms"] - row["rlimits ms"], 2)  # type: ignore[operator]
                if cpu:
                    row[f"{mode} added cpu ms"] = round(row[f"{mode} cpu ms"] - row["rlimits cpu ms"], 2)  # type: ignore[operator]
            rows[name] = row
    os.environ.pop(LAUNCHER_ENV, None)
    res = {"repeat": args.repeat, "isolation": iso, "private_network_namespace": private_net,
           "launcher": launcher(), "modes": modes, "rows": rows, "tools": versions(),
           "loadavg_before": [round(x, 2) for x in load_before],
           "loadavg_after": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
           "python": platform.python_version()}
    out = out_dir / "sandbox_cost.json"
    out.write_text(json.dumps(res, indent=2) + "\n")
    cols = [(f"{m} ms", f"{m} wall ms") for m in modes] + [(f"{m} cpu ms", f"{m} CPU ms") for m in modes if cpu]
    cols += [(f"{m} added ms", f"{m}: added wall ms") for m in modes[:-1]]
    cols += [(f"{m} added cpu ms", f"{m}: added CPU ms") for m in modes[:-1] if cpu]
    lines = ["# Sandbox cost per tool call (bwrap vs rlimits only)", "",
             f"Median wall time (and mean CPU time of the call and everything it started, cpuacct) of "
             f"{args.repeat} interleaved calls each; {os.cpu_count()} cores; load average "
             f"{res['loadavg_before'][0]} before, {res['loadavg_after'][0]} after; isolation: {iso}; "
             f"calls made as a verify worker makes them (its own network namespace: {private_net}).", "",
             "| call | " + " | ".join(title for _, title in cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {k} | " + " | ".join(str(v[key]) for key, _ in cols) + " |" for k, v in rows.items()]
    lines += ["", f"Reproduce: `.venv/bin/python benchmarks/sandbox_cost.py --repeat {args.repeat}`"]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
