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


_CODE_LINE = re.compile(r"^\s*($|`|//|/\*|\*|(parameter|localparam|typedef|import|export|package|timeunit|"
                        r"timeprecision)\b)")
# Compilation-unit blocks that may come before the first module; kept whole, up to their end keyword.
_BLOCK_START = re.compile(r"^\s*(?:virtual\s+|interface\s+(?=class\b))?(package|interface|class|program|checker)"
                          r"\s+(?:automatic\s+|static\s+)?[A-Za-z_]\w*\s*(?:;|\(|#|\bextends\b|\bimplements\b|$)|"
                          r"^\s*(function|task)\s+(?:automatic\s+|static\s+)?[\w\[\]: -]*?[A-Za-z_]\w*\s*[(;]")
_STATEMENT_START = re.compile(r"^\s*(typedef|import|export|parameter|localparam)\b")


def _statement_open(line: str, depth: int) -> tuple[bool, int]:
    """Whether a declaration is still open after this line (no `;` outside braces yet), and the brace depth."""
    for ch in line.split("//", 1)[0]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == ";" and depth <= 0:
            return False, 0
    return True, depth


def _keep_head(head: list[str]) -> list[str]:
    """The lines above the first module: code is kept (whole package/interface/class/typedef blocks,
    imports, directives, comments); prose becomes blank lines so line numbers still match."""
    out: list[str] = []
    end_kw: re.Pattern[str] | None = None   # inside a block until this keyword
    depth = 0                                # braces open in that declaration
    open_statement = False                   # inside a typedef/import/parameter until its `;` at depth 0
    for ln in head:
        if end_kw is not None:
            out.append(ln)
            if end_kw.search(ln):
                end_kw = None
            continue
        if open_statement:
            out.append(ln)
            open_statement, depth = _statement_open(ln, depth)
            continue
        block = _BLOCK_START.match(ln)
        if block:
            out.append(ln)
            pat = re.compile(rf"\bend{block.group(1) or block.group(2)}\b")
            end_kw = None if pat.search(ln[block.end():]) else pat
            continue
        if _STATEMENT_START.match(ln):
            out.append(ln)
            open_statement, depth = _statement_open(ln, 0)
            continue
        out.append(ln if _CODE_LINE.match(ln) else "")
    return out


def _from_module_keyword(text: str) -> str:
    """Cut from the first `module` to the last `endmodule`.

    Prose lines above the first module become blank lines, so line numbers still match the input;
    code there is kept: directives and comments (the screen must see an `include wherever it is), and
    whole `package`, `interface`, `class`, `typedef` blocks and `import` lines.
    """
    m = _MODULE.search(text)
    if not m:
        return ""
    start = m.start()
    head = _keep_head(text[:start].split("\n"))
    ends = list(_END.finditer(text))
    body = text[start: ends[-1].end()] if ends and ends[-1].start() > start else text[start:]
    return "\n".join(head) + body


def _close_modules(src: str, notes: list[str]) -> str:
    """Insert endmodule where a module was opened but never closed (truncated or sloppy generations)."""
    out: list[str] = []
    pos, open_mod, added = 0, False, 0
    for m in re.finditer(r"^\s*(?:module|macromodule)\b|\bendmodule\b", src, re.M):
        is_end = m.group(0).strip() == "endmodule"
        if not is_end and open_mod:
            out.append(src[pos:m.start()].rstrip() + "\nendmodule\n")
            pos, added = m.start(), added + 1
        open_mod = not is_end
    out.append(src[pos:])
    text = "".join(out)
    if open_mod:
        text, added = text.rstrip() + "\nendmodule\n", added + 1
    if added:
        notes.append(f"added {added} missing endmodule")
    return text


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
        if hdl:  # a block that only declares a package/interface/class the modules need is kept too
            hdl = [body for lang, body in fences if lang in _HDL_LANGS and
                   (_MODULE.search(body) or any(_BLOCK_START.match(ln) for ln in body.splitlines()))]
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
    parts = [_close_modules(_from_module_keyword(b), notes) if _MODULE.search(b) else b for b in blocks]
    src = "\n\n".join(p.rstrip("\n") for p in parts) + "\n"
    return Extraction(source=src, modules=_module_names(src), notes=notes)
