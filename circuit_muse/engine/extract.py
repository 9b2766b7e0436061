"""Pull Verilog out of raw model text: code fences, prose, [BEGIN]/[DONE] markers, a missing endmodule."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_MARKERS = re.compile(r"\[BEGIN\](.*?)(?:\[DONE\]|\Z)", re.S)
_MODULE = re.compile(r"^\s*(?:module|macromodule)\b", re.M)
_END = re.compile(r"\bendmodule\b")
_HDL_LANGS = {"", "verilog", "v", "systemverilog", "sv", "vlog", "svlog"}


@dataclass
class Extraction:
    """The extracted source, with notes on what had to be repaired."""

    source: str
    modules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _module_names(text: str) -> list[str]:
    return re.findall(r"^\s*(?:module|macromodule)\s+(?:automatic\s+|static\s+)?([A-Za-z_]\w*)", text, re.M)


def _from_module_keyword(text: str) -> str:
    """Cut from the first `module` to the last `endmodule`, keeping the timescale/defines above it."""
    m = _MODULE.search(text)
    if not m:
        return ""
    start = m.start()
    head = text[:start]
    keep = [ln for ln in head.splitlines() if ln.strip().startswith(("`timescale", "`default_nettype"))]
    ends = list(_END.finditer(text))
    body = text[start: ends[-1].end()] if ends and ends[-1].start() > start else text[start:]
    return ("\n".join(keep) + "\n" if keep else "") + body


def _close_modules(src: str, notes: list[str]) -> str:
    """Append endmodule where a module was opened but never closed (a truncated generation)."""
    opened = len(_MODULE.findall(src))
    closed = len(_END.findall(src))
    if opened > closed:
        notes.append(f"added {opened - closed} missing endmodule")
        src = src.rstrip() + "\n" + "endmodule\n" * (opened - closed)
    return src


def extract_verilog(raw: str) -> Extraction:
    """Return the Verilog in raw model output. An empty source means none was found."""
    notes: list[str] = []
    text = raw.replace("\r\n", "\n")
    blocks: list[str] = []
    markers = [m.group(1) for m in _MARKERS.finditer(text)]
    if markers:
        notes.append("used [BEGIN]/[DONE] markers")
        text = "\n".join(markers)
    fences = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    if fences:
        hdl = [body for lang, body in fences if lang in _HDL_LANGS and _MODULE.search(body)]
        if hdl:
            blocks = hdl
            notes.append(f"took {len(hdl)} fenced block(s)")
    if not blocks:
        cut = _from_module_keyword(text)
        if cut:
            blocks = [cut]
            if cut.strip() != text.strip():
                notes.append("stripped prose around the code")
    if not blocks:
        return Extraction(source="", notes=notes + ["no `module` found in the text"])
    # Within each block, drop prose before the first module, but keep code after endmodule if it is a module.
    parts = [_from_module_keyword(b) or b for b in blocks]
    src = "\n\n".join(p.strip("\n") for p in parts) + "\n"
    src = _close_modules(src, notes)
    return Extraction(source=src, modules=_module_names(src), notes=notes)
