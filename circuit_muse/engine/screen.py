"""Static safety screen over the parse tree: nothing in a design may reach outside the simulation.

Rejected: system tasks outside a small allowlist ($system, $c, file I/O, $readmem*, plusargs, printing,
$finish/$stop), DPI/VPI imports, preprocessor use a tool could read differently (engine.preprocess),
hierarchical names that leave the design, force/release, procedural assign/deassign, bind, config,
absurd memories/vectors/loop bounds. Names that could reach trusted text must be plain identifiers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pyslang import parsing
from pyslang.ast import VisitAction

from ..identifiers import is_plain_identifier
from ..report import Category, Diagnostic, Severity
from .elaborate import DESIGN_FILE, Elaboration
from .preprocess import directive_screen

# Pure functions and assertion reporting: the only system calls a design may make.
ALLOWED_SYSTEM_CALLS = frozenset({
    "$clog2", "$signed", "$unsigned", "$bits", "$size", "$high", "$low", "$left", "$right",
    "$increment", "$dimensions", "$unpacked_dimensions", "$countones", "$countbits", "$onehot",
    "$onehot0", "$isunknown", "$past", "$rose", "$fell", "$stable", "$changed", "$sampled",
    "$itor", "$rtoi", "$bitstoreal", "$realtobits", "$ln", "$log10", "$exp", "$sqrt", "$pow",
    "$floor", "$ceil", "$cast", "$time", "$realtime", "$stime",
})
ASSERTION_REPORT_CALLS = frozenset({"$error", "$warning", "$info"})

_OUTPUT_CALLS = re.compile(r"^\$(display|write|strobe|monitor)[bho]?$|^\$monitoro(n|ff)$")
_FILE_CALLS = re.compile(r"^\$(f\w+|readmem[bh]|writemem[bh]|sreadmem[bh]|dump\w*|sdf_annotate|save|restart|"
                         r"incsave|input|key|nokey|log|nolog|list|scope|showscopes|showvars)$")
_END_CALLS = {"$finish", "$stop", "$exit", "$fatal"}


@dataclass(frozen=True)
class ScreenLimits:
    max_memory_bits: int = 1 << 24      # 16 Mbit in one variable
    max_vector_bits: int = 1 << 16      # 65536-bit packed vector
    max_loop_iterations: int = 1 << 20
    max_source_bytes: int = 256 * 1024  # checked before anything parses the text
    max_nesting: int = 200              # brackets / begin-end / macro-argument depth
    max_macros: int = 256               # `define directives in one design
    max_macro_depth: int = 8            # a macro whose body uses a macro whose body uses ...
    max_macro_expansion: int = 128 * 1024  # characters all macro uses may expand to
    max_statement_tokens: int = 8000    # pyslang's elaboration is quadratic in a long operator chain


def _line_at(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def _diag(message: str, line: int | None, code: str, source: str) -> Diagnostic:
    lines = source.splitlines()
    src = lines[line - 1].rstrip() if line and 0 < line <= len(lines) else None
    return Diagnostic(severity=Severity.ERROR, message=message, tool="screen", code=code, file=DESIGN_FILE,
                      line=line, source_line=src, category=Category.UNSAFE)


def _system_call_problem(name: str, allow_assertions: bool) -> str | None:
    if name in ALLOWED_SYSTEM_CALLS or (allow_assertions and name in ASSERTION_REPORT_CALLS):
        return None
    if name in ("$c", "$cpure") or re.fullmatch(r"\$c\d*", name):
        return f"{name} runs inline C++ under Verilator; a design may never call it"
    if name == "$system":
        return "$system runs a shell command; a design may never call it"
    if name in ("$value$plusargs", "$test$plusargs"):
        return f"{name} reads the simulator's command line; pass values through ports or parameters"
    if _OUTPUT_CALLS.match(name):
        return f"{name} prints from the design; remove it, the testbench reports results"
    if name in _END_CALLS:
        return f"{name} ends the simulation from inside the design; remove it, only the testbench may end a run"
    if _FILE_CALLS.match(name):
        return f"{name} touches files; a design may not do file I/O (initialise memories in an initial block or reset)"
    if name in ASSERTION_REPORT_CALLS:
        return f"{name} is only allowed in assertion tasks"
    if name in ("$random", "$urandom", "$urandom_range", "$dist_uniform"):
        return f"{name} makes the design non-deterministic and is not synthesizable"
    return f"system call {name} is not on the allowlist for designs"


def _const_int(text: str, params: dict[str, int]) -> int | None:
    """Evaluate a simple constant integer expression (literals, parameters, + - * / << >> **)."""
    expr = text.strip()
    expr = re.sub(r"\d*'[sS]?[dD]([0-9_]+)", lambda m: m.group(1), expr)
    expr = re.sub(r"\d*'[sS]?[hH]([0-9a-fA-F_]+)", lambda m: str(int(m.group(1).replace("_", ""), 16)), expr)
    expr = re.sub(r"\d*'[sS]?[bB]([01_]+)", lambda m: str(int(m.group(1).replace("_", ""), 2)), expr)
    expr = re.sub(r"\b([A-Za-z_]\w*)\b", lambda m: str(params[m.group(1)]) if m.group(1) in params else "§", expr)
    expr = expr.replace("_", "")
    if "§" in expr or not re.fullmatch(r"[\d\s+\-*/()<>]*", expr) or len(expr) > 200:
        return None
    expr = expr.replace("/", "//")
    try:
        val = eval(expr, {"__builtins__": {}}, {})  # noqa: S307 - only digits and arithmetic reach here
    except Exception:  # noqa: BLE001
        return None
    return val if isinstance(val, int) else None


def _param_values(elab: Elaboration) -> dict[str, int]:
    vals: dict[str, int] = {}
    for mod in elab.modules.values():
        for k, v in {**mod.params, **mod.localparams}.items():
            try:
                vals[k] = int(v)
            except ValueError:
                continue
    return vals


_DEFAULT_LIMITS = ScreenLimits()
# Statements and declarations that let a design reach into, or override, code that is not its own.
_FORBIDDEN_SYNTAX = {
    "ProceduralForceStatement": "force overrides signals from outside their driver (it could reach the testbench)",
    "ProceduralReleaseStatement": "release undoes a force; a design may not use force/release",
    "ProceduralAssignStatement": "procedural assign/deassign overrides a variable's drivers; use normal assignments",
    "ProceduralDeassignStatement": "procedural assign/deassign overrides a variable's drivers; use normal "
                                   "assignments",
    "BindDirective": "bind inserts code into other modules (it could reach the testbench)",
    "ConfigDeclaration": "config blocks change which module a name binds to; remove it",
    "RootScope": "$root names reach outside the design (into the testbench); refer to your own signals",
}


def screen(elab: Elaboration, *, limits: ScreenLimits = _DEFAULT_LIMITS,
           allow_assertions: bool = False) -> list[Diagnostic]:
    """All safety problems in an elaborated design; empty means it may be handed to the tools."""
    source = elab.source
    out = directive_screen(elab.tree, elab.source_manager, source)
    params = _param_values(elab)
    declared = _DeclaredNames()
    subroutines, labels = _subroutines_and_labels(elab.tree.root)

    def undeclared_call(name: str, node: Any, what: str, known: set[str]) -> None:
        if name not in known:
            out.append(_diag(f"{what} '{name}' is not defined in the design: a simulator looks such a name up in "
                             "the modules above, into the testbench; define it or remove the call",
                             elab.line_of(node.sourceRange.start), "undeclared-call", source))

    def visit(node: Any) -> bool:
        if isinstance(node, parsing.Token):
            return True
        kind = _kind(node)
        if kind == "SystemName":
            name = str(node).strip()
            problem = _system_call_problem(name, allow_assertions)
            if problem:
                out.append(_diag(problem, elab.line_of(node.sourceRange.start), name, source))
        elif kind in ("DPIImport", "DPIExport"):
            out.append(_diag("DPI imports/exports call foreign code; a design may not use them",
                             elab.line_of(node.sourceRange.start), "dpi", source))
        elif kind == "ForLoopStatement":
            _check_loop(node)
        elif kind in _FORBIDDEN_SYNTAX:
            out.append(_diag(_FORBIDDEN_SYNTAX[kind], elab.line_of(node.sourceRange.start), kind, source))
        elif kind == "InvocationExpression" and _kind(node.left) == "IdentifierName":
            undeclared_call(str(node.left.identifier.valueText), node, "the task or function", subroutines)
        elif kind == "ExpressionStatement" and _kind(node.expr) == "IdentifierName":
            undeclared_call(str(node.expr.identifier.valueText), node, "the task", subroutines)
        elif kind == "DisableStatement" and _kind(node.name) == "IdentifierName":
            undeclared_call(str(node.name.identifier.valueText), node, "the block or task", subroutines | labels)
        elif kind == "ScopedName" and _kind(node.parent) != "ScopedName":
            problem = _hierarchical_problem(node, declared)
            if problem:
                out.append(_diag(problem, elab.line_of(node.sourceRange.start), "hierarchical-name", source))
        return True

    def _check_loop(node: Any) -> None:
        stop = node.stopExpr
        if stop is None:
            return
        text = str(stop).strip()
        m = re.fullmatch(r"\s*\w+\s*(<=|<|>=|>|!=)\s*(.+)", text, re.S)
        if not m:
            return
        bound = _const_int(m.group(2), params)
        if bound is not None and abs(bound) > limits.max_loop_iterations:
            out.append(_diag(f"loop bound {bound} exceeds the limit of {limits.max_loop_iterations} iterations",
                             elab.line_of(node.sourceRange.start), "loop-bound", source))

    elab.tree.root.visit(visit)
    out += _shared_net_problems(elab)
    for d in elab.diagnostics:
        if d.code in ("CouldNotResolveHierarchicalPath", "UnknownHierarchicalName", "HierarchicalFromPackage"):
            out.append(_diag(f"{d.message}: a hierarchical name that does not resolve inside the design could "
                             "reach the testbench", d.line, "hierarchical-name", source))
    _check_sizes(elab, limits, out)
    return out


_SCOPES = frozenset({"ModuleDeclaration", "InterfaceDeclaration", "ProgramDeclaration", "FunctionDeclaration",
                     "TaskDeclaration", "ClassDeclaration", "GenerateBlock", "SequentialBlockStatement",
                     "ParallelBlockStatement"})


_KIND_NAMES: dict[Any, str] = {}


def _kind(node: Any) -> str:
    """The node's SyntaxKind name ("ScopedName"), cached: str() of a pybind enum is slow on big trees."""
    k = node.kind
    name = _KIND_NAMES.get(k)
    if name is None:
        name = _KIND_NAMES[k] = str(k).split(".")[-1]
    return name


def _subroutines_and_labels(root: Any) -> tuple[set[str], set[str]]:
    """Names of the tasks and functions the design declares, and of its labelled blocks.

    Checked on the syntax, not the elaboration: code under a generate branch that is dead with the default
    parameters (pyslang does not elaborate it) may be live with the bench's.
    """
    subroutines: set[str] = set()
    labels: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, parsing.Token):
            return True
        kind = _kind(node)
        if kind in ("FunctionDeclaration", "TaskDeclaration"):
            name = getattr(getattr(node, "prototype", None), "name", None)
            if name is not None:
                subroutines.add(str(name).strip().split("::")[-1].split(".")[-1])
        elif kind in _SCOPES:
            label = _scope_label(node)
            if label:
                labels.add(label)
        return True

    root.visit(visit)
    return subroutines, labels


def _scope_label(node: Any) -> str | None:
    """The name a nested scope is reached by from its parent scope (`blk` in `begin : blk`)."""
    for attr in ("beginName", "blockName", "label"):
        part = getattr(node, attr, None)
        tok = getattr(part, "name", None) if part is not None else None
        if tok is not None and tok.valueText:
            return str(tok.valueText)
    proto = getattr(node, "prototype", None)
    tok = getattr(proto, "name", None)
    return str(tok).strip() or None if tok is not None else None


class _DeclaredNames:
    """Names visible where a dotted name is used: declared in that scope or an enclosing one, up to its
    module. A name declared inside a function or a block is not visible outside it; a tool would then
    resolve the name upward, into the testbench, so scopes are kept apart."""

    _KINDS = {"Declarator": "name", "InstanceName": "name"}

    def __init__(self) -> None:
        self._by_scope: dict[tuple[int, str], set[str]] = {}

    def visible(self, node: Any, name: str) -> bool:
        """Whether `name` is declared in a scope enclosing `node`, up to its module."""
        scope = node.parent
        while scope is not None:
            kind = _kind(scope)
            if kind in _SCOPES:
                if name in self._direct(scope):
                    return True
                if kind in ("ModuleDeclaration", "InterfaceDeclaration", "ProgramDeclaration"):
                    return False
            scope = scope.parent
        return False

    def _direct(self, scope: Any) -> set[str]:
        key = (int(scope.sourceRange.start.offset), _kind(scope))
        if key not in self._by_scope:
            names: set[str] = set()

            def visit(n: Any) -> Any:
                if isinstance(n, parsing.Token):
                    return VisitAction.Advance
                if n is not scope and _kind(n) in _SCOPES:
                    label = _scope_label(n)
                    if label:
                        names.add(label)
                    return VisitAction.Skip
                attr = self._KINDS.get(_kind(n))
                tok = getattr(n, attr, None) if attr else None
                if tok is not None and getattr(tok, "valueText", ""):
                    names.add(str(tok.valueText))
                return VisitAction.Advance

            scope.visit(visit)
            self._by_scope[key] = names
        return self._by_scope[key]


def _hierarchical_problem(node: Any, declared: _DeclaredNames) -> str | None:
    """A dotted name must start at something its own module declares: no upward or absolute names."""
    seps, left = [], node
    while _kind(left) == "ScopedName":
        seps.append(left.separator.kind)
        left = left.left
    if parsing.TokenKind.Dot not in seps:
        return None  # pkg::name, $unit::name
    lkind = _kind(left)
    if lkind == "RootScope":
        return None  # reported as RootScope
    ident = getattr(left, "identifier", None)
    head = ident.valueText if ident is not None else str(left).strip()
    if lkind in ("IdentifierName", "IdentifierSelectName", "ClassName") and declared.visible(node, head):
        return None
    return (f"hierarchical name '{str(node).strip()[:60]}' does not start inside this module ('{head}' is not "
            "declared here): upward and absolute names can reach the testbench; use ports")


def name_problems(elab: Elaboration) -> list[Diagnostic]:
    """Names that may reach trusted text (benches, runner arguments, Yosys scripts, file names)."""
    source = elab.source
    out: list[Diagnostic] = []

    def bad(what: str, name: str, line: int | None) -> None:
        d = _diag(f"{what} {name!r} is not a plain identifier (letters, digits and _, starting with a letter "
                  "or _): escaped names could carry code into the testbench, so they are refused; rename it",
                  line, "name", source)
        d.category = Category.INTERFACE
        out.append(d)

    root = elab.tree.root
    members = [root] if str(root.kind).split(".")[-1] != "CompilationUnit" else list(root.members)
    for member in members:
        if str(member.kind).split(".")[-1] in ("ModuleDeclaration", "InterfaceDeclaration", "ProgramDeclaration",
                                                "PackageDeclaration", "UdpDeclaration"):
            name = member.header.name.valueText if hasattr(member, "header") else member.name.valueText
            if not is_plain_identifier(name):
                bad("module name", name, elab.line_of(member.sourceRange.start))
    if elab.top is not None and not is_plain_identifier(elab.top):
        if not any(d.code == "name" and repr(elab.top) in d.message for d in out):
            bad("top module", elab.top, None)
    mod = elab.module()
    if mod is not None:
        for port in mod.ports:
            if not is_plain_identifier(port.name):
                bad("port name", port.name, port.line)
        for pname in [*mod.params, *mod.localparams]:
            if not is_plain_identifier(pname):
                bad("parameter name", pname, mod.line)
    return out


# Net types an input port may have: plain wires. The others drive or re-resolve the net they are part of
# (supply0/1 drive it, tri0/tri1 pull it, wand/wor/triand/trior change how its drivers combine).
_PLAIN_NET_TYPES = frozenset({"wire", "tri", "uwire"})


def _shared_net_problems(elab: Elaboration) -> list[Diagnostic]:
    """Ways a design could drive the nets it shares with the testbench through its input ports.

    A simulator merges the nets on both sides of a port, so anything a module drives onto its own input
    (an assign, a child's output connected to it, a gate or pull primitive, a tran switch) also drives the
    bench's net, which feeds the reference model too: a design tied to 0 that forces its inputs to 0 (or
    to X, which VerilogEval's bench counts as a match) passes. Checked on pyslang's elaborated design: no
    assignment of any kind targets an input port, no inout ports, input ports are plain wires or variables.
    """
    out: list[Diagnostic] = []
    inputs: set[tuple[str, int]] = set()
    ports: list[Any] = []

    def key(sym: Any) -> tuple[str, int]:
        # the path tells instances apart; the location tells apart modules nobody instantiates ('.a')
        return str(sym.hierarchicalPath), int(sym.location.offset)

    def flag(message: str, location: Any) -> None:
        line = elab.line_of(location) if location is not None else None
        if not any(d.line == line and d.message == message for d in out):
            out.append(_diag(message, line, "drives-input", elab.source))

    def collect(node: Any) -> bool:
        if type(node).__name__ == "PortSymbol":
            ports.append(node)
        return True

    elab.compilation.getRoot().visit(collect)
    for port in ports:
        direction = str(port.direction).split(".")[-1]
        internal = port.internalSymbol
        if direction == "InOut":
            flag(f"port '{port.name}' is inout: a design may not drive the nets it shares with the testbench; "
                 "use separate input and output ports", port.location)
        elif direction == "In" and internal is not None:
            inputs.add(key(internal))
            net_type = getattr(getattr(internal, "netType", None), "name", None)
            if net_type is not None and str(net_type) not in _PLAIN_NET_TYPES:
                flag(f"input port '{port.name}' is a {net_type} net, which drives or re-resolves the testbench's "
                     "net it is connected to; declare it a plain wire (check `default_nettype)", port.location)

    def targets(expr: Any) -> list[Any]:
        """The values an assignment's left-hand side writes (`mem` in `mem[addr]`, never the index)."""
        kind = type(expr).__name__
        if kind in ("NamedValueExpression", "HierarchicalValueExpression"):
            return [expr]
        if kind in ("ElementSelectExpression", "RangeSelectExpression", "MemberAccessExpression"):
            return targets(expr.value)
        if kind in ("ConcatenationExpression", "StreamingConcatenationExpression"):
            return [t for op in expr.operands for t in targets(getattr(op, "operand", op))]
        if kind == "ConversionExpression":
            return targets(expr.operand)
        if kind == "AssignmentExpression":
            return targets(expr.left)
        found: list[Any] = []  # anything else: every name in it, to be safe

        def named(n: Any) -> bool:
            if type(n).__name__ in ("NamedValueExpression", "HierarchicalValueExpression"):
                found.append(n)
            return True

        expr.visit(named)
        return found

    def drivers(node: Any) -> bool:
        if type(node).__name__ == "AssignmentExpression":
            for ref in targets(node.left):
                if key(ref.symbol) in inputs:
                    flag(f"the design drives its input port '{ref.symbol.name}' (an assign, a connection to an "
                         "output, a gate, pull or switch primitive): that drives the testbench's net too; "
                         "drive an internal signal instead", ref.sourceRange.start)
        return True

    elab.compilation.getRoot().visit(drivers)
    return out


def _check_sizes(elab: Elaboration, limits: ScreenLimits, out: list[Diagnostic]) -> None:
    source = elab.source

    def visit(sym: Any) -> bool:
        kind = str(sym.kind).split(".")[-1]
        if kind in ("Variable", "Net"):
            ty = sym.type
            try:
                total = int(ty.bitstreamWidth)
                packed = int(ty.bitWidth)
            except Exception:  # noqa: BLE001 - non-integral types (real, string, class)
                return True
            line = elab.line_of(sym.location)
            if packed > limits.max_vector_bits:
                out.append(_diag(f"vector '{sym.name}' is {packed} bits wide; the limit is {limits.max_vector_bits}",
                                 line, "vector-size", source))
            elif total > limits.max_memory_bits:
                out.append(_diag(f"memory '{sym.name}' holds {total} bits; the limit is {limits.max_memory_bits} "
                                 "bits per variable", line, "memory-size", source))
        return True

    elab.compilation.getRoot().visit(visit)
    for d in elab.diagnostics:
        if d.code in ("PackedTypeTooLarge", "ArrayDimTooLarge", "MaxGenerateStepsExceeded"):
            out.append(_diag(f"size limit exceeded: {d.message}", d.line, "size", source))
