"""Self-checking Verilog testbenches (VerilogEval style), run under Icarus with a nonce-tagged verdict.

The bench's own result line is rewritten, in the bench text only, to carry a per-run nonce. The design
is compiled unchanged and never sees the nonce, so a design that prints `Mismatches: 0 in 1 samples`
(or anything else) cannot produce a line the harness accepts.

The nonce is in the bench source and in the compiled image, so neither is visible where the design runs:
vvp reads its image from a pipe (drained before simulation starts) in a sandbox whose working directory
is `simulation_dir` and whose view of the work directory is empty; a Verilator binary is bound
read-only and execute-only. What stays in-process (the simulator's own memory) relies on the screen:
screened Verilog cannot open files, read plusargs or the environment, or reach the bench's variables.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from ..engine.diagnostics import classify, parse_iverilog, parse_verilator
from ..errors import TestbenchError
from ..report import Category, Diagnostic, Mismatch, Severity, SimulationDetail
from ..tools.invoke import run_tool, tool_env
from ..tools.sandbox import Limits, ProcessResult, run
from .base import (
    SIM_DIR,
    IcarusBench,
    SimContext,
    SimOutcome,
    Testbench,
    keep_waveform,
    parse_mismatch,
    refuse_unplain_names,
    simulation_dir,
)

# Result-line conventions we understand, and how to read them once tagged with the nonce.
_VE_MARK = '"Mismatches:'
_CM_MARK = '"CM_RESULT'
_VE_RESULT = r"^{nonce} Mismatches: (\d+) in (\d+) samples\s*$"
_CM_RESULT = r"^{nonce} CM_RESULT\s+pass=(\d+)\s+fail=(\d+)(?:\s+xref=(\d+))?\s*$"
_VE_HINT = re.compile(r"Hint: Output '(\w+)' has (\d+) mismatches\. First mismatch occurred at time (\d+)")
_CM_MISMATCH = re.compile(r"^CM_MISMATCH\s+(.*)$")
# Verilator bench builds keep warnings non-fatal, except MODDUP: with -Wno-fatal Verilator keeps the FIRST of
# two definitions of a module, package, interface or primitive name, and the design file comes first, so a
# design defining the bench's RefModule or stimulus_gen would silently replace it (Icarus refuses that).
VERILATOR_BENCH_WARNINGS = ("-Wno-fatal", "-Werror-MODDUP")
# How each tool names a second definition of a name (Verilator MODDUP, Icarus).
_DUPLICATE = re.compile(r"Duplicate declaration of \w+: '([^']+)'|Module (\S+) was already declared|"
                        r"'([^']+)' has already been declared")


class VerilogTestbench(Testbench):
    """A Verilog bench that instantiates the design and prints one result line.

    Understood result lines: VerilogEval's `Mismatches: N in M samples`, or circuit_muse's
    `CM_RESULT pass=P fail=F` (with optional `CM_MISMATCH cycle=.. signal=.. exp=.. got=..` lines).
    `support` holds trusted extra sources (e.g. VerilogEval's RefModule). `ports` (name -> "input"/"output")
    are the directions the bench drives and reads the design's ports with: a design that declares a port
    the bench drives as an output would drive the bench's net (VerilogEval shares it with the reference),
    so it is refused with an interface failure.
    """

    kind = "verilog"

    def __init__(self, text: str, *, name: str = "tb.sv", top: str | None = None,
                 support: list[tuple[str, str]] | None = None, ports: dict[str, str] | None = None) -> None:
        if _VE_MARK not in text and _CM_MARK not in text:
            raise TestbenchError(f"{name} prints no result line: a self-checking testbench must "
                                 "$display(\"Mismatches: %0d in %0d samples\", ...) (VerilogEval style) or "
                                 "$display(\"CM_RESULT pass=%0d fail=%0d\", ...)")
        self.text = text
        self.name = name if name.endswith((".v", ".sv")) else name + ".sv"
        self.top = top or _guess_tb_top(text)
        self.support = list(support or [])
        self.ports = dict(ports or {})

    def fingerprint(self) -> str:
        return self._hash(self.kind, self.text, self.top or "", *[a + b for a, b in self.support],
                          *[f"{k}:{v}" for k, v in sorted(self.ports.items())])

    def describe(self) -> str:
        return f"self-checking Verilog testbench {self.name}"

    def prepare_icarus(self, ctx: SimContext) -> IcarusBench | None:
        if port_direction_mismatch(ctx, self.ports, self.kind) is not None:
            return None  # run() reports it
        tagged = self.text.replace(_VE_MARK, f'"{ctx.nonce} Mismatches:').replace(_CM_MARK, f'"{ctx.nonce} CM_RESULT')
        tb_file = "cm_tb_" + self.name
        (ctx.workdir / tb_file).write_text(tagged)
        files = [ctx.design_file, tb_file]
        for fname, ftext in self.support:
            (ctx.workdir / fname).write_text(ftext)
            files.append(fname)
        return IcarusBench(files, self.top)

    def run(self, ctx: SimContext) -> SimOutcome:
        refused = port_direction_mismatch(ctx, self.ports, self.kind)
        if refused is not None:
            return refused
        bench = self.prepare_icarus(ctx)
        assert bench is not None
        return run_bench(ctx, bench.files, bench.top, kind=self.kind)


def port_direction_mismatch(ctx: SimContext, expected: dict[str, str], kind: str) -> SimOutcome | None:
    """An INTERFACE failure when a design port the bench connects has another direction than the bench expects.

    Ports merge the nets on both sides: an "input" declared as an output drives the bench's net, which a
    VerilogEval bench also feeds to the reference model, so a design tied to 0 could pin the reference too.
    """
    if not expected or ctx.module is None:
        return None
    wrong = [f"{p.name} is {p.direction}, the testbench drives/reads it as {expected[p.name]}"
             for p in ctx.module.ports if p.name in expected and p.direction != expected[p.name]]
    if not wrong:
        return None
    detail = SimulationDetail(testbench_kind=kind, simulator=ctx.options.simulator)
    return SimOutcome(False, Category.INTERFACE, detail, [Diagnostic(
        severity=Severity.ERROR, tool="testbench", category=Category.INTERFACE,
        message="port directions differ from what the testbench expects: " + "; ".join(wrong[:4]))])


def _guess_tb_top(text: str) -> str | None:
    names = re.findall(r"^\s*module\s+(\w+)", text, re.M)
    for preferred in ("tb", "testbench", "top_tb"):
        if preferred in names:
            return preferred
    return names[-1] if names else None


def icarus_compile_args(top: str | None, output: str, *, warnings: bool = False) -> list[str]:
    """The one iverilog command line for benches; with warnings=True it doubles as the lint compile."""
    args = ["-g2012", "-Wno-timescale", "-o", output]
    if warnings:
        args.insert(1, "-Wall")
    return args + (["-s", top] if top else [])


def _compile_failure(ctx: SimContext, detail: SimulationDetail, output: str, timed_out: bool, tool: str,
                     diags: list[Diagnostic]) -> SimOutcome:
    in_design = [d for d in diags if d.file and d.file.endswith(ctx.design_file)]
    for d in diags:
        d.category = d.category or classify(d)
    category = Category.CRASH if timed_out else (in_design[0].category if in_design else Category.TESTBENCH)
    clash = _DUPLICATE.search(output)
    if clash and not timed_out:
        msg = f"the design defines {next(g for g in clash.groups() if g)!r}, which the testbench side defines too; a design may only " \
              "define its own modules"
        diags.insert(0, Diagnostic(severity=Severity.ERROR, tool=tool, message=msg, category=Category.INTERFACE))
        detail.log_tail = output[-2000:]
        return SimOutcome(False, Category.INTERFACE, detail, diags)
    if not in_design and not timed_out:
        msg = "the testbench did not compile with this design (port or module names may differ from " \
              "what the bench instantiates)"
        diags.insert(0, Diagnostic(severity=Severity.ERROR, tool=tool, message=msg, category=Category.INTERFACE))
        category = Category.INTERFACE
    detail.log_tail = output[-2000:]
    return SimOutcome(False, category, detail, diags)


def _verilator_binary(ctx: SimContext, files: list[str], tb_top: str | None,
                      detail: SimulationDetail) -> tuple[Path | None, SimOutcome | None]:
    """Build the bench with `verilator --binary --timing`; return the binary, or a failure."""
    opts = ctx.options
    args = ["--binary", "--timing", "--assert", *VERILATOR_BENCH_WARNINGS, "-Wno-lint", "-Wno-style", "--Mdir", "obj_dir",
            "-o", "simv", "-CFLAGS", "-std=c++20", "-LDFLAGS", "-pthread", "-j", "1"]
    if tb_top:
        args += ["--top-module", tb_top]
    # verilated.mk calls `python`; run_tool adds ccache (rebuilds of an unchanged bench are cheap).
    extra = {"PATH": f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    limits = opts.tool_limits.scaled(wall_s=max(opts.tool_limits.wall_s, 240), cpu_s=600,
                                     address_space=8 << 30, processes=512)
    comp = run_tool("verilator", [*args, *files], cwd=ctx.workdir, limits=limits, extra_env=extra)
    if comp.returncode != 0 or comp.timed_out:
        errs = [d for d in parse_verilator(comp.output) if d.severity is Severity.ERROR]
        return None, _compile_failure(ctx, detail, comp.output, comp.timed_out, "verilator", errs)
    return ctx.workdir / "obj_dir" / "simv", None


def seal_binary(binary: Path) -> None:
    """Make a compiled simulation (it embeds the nonce) execute-only, so the process running it cannot
    read the file back (its own memory, /proc/self/mem, stays reachable: that part relies on the screen)."""
    if os.geteuid() == 0:
        os.chown(binary, 0, 0)
    os.chmod(binary, 0o111)


def run_compiled(ctx: SimContext, binary: Path, args: list[str], limits: Limits) -> ProcessResult:
    """Run a compiled simulation binary in `simulation_dir`, sealed, with the work directory hidden."""
    seal_binary(binary)
    return run([str(binary), *args], cwd=simulation_dir(ctx), limits=limits, readonly=[binary],
               hide=[ctx.workdir], env=tool_env("verilator"))


def run_image(ctx: SimContext, image: Path, limits: Limits) -> ProcessResult:
    """Run a vvp image fed through a pipe, in `simulation_dir`, with the work directory hidden."""
    return run_tool("vvp", ["-n", "/dev/stdin"], cwd=simulation_dir(ctx), limits=limits,
                    stdin=image.read_bytes(), hide=[ctx.workdir])


def run_bench(ctx: SimContext, files: list[str], tb_top: str | None, *, kind: str) -> SimOutcome:
    """Compile and run a nonce-tagged self-checking bench on the chosen simulator (Icarus by default,
    or Verilator --binary); the verdict is read from the nonce-tagged result line only."""
    opts = ctx.options
    detail = SimulationDetail(testbench_kind=kind, simulator=opts.simulator)
    refused = refuse_unplain_names({"testbench top module": tb_top} if tb_top else {}, detail)
    if refused is not None:
        return refused
    if opts.simulator == "verilator":
        binary, failed = _verilator_binary(ctx, files, tb_top, detail)
        if failed is not None or binary is None:
            return failed  # type: ignore[return-value]
        res = run_compiled(ctx, binary, [], opts.sim_limits)
    else:
        image = ctx.workdir / (ctx.prebuilt or "sim.vvp")
        if not (ctx.prebuilt and image.exists()):
            image = ctx.workdir / "sim.vvp"
            comp = run_tool("iverilog", [*icarus_compile_args(tb_top, image.name), *files], cwd=ctx.workdir,
                            limits=opts.tool_limits)
            if comp.returncode != 0 or comp.timed_out:
                return _compile_failure(ctx, detail, comp.output, comp.timed_out, "iverilog",
                                        parse_iverilog(comp.output))
        res = run_image(ctx, image, opts.sim_limits)
    out = res.stdout
    detail.log_tail = res.output[-2000:]
    nonce = re.escape(ctx.nonce)
    ve = re.search(_VE_RESULT.format(nonce=nonce), out, re.M)
    cm = re.search(_CM_RESULT.format(nonce=nonce), out, re.M)
    for m in _VE_HINT.finditer(out):
        if len(detail.mismatches) < opts.max_mismatches:
            detail.mismatches.append(Mismatch(signal=m.group(1), time=m.group(3),
                                              message=f"output '{m.group(1)}' has {m.group(2)} mismatching "
                                                      f"samples, first at time {m.group(3)}"))
    for line in out.splitlines():
        mm = _CM_MISMATCH.match(line.replace(ctx.nonce + " ", "", 1)) if line.startswith(ctx.nonce) else None
        if mm and len(detail.mismatches) < opts.max_mismatches:
            detail.mismatches.append(parse_mismatch(mm.group(1)))
    sim_dir = ctx.workdir / SIM_DIR
    waves = sorted(sim_dir.glob("*.vcd")) + sorted(sim_dir.glob("*.fst"))
    limit = res.killed_by_limit
    if limit:
        category = Category.TIMEOUT if res.timed_out or limit == "CPU-time limit" else Category.RESOURCE
        detail.vcd_path = keep_waveform(ctx, waves)
        return SimOutcome(False, category, detail, [Diagnostic(
            severity=Severity.ERROR, tool="vvp", category=category,
            message=f"simulation stopped by the {limit} after {res.duration_s:.1f}s: "
                    "look for a loop without a clock edge or delay, or output that never stops")])
    if ve:
        detail.mismatched_samples, detail.samples = int(ve.group(1)), int(ve.group(2))
        detail.tests, detail.failures = 1, int(detail.mismatched_samples > 0)
    elif cm:
        passed_n, failed_n = int(cm.group(1)), int(cm.group(2))
        detail.samples, detail.mismatched_samples = passed_n + failed_n, failed_n
        detail.tests, detail.failures = 1, int(failed_n > 0)
        if cm.group(3) is not None and detail.samples and int(cm.group(3)) == detail.samples:
            return SimOutcome(False, Category.TESTBENCH, detail, [Diagnostic(
                severity=Severity.ERROR, tool="simulation", category=Category.TESTBENCH,
                message="the reference's outputs were X in every sample, so nothing was really compared; "
                        "the reference needs a reset or drives nothing")])
    else:
        reason = "the simulator exited" if res.returncode == 0 else f"the simulator failed (rc={res.returncode})"
        detail.vcd_path = keep_waveform(ctx, waves)
        return SimOutcome(False, Category.CRASH, detail, [Diagnostic(
            severity=Severity.ERROR, tool="vvp", category=Category.CRASH,
            message=f"{reason} before the testbench reported a result; no verdict, counted as a failure")])
    passed = detail.samples > 0 and detail.mismatched_samples == 0
    if not passed:
        detail.vcd_path = keep_waveform(ctx, waves)
        diags = [Diagnostic(severity=Severity.ERROR, tool="simulation", category=Category.MISMATCH,
                            message=f"{detail.mismatched_samples} of {detail.samples} samples mismatched"
                            if detail.samples else "the testbench checked no samples")]
        return SimOutcome(False, Category.MISMATCH, detail, diags)
    return SimOutcome(True, Category.PASS, detail, [])


