"""Parse and elaborate a design with pyslang: modules, parameters, ports with evaluated widths.

Includes are never followed (max include depth 0): the screen rejects them, and the parser must not
read the file a hostile `include names before the screen has had its say.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyslang
from pyslang import ast, parsing, syntax

from ..report import Diagnostic, Severity

DESIGN_FILE = "design.sv"


@dataclass
class PortInfo:
    name: str
    direction: str  # input | output | inout | ref
    width: int
    type: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class ModuleInfo:
    name: str
    line: int
    ports: list[PortInfo] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    localparams: dict[str, str] = field(default_factory=dict)

    def port(self, name: str) -> PortInfo | None:
        return next((p for p in self.ports if p.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "line": self.line, "ports": [p.to_dict() for p in self.ports],
                "params": self.params, "localparams": self.localparams}


_DIR = {"In": "input", "Out": "output", "InOut": "inout", "Ref": "ref"}


def _preprocessor_bag() -> pyslang.Bag:
    opts = parsing.PreprocessorOptions()
    opts.maxIncludeDepth = 0
    parser = parsing.ParserOptions()
    parser.maxRecursionDepth = 512  # deeper input is an error, not a stack overflow
    return pyslang.Bag([opts, parser])


@dataclass
class Elaboration:
    """A pyslang compilation of one design source, plus the facts the later stages need."""

    source: str
    tree: Any
    compilation: Any
    source_manager: Any
    top: str | None
    modules: dict[str, ModuleInfo]
    diagnostics: list[Diagnostic]
    syntax_errors: int = 0  # errors pyslang met reading the text (preprocessor, parser): tokens it may have skipped

    def line_of(self, location: Any) -> int:
        return int(self.source_manager.getLineNumber(location))

    def module(self, name: str | None = None) -> ModuleInfo | None:
        return self.modules.get(name or self.top or "")


def _module_info(body: Any, sm: Any) -> ModuleInfo:
    info = ModuleInfo(name=str(body.name), line=int(sm.getLineNumber(body.location)))
    for p in body.parameters:
        (info.localparams if p.isLocalParam else info.params)[str(p.name)] = str(p.value)
    for p in body.portList:
        direction = _DIR.get(str(p.direction).split(".")[-1], str(p.direction))
        info.ports.append(PortInfo(name=str(p.name), direction=direction, width=int(p.type.bitWidth),
                                   type=str(p.type), line=int(sm.getLineNumber(p.location))))
    return info


def elaborate(source: str, *, top: str | None = None, params: dict[str, int] | None = None,
              filename: str = DESIGN_FILE) -> Elaboration:
    """Compile source with pyslang; `top` picks the top module, `params` override its parameters."""
    sm = pyslang.SourceManager()
    # Always a compilation unit (fromText would hand back a lone module without the end-of-file token, and
    # with it the directives that follow the last module, so the screen would never see them).
    tree = syntax.SyntaxTree.fromFileInMemory(source, sm, filename, "", _preprocessor_bag())
    declared = [m for m in _declared_modules(tree)]
    if top is None:
        top = _guess_top(tree, declared)
    bag_items: list[Any] = []
    if top in declared:
        co = ast.CompilationOptions()
        co.topModules = {top}
        if params:
            co.paramOverrides = [f"{k}={v}" for k, v in params.items()]
        bag_items.append(co)
    comp = ast.Compilation(pyslang.Bag(bag_items)) if bag_items else ast.Compilation()
    comp.addSyntaxTree(tree)
    modules: dict[str, ModuleInfo] = {}
    for inst in comp.getRoot().topInstances:
        modules[str(inst.body.name)] = _module_info(inst.body, sm)
    diags = list(_convert(comp.getAllDiagnostics(), sm, filename))
    syntax_errors = sum(1 for d in _convert(tree.diagnostics, sm, filename) if d.severity is Severity.ERROR)
    return Elaboration(source=source, tree=tree, compilation=comp, source_manager=sm, top=top,
                       modules=modules, diagnostics=diags, syntax_errors=syntax_errors)


def _declared_modules(tree: Any) -> list[str]:
    names: list[str] = []
    root = tree.root
    members = [root] if str(root.kind) != "SyntaxKind.CompilationUnit" else list(root.members)
    for member in members:
        if str(member.kind) == "SyntaxKind.ModuleDeclaration":
            names.append(member.header.name.valueText)
    return names


def _guess_top(tree: Any, declared: list[str]) -> str | None:
    """The module nobody instantiates; with several, the last one declared."""
    if not declared:
        return None
    instantiated: set[str] = set()

    def visit(node: Any) -> bool:
        if str(node.kind) == "SyntaxKind.HierarchyInstantiation":
            instantiated.add(node.type.valueText)
        return True

    tree.root.visit(visit)
    tops = [n for n in declared if n not in instantiated]
    return tops[-1] if tops else declared[-1]


_SEV = {"Error": Severity.ERROR, "Fatal": Severity.ERROR, "Warning": Severity.WARNING,
        "Note": Severity.INFO, "Ignored": None}


def _convert(diags: Iterable[Any], sm: Any, filename: str) -> Iterable[Diagnostic]:
    engine = pyslang.DiagnosticEngine(sm)
    for dg in diags:
        sev = _SEV.get(str(engine.getSeverity(dg.code, dg.location)).split(".")[-1])
        if sev is None:
            continue
        try:
            line = int(sm.getLineNumber(dg.location))
            col = int(sm.getColumnNumber(dg.location))
        except Exception:  # noqa: BLE001 - diagnostics without a location
            line = col = None
        yield Diagnostic(severity=sev, message=engine.formatMessage(dg), tool="slang",
                         code=str(engine.getOptionName(dg.code)) or str(dg.code).removeprefix("DiagCode(")[:-1],
                         file=filename, line=line or None, column=col or None)
