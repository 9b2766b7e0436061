"""Turn each tool's text output into Diagnostic records, and classify them into failure categories."""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..report import Category, Diagnostic, Severity

# Verilator codes that are errors in generated RTL; codes not listed keep the tool's severity.
VERILATOR_SEVERITY: dict[str, Severity | None] = {
    "LATCH": Severity.ERROR, "MULTIDRIVEN": Severity.ERROR, "BLKSEQ": Severity.ERROR,
    "WIDTH": Severity.ERROR, "WIDTHTRUNC": Severity.ERROR, "WIDTHEXPAND": Severity.ERROR,
    "WIDTHXZEXPAND": Severity.ERROR, "WIDTHCONCAT": Severity.ERROR, "UNDRIVEN": Severity.ERROR,
    "CASEINCOMPLETE": Severity.ERROR, "IMPLICIT": Severity.ERROR, "SELRANGE": Severity.ERROR,
    "COMBDLY": Severity.ERROR, "UNOPTFLAT": Severity.WARNING, "ALWCOMBORDER": Severity.WARNING,
    "PINMISSING": Severity.ERROR, "CASEOVERLAP": Severity.WARNING, "CASEX": Severity.WARNING,
    "SYNCASYNCNET": Severity.WARNING, "INITIALDLY": Severity.WARNING, "MULTITOP": Severity.WARNING,
    "UNUSEDSIGNAL": Severity.INFO, "UNUSEDPARAM": Severity.INFO, "UNUSEDGENVAR": Severity.INFO,
    "UNUSED": Severity.INFO, "PINCONNECTEMPTY": Severity.INFO, "VARHIDDEN": Severity.INFO,
    "GENUNNAMED": Severity.INFO,
    # style noise: dropped entirely
    "DECLFILENAME": None, "EOFNEWLINE": None, "TIMESCALEMOD": None, "STMTDLY": None,
    "PROCASSINIT": None, "ASSIGNIN": Severity.ERROR,
}

_CODE_CATEGORY: dict[str, Category] = {
    "LATCH": Category.LATCH, "CASEINCOMPLETE": Category.LATCH, "COMBDLY": Category.LINT,
    "MULTIDRIVEN": Category.MULTIDRIVER, "BLKSEQ": Category.LINT,
    "WIDTH": Category.WIDTH, "WIDTHTRUNC": Category.WIDTH, "WIDTHEXPAND": Category.WIDTH,
    "WIDTHXZEXPAND": Category.WIDTH, "WIDTHCONCAT": Category.WIDTH, "SELRANGE": Category.WIDTH,
    "UNDRIVEN": Category.UNDRIVEN, "IMPLICIT": Category.UNDECLARED, "UNOPTFLAT": Category.COMB_LOOP,
    "PINMISSING": Category.INTERFACE, "ASSIGNIN": Category.LINT,
}

_SYNTAX_WORDS = ("syntax error", "expected", "unexpected", "parse error")
_UNDECLARED_WORDS = ("unable to bind", "can't find definition", "undeclared", "not declared",
                     "unknown module", "cannot find", "implicitly declared", "unknown identifier")


def classify(d: Diagnostic) -> Category:
    """The failure category a diagnostic points to."""
    if d.code and d.code in _CODE_CATEGORY:
        return _CODE_CATEGORY[d.code]
    msg = d.message.lower()
    if "infinite loop" in msg:
        return Category.TIMEOUT
    if any(w in msg for w in _UNDECLARED_WORDS):
        return Category.UNDECLARED
    if any(w in msg for w in _SYNTAX_WORDS):
        return Category.SYNTAX
    if "width" in msg or "bits" in msg and ("expects" in msg or "truncat" in msg):
        return Category.WIDTH
    if "latch" in msg:
        return Category.LATCH
    if "driver" in msg:
        return Category.MULTIDRIVER
    if "loop" in msg:
        return Category.COMB_LOOP
    return Category.LINT


_IVERILOG = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):\s*(?:(?P<sev>error|warning|sorry):\s*)?(?P<msg>.*)$")


def parse_iverilog(text: str) -> list[Diagnostic]:
    """`FILE:LINE: (error|warning|sorry): MSG` and `FILE:LINE: syntax error`; continuation lines fold in."""
    out: list[Diagnostic] = []
    for raw in text.splitlines():
        m = _IVERILOG.match(raw)
        if not m:
            continue
        msg = m.group("msg").strip()
        if msg.startswith(":") and out:  # continuation: FILE:LINE:        : MSG
            out[-1].message += " " + msg.lstrip(": ").strip()
            continue
        sev_word = m.group("sev")
        if sev_word == "warning":
            sev = Severity.WARNING
        elif sev_word == "sorry":
            sev = Severity.ERROR
            msg = "unsupported by Icarus: " + msg
        elif sev_word == "error" or "syntax error" in msg:
            sev = Severity.ERROR
        else:
            sev = Severity.ERROR if "error" in msg.lower() else Severity.WARNING
        out.append(Diagnostic(severity=sev, message=msg, tool="iverilog",
                              file=m.group("file"), line=int(m.group("line"))))
    if not out and ("I give up" in text or "Elaboration failed" in text):
        out.append(Diagnostic(severity=Severity.ERROR, message=text.strip().splitlines()[-1], tool="iverilog"))
    return out


_VERILATOR = re.compile(
    r"^%(?P<sev>Error|Warning)(?:-(?P<code>[A-Z0-9_]+))?: (?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")


def parse_verilator(text: str, severity_map: dict[str, Severity | None] | None = None) -> list[Diagnostic]:
    """`%(Error|Warning)-CODE: FILE:LINE:COL: MSG`, with the curated severity map applied."""
    smap = VERILATOR_SEVERITY if severity_map is None else severity_map
    out: list[Diagnostic] = []
    for raw in text.splitlines():
        m = _VERILATOR.match(raw)
        if not m:
            continue
        code = m.group("code")
        sev = Severity.ERROR if m.group("sev") == "Error" else Severity.WARNING
        if code and code in smap:
            mapped = smap[code]
            if mapped is None:
                continue
            sev = mapped
        out.append(Diagnostic(severity=sev, message=m.group("msg").strip(), tool="verilator", code=code,
                              file=m.group("file"), line=int(m.group("line")), column=int(m.group("col"))))
    return out


_YOSYS_LOC = re.compile(r"^(?P<file>[^:\n]+?):(?P<line>\d+)(?:\.\d+-\d+\.\d+)?: (?P<sev>ERROR|Warning): (?P<msg>.*)$")
_YOSYS_BARE = re.compile(r"^(?P<sev>ERROR|Warning): (?P<msg>.*)$")
_YOSYS_SRC = re.compile(r"(?P<file>[\w./-]+\.s?v):(?P<line>\d+)")


def parse_yosys(text: str) -> list[Diagnostic]:
    """`FILE:LINE: Warning|ERROR: MSG` or bare `Warning:`/`ERROR:`; a location inside the message is used."""
    out: list[Diagnostic] = []
    lines = text.splitlines()
    for i, raw in enumerate(lines):
        m = _YOSYS_LOC.match(raw) or _YOSYS_BARE.match(raw)
        if not m:
            continue
        gd = m.groupdict()
        msg = gd["msg"].strip()
        # "multiple conflicting drivers" lists the driving cells on the following indented lines.
        j = i + 1
        while j < len(lines) and lines[j].startswith("    ") and len(msg) < 600:
            msg += " " + lines[j].strip()
            j += 1
        file, line = gd.get("file"), int(gd["line"]) if gd.get("line") else None
        if line is None:
            src = _YOSYS_SRC.search(msg)
            if src:
                file, line = src.group("file"), int(src.group("line"))
        sev = Severity.ERROR if gd["sev"] == "ERROR" else Severity.WARNING
        out.append(Diagnostic(severity=sev, message=msg, tool="yosys", file=file, line=line))
    return out


def attach_source(diags: Iterable[Diagnostic], source: str, filename: str) -> None:
    """Fill in the offending source line and the category for diagnostics in the design file."""
    lines = source.splitlines()
    for d in diags:
        if d.file and d.file.endswith(filename) and d.line and 0 < d.line <= len(lines):
            d.file = filename
            d.source_line = lines[d.line - 1].rstrip()
        if d.category is None:
            d.category = classify(d)
