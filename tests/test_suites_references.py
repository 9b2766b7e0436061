"""Every reference passes its suite on Icarus (fast tier for many variants, both tiers once per family, and the
whole verify() pipeline); seeded known-wrong designs fail with the cycle, inputs, expected and got."""
from __future__ import annotations

import pytest

from circuit_muse import verify
from circuit_muse.report import Category
from circuit_muse.suites import get_suite, run_suite

pytestmark = pytest.mark.simulator

FAST_MATRIX = [
    ("register", v, p) for v in ("reg", "reg-en-async-low", "shift", "shift-en-async-high") for p in ({"WIDTH": 1},
                                                                                                      {"WIDTH": 8})
] + [
    ("counter", v, {"WIDTH": 4}) for v in (
        "up", "down-en", "updown-load", "up-en-sat-low", "down-sat-async", "updown-en-load-mod-async-low",
        "up-load-mod", "updown-en-sat-async-high")
] + [
    ("fifo", v, p) for v in ("reg", "fwft", "reg-count-almost-async-high", "fwft-count-almost")
    for p in ({"DEPTH": 2, "WIDTH": 1}, {"DEPTH": 16, "WIDTH": 8})
] + [
    ("arbiter", v, p) for v in ("rr", "rr-comb", "fixed-comb", "fixed-reg-async-high") for p in ({"N": 2}, {"N": 5})
] + [("async_fifo", None, {"DEPTH": 4, "WIDTH": 4}), ("async_fifo", None, {"DEPTH": 32, "WIDTH": 16}),
     ("axi_lite", None, {}), ("axi_lite", None, {"ADDR_WIDTH": 8, "N_REGS": 7})]


@pytest.mark.parametrize("family,variant,params", FAST_MATRIX, ids=lambda x: str(x))
def test_reference_passes_fast_tier(family: str, variant: str | None, params: dict[str, int]) -> None:
    suite = get_suite(family, variant, params, tier="fast")
    out = run_suite(suite, suite.reference_rtl())
    assert out.passed, (out.detail.mismatches[:3], out.detail.log_tail[-800:])
    assert out.detail.samples >= 100


@pytest.mark.parametrize("family,variant,params", [
    ("register", "shift-en", {"WIDTH": 4}), ("counter", "updown-en-load-async", {"WIDTH": 4}),
    ("fifo", "fwft-count-almost", {"DEPTH": 4}), ("arbiter", "rr", {}), ("async_fifo", None, {"DEPTH": 8}),
    ("axi_lite", None, {})])
def test_reference_passes_both_tiers_through_verify(family: str, variant: str | None, params: dict[str, int]) -> None:
    suite = get_suite(family, variant, params)  # tier "both": replay, then the cocotb suite on Icarus
    rep = verify(suite.reference_rtl(), testbench=suite, contract=suite.contract, use_cache=False)
    assert rep.passed, [d.message for d in rep.diagnostics][:5]
    sim = rep.stage("simulate")
    assert sim is not None and sim.simulation is not None
    assert sim.simulation.testbench_kind.endswith("fast+full")
    errors = [d for d in rep.diagnostics if d.severity.value == "error"]
    assert not errors


COUNTER_BUG = """
module counter (input clk, input rst, input en, output reg [3:0] count);
  always @(posedge clk)
    if (rst) count <= 0;
    else if (en) count <= (count == 4'd15) ? 4'd15 : count + 1'b1;   // saturates: the spec says wrap
endmodule
"""


def test_wrong_counter_fails_with_cycle_inputs_expected_got() -> None:
    suite = get_suite("counter", "up-en", {"WIDTH": 4}, tier="fast")
    out = run_suite(suite, COUNTER_BUG)
    assert not out.passed and out.category is Category.MISMATCH
    first = out.detail.mismatches[0]
    assert first.signal == "count"
    assert first.expected == "0" and first.got == "f"
    assert first.inputs.get("rst") == "0" and "en" in first.inputs
    # the model wrapped to 0 at this cycle: the previous 16 enabled cycles counted to 15
    vecs = suite.vectors(1)
    assert vecs[first.cycle][1]["count"] == 0


def test_wrong_counter_fails_in_cocotb_tier_too() -> None:
    suite = get_suite("counter", "up-en", {"WIDTH": 4}, tier="full")
    out = run_suite(suite, COUNTER_BUG)
    assert not out.passed and out.category is Category.MISMATCH
    first = out.detail.mismatches[0]
    assert first.signal == "count" and first.cycle is not None and first.expected == "0" and first.got == "f"
    assert "en" in first.inputs


SYNC_RESET_AS_ASYNC = """
module register (input clk, input rst, input [7:0] d, output reg [7:0] q);
  always @(posedge clk or posedge rst) if (rst) q <= 0; else q <= d;
endmodule
"""


def test_async_reset_where_sync_is_specified_is_caught() -> None:
    suite = get_suite("register", "reg-sync-high", {"WIDTH": 8}, tier="fast")
    out = run_suite(suite, SYNC_RESET_AS_ASYNC)
    assert not out.passed
    m = out.detail.mismatches[0]
    assert m.signal == "q" and m.got == "0" and m.inputs["rst"] == "1" and m.expected != "0"


FIFO_NO_FULL_GUARD = """
module fifo #(parameter WIDTH = 8, parameter DEPTH = 4) (
  input clk, input rst_n, input wr_en, input [WIDTH-1:0] wr_data, input rd_en,
  output reg [WIDTH-1:0] rd_data, output full, output empty);
  reg [WIDTH-1:0] mem [0:DEPTH-1];
  reg [2:0] wp, rp;
  assign empty = wp == rp;
  assign full = (wp[2] != rp[2]) && (wp[1:0] == rp[1:0]);
  always @(posedge clk) begin
    if (!rst_n) begin wp <= 0; rp <= 0; end
    else begin
      if (wr_en) begin mem[wp[1:0]] <= wr_data; wp <= wp + 1; end   // writes even when full
      if (rd_en && !empty) begin rd_data <= mem[rp[1:0]]; rp <= rp + 1; end
    end
  end
endmodule
"""


def test_fifo_overflow_bug_is_caught() -> None:
    suite = get_suite("fifo", None, {"DEPTH": 4, "WIDTH": 8}, tier="fast")
    out = run_suite(suite, FIFO_NO_FULL_GUARD)
    assert not out.passed and out.category is Category.MISMATCH
    assert out.detail.mismatches[0].signal in {"full", "empty", "rd_data"}
    assert out.detail.mismatches[0].cycle is not None


ARBITER_STARVES = """
module arbiter (input clk, input rst_n, input [3:0] req, output reg [3:0] gnt);
  // claims round-robin, is fixed priority
  always @(posedge clk)
    if (!rst_n) gnt <= 0;
    else gnt <= req & -req;
endmodule
"""


def test_unfair_arbiter_is_caught() -> None:
    suite = get_suite("arbiter", "rr", {"N": 4}, tier="full")
    out = run_suite(suite, ARBITER_STARVES)
    assert not out.passed
    msgs = " ".join((m.message or "") + str(m.signal) for m in out.detail.mismatches)
    assert "gnt" in msgs or "property" in msgs


AXI_NEEDS_AW_FIRST = """
module axi_lite_regs (
  input aclk, input aresetn,
  input [4:0] s_axi_awaddr, input s_axi_awvalid, output s_axi_awready,
  input [31:0] s_axi_wdata, input [3:0] s_axi_wstrb, input s_axi_wvalid, output s_axi_wready,
  output reg [1:0] s_axi_bresp, output reg s_axi_bvalid, input s_axi_bready,
  input [4:0] s_axi_araddr, input s_axi_arvalid, output s_axi_arready,
  output reg [31:0] s_axi_rdata, output reg [1:0] s_axi_rresp, output reg s_axi_rvalid, input s_axi_rready);
  reg [31:0] r [0:3];
  reg have_aw; reg [4:0] a;
  integer i;
  assign s_axi_awready = !have_aw && !s_axi_bvalid;
  assign s_axi_wready = have_aw && !s_axi_bvalid;     // W only after AW: deadlocks when W comes first? no: waits
  assign s_axi_arready = !s_axi_rvalid;
  always @(posedge aclk) begin
    if (!aresetn) begin have_aw <= 0; s_axi_bvalid <= 0; s_axi_rvalid <= 0; s_axi_bresp <= 0; s_axi_rresp <= 0;
      for (i = 0; i < 4; i = i + 1) r[i] <= 0; end
    else begin
      if (s_axi_awvalid && s_axi_awready) begin have_aw <= 1; a <= s_axi_awaddr; end
      if (s_axi_wvalid && s_axi_wready) begin
        if (a[4] == 0) r[a[3:2]] <= s_axi_wdata;    // ignores WSTRB
        s_axi_bresp <= a[4] ? 2'b10 : 2'b00; s_axi_bvalid <= 1; have_aw <= 0; end
      if (s_axi_bvalid && s_axi_bready) s_axi_bvalid <= 0;
      if (s_axi_arvalid && s_axi_arready) begin s_axi_rvalid <= 1; s_axi_rdata <= s_axi_araddr[4] ? 0 : r[s_axi_araddr[3:2]];
        s_axi_rresp <= s_axi_araddr[4] ? 2'b10 : 2'b00; end
      else if (s_axi_rvalid && s_axi_rready) s_axi_rvalid <= 0;
    end
  end
endmodule
"""


def test_axi_slave_ignoring_wstrb_is_caught() -> None:
    suite = get_suite("axi_lite", None, {}, tier="fast")
    out = run_suite(suite, AXI_NEEDS_AW_FIRST)
    assert not out.passed and out.category is Category.MISMATCH
    m = next(m for m in out.detail.mismatches if m.signal == "rdata")
    assert m.expected and m.got and m.expected != m.got and "wstrb" in m.inputs


AFIFO_BAD_FULL = """
module async_fifo #(parameter WIDTH = 8, parameter DEPTH = 4) (
  input wclk, input wrst_n, input wr_en, input [WIDTH-1:0] wr_data, output wfull,
  input rclk, input rrst_n, input rd_en, output [WIDTH-1:0] rd_data, output rempty);
  reg [WIDTH-1:0] mem [0:DEPTH-1];
  reg [2:0] wp, rp;  // binary pointers compared directly across domains; full ignores the wrap bit
  assign wfull = (wp[1:0] == rp[1:0]) && (wp != rp) && 1'b0;
  assign rempty = (wp == rp);
  assign rd_data = mem[rp[1:0]];
  always @(posedge wclk or negedge wrst_n) if (!wrst_n) wp <= 0; else if (wr_en && !wfull) begin
    mem[wp[1:0]] <= wr_data; wp <= wp + 1; end
  always @(posedge rclk or negedge rrst_n) if (!rrst_n) rp <= 0; else if (rd_en && !rempty) rp <= rp + 1;
endmodule
"""


def test_async_fifo_that_never_reports_full_is_caught() -> None:
    suite = get_suite("async_fifo", None, {"DEPTH": 4, "WIDTH": 8}, tier="fast")
    out = run_suite(suite, AFIFO_BAD_FULL)
    assert not out.passed and out.category is Category.MISMATCH
    assert any(m.signal == "wfull" for m in out.detail.mismatches)


def test_interface_mismatch_is_reported_as_interface() -> None:
    suite = get_suite("counter", "up", {"WIDTH": 4}, tier="fast")
    out = run_suite(suite, "module counter(input clk, input reset, output reg [3:0] count);\n"
                           "always @(posedge clk) count <= count + 1;\nendmodule\n")
    assert not out.passed and out.category is Category.INTERFACE
