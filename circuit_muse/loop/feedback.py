"""Short, exact feedback from a failed VerificationReport: category, the few diagnostics that matter,
the first failing cycles as a table, and one hint. Capped so the model never drowns in logs."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..prompts import render
from ..report import Category, Severity, VerificationReport

HINTS: dict[Category, str] = {
    Category.NO_CODE: "Your answer had no Verilog module. Reply with the full module in a ```verilog block.",
    Category.UNSAFE: "Remove system tasks ($display, $finish, file I/O, $random), `include and DPI from the design.",
    Category.SYNTAX: "Check the line shown and the line before it: a missing ';', 'end' or 'endmodule' is typical.",
    Category.UNDECLARED: "Declare every signal before use, and use exactly the port names of the interface.",
    Category.INTERFACE: "Use exactly the module name, port names, directions, widths and parameters required.",
    Category.WIDTH: "Make both sides of each assignment the same width: size constants (4'd1) and slice or extend explicitly.",
    Category.LATCH: "Give every combinational output a default value at the top of the always @* block, or add a default case.",
    Category.MULTIDRIVER: "Drive each signal from one always block only: merge the blocks that assign it.",
    Category.COMB_LOOP: "Break the combinational loop: a signal must not depend on itself without a register in between.",
    Category.UNDRIVEN: "Drive every output and every wire you read; tie unused outputs to a constant.",
    Category.LINT: "Use nonblocking assignments (<=) in clocked blocks and blocking (=) only in combinational ones.",
    Category.SYNTH: "Write synthesizable RTL only: no delays, no initial-block logic, loops with constant bounds.",
    Category.TIMEOUT: "The simulation never finished: look for a loop without a clock edge or a combinational loop.",
    Category.RESOURCE: "The design used too much memory or output: reduce array sizes and remove prints.",
    Category.CRASH: "The simulation crashed before a verdict: check for X-propagation in resets and illegal constructs.",
    Category.MISMATCH: "Compare the expected and got values cycle by cycle: check reset values, enable priority and "
                        "whether outputs are registered one cycle late or early.",
    Category.TESTBENCH: "The testbench could not drive your design: check module and port names.",
}

MAX_DIAGNOSTICS = 6
MAX_MISMATCHES = 8
MAX_CHARS = 2400


@dataclass
class Feedback:
    category: Category
    text: str
    diagnostics: list[str] = field(default_factory=list)
    mismatch_rows: int = 0


def _diag_lines(report: VerificationReport, *, skip_summaries: bool = False) -> list[str]:
    failed = report.first_failure
    if failed is None:
        return []
    lines, seen = [], set()
    errors = [d for d in failed.diagnostics if d.severity is Severity.ERROR]
    # Diagnostics in the design first, in source order; each distinct message once.
    errors.sort(key=lambda d: (d.line is None, d.line or 0))
    for d in errors:
        if skip_summaries and d.line is None and d.category is Category.MISMATCH:
            continue  # the failing-cycle table and its summary line say it better
        key = (d.line, d.message)
        if key in seen:
            continue
        seen.add(key)
        where = f"line {d.line}" if d.line else "design"
        code = f" [{d.code}]" if d.code else ""
        src = f": `{d.source_line.strip()}`" if d.source_line else ""
        msg = d.message if len(d.message) < 220 else d.message[:217] + "..."
        lines.append(f"{where}{src} -- {msg}{code}")
        if len(lines) >= MAX_DIAGNOSTICS:
            break
    return lines


def _mismatch_table(report: VerificationReport) -> tuple[str, int, str]:
    sim = report.stage("simulate")
    if not sim or not sim.simulation:
        return "", 0, ""
    s = sim.simulation
    rows = s.mismatches[:MAX_MISMATCHES]
    summary = ""
    if s.samples:
        summary = f"{s.mismatched_samples} of {s.samples} checked cycles were wrong."
    elif s.tests:
        summary = f"{s.failures} of {s.tests} tests failed."
    if not rows:
        return "", 0, summary
    if all(r.expected is None for r in rows):
        text = "\n".join(f"- {r.test + ': ' if r.test else ''}{(r.message or '').strip()[:300]}" for r in rows)
        return text, len(rows), summary
    notes = any(r.message for r in rows)
    header = "| cycle | inputs | signal | expected | got |" + (" why |" if notes else "")
    header += "\n|---|---|---|---|---|" + ("---|" if notes else "")
    body = []
    for r in rows:
        when = str(r.cycle) if r.cycle is not None else (r.time or "?")
        ins = ", ".join(f"{k}={v}" for k, v in r.inputs.items()) or "-"
        why = f" {(r.message or '')[:120]} |" if notes else ""
        body.append(f"| {when} | {ins} | {r.signal or '?'} | {r.expected} | {r.got} |{why}")
    return header + "\n" + "\n".join(body), len(rows), summary


def build_feedback(report: VerificationReport) -> Feedback:
    """The repair message for a failed report (never called for a passing one)."""
    failed = report.first_failure
    table, nrows, summary = _mismatch_table(report)
    diags = _diag_lines(report, skip_summaries=bool(table or summary))
    text = render("repair.j2",
        category=report.category.value, stage=failed.name if failed else None, diagnostics=diags,
        mismatches=table, summary=summary, hint=HINTS.get(report.category, "Re-read the specification."))
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 60].rstrip() + "\n...\nFix the design. Return the complete corrected design in one ```verilog block."
    return Feedback(category=report.category, text=text, diagnostics=diags, mismatch_rows=nrows)
