"""The hostile corpus: each design must fail fast, in its expected category, and leave nothing behind."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.testbench import ReferenceTestbench

pytestmark = pytest.mark.simulator
HERE = Path(__file__).parent
CORPUS = sorted((HERE / "hostile").glob("*.*v"))


def _expectation(path: Path) -> dict[str, str]:
    head = path.read_text().splitlines()[0]
    m = re.match(r"//\s*expect:\s*(\w+)(.*)", head)
    assert m, f"{path.name} needs an '// expect: CATEGORY' header"
    out = {"category": m.group(1)}
    out.update(dict(re.findall(r"(\w+)=([\w,]+)", m.group(2))))
    return out


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_hostile_design_fails_fast_in_its_category(path: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    exp = _expectation(path)
    opts: dict[str, object] = {"sim_limits": cm.VerifyOptions().sim_limits.scaled(wall_s=3, cpu_s=3),
                               "keep_vcd_dir": str(tmp_path / "waves")}
    if "stages" in exp:
        opts["stages"] = tuple(exp["stages"].split(","))
    tb = ReferenceTestbench((HERE / "designs" / "hostile_ref.v").read_text())
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))  # every sandbox dir of this run lands here
    report = cm.verify(path.read_text(), testbench=tb, options=opts, use_cache=False)
    assert not report.passed
    assert report.category.value == exp["category"], report.to_json(indent=1)[:3000]
    if "line" in exp:
        lines = {d.line for d in report.diagnostics if d.severity is cm.Severity.ERROR}
        assert int(exp["line"]) in lines, lines
    assert list(private_tmp.iterdir()) == [], "left behind in the sandbox's temp dir"


def test_system_call_never_runs(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("still here")
    src = (HERE / "hostile" / "system_rm.v").read_text().replace("/tmp/circuit_muse_victim", str(victim))
    report = cm.verify(src, options={"continue_on_fail": True}, use_cache=False)
    assert report.category is cm.Category.UNSAFE
    assert [s.name for s in report.stages] == ["extract", "screen"]  # nothing reached a tool
    assert victim.read_text() == "still here"


def test_forged_pass_line_cannot_pass_even_if_screen_is_bypassed() -> None:
    """With the print ban lifted (allow_assertions lets $error through, not $display), a design that
    prints the bench's exact result text still fails: the verdict needs the per-run nonce."""
    forged = """module counter(input clk, input rst_n, input en, output reg [3:0] q);
  always @(posedge clk) if (!rst_n) q <= 0; else q <= 4'd9;
  always @(posedge clk) if (q == 4'd9) $error("CM_RESULT pass=200 fail=0");
endmodule"""
    ref = """module counter(input clk, input rst_n, input en, output reg [3:0] q);
  always @(posedge clk) if (!rst_n) q <= 0; else if (en) q <= q + 1'b1;
endmodule"""
    opts = {"allow_assertions": True, "stages": ("extract", "screen", "parse", "simulate")}
    report = cm.verify(forged, testbench=ReferenceTestbench(ref), options=opts, use_cache=False)
    assert not report.passed
    assert report.category is cm.Category.MISMATCH
