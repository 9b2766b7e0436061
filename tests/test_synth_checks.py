"""Yosys synthesis checks: the async-reset ternary passes, duplicate drivers are found, errors are `synth`."""
from __future__ import annotations

import pytest

import circuit_muse as cm
from circuit_muse.engine.synth import duplicate_drivers, normalise_async_ternary

pytestmark = pytest.mark.simulator

TERNARY_HIGH = """module r(input clk, input rst, input [3:0] d, output reg [3:0] q);
  always @(posedge clk or posedge rst) q <= rst ? 4'd0 : d;
endmodule
"""
TERNARY_LOW = """module r(input clk, input rst_n, input [3:0] d, output reg [3:0] q);
  always @(posedge clk, negedge rst_n)
    q <= !rst_n ? 4'd0 : d[3:0];
endmodule
"""
DUPLICATE_ASSIGNS = """module m(input a, input b, output w, output [1:0] v);
  assign w = a;
  assign w = a;
  wire [1:0] t;
  assign t = {a, b};
  assign t = {a, b};
  assign v = t;
endmodule
"""


@pytest.mark.parametrize("src", [TERNARY_HIGH, TERNARY_LOW], ids=["posedge-rst", "negedge-rst_n"])
def test_async_reset_written_as_a_ternary_passes_synthesis(src: str) -> None:
    report = cm.verify(src, use_cache=False)
    assert report.stage("synth").passed, report.stage("synth").diagnostics
    assert report.category is not cm.Category.SYNTH


def test_ternary_is_respelled_for_yosys_only_with_lines_kept() -> None:
    fixed = normalise_async_ternary(TERNARY_LOW)
    assert "if (!rst_n) q <= 4'd0; else q <= d[3:0];" in fixed
    assert fixed.count("\n") == TERNARY_LOW.count("\n")
    plain = "module r(input clk, input s, input d, output reg q);\n always @(posedge clk) q <= s ? 1'b0 : d;\nendmodule\n"
    assert normalise_async_ternary(plain) == plain  # one edge: nothing to fix


def test_an_error_only_yosys_reports_is_category_synth() -> None:
    # a process with two edges whose body is not an async-reset shape: Yosys 0.23 refuses it
    src = """module r(input clk, input rst, input [3:0] d, output reg [3:0] q);
  always @(posedge clk or posedge rst) q <= (rst & d[0]) ? 4'd0 : d;
endmodule
"""
    report = cm.verify(src, use_cache=False, options={"linters": ("iverilog",)})
    synth = report.stage("synth")
    assert synth is not None and not synth.passed
    assert report.category is cm.Category.SYNTH, report.to_json()[:1500]


def test_identical_duplicate_assigns_are_a_multidriver_finding() -> None:
    # Icarus alone lints this clean; the synth stage must still say multidriver, for both nets
    report = cm.verify(DUPLICATE_ASSIGNS, use_cache=False, options={"linters": ("iverilog",)})
    assert not report.passed and report.category is cm.Category.MULTIDRIVER
    found = {d.message.split("'")[1] for d in report.stage("synth").errors}
    assert found == {"w", "t"}
    assert {d.line for d in report.stage("synth").errors} == {2, 5}


def test_duplicate_driver_scan_of_rtlil() -> None:
    rtlil = ("module \\m\n  wire width 4 output 1 \\z\n  wire input 2 \\a\n  wire \\s\n"
             "  connect \\z [1:0] \\a\n  connect \\z [3:2] \\a\n  connect { \\s \\z [0] } 2'00\nend\n")
    assert duplicate_drivers(rtlil) == ["\\z"]
