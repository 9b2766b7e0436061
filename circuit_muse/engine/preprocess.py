"""One source of truth for what gets compiled: the design's preprocessor use, checked on pyslang's tokens.

pyslang predefines none of the macros the tools do (`__ICARUS__`, `VERILATOR`, `SYNTHESIS`, ...), so a
branch on one of them is disabled text for the screen and live code for a tool. Rather than guess every
tool's predefines, a design may only branch on, use or undefine macros it defined itself, earlier in
its own text, and may not redefine a tool's macro. Then every tool takes the same branches pyslang did
and compiles exactly the tokens the screen saw (tests/test_preprocess.py diffs `iverilog -E` and
`verilator -E` output against them). `include, token pasting, `line/`pragma and friends are refused.

These checks walk pyslang's token and trivia stream (directive trivia, including tokens the parser
skipped), never the raw text, so an escaped identifier that contains `"` cannot hide a directive.

`precheck()` runs first, on the raw text, before any parser: it bounds the size, the nesting, the
statement length and the macro expansion, so pyslang never gets input that makes it crash or blow up.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyslang import parsing, syntax

from ..report import Category, Diagnostic, Severity

if TYPE_CHECKING:
    from .screen import ScreenLimits

DESIGN_FILE = "design.sv"

# Macros some tool predefines (iverilog, `verilator -E --dump-defines`, Yosys read_verilog, slang).
# A design may not define or undefine them: that would make tools and screen disagree.
TOOL_PREDEFINED = frozenset({
    "__ICARUS__", "__ICARUS_SYNTH__", "VERILATOR", "verilator", "verilator3", "VERILATOR_TIMING",
    "coverage_block_off", "SYSTEMVERILOG", "SYNTHESIS", "YOSYS", "FORMAL", "SIMULATION",
    "SV_COV_ASSERTION", "SV_COV_CHECK", "SV_COV_ERROR", "SV_COV_FSM_STATE", "SV_COV_HIER", "SV_COV_MODULE",
    "SV_COV_NOCOV", "SV_COV_OK", "SV_COV_OVERFLOW", "SV_COV_PARTIAL", "SV_COV_RESET", "SV_COV_START",
    "SV_COV_STATEMENT", "SV_COV_STOP", "SV_COV_TOGGLE", "__FILE__", "__LINE__", "__slang__",
    "__slang_major__", "__slang_minor__",
})

# Directive names of the standard and of the tools' own dialects (Icarus, Verilator): a macro by one of these
# names is a directive to one tool and a macro to another.
TOOL_DIRECTIVES = frozenset({
    "begin_keywords", "celldefine", "default_nettype", "define", "else", "elsif", "end_keywords",
    "endcelldefine", "endif", "ifdef", "ifndef", "include", "line", "nounconnected_drive", "pragma", "resetall",
    "timescale", "unconnected_drive", "undef", "undefineall", "default_decay_time", "default_trireg_strength",
    "delay_mode_distributed", "delay_mode_path", "delay_mode_unit", "delay_mode_zero", "protect", "endprotect",
    "uselib", "suppress_faults", "nosuppress_faults", "enable_portfaults", "disable_portfaults",
    "systemc_header", "systemc_header_post", "systemc_interface", "systemc_imp_header", "systemc_implementation",
    "systemc_ctor", "systemc_dtor", "verilog", "verilator_config", "coverage_block_off",
})

# Directives that do not change which tokens are compiled, or change them the same way in every tool.
_HARMLESS = {
    syntax.SyntaxKind.TimeScaleDirective, syntax.SyntaxKind.DefaultNetTypeDirective,
    syntax.SyntaxKind.ResetAllDirective, syntax.SyntaxKind.CellDefineDirective,
    syntax.SyntaxKind.EndCellDefineDirective, syntax.SyntaxKind.ElseDirective, syntax.SyntaxKind.EndIfDirective,
}
_CONDITIONAL = {syntax.SyntaxKind.IfDefDirective, syntax.SyntaxKind.IfNDefDirective,
                syntax.SyntaxKind.ElsIfDirective}
# Comments some tool obeys: Yosys drops code between translate_off/on, and full/parallel_case change
# what it synthesises, so simulator and synthesiser would check different designs.
_TOOL_PRAGMA = re.compile(r"\b(?:synopsys|synthesis|pragma)\b\s*(?:translate_o(?:ff|n)|full_case|parallel_case)"
                          r"|\bverilator\s+(?:systemc|sc_|tag|isolate|inline)", re.I)
# Attributes that make one tool compile something other than what the others simulate.
_TOOL_ATTRIBUTES = re.compile(r"^(?:blackbox|whitebox|lib_whitebox|full_case|parallel_case|ivl_\w*|"
                              r"translate_\w+|keep_hierarchy|cells_not_processed|gentb_\w+|nomem2reg|mem2reg|"
                              r"dynports|abc9_\w+|techmap\w*|init|wiretype|src|top)$")


def _diag(message: str, line: int | None, code: str, source: str, category: Category = Category.UNSAFE) -> Diagnostic:
    lines = source.splitlines()
    text = lines[line - 1].rstrip() if line and 0 < line <= len(lines) else None
    return Diagnostic(severity=Severity.ERROR, message=message, tool="screen", code=code, file=DESIGN_FILE,
                      line=line, source_line=text, category=category)


# ---------------------------------------------------------------------------------------------------------
# Before any parser: bounded input

_COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?(?:\*/|\Z)|"(?:\\.|[^"\\\n])*"', re.S)
_DEFINE = re.compile(r"`define[ \t]+([A-Za-z_]\w*)((?:\\\n|[^\n])*)")
_MACRO_USE = re.compile(r"`([A-Za-z_]\w*)")
_OPEN = re.compile(r"[(\[{]|\b(?:begin|fork|case[xz]?|casez)\b")
_CLOSE = re.compile(r"[)\]}]|\b(?:end|join(?:_any|_none)?|endcase)\b")
_BRACKET = re.compile(r"[(\[{)\]}]|\b(?:begin|fork|case[xz]?|end|join(?:_any|_none)?|endcase)\b")
_TOKEN = re.compile(r"[A-Za-z_$\\][\w$]*|\d[\w']*|'\w+|\S")


def _blank(m: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", m.group(0))


def precheck(source: str, limits: ScreenLimits) -> list[Diagnostic]:
    """Limits checked on the raw text so that no parser ever sees input that can crash or exhaust it.

    These are conservative approximations (a lexer-free scan); the worker's rlimits and wall timeout
    stay the backstop for anything they miss.
    """
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > limits.max_source_bytes:
        return [_diag(f"the design is {size} bytes; the limit is {limits.max_source_bytes}", None, "source-size",
                      source, Category.RESOURCE)]
    text = _COMMENT_OR_STRING.sub(_blank, source)
    out: list[Diagnostic] = []
    depth = 0
    for m in _BRACKET.finditer(text):
        if _OPEN.fullmatch(m.group(0)):
            depth += 1
            if depth > limits.max_nesting:
                out.append(_diag(f"brackets or blocks nest more than {limits.max_nesting} deep; flatten the code",
                                 text.count("\n", 0, m.start()) + 1, "nesting", source, Category.RESOURCE))
                break
        else:
            depth = max(0, depth - 1)
    start = 0
    for stmt in text.split(";"):
        count = sum(1 for _ in _TOKEN.finditer(stmt))
        if count > limits.max_statement_tokens:
            out.append(_diag(f"one statement has {count} tokens; the limit is {limits.max_statement_tokens} "
                             "(split long expressions)", text.count("\n", 0, start) + 1, "statement-size", source,
                             Category.RESOURCE))
            break
        start += len(stmt) + 1
    out += _macro_budget(text, source, limits)
    return out


def _macro_budget(text: str, source: str, limits: ScreenLimits) -> list[Diagnostic]:
    bodies: dict[str, str] = {}
    defines = list(_DEFINE.finditer(text))
    if len(defines) > limits.max_macros:
        return [_diag(f"{len(defines)} `define directives; the limit is {limits.max_macros}", None, "macro-count",
                      source, Category.RESOURCE)]
    for m in defines:
        body = m.group(2)
        if body.startswith("("):  # formal arguments: drop them, keep the body
            close = body.find(")")
            body = body[close + 1:] if close >= 0 else ""
        bodies[m.group(1)] = body
    size: dict[str, int] = {}
    depth: dict[str, int] = {}

    def measure(name: str, stack: tuple[str, ...]) -> tuple[int, int]:
        if name in size:
            return size[name], depth[name]
        if name not in bodies or name in stack or len(stack) > limits.max_macro_depth + 1:
            return len(name), 0
        body = bodies[name]
        total, deepest = len(_MACRO_USE.sub("", body)), 0
        for use in _MACRO_USE.findall(body):
            s, d = measure(use, (*stack, name))
            total, deepest = min(total + s, 1 << 40), max(deepest, d)
        size[name], depth[name] = total, deepest + 1
        return total, deepest + 1

    out: list[Diagnostic] = []
    for name in bodies:
        s, d = measure(name, ())
        if d > limits.max_macro_depth:
            line = text.count("\n", 0, text.find(f"`define {name}")) + 1
            out.append(_diag(f"macro `{name} expands through {d} levels of macros; the limit is "
                             f"{limits.max_macro_depth}", line, "macro-depth", source, Category.RESOURCE))
            return out
    outside = _DEFINE.sub("", text)
    expanded = sum(measure(u, ())[0] for u in _MACRO_USE.findall(outside) if u in bodies)
    expanded += sum(measure(u, ())[0] for b in bodies.values() for u in _MACRO_USE.findall(b) if u in bodies)
    if expanded > limits.max_macro_expansion:
        out.append(_diag(f"macro uses expand to about {expanded} characters; the limit is "
                         f"{limits.max_macro_expansion}", None, "macro-expansion", source, Category.RESOURCE))
    return out


# ---------------------------------------------------------------------------------------------------------
# Lexically plain text: every tool's preprocessor splits it into the same comments, strings and code

# Verilog's lexical classes that decide where a preprocessor looks for directives, matched left to right
# the way the standard (and pyslang) lexes them. Tools' own preprocessors do not: Icarus's ivlpp knows no
# escaped identifiers (`\q"` opens a string for it, `\b//` a comment, `\e`M` expands M), expands macros in
# attribute strings, ends `ifdef blocks at an `endif inside a string, and tools disagree on comments that
# continue a `define. Text that uses none of those corners is split the same way by all of them.
_LEXICAL = re.compile(r"""
    (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<open_comment>/\*)
  | (?P<string>"(?:\\[^\n]|[^"\\\n])*")
  | (?P<open_string>")
  | (?P<continuation>\\\r?\n)
  | (?P<escaped>\\\S*)
  | (?P<define>`define\b)
  | (?P<newline>\n)
""", re.S | re.X)
# No leading $: Icarus compiles `\$fopen (...)` as the system task, the screen sees a user identifier.
_PLAIN_ESCAPED = re.compile(r"\\[A-Za-z0-9_.:;<>=+\-!@#%^&|~?'][A-Za-z0-9_$.:;<>=+\-!@#%^&|~?']*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")


def lexical_screen(source: str) -> list[Diagnostic]:
    """Corners of the lexer where some tool's preprocessor reads the text differently from pyslang.

    Checked on the raw text, disabled `ifdef branches included (tools skip those with their own lexer
    too): escaped identifiers may not hold " ` \\ / * ( ) [ ] { } or a comma nor start with $ (Icarus takes
    `\\$fopen` for the system task), strings must be single-line, without a backtick and not triple-quoted,
    a comment inside a `define may not span lines or end in a backslash, and control characters other than
    tab and newline are refused.
    """
    out: list[Diagnostic] = []

    def bad(offset: int, code: str, message: str) -> None:
        if len(out) < 20:
            out.append(_diag(message, source.count("\n", 0, offset) + 1, code, source))

    ctrl = _CONTROL.search(source)
    if ctrl:
        bad(ctrl.start(), "control-char", f"the text contains the control character {ctrl.group(0)!r}; tools "
            "split lines and tokens differently around it (use plain newlines, tabs and spaces)")
    in_define = False
    last_string_end = -1
    for m in _LEXICAL.finditer(source):
        kind, text = m.lastgroup, m.group(0)
        if kind == "line_comment":
            if text.rstrip("\r").endswith("\\"):
                bad(m.start(), "comment-continuation", "a // comment ends in a backslash: tools disagree whether "
                    "the next line is part of it (or of a `define)")
        elif kind == "block_comment":
            if in_define and "\n" in text:
                bad(m.start(), "define-comment", "a /* */ comment spans lines inside a `define: tools disagree "
                    "where the macro ends; keep comments in a macro on one line")
        elif kind == "open_comment":
            bad(m.start(), "open-comment", "a /* comment is never closed")
            break
        elif kind == "string":
            if "`" in text:
                bad(m.start(), "string-backtick", "a string literal contains a backtick: some tools expand "
                    "macros or end `ifdef blocks inside strings; remove it")
            if m.start() == last_string_end:
                bad(m.start(), "string-adjacent", "string literals touch (or are triple-quoted): tools "
                    "split them differently; separate them")
            last_string_end = m.end()
        elif kind == "open_string":
            bad(m.start(), "open-string", "a string literal is not closed on its line (strings may not span "
                "lines: tools disagree on continued strings)")
        elif kind == "escaped" and not _PLAIN_ESCAPED.fullmatch(text):
            bad(m.start(), "escaped-identifier", f"the escaped identifier {text[:40]!r} starts with $ or holds a "
                "quote, slash, star, backslash, backtick, bracket, brace, parenthesis or comma: tools read those as "
                "system tasks, strings, comments, macros or macro-argument separators; use a plain name")
        elif kind == "define":
            in_define = True
        elif kind == "newline":
            in_define = False
    return out


# ---------------------------------------------------------------------------------------------------------
# After pyslang preprocessed: directives on the token/trivia stream


@dataclass(frozen=True)
class _Directive:
    node: Any
    line: int


def _trivia_directives(token: Any, sm: Any) -> Iterator[_Directive]:
    for trivia in token.trivia:
        if trivia.kind == parsing.TriviaKind.Directive and trivia.syntax() is not None:
            node = trivia.syntax()
            yield _Directive(node, int(sm.getLineNumber(node.sourceRange.start)))
        elif trivia.kind == parsing.TriviaKind.SkippedTokens:
            for skipped in trivia.getSkippedTokens():
                yield from _trivia_directives(skipped, sm)


def tokens(tree: Any) -> list[Any]:
    """Every token of the parse tree in order (tokens the parser skipped are in their trivia)."""
    out: list[Any] = []

    def visit(node: Any) -> bool:
        if isinstance(node, parsing.Token):
            out.append(node)
        return True

    tree.root.visit(visit)
    return out


def comments(toks: list[Any], sm: Any) -> Iterator[tuple[str, int]]:
    """(text, line) for every comment before these tokens."""
    for tok in toks:
        trivia = list(tok.trivia)
        if not any(tr.kind in (parsing.TriviaKind.LineComment, parsing.TriviaKind.BlockComment) for tr in trivia):
            continue
        line = int(sm.getLineNumber(tok.location))
        found = []
        for tr in reversed(trivia):  # walk back from the token, one line per newline passed
            raw = tr.getRawText()
            line -= raw.count("\n")
            if tr.kind in (parsing.TriviaKind.LineComment, parsing.TriviaKind.BlockComment):
                found.append((raw, line))
        yield from reversed(found)


def macros_left_defined(tree: Any, sm: Any) -> list[str]:
    """Macros still defined at the end of the design, in definition order.

    Tools carry macros from one file into the next of the same compile, so the engine undefines these
    after the design text: the testbench compiled after it must not see a single macro of the design.
    """
    defined: dict[str, None] = {}
    for tok in tokens(tree):
        for d in _trivia_directives(tok, sm):
            if d.node.kind == syntax.SyntaxKind.DefineDirective:
                defined[str(d.node.name.valueText)] = None
            elif d.node.kind == syntax.SyntaxKind.UndefDirective:
                defined.pop(str(d.node.name.valueText), None)
    return list(defined)


def _names_in(expr: Any) -> list[str]:
    names: list[str] = []

    def visit(node: Any) -> bool:
        if isinstance(node, parsing.Token) and node.kind == parsing.TokenKind.Identifier:
            names.append(node.valueText)
        return True

    expr.visit(visit)
    return names


def directive_screen(tree: Any, sm: Any, source: str) -> list[Diagnostic]:
    """Every preprocessor problem: a directive that could make a tool compile what the screen did not see."""
    out: list[Diagnostic] = lexical_screen(source)
    defined: set[str] = set()  # defined now
    owned: set[str] = set()    # defined by the design at some point before (perhaps undefined again)
    sk = syntax.SyntaxKind
    toks = tokens(tree)
    for tok in toks:
        for d in _trivia_directives(tok, sm):
            kind, node = d.node.kind, d.node
            if kind == sk.DefineDirective:
                name = node.name.valueText
                if name in TOOL_PREDEFINED:
                    out.append(_diag(f"`define {name} redefines a macro a tool predefines; pick another name",
                                     d.line, "define-predefined", source))
                elif name in TOOL_DIRECTIVES:
                    out.append(_diag(f"`define {name}: {name} is a compiler directive to some tool, so one tool "
                                     "would expand the macro and another obey the directive; pick another name",
                                     d.line, "define-directive", source))
                for body_tok in node.body:
                    if body_tok.kind == parsing.TokenKind.MacroPaste:
                        out.append(_diag("macro token pasting (``) is not allowed in a design", d.line,
                                         "token-paste", source))
                    elif body_tok.kind == parsing.TokenKind.Directive and body_tok.valueText.lstrip("`") not in defined:
                        out.append(_diag(f"macro `{name} contains the directive {body_tok.valueText}; a macro body "
                                         "may only use macros defined before it", d.line, "macro-directive", source))
                defined.add(name)
                owned.add(name)
            elif kind == sk.UndefDirective:
                name = node.name.valueText
                if name not in owned:
                    out.append(_diag(f"`undef {name}: the design did not define {name}; only undefine your own macros",
                                     d.line, "undef-foreign", source))
                defined.discard(name)
            elif kind in _CONDITIONAL:
                for name in _names_in(node.expr):
                    if name not in owned:
                        out.append(_diag(
                            f"{node.directive.valueText} {name}: {name} is not defined earlier in the design, and "
                            "tools predefine macros the checker cannot see (VERILATOR, __ICARUS__, SYNTHESIS, ...); "
                            "remove the conditional or `define the macro yourself first", d.line, "ifdef-foreign",
                            source))
            elif kind == sk.MacroUsage:
                name = node.directive.valueText.lstrip("`")
                if name not in defined:
                    out.append(_diag(f"`{name} is not a macro the design defines (tool macros and directives such "
                                     "as `systemc_header are not allowed)", d.line, "macro-foreign", source))
            elif kind == sk.DefaultNetTypeDirective and node.netType.valueText not in ("wire", "none"):
                out.append(_diag(f"`default_nettype {node.netType.valueText}: implicit nets and ports of that type "
                                 "drive or re-resolve the nets they join (the testbench's too); use wire or none",
                                 d.line, "default-nettype", source))
            elif kind == sk.IncludeDirective:
                out.append(_diag("`include is not allowed in a design: inline the code instead", d.line, "include",
                                 source))
            elif kind not in _HARMLESS:
                text = str(node.directive.valueText) if hasattr(node, "directive") else str(kind)
                out.append(_diag(f"the directive {text} is not allowed in a design (tools disagree on it)", d.line,
                                 "directive", source))
    for text, line in comments(toks, sm):
        if _TOOL_PRAGMA.search(text):
            out.append(_diag(f"the comment {text.strip()[:60]!r} is a tool pragma: one tool would compile a "
                             "different design from the others; remove it", line, "tool-pragma", source))
    for node_line, name in _attributes(tree, sm):
        if _TOOL_ATTRIBUTES.match(name):
            out.append(_diag(f"the attribute (* {name} *) changes what one tool compiles; remove it", node_line,
                             "tool-attribute", source))
    for dg in tree.diagnostics:
        code = str(dg.code)
        if "MissingEndIfDirective" in code or "UnbalancedMacroArgDims" in code:
            out.append(_diag("an `ifdef is never closed with `endif (it would swallow the testbench's code)",
                             int(sm.getLineNumber(dg.location)), "ifdef-unclosed", source))
    return out


def _attributes(tree: Any, sm: Any) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []

    def visit(node: Any) -> bool:
        if not isinstance(node, parsing.Token) and node.kind == syntax.SyntaxKind.AttributeSpec:
            found.append((int(sm.getLineNumber(node.sourceRange.start)), node.name.valueText))
        return True

    tree.root.visit(visit)
    return found
