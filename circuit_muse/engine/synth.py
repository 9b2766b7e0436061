"""Synthesis checks with Yosys: proc + check for latches, logic loops, multiple and missing drivers.

Two things Yosys 0.23 gets wrong are handled here:
- `always @(posedge clk or posedge rst) q <= rst ? 0 : d;` is legal and correct, but its `proc_arst` only
  understands an `if (rst)` at the top of the process. Yosys is handed a copy in which such a ternary is
  spelled as `if`/`else` (same tokens, same line numbers); simulators and the screen keep the original.
- `check` sees no conflict when one net has two *identical* drivers (`assign w = a;` twice), so the
  netlist is dumped after `proc; flatten` and every bit driven by more than one connection is reported.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..report import Category, Diagnostic, Severity
from ..tools.invoke import run_tool
from ..tools.sandbox import Limits, ProcessResult, make_dir_for_sandbox
from .diagnostics import classify, parse_yosys

_LATCH = re.compile(r"Latch inferred for signal `\\?[\w$.]*?\\?(?P<sig>[\w$]+)' from process `[^']*?\$(?P<file>[\w./-]+):(?P<line>\d+)")
_WIRE = re.compile(r"(?:for|Wire) [\w$]+\.\\?(?P<sig>[\w$]+)")
_CELLS = re.compile(r"Number of cells:\s+(\d+)")
NORMALISED_DIR = "cm_synth"  # Yosys reads the normalised copy from here (same file name, same lines)

# An edge-triggered process with more than one edge: the extra edges are asynchronous set/reset signals.
_MULTI_EDGE = re.compile(r"\balways(?:_ff)?\s*@\s*\(\s*((?:pos|neg)edge\s+\w+(?:\s*(?:\bor\b|,)\s*(?:pos|neg)edge"
                         r"\s+\w+)+)\s*\)")
_EDGE_SIGNAL = re.compile(r"(?:pos|neg)edge\s+(\w+)")
_PROCESS_END = re.compile(r"\b(?:always\w*|assign|initial|endmodule|module|function|task)\b")
_INDEX = r"(?:\s*\[[^\]\n]*\])*"


def _ternary(signals: list[str]) -> re.Pattern[str]:
    sig = "|".join(re.escape(s) for s in signals)
    cond = rf"\(?\s*[!~]?\s*\(?\s*(?:{sig})\s*\)?(?:\s*[!=]=\s*1'[bB][01])?\s*\)?"
    return re.compile(rf"(?<![\w.\]])(?P<lhs>[A-Za-z_]\w*{_INDEX})\s*<=\s*(?P<cond>{cond})\s*\?\s*"
                      rf"(?P<a>(?:[^:;?\[\]]|\[[^\]]*\])+?)\s*:\s*(?P<b>[^;]+);")


def normalise_async_ternary(source: str) -> str:
    """Spell `q <= rst ? A : B;` as `begin if (rst) q <= A; else q <= B; end` in processes with an async edge.

    The two forms mean the same for synthesis; only Yosys 0.23's proc_arst cannot read the first. Line
    numbers are kept, so Yosys messages still point at the user's lines.
    """
    out, pos = [], 0
    for head in _MULTI_EDGE.finditer(source):
        if head.start() < pos:
            continue
        end = _PROCESS_END.search(source, head.end())
        stop = end.start() if end else len(source)
        body = source[head.end():stop]
        pat = _ternary(_EDGE_SIGNAL.findall(head.group(1)))

        def spell(m: re.Match[str]) -> str:
            text = (f"begin if ({m.group('cond').strip()}) {m.group('lhs')} <= {m.group('a')}; "
                    f"else {m.group('lhs')} <= {m.group('b')}; end")
            return text + "\n" * (m.group(0).count("\n") - text.count("\n"))

        out += [source[pos:head.end()], pat.sub(spell, body)]
        pos = stop
    out.append(source[pos:])
    return "".join(out)


def yosys_inputs(workdir: Path, files: list[str]) -> list[str]:
    """The files Yosys reads: the originals, or a normalised copy where normalising changed something."""
    names = []
    for f in files:
        text = (workdir / f).read_text(errors="replace")
        fixed = normalise_async_ternary(text)
        if fixed == text:
            names.append(f)
            continue
        dest = workdir / NORMALISED_DIR / f
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(fixed)
        names.append(f"{NORMALISED_DIR}/{f}")
    return names


_RTLIL_WIRE = re.compile(r"^  wire (?:.*?width (\d+) )?.*?(\S+)$")
_RTLIL_BIT = re.compile(r"(\S+)(?: \[(\d+)(?::(\d+))?\])?")


def _sigspec_bits(spec: str, widths: dict[str, int]) -> list[tuple[str, int]]:
    """The wire bits of an RTLIL sigspec on the left of `connect` (wires, slices and `{ ... }` lists)."""
    spec = spec.strip()
    parts = re.findall(r"\S+(?: \[\d+(?::\d+)?\])?", spec[1:-1]) if spec.startswith("{") else [spec]
    bits: list[tuple[str, int]] = []
    for part in parts:
        m = _RTLIL_BIT.fullmatch(part)
        if not m or m.group(1) not in widths:
            continue
        name, hi, lo = m.group(1), m.group(2), m.group(3)
        rng = range(widths[name]) if hi is None else range(int(lo if lo is not None else hi), int(hi) + 1)
        bits += [(name, i) for i in rng]
    return bits


def _split_connect(rest: str) -> str:
    """The left-hand sigspec of `connect LHS RHS`."""
    if rest.startswith("{"):
        return rest[: rest.index("}") + 1]
    m = re.match(r"\S+(?: \[\d+(?::\d+)?\])?", rest)
    return m.group(0) if m else rest


def duplicate_drivers(rtlil: str) -> list[str]:
    """Names of wires that more than one module-level connection drives (identical drivers included)."""
    found: list[str] = []
    widths: dict[str, int] = {}
    driven: dict[tuple[str, int], int] = {}
    for line in rtlil.splitlines():
        if line.startswith("module "):
            widths, driven = {}, {}
        elif line.startswith("  wire "):
            m = _RTLIL_WIRE.match(line)
            if m:
                widths[m.group(2)] = int(m.group(1) or 1)
        elif line.startswith("  connect "):
            for bit in _sigspec_bits(_split_connect(line[len("  connect "):]), widths):
                driven[bit] = driven.get(bit, 0) + 1
                if driven[bit] == 2 and bit[0] not in found:
                    found.append(bit[0])
    return found


def yosys_args(workdir: Path, files: list[str], top: str) -> list[str]:
    """The Yosys command line of the synth check (writes the normalised copies it reads, if any).

    `top` must be a plain identifier (the screen's name check) and `files` names this code chose: the script
    holds nothing else.
    """
    reads = "; ".join(f"read_verilog -sv {f}" for f in yosys_inputs(workdir, files))
    logs = _log_dir(workdir)
    script = (f"{reads}; hierarchy -check -top {top}; tee -q -o {logs}proc.log proc; flatten; "
              f"write_rtlil {logs}cm_pre.il; opt_clean; tee -q -o {logs}check.log check; "
              f"tee -q -o {logs}stat.log stat")
    return ["-q", "-p", script]


LOG_DIR = "cm_yosys"  # Yosys's logs and netlist: not in the work directory's top level, which the simulation copies


def _log_dir(workdir: Path) -> str:
    """Where Yosys writes its logs, as a script prefix: LOG_DIR/ where the sandbox can write it, else the top."""
    return f"{LOG_DIR}/" if make_dir_for_sandbox(workdir / LOG_DIR) else ""


def synth_check(workdir: Path, files: list[str], top: str, limits: Limits,
                line_of: Callable[[str], int | None]) -> tuple[list[Diagnostic], dict[str, Any]]:
    """Run Yosys; return diagnostics (errors for real hardware problems) and info (cell count)."""
    res = run_tool("yosys", yosys_args(workdir, files, top), cwd=workdir, limits=limits)
    return synth_diagnostics(res, workdir, line_of)


def synth_diagnostics(res: ProcessResult, workdir: Path,
                      line_of: Callable[[str], int | None]) -> tuple[list[Diagnostic], dict[str, Any]]:
    """Read a finished `yosys_args` run (its output and the logs it left in workdir)."""
    info: dict[str, Any] = {}
    diags: list[Diagnostic] = []
    if res.timed_out or res.killed_by_limit:
        return [Diagnostic(severity=Severity.ERROR, tool="yosys", category=Category.TIMEOUT,
                           message=f"yosys stopped by the {res.killed_by_limit}")], info
    if res.returncode != 0:
        errs = [d for d in parse_yosys(res.output) if d.severity is Severity.ERROR]
        for d in errs:  # lint passed already: what only Yosys rejects is a synthesis problem
            if d.file and d.file.startswith(NORMALISED_DIR + "/"):
                d.file = d.file[len(NORMALISED_DIR) + 1:]
            cat = classify(d)
            d.category = cat if cat not in (Category.LINT,) else Category.SYNTH
        return errs or [Diagnostic(severity=Severity.ERROR, tool="yosys", category=Category.SYNTH,
                                   message=res.output.strip()[-500:] or "yosys failed")], info

    def read(name: str) -> str:
        for p in (workdir / LOG_DIR / name, workdir / name):
            if p.exists():
                return p.read_text(errors="replace")
        return ""

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
    flagged = {m.group("sig") for d in diags if d.category is Category.MULTIDRIVER
               for m in [_WIRE.search(d.message)] if m}
    for name in duplicate_drivers(read("cm_pre.il")):
        plain = name.lstrip("\\")
        if name.startswith("$") or plain in flagged:
            continue
        line = line_of(plain)
        diags.append(Diagnostic(severity=Severity.ERROR, tool="yosys", code="multidriver",
                                category=Category.MULTIDRIVER, file="design.sv" if line else None, line=line,
                                message=f"'{plain}' has more than one driver (e.g. two assign statements, "
                                        "even identical ones): drive each net from exactly one place"))
    m = _CELLS.search(read("stat.log"))
    if m:
        info["cells"] = int(m.group(1))
    return diags, info
