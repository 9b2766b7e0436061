"""No tool compiles a token the screen did not see.

For every design that passes the screen (the hostile corpus, shipped references, a design that uses
macros the allowed way), the tokens pyslang preprocessed must equal the tokens of `iverilog -E` and of
`verilator -E`. Whitespace and `line directives are ignored by lexing each tool's output again."""
from __future__ import annotations

import subprocess
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


CASES = [(name, src) for name, src in _designs() if _passes_screen(src)]


def test_the_comparison_covers_macros_and_references() -> None:
    names = {n for n, _ in CASES}
    assert "macros_ok.v" in names and {f"ref-{f}" for f in family_names()} <= names
    assert len(CASES) >= 15


@pytest.mark.parametrize("name,src", CASES, ids=[n for n, _ in CASES])
def test_tools_compile_exactly_the_screened_tokens(name: str, src: str, tmp_path: Path) -> None:
    path = tmp_path / "design.sv"
    path.write_text(src)
    seen = _screen_tokens(src)
    assert seen, "the screen saw no tokens"
    assert _lex(_iverilog_e(path)) == seen, "iverilog -E compiled other tokens than the screen saw"
    assert _lex(_verilator_e(path)) == seen, "verilator -E compiled other tokens than the screen saw"


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
