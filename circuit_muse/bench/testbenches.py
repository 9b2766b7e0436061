"""The benchmark's own testbench for a problem, run so that only the bench can produce a verdict.

- VerilogEval: the bench's `Mismatches: N in M samples` line, nonce-tagged by VerilogTestbench.
- RTLLM: its rule is "the output contains Pass". Here every line the bench prints carries a per-run nonce,
  and the bench gets an end marker in a `final` block; the verdict needs a tagged pass line, no tagged
  failure line, and the end marker. The design cannot print (the screen rejects it), so it cannot forge one.
  The bench's data files are copied into the directory the simulation runs in, where its `$readmemh`/`$fopen`
  find them; the bench source and the image (both carry the nonce) stay hidden, as for every bench.
- builtin: the family suite itself.
"""
from __future__ import annotations

import re

from ..engine.diagnostics import parse_iverilog
from ..report import Category, Diagnostic, Severity, SimulationDetail
from ..testbench.base import IcarusBench, SimContext, SimOutcome, Testbench
from ..testbench.verilog_tb import (
    VerilogTestbench,
    _compile_failure,
    icarus_compile_args,
    port_direction_mismatch,
    run_image,
)
from ..tools.invoke import run_tool
from ._text import instantiates, module_names
from .problem import Problem

_PRINT = re.compile(r'(\$(?:display|write|strobe|monitor)[bho]?\s*\(\s*)"')
_PASS = re.compile(r"pass", re.I)
_FAIL = re.compile(r"fail|error|wrong|mismatch", re.I)
END_MARK = "CM_BENCH_END"
X_MARK = "CM_X_SAMPLES"
X_TOOL = "rtllm-x-monitor"


def reference_ports(problem: Problem) -> dict[str, str]:
    """Port name -> direction of the benchmark's reference top (trusted text): what its bench expects."""
    from ..engine.elaborate import elaborate

    try:
        mod = elaborate(problem.reference, top=problem.top).module(problem.top)
    except Exception:  # noqa: BLE001 - a reference pyslang cannot read: no expectation, the bench decides
        return {}
    return {p.name: p.direction for p in mod.ports} if mod is not None else {}


def build_testbench(problem: Problem) -> Testbench:
    d = problem.data
    if problem.kind == "verilog-eval":
        return VerilogTestbench(d["test"], name=d["test_name"], top=d["tb_top"], support=[tuple(s) for s in d["support"]],
                                ports=reference_ports(problem))
    if problem.kind == "rtllm":
        return RtllmTestbench(d["bench"], data_files=[tuple(f) for f in d["data_files"]],
                              dut=d.get("dut_instance"), inputs=d.get("inputs", []), outputs=d.get("outputs", []))
    if problem.kind == "builtin":
        from ..suites import get_suite

        return get_suite(d["family"], d["variant"], d["params"], parameterized=d["parameterized"])
    raise ValueError(f"unknown problem kind {problem.kind!r}")


def bench_top(text: str) -> str | None:
    """The bench's top: the module no other bench module instantiates."""
    names = module_names(text)
    tops = [n for n in names if not instantiates(text, n)]
    return (tops or names or [None])[-1]


class RtllmTestbench(Testbench):
    """An RTLLM testbench whose printed "Pass" becomes a verdict the design cannot forge."""

    kind = "rtllm"

    def __init__(self, text: str, *, data_files: list[tuple[str, str]] | None = None, dut: str | None = None,
                 inputs: list[str] | None = None, outputs: list[str] | None = None) -> None:
        self.text = text
        self.data_files = list(data_files or [])
        self.top = bench_top(text)
        self.dut, self.inputs, self.outputs = dut, list(inputs or []), list(outputs or [])

    def fingerprint(self) -> str:
        return self._hash(self.kind, self.text, str(self.dut), ",".join(self.inputs), ",".join(self.outputs),
                          *[a + "\0" + b for a, b in self.data_files])

    def describe(self) -> str:
        return "RTLLM testbench (pass string under a per-run nonce)"

    def _tagged(self, nonce: str) -> str:
        text = _PRINT.sub(lambda m: f'{m.group(1)}"{nonce} ', self.text)
        # An end marker in the top bench module: the run must reach the bench's end to pass.
        idx = text.rfind("endmodule")
        return text[:idx] + self._x_monitor(nonce) + f'final $display("{nonce} {END_MARK}");\n' + text[idx:]

    def _x_monitor(self, nonce: str) -> str:
        """Count input changes at which the design's outputs are X/Z (RTLLM's `!=` checks let X through)."""
        if not (self.dut and self.inputs and self.outputs):
            return ""
        ins = " or ".join(f"{self.dut}.{n}" for n in self.inputs)
        outs = ", ".join(f"{self.dut}.{n}" for n in self.outputs)
        return (f"integer cm_x_samples = 0, cm_samples = 0;\n"
                f"always @({ins}) begin cm_samples = cm_samples + 1; "
                f"if ((^{{{outs}}}) === 1'bx) cm_x_samples = cm_x_samples + 1; end\n"
                f'final $display("{nonce} {X_MARK} %0d %0d", cm_x_samples, cm_samples);\n')

    def prepare_icarus(self, ctx: SimContext) -> IcarusBench | None:
        if port_direction_mismatch(ctx, self._expected_ports(), self.kind) is not None:
            return None  # run() reports it
        (ctx.workdir / "cm_rtllm_tb.v").write_text(self._tagged(ctx.nonce))
        for name, body in self.data_files:
            if "/" not in name and not name.startswith("."):
                (ctx.workdir / name).write_text(body)
        return IcarusBench([ctx.design_file, "cm_rtllm_tb.v"], self.top)

    def _expected_ports(self) -> dict[str, str]:
        return {**{n: "input" for n in self.inputs}, **{n: "output" for n in self.outputs}}

    def run(self, ctx: SimContext) -> SimOutcome:
        opts = ctx.options
        detail = SimulationDetail(testbench_kind=self.kind, simulator="icarus")
        refused = port_direction_mismatch(ctx, self._expected_ports(), self.kind)
        if refused is not None:
            return refused
        bench = self.prepare_icarus(ctx)
        assert bench is not None
        if not (ctx.prebuilt and (ctx.workdir / ctx.prebuilt).exists()):
            comp = run_tool("iverilog", [*icarus_compile_args(bench.top, "sim.vvp"), *bench.files], cwd=ctx.workdir,
                            limits=opts.tool_limits)
            if comp.returncode != 0 or comp.timed_out:
                return _compile_failure(ctx, detail, comp.output, comp.timed_out, "iverilog",
                                        parse_iverilog(comp.output))
        # Like every bench: the image (it embeds the nonce) comes through a pipe, in a directory that holds only
        # the bench's data files, with the work directory (bench source, image) hidden from the design.
        res = run_image(ctx, ctx.workdir / (ctx.prebuilt or "sim.vvp"), opts.sim_limits)
        detail.log_tail = res.output[-2000:]
        tag = ctx.nonce + " "
        lines = [ln[len(tag):] for ln in res.stdout.splitlines() if ln.startswith(tag)]
        ended = END_MARK in lines
        xs = [ln.split()[1:] for ln in lines if ln.startswith(X_MARK + " ")]
        said = [ln for ln in lines if ln != END_MARK and not ln.startswith(X_MARK + " ")]
        notes = [Diagnostic(severity=Severity.INFO, tool=X_TOOL, message=f"x_samples={xs[-1][0]} checked={xs[-1][1]}")] \
            if xs and len(xs[-1]) == 2 else []
        detail.tests, detail.samples = 1, len(said)
        if res.killed_by_limit:
            category = Category.TIMEOUT if res.timed_out or res.killed_by_limit == "CPU-time limit" else Category.RESOURCE
            return SimOutcome(False, category, detail, [Diagnostic(
                severity=Severity.ERROR, tool="vvp", category=category,
                message=f"simulation stopped by the {res.killed_by_limit} after {res.duration_s:.1f}s")])
        passed_line = any(_PASS.search(ln) for ln in said)
        failed_lines = [ln for ln in said if _FAIL.search(ln) and not _PASS.search(ln)]
        if not ended:
            return SimOutcome(False, Category.CRASH, detail, [Diagnostic(
                severity=Severity.ERROR, tool="vvp", category=Category.CRASH,
                message="the simulation ended before the testbench reached its end; no verdict, counted as a failure")])
        if passed_line and not failed_lines:
            return SimOutcome(True, Category.PASS, detail, notes)
        detail.failures, detail.mismatched_samples = 1, max(1, len(failed_lines))
        why = failed_lines[0].strip() if failed_lines else "the testbench never printed its pass line"
        return SimOutcome(False, Category.MISMATCH, detail, [Diagnostic(
            severity=Severity.ERROR, tool="simulation", category=Category.MISMATCH, message=f"RTLLM bench: {why}"[:300])])
