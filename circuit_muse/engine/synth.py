"""Synthesis checks with Yosys: proc + check for latches, logic loops, multiple and missing drivers."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..report import Category, Diagnostic, Severity
from ..tools.invoke import run_tool
from ..tools.sandbox import Limits
from .diagnostics import parse_yosys

_LATCH = re.compile(r"Latch inferred for signal `\\?[\w$.]*?\\?(?P<sig>[\w$]+)' from process `[^']*?\$(?P<file>[\w./-]+):(?P<line>\d+)")
_WIRE = re.compile(r"(?:for|Wire) [\w$]+\.\\?(?P<sig>[\w$]+)")
_CELLS = re.compile(r"Number of cells:\s+(\d+)")


def synth_check(workdir: Path, files: list[str], top: str, limits: Limits,
                line_of: Callable[[str], int | None]) -> tuple[list[Diagnostic], dict[str, Any]]:
    """Run Yosys; return diagnostics (errors for real hardware problems) and info (cell count)."""
    reads = "; ".join(f"read_verilog -sv {f}" for f in files)
    script = (f"{reads}; hierarchy -check -top {top}; tee -q -o proc.log proc; flatten; opt_clean; "
              "tee -q -o check.log check; tee -q -o stat.log stat")
    res = run_tool("yosys", ["-q", "-p", script], cwd=workdir, limits=limits)
    info: dict[str, Any] = {}
    diags: list[Diagnostic] = []
    if res.timed_out or res.killed_by_limit:
        return [Diagnostic(severity=Severity.ERROR, tool="yosys", category=Category.TIMEOUT,
                           message=f"yosys stopped by the {res.killed_by_limit}")], info
    if res.returncode != 0:
        errs = [d for d in parse_yosys(res.output) if d.severity is Severity.ERROR]
        return errs or [Diagnostic(severity=Severity.ERROR, tool="yosys", category=Category.SYNTH,
                                   message=res.output.strip()[-500:] or "yosys failed")], info

    def read(name: str) -> str:
        p = workdir / name
        return p.read_text(errors="replace") if p.exists() else ""

    for m in _LATCH.finditer(read("proc.log")):
        diags.append(Diagnostic(severity=Severity.ERROR, tool="yosys", code="latch", category=Category.LATCH,
                                file=m.group("file"), line=int(m.group("line")),
                                message=f"latch inferred for signal '{m.group('sig')}': assign it on every path "
                                        "of the combinational block (add a default)"))
    seen: set[tuple[str, str]] = set()
    for d in parse_yosys(read("check.log")):
        msg = d.message
        head = re.sub(r"\s*\[\d+\]", "", msg.split(":")[0])  # one report per signal, not per bit
        if (head, d.file or "") in seen:
            continue
        seen.add((head, d.file or ""))
        sig = _WIRE.search(msg)
        if "conflicting drivers" in msg:
            d.category, d.code = Category.MULTIDRIVER, "multidriver"
        elif "logic loop" in msg:
            d.category, d.code = Category.COMB_LOOP, "comb-loop"
        elif "no driver" in msg:
            d.category, d.code = Category.UNDRIVEN, "undriven"
        else:
            d.category = Category.SYNTH
        d.severity = Severity.ERROR
        if sig and d.line is None:
            d.line = line_of(sig.group("sig"))
            d.file = "design.sv" if d.line else None
        elif d.code == "comb-loop" and d.line is None:
            cell = re.search(r"\$(?:[\w]+)\$([\w./-]+):(\d+)", msg)
            if cell:
                d.file, d.line = cell.group(1), int(cell.group(2))
        diags.append(d)
    m = _CELLS.search(read("stat.log"))
    if m:
        info["cells"] = int(m.group(1))
    return diags, info
