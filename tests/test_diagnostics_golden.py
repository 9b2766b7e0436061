"""Golden tests of each tool-output parser on real output, plus a live re-run that catches tool drift."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from circuit_muse.engine.diagnostics import classify, parse_iverilog, parse_verilator, parse_yosys
from circuit_muse.engine.synth import _LATCH
from circuit_muse.report import Category
from circuit_muse.tools.registry import require

DATA = Path(__file__).parent / "data" / "tool_output"
DESIGNS = Path(__file__).parent / "designs"
EXPECTED = json.loads((DATA / "expected.json").read_text())
PARSERS = {"iverilog": parse_iverilog, "verilator": parse_verilator, "yosys": parse_yosys}
KEYS = ("severity", "file", "line", "column", "code", "message")


def _parse(name: str, text: str) -> list[dict[str, object]]:
    return [{k: v for k, v in d.to_dict().items() if k in KEYS} for d in PARSERS[name.split("_")[0]](text)]


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_parser_matches_golden(name: str) -> None:
    assert _parse(name, (DATA / name).read_text()) == EXPECTED[name]


def test_yosys_latch_line_names_signal_and_line() -> None:
    m = _LATCH.search((DATA / "yosys_proc.txt").read_text())
    assert m and m.group("sig") == "y" and m.group("line") == "2"


def test_classification_of_real_messages() -> None:
    cats = {n: [classify(d) for d in PARSERS[n.split("_")[0]]((DATA / n).read_text())] for n in EXPECTED}
    assert cats["iverilog_bad_syntax.txt"] == [Category.SYNTAX]
    assert cats["iverilog_bad_undeclared.txt"][0] is Category.UNDECLARED
    assert cats["verilator_bad_undeclared.txt"] == [Category.UNDECLARED]
    assert cats["verilator_bad_latch.txt"] == [Category.LATCH, Category.LATCH]
    assert cats["verilator_bad_width.txt"][0] is Category.WIDTH
    assert cats["yosys_check.txt"][0] is Category.MULTIDRIVER


@pytest.mark.simulator
@pytest.mark.parametrize("design", ["bad_syntax", "bad_undeclared", "bad_width", "bad_latch", "bad_blocking"])
def test_live_tools_still_produce_the_golden_diagnostics(design: str) -> None:
    """If a tool upgrade changes its message format, this fails before users see wrong feedback."""
    iv = require("iverilog")
    out = subprocess.run([iv.path, "-g2012", "-Wall", "-Wno-timescale", "-o", "/dev/null", f"{design}.v"],
                         cwd=DESIGNS, capture_output=True, text=True, timeout=30)
    assert _parse("iverilog", out.stdout + out.stderr) == EXPECTED[f"iverilog_{design}.txt"]
    vl = require("verilator")
    out = subprocess.run([vl.path, "--lint-only", "-Wall", "-Wno-DECLFILENAME", "-Wno-EOFNEWLINE", "--quiet",
                          "--no-std", f"{design}.v"], cwd=DESIGNS, capture_output=True, text=True, timeout=30,
                         env=vl.environ())
    assert _parse("verilator", out.stdout + out.stderr) == EXPECTED[f"verilator_{design}.txt"]
