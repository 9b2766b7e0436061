"""Human-readable rendering of a VerificationReport (CLI only; JUnit XML is in junit.py)."""
from __future__ import annotations

from ..engine.elaborate import DESIGN_FILE
from ..report import STATIC_VERDICT, Level, Severity, VerificationReport, display_score

_MARK = {True: "\u2713", False: "\u2717"}


def caret_line(source_line: str, column: int | None) -> str:
    if not column:
        return ""
    prefix = "".join(ch if ch == "\t" else " " for ch in source_line[: column - 1])
    return prefix + "^"


def render_text(report: VerificationReport, name: str = "design") -> str:
    out = []
    out.append(f"{name}: {report.verdict}  score={display_score(report.score, report.passed):.3f}  "
               f"top={report.top or '?'}  "
               f"{report.duration_s * 1000:.0f} ms{'  (cached)' if report.cache_hit else ''}")
    for st in report.stages:
        mark = "-" if st.skipped else _MARK[st.passed]
        extra = ""
        if st.name == "synth" and "cells" in st.info:
            extra = f"  ({st.info['cells']} cells)"
        if st.simulation:
            sim = st.simulation
            if sim.samples:
                extra = f"  ({sim.samples - sim.mismatched_samples}/{sim.samples} samples match, {st.info.get('testbench', '')})"
            else:
                extra = f"  ({sim.tests - sim.failures}/{sim.tests} tests pass, {st.info.get('testbench', '')})"
        cat = f" [{st.category.value}]" if st.category and not st.passed else ""
        out.append(f"  {mark} {st.name:<9} {st.duration_s * 1000:7.1f} ms{cat}{extra}")
        for d in st.diagnostics:
            if d.severity is Severity.INFO:
                continue
            code = f"[{d.code}] " if d.code else ""
            loc = d.location().replace(DESIGN_FILE, name, 1) if d.file == DESIGN_FILE else d.location()
            out.append(f"      {d.severity.value}: {loc}: {code}{d.message} ({d.tool})")
            if d.source_line is not None:
                out.append(f"        | {d.source_line}")
                caret = caret_line(d.source_line, d.column)
                if caret:
                    out.append(f"        | {caret}")
        if st.simulation and st.simulation.mismatches:
            out.append("      first failing checks:")
            for m in st.simulation.mismatches:
                where = f"cycle {m.cycle}" if m.cycle is not None else (f"t={m.time}" if m.time else "")
                ins = ", ".join(f"{k}={v}" for k, v in m.inputs.items())
                if m.expected is not None:
                    out.append(f"        {where} {m.signal or ''}: expected {m.expected}, got {m.got}"
                               + (f"  (inputs {ins})" if ins else "") + (f"  -- {m.message}" if m.message else ""))
                else:
                    out.append(f"        {m.test or ''} {where}: {m.message}")
        if st.simulation and st.simulation.vcd_path:
            out.append(f"      waveform kept: {st.simulation.vcd_path}")
    for note in report.notes:
        if report.level is Level.STATIC and note.startswith(STATIC_VERDICT):
            continue  # said below, louder
        out.append(f"  note: {note}")
    if report.level is Level.STATIC:
        out.append(f"  !! {STATIC_VERDICT}: only lint and synthesis ran. Nothing checked what {name} does;")
        out.append("  !! give --testbench, --reference or --suite to verify its behaviour (exit code 3).")
    return "\n".join(out)
