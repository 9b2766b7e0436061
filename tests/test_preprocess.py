"""No tool compiles a token the screen did not see.

For every design that passes the screen (the hostile corpus, shipped references, a design that uses
macros the allowed way), the tokens pyslang preprocessed must equal the tokens of `iverilog -E` and of
`verilator -E`, and of Yosys's `read_verilog -sv -ppdump`. Whitespace and `line directives are ignored
by lexing each tool's output again. Random macro-using designs (seeded, printed) join the shipped ones."""
from __future__ import annotations

import os
import random
import re
import subprocess
import time
from pathlib import Path

import pytest
from pyslang import parsing, syntax

import circuit_muse as cm
from circuit_muse.engine.elaborate import elaborate
from circuit_muse.engine.preprocess import precheck, tokens
from circuit_muse.engine.screen import ScreenLimits, name_problems, screen
from circuit_muse.suites import family_names, get_suite
from circuit_muse.tools.registry import require

pytestmark = pytest.mark.simulator
HERE = Path(__file__).parent
HOSTILE = sorted((HERE / "hostile").glob("*.*v"))


def _designs() -> list[tuple[str, str]]:
    out = [(p.name, p.read_text()) for p in HOSTILE]
    out += [(p.name, p.read_text()) for p in sorted((HERE / "designs").glob("*.v"))]
    out += [(f"ref-{fam}", get_suite(fam).reference_rtl()) for fam in family_names()]
    return out


def _passes_screen(src: str) -> bool:
    if precheck(src, ScreenLimits()):
        return False
    elab = elaborate(src)
    return not screen(elab) and not name_problems(elab)


def _screen_tokens(src: str) -> list[str]:
    elab = elaborate(src)  # keep it alive: tokens point into its source manager's buffers
    return [t.rawText for t in tokens(elab.tree) if t.kind != parsing.TokenKind.EndOfFile]


def _lex(text: str) -> list[str]:
    tree = syntax.SyntaxTree.fromText(text, "tool_output.sv")
    return [t.rawText for t in tokens(tree) if t.kind != parsing.TokenKind.EndOfFile]


def _iverilog_e(path: Path) -> str:
    out = path.with_suffix(".ivl.txt")
    subprocess.run([require("iverilog").path, "-g2012", "-E", "-o", str(out), str(path)], check=True,
                   capture_output=True, timeout=60)
    return out.read_text()


def _verilator_e(path: Path) -> str:
    tool = require("verilator")
    res = subprocess.run([tool.path, "-E", "-P", "--no-std", str(path)], capture_output=True, text=True,
                         timeout=60, env=tool.environ(), check=True)
    return res.stdout


def _yosys_e(path: Path) -> str | None:
    """What Yosys's read_verilog (as synth uses it) compiles: its -ppdump, minus its file markers.

    None when Yosys rejected the design before dumping it: then it compiles nothing at all."""
    # The dump is printed before Yosys parses, so it is there even when Yosys then rejects the design.
    res = subprocess.run([require("yosys").path, "-p", f"read_verilog -sv -ppdump {path}"], capture_output=True,
                         text=True, timeout=60)
    if "-- Verilog code after preprocessor --" not in res.stdout:
        assert res.returncode != 0, res.stdout[-2000:]
        return None
    dump = res.stdout.split("-- Verilog code after preprocessor --", 1)[1].split("-- END OF DUMP --", 1)[0]
    return "\n".join(ln for ln in dump.splitlines() if not re.match(r"\s*`file_(push|pop)\b", ln))


def _macro_mutants(seed: int, n: int) -> list[tuple[str, str]]:
    """Designs that use the preprocessor in random allowed ways: own macros with and without arguments,
    nested conditionals on own macros (defined or undefined again), macros inside macros."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        lines, defined = ["`timescale 1ns/1ps"], []
        for i in range(rng.randint(1, 6)):
            name = f"M{i}"
            body = rng.choice(["1'b1", "(a)", "(~a)", f"`{defined[-1]}" if defined else "a", "a ^ 1'b0"])
            if rng.random() < 0.3:
                lines.append(f"`define {name}(x) ((x) & {body})")
                defined.append(f"{name}(a)")
            else:
                lines.append(f"`define {name} {body}")
                defined.append(name)
            if rng.random() < 0.2:
                lines.append(f"`undef {name}")
                defined.pop()
        own = [d.split("(")[0] for d in defined] + ["GONE"]
        lines.append("`define GONE")
        lines.append("`undef GONE")
        lines.append("module mut(input a, output y);")
        expr = rng.choice(defined) if defined else "a"
        cond = rng.choice(own)
        lines += [f"`ifdef {cond}", f"  assign y = `{expr};" if defined else "  assign y = a;",
                  f"`elsif {rng.choice(own)}", "  assign y = 1'b0;", "`else", "  assign y = ~a;", "`endif",
                  "endmodule"]
        out.append((f"mutant-{seed}-{k}", "\n".join(lines) + "\n"))
    return out


# Lexical corners where some tool's preprocessor may split text differently from pyslang: escaped names,
# strings, comments inside and around macros, attributes. Most mutants are refused by the screen; those it
# lets through must compile to exactly the screened tokens in every tool.
_ESCAPED_CHARS = ['"', "`", "//", "/*", "*/", "\\", "(", ")", ",", "[", "'", "`MINE", "`else", ";", "$", ".", "=", "#"]
_STRINGS = ["a\\\\", '\\"', "//", "/*", "`MINE", "\\\n", "'", "\\x41", "*/", "`endif", "plain text"]
_COMMENTS = ['// "', '/* " */', "// \\", "/* // */", "// /*", "/* `MINE */", "// `else", '// `"', "// fine"]
_DEFINES = ['`define M{k} "s"', "`define M{k} a // c \\", "`define M{k} a /* c\n x */", '`define M{k}(x) `"x`"',
            "`define M{k} /* \" */ a", '`define M{k} "// "', "`define M{k}(x, y) ((x) + (y)) // add"]


def _lexical_mutants(seed: int, n: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)

    def fragment(k: int) -> str:
        kind = rng.randrange(5)
        if kind == 0:
            return f"  wire \\w{k}{''.join(rng.choice(_ESCAPED_CHARS) for _ in range(rng.randint(1, 2)))} ;"
        if kind == 1:
            return f'  localparam P{k} = "{"".join(rng.choice(_STRINGS) for _ in range(rng.randint(1, 2)))}";'
        if kind == 2:
            return "  " + rng.choice(_COMMENTS)
        if kind == 3:
            return rng.choice(_DEFINES).format(k=k)
        return f'  (* n{k} = "{rng.choice(_STRINGS)}" *) wire q{k};'

    out = []
    for k in range(n):
        lines = ["`define MINE", "module lex(input a, output y);", *(fragment(i) for i in range(rng.randint(1, 3))),
                 "`ifdef MINE", "  assign y = a;", "`else", "  assign y = ~a;", "`endif", "endmodule", ""]
        out.append((f"lexical-{seed}-{k}", "\n".join(lines)))
    return out


SEED = int(os.environ.get("CM_FUZZ_SEED") or time.time_ns() % 1_000_000_007)
CASES = [(name, src) for name, src in _designs() + _macro_mutants(SEED, 12) + _lexical_mutants(SEED, 30)
         if _passes_screen(src)]


def test_the_comparison_covers_macros_and_references() -> None:
    names = {n for n, _ in CASES}
    print(f"macro mutant seed: {SEED} (replay with CM_FUZZ_SEED={SEED})")
    assert {"macros_ok.v", "escaped_internal.v"} <= names and {f"ref-{f}" for f in family_names()} <= names
    assert sum(n.startswith("mutant-") for n in names) >= 6  # most random macro uses are allowed ones
    assert len(CASES) >= 20


@pytest.mark.parametrize("name,src", CASES, ids=[n for n, _ in CASES])
def test_tools_compile_exactly_the_screened_tokens(name: str, src: str, tmp_path: Path) -> None:
    path = tmp_path / "design.sv"
    path.write_text(src)
    seen = _screen_tokens(src)
    assert seen, "the screen saw no tokens"
    assert _lex(_iverilog_e(path)) == seen, "iverilog -E compiled other tokens than the screen saw"
    assert _lex(_verilator_e(path)) == seen, "verilator -E compiled other tokens than the screen saw"
    yosys = _yosys_e(path)
    if yosys is not None:
        assert _lex(yosys) == seen, "yosys read_verilog compiled other tokens than the screen saw"


@pytest.mark.parametrize("macro", ["VERILATOR", "verilator", "__ICARUS__", "SYNTHESIS", "YOSYS", "FORMAL",
                                   "COCOTB_SIM", "SOMETHING_ELSE"])
def test_a_branch_on_any_macro_the_design_did_not_define_is_unsafe(macro: str) -> None:
    for directive in ("ifdef", "ifndef"):
        src = f"module m(input a, output y);\n`{directive} {macro}\n  assign y = a;\n`else\n  assign y = ~a;\n`endif\nendmodule\n"
        rep = cm.verify(src, use_cache=False)
        assert rep.category is cm.Category.UNSAFE
        assert [d.line for d in rep.diagnostics if d.code == "ifdef-foreign"] == [2]


def test_the_predefined_list_covers_what_verilator_predefines(tmp_path: Path) -> None:
    from circuit_muse.engine.preprocess import TOOL_PREDEFINED

    (tmp_path / "t.v").write_text("module t; endmodule\n")
    tool = require("verilator")
    out = subprocess.run([tool.path, "-E", "--dump-defines", str(tmp_path / "t.v")], capture_output=True,
                         text=True, env=tool.environ(), timeout=60, check=True).stdout
    names = {ln.split()[1] for ln in out.splitlines() if ln.startswith("`define ")}
    assert names and names <= TOOL_PREDEFINED, names - TOOL_PREDEFINED


def _tool_tokens(src: str, tmp_path: Path) -> dict[str, list[str] | None]:
    """Each tool's preprocessed tokens of src written byte for byte (None: that tool rejected the text)."""
    path = tmp_path / "design.sv"
    path.write_bytes(src.encode())
    out: dict[str, list[str] | None] = {}
    for tool, run in (("iverilog", _iverilog_e), ("verilator", _verilator_e), ("yosys", _yosys_e)):
        try:
            text = run(path)
        except subprocess.CalledProcessError:
            text = None
        out[tool] = _lex(text) if text is not None else None
    return out


LEXICAL_HOSTILE = sorted((HERE / "hostile").glob("lex_*.v"))
_CR = {"lone-cr-in-comment": "`define MINE\nmodule top(input a, output y);\n  // c\r`undef MINE\n`ifdef MINE\n"
                             "  assign y = a;\n`else\n  assign y = ~a;\n`endif\nendmodule\n",
       "lone-cr-in-define": "`define MINE 1 \r `undef MINE\nmodule top(input a, output y);\n`ifdef MINE\n"
                            "  assign y = a;\n`else\n  assign y = ~a;\n`endif\nendmodule\n"}


@pytest.mark.parametrize("name,src", [(p.name, p.read_text()) for p in LEXICAL_HOSTILE] + list(_CR.items()),
                         ids=[p.name for p in LEXICAL_HOSTILE] + list(_CR))
def test_lexical_corners_where_a_tool_reads_other_tokens_are_refused(name: str, src: str, tmp_path: Path) -> None:
    """Each case really makes some tool compile tokens pyslang did not see (so it is a live attack), and the
    screen refuses it (as a raw string: Path.read_text would turn a lone CR into a newline)."""
    assert len(LEXICAL_HOSTILE) >= 6
    seen = _screen_tokens(src)
    tools = _tool_tokens(src, tmp_path)
    assert any(toks is not None and toks != seen for toks in tools.values()), f"{name} no longer diverges: {tools}"
    assert not _passes_screen(src)
    rep = cm.verify(src, options={"continue_on_fail": True}, use_cache=False)
    assert rep.category is cm.Category.UNSAFE and [s.name for s in rep.stages] == ["extract", "screen"]


def test_text_pyslang_could_not_read_never_reaches_a_tool() -> None:
    """pyslang skips tokens it cannot parse, so the screen never saw them; even with continue_on_fail no tool
    gets the text (a tool might compile the skipped part)."""
    src = "module top(input a, output y);\n  assign y = a\n  wire ) w;\nendmodule\n"
    rep = cm.verify(src, options={"continue_on_fail": True, "stages": ("extract", "screen", "lint", "synth")},
                    use_cache=False)
    assert rep.category is cm.Category.SYNTAX
    assert [s.name for s in rep.stages] == ["extract", "screen", "parse"]
