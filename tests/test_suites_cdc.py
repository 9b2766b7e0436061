"""The async FIFO suite catches binary pointers across the clock domains (zero-delay simulation alone cannot)."""
from __future__ import annotations

from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.engine.options import VerifyOptions
from circuit_muse.suites import get_suite, run_suite
from circuit_muse.suites.cdc import crossings, netlist
from circuit_muse.suites.mutate import mutants
from circuit_muse.tools import sandbox

pytestmark = pytest.mark.simulator
ROOT = Path(__file__).resolve().parent.parent
CDC = ROOT / "tests" / "designs" / "cdc"


@pytest.mark.parametrize(("design", "tier"), [("async_fifo_binary.v", "both"), ("async_fifo_binary.v", "full"),
                                              ("async_fifo_binary_sync_module.v", "both")])
def test_binary_pointers_through_synchronizers_fail(design: str, tier: str) -> None:
    suite = get_suite("async_fifo", tier=tier)
    report = cm.verify((CDC / design).read_text(), testbench=suite, contract=suite.contract, use_cache=False)
    assert not report.passed and report.category is cm.Category.MISMATCH
    errs = report.stage("simulate").errors
    assert errs[0].code == "cdc-gray" and "wptr" in errs[0].message and "Gray" in errs[0].message


@pytest.mark.parametrize("params", [{"DEPTH": 4, "WIDTH": 4}, {"DEPTH": 16}])
def test_the_gray_reference_passes_both_tiers(params: dict[str, int]) -> None:
    suite = get_suite("async_fifo", None, params)
    report = cm.verify(suite.reference_rtl(), testbench=suite, contract=suite.contract, use_cache=False)
    assert report.passed, report.summary()
    assert report.stage("simulate").simulation.testbench_kind.endswith("fast+full")


def test_every_gray_to_binary_mutant_is_killed() -> None:
    suite = get_suite("async_fifo", None, {"DEPTH": 8})
    found = [m for m in mutants(suite.reference_rtl()) if m.operator == "gray_to_binary"]
    assert {"Gray encoding of wbin_next -> wbin_next (binary)", "synchronize wbin instead of wgray"} <= \
        {m.description for m in found}
    for m in found:
        out = run_suite(suite, m.source, tier="both")
        assert not out.passed, m.description


def test_the_netlist_names_each_crossing_register() -> None:
    suite = get_suite("async_fifo", None, {"DEPTH": 8})
    with sandbox.workdir(prefix="cm-test-cdc-") as work:
        (work / "design.sv").write_text(suite.reference_rtl())
        design = netlist(work, ["design.sv"], "async_fifo", VerifyOptions().tool_limits)
    buses = {(b.source_clock, b.dest, b.names[0][0][0], len(b.names)) for b in crossings(design, "async_fifo",
                                                                                       ("wclk", "rclk"))}
    assert buses == {("wclk", "rq1_wgray", "wgray", 4), ("rclk", "wq1_rgray", "rgray", 4)}


def test_a_crossing_behind_an_enable_mux_is_found() -> None:
    src = """module x(input a_clk, input b_clk, input en, output reg [3:0] q);
  reg [3:0] cnt;
  always @(posedge a_clk) cnt <= cnt + 4'd1;
  always @(posedge b_clk) if (en) q <= cnt;
endmodule
"""
    with sandbox.workdir(prefix="cm-test-cdc-") as work:
        (work / "design.sv").write_text(src)
        design = netlist(work, ["design.sv"], "x", VerifyOptions().tool_limits)
    [bus] = crossings(design, "x", ("a_clk", "b_clk"))
    assert (bus.source_clock, bus.dest_clock, bus.dest) == ("a_clk", "b_clk", "q")
    assert [n[0] for n in bus.names] == [("cnt", 0), ("cnt", 1), ("cnt", 2), ("cnt", 3)]
