"""Hand-written source material: one folder per design under data/source/designs/<name>/.

Each folder holds
    meta.toml   what the design is (title, spec, stage, parameter sweep), its bugs and explain Q&As
    design.v    the correct design (the answer a model learns)
    ref.v       an independently written reference (checked by ReferenceTestbench), or
    tb.sv       a self-checking bench that prints `CM_RESULT pass=%0d fail=%0d`

Parameters: `params` in meta.toml are the defaults written in the .v/.sv files; a sweep point rewrites
`parameter NAME = <int>` / `localparam NAME = <int>` in all three files. Text fields use `${NAME}`
placeholders (string.Template), plus `derived` values computed from the parameters.
"""
from __future__ import annotations

import ast
import operator
import re
import string
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import InputError

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / "source"
DESIGNS_DIR = SOURCE_DIR / "designs"

_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
        ast.Div: operator.floordiv, ast.Pow: operator.pow, ast.Mod: operator.mod, ast.LShift: operator.lshift,
        ast.RShift: operator.rshift, ast.USub: operator.neg}


def eval_int(expr: str, names: dict[str, int]) -> int:
    """Integer arithmetic over parameter names (no calls except clog2/max/min)."""

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return int(names[node.id])
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            args = [ev(a) for a in node.args]
            if node.func.id == "clog2" and len(args) == 1:
                return max(0, (args[0] - 1).bit_length())
            if node.func.id in ("max", "min"):
                return (max if node.func.id == "max" else min)(args)
        raise InputError(f"unsupported expression {expr!r}")

    return ev(ast.parse(expr, mode="eval"))


def substitute_params(text: str, params: dict[str, int]) -> str:
    """Rewrite the default value of each named parameter/localparam (integer literal) in Verilog text."""
    for name, value in params.items():
        pat = re.compile(rf"(\b(?:parameter|localparam)\s+(?:integer\s+|int\s+)?{re.escape(name)}\s*=\s*)(\d+)\b")
        text = pat.sub(lambda m, v=value: f"{m.group(1)}{v}", text)
    return text


def fill(text: str, values: dict[str, Any]) -> str:
    return string.Template(text).safe_substitute({k: str(v) for k, v in values.items()})


@dataclass(frozen=True)
class SourceBug:
    find: str
    replace: str
    explanation: str
    symptom: str = ""
    fix: str = ""


@dataclass(frozen=True)
class SourceExplain:
    question: str
    answer: str
    stage: int = 3


@dataclass
class DesignSource:
    """One hand-written design with its independent check."""

    name: str
    top: str
    title: str
    spec: str
    stage: int
    check: str  # "reference" | "bench"
    params: dict[str, int]
    sweep: list[dict[str, int]]
    derived: dict[str, str]
    design_text: str
    check_text: str
    notes: str = ""
    debug_stage: int = 3
    bugs: list[SourceBug] = field(default_factory=list)
    explains: list[SourceExplain] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    cycles: int = 1000  # random-stimulus cycles for reference comparison

    @property
    def family(self) -> str:
        return f"other:{self.name}"

    def points(self) -> list[dict[str, int]]:
        """The default parameter point first, then the sweep."""
        out = [dict(self.params)]
        for p in self.sweep:
            full = {**self.params, **p}
            if full not in out:
                out.append(full)
        return out

    def values(self, params: dict[str, int]) -> dict[str, Any]:
        full = {**self.params, **params}
        vals: dict[str, Any] = dict(full)
        for k, expr in self.derived.items():
            vals[k] = eval_int(expr, {**vals})
        return vals

    def design(self, params: dict[str, int] | None = None) -> str:
        return substitute_params(self.design_text, {**self.params, **(params or {})})

    def check_source(self, params: dict[str, int] | None = None) -> str:
        return substitute_params(self.check_text, {**self.params, **(params or {})})

    def text(self, template: str, params: dict[str, int] | None = None) -> str:
        return fill(template, self.values(params or {})).strip()

    def testbench(self, params: dict[str, int] | None = None):  # -> Testbench
        from ..testbench.reference import ReferenceTestbench
        from ..testbench.verilog_tb import VerilogTestbench

        src = self.check_source(params)
        if self.check == "reference":
            return ReferenceTestbench(src, top=self.top, cycles=self.cycles)
        return VerilogTestbench(src, name=f"{self.name}_tb.sv")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_design(folder: Path) -> DesignSource:
    meta_path = folder / "meta.toml"
    try:
        meta = tomllib.loads(_read(meta_path))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{meta_path}: {exc}") from exc
    ref, tb = folder / "ref.v", folder / "tb.sv"
    if ref.exists() == tb.exists():
        raise InputError(f"{folder}: needs exactly one of ref.v (reference) or tb.sv (self-checking bench)")
    bugs = [SourceBug(b["find"], b["replace"], b["explanation"].strip(), b.get("symptom", "").strip(),
                      b.get("fix", "").strip()) for b in meta.get("bugs", [])]
    explains = [SourceExplain(e["question"].strip(), e["answer"].strip(), int(e.get("stage", 3)))
                for e in meta.get("explain", [])]
    return DesignSource(
        name=folder.name, top=meta.get("top", folder.name), title=meta["title"], spec=meta["spec"],
        stage=int(meta["stage"]), check="reference" if ref.exists() else "bench",
        params={k: int(v) for k, v in meta.get("params", {}).items()},
        sweep=[{k: int(v) for k, v in p.items()} for p in meta.get("sweep", [])],
        derived=dict(meta.get("derived", {})), design_text=_read(folder / "design.v"),
        check_text=_read(ref if ref.exists() else tb), notes=meta.get("notes", "").strip(),
        debug_stage=int(meta.get("debug_stage", 3 if int(meta["stage"]) <= 3 else 4)), bugs=bugs,
        explains=explains, tags=list(meta.get("tags", [])), cycles=int(meta.get("cycles", 1000)))


@lru_cache(maxsize=1)
def all_designs() -> dict[str, DesignSource]:
    if not DESIGNS_DIR.is_dir():
        return {}
    return {d.name: load_design(d) for d in sorted(DESIGNS_DIR.iterdir()) if (d / "meta.toml").is_file()}


def get_design(name: str) -> DesignSource:
    designs = all_designs()
    if name not in designs:
        raise InputError(f"no source design {name!r}; known: {', '.join(designs)}")
    return designs[name]


def module_header(text: str) -> str:
    """The module header (from `module` to the `);` closing the port list), comments removed."""
    m = re.search(r"^\s*module\b", text, re.M)
    if not m:
        return ""
    body = text[m.start():]
    depth, end = 0, None
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and body[i + 1:].lstrip().startswith(";"):
                end = i + 1 + body[i + 1:].index(";") + 1
                break
    head = body[:end] if end else body.split(";")[0] + ";"
    head = re.sub(r"//[^\n]*", "", head)
    head = re.sub(r"[ \t]+\n", "\n", head)
    return "\n".join(ln for ln in head.strip().splitlines() if ln.strip())


def stub_design(text: str, top: str, level: int) -> str:
    """The design's interface with every output tied to all-zeros (level 0) or all-ones (level 1).

    A bench or reference that passes such a stub cannot tell a working design from a dead one; the builder
    uses the pair to prove every check can fail.
    """
    from ..engine.elaborate import elaborate

    elab = elaborate(text, top=top)
    mod = elab.modules[top]
    header = module_header(text)
    body = []
    for p in mod.ports:
        if p.direction == "output":
            body.append(f"    assign {p.name} = {{{p.width}{{1'b{level}}}}};")
    # outputs declared `output reg` cannot be assigned with `assign`: make every output a plain wire
    header = re.sub(r"\boutput\s+reg\b", "output wire", header)
    header = re.sub(r"\boutput\s+(?!wire\b)", "output wire ", header)
    return header + "\n" + "\n".join(body) + "\nendmodule\n"
