"""Lint stage: Icarus (-g2012 -Wall) and Verilator (--lint-only -Wall, binary called directly)."""
from __future__ import annotations

import re
from pathlib import Path

from ..report import Category, Diagnostic, Severity
from ..testbench.verilog_tb import icarus_compile_args
from ..tools.invoke import run_tool
from ..tools.sandbox import Limits, ProcessResult
from .diagnostics import parse_iverilog, parse_verilator

# Icarus warnings that are real bugs in generated RTL, and warnings that are noise.
_IVERILOG_ERRORS = (
    (re.compile(r"implicit definition of wire", re.I), Category.UNDECLARED),
    (re.compile(r"Port \d+ \(\w+\) of \w+ expects \d+ bits", re.I), Category.WIDTH),
    (re.compile(r"(bit|part) select .* (is after|is before|out of)", re.I), Category.WIDTH),
)
_IVERILOG_NOISE = re.compile(r"timescale|is sensitive to all \d+ words|inherits timescale|Case unique", re.I)


def _tool_failure(tool: str, res: ProcessResult) -> Diagnostic | None:
    if res.timed_out or res.killed_by_limit:
        return Diagnostic(severity=Severity.ERROR, tool=tool, category=Category.TIMEOUT,
                          message=f"{tool} stopped by the {res.killed_by_limit}")
    return None


def iverilog_lint_args(files: list[str], top: str | None, output: str = "/dev/null") -> list[str]:
    """The iverilog -Wall command line; with a bench among `files` and a real `output` it builds the sim image."""
    return [*icarus_compile_args(top, output, warnings=True), *files]


def lint_iverilog(workdir: Path, files: list[str], top: str | None, limits: Limits,
                  output: str = "/dev/null") -> list[Diagnostic]:
    """Icarus -Wall. With a bench among `files` and a real `output`, the same call builds the sim image."""
    res = run_tool("iverilog", iverilog_lint_args(files, top, output), cwd=workdir, limits=limits)
    return iverilog_diagnostics(res)


def iverilog_diagnostics(res: ProcessResult) -> list[Diagnostic]:
    """What an iverilog -Wall run found (warnings that are real bugs in generated RTL become errors)."""
    failed = _tool_failure("iverilog", res)
    if failed:
        return [failed]
    out: list[Diagnostic] = []
    for d in parse_iverilog(res.output):
        if d.severity is Severity.WARNING:
            if _IVERILOG_NOISE.search(d.message):
                continue
            for pat, cat in _IVERILOG_ERRORS:
                if pat.search(d.message):
                    d.severity, d.category = Severity.ERROR, cat
        out.append(d)
    if res.returncode != 0 and not any(d.severity is Severity.ERROR for d in out):
        out.append(Diagnostic(severity=Severity.ERROR, tool="iverilog",
                              message=(res.output.strip().splitlines() or ["iverilog failed"])[-1]))
    for d in out:  # "sorry" lines are fatal only when Icarus gives up
        if d.message.startswith("unsupported by Icarus") and res.returncode == 0:
            d.severity = Severity.INFO
    return out


def verilator_lint_args(files: list[str], top: str | None) -> list[str]:
    """The `verilator_bin --lint-only -Wall` command line."""
    # --no-std skips parsing the std package (1 ms of every call); RTL has no use for it.
    args = ["--lint-only", "-Wall", "-Wno-DECLFILENAME", "-Wno-EOFNEWLINE", "--quiet", "--no-std"]
    if top:
        args += ["--top-module", top]
    return [*args, *files]


def lint_verilator(workdir: Path, files: list[str], top: str | None, limits: Limits) -> list[Diagnostic]:
    res = run_tool("verilator", verilator_lint_args(files, top), cwd=workdir, limits=limits)
    return verilator_diagnostics(res)


def verilator_diagnostics(res: ProcessResult) -> list[Diagnostic]:
    """What a Verilator lint run found."""
    failed = _tool_failure("verilator", res)
    if failed:
        return [failed]
    out = parse_verilator(res.output)
    if res.returncode not in (0, None) and not out and "%Error" in res.output:
        out.append(Diagnostic(severity=Severity.ERROR, tool="verilator",
                              message=res.output.strip().splitlines()[0]))
    return out


LINTERS = {"iverilog": lint_iverilog, "verilator": lint_verilator}
