"""References under Verilator (cocotb full tier, ~8 s per C++ build: kept few and marked slow), and the
assertion family, whose bench is built by Verilator (Icarus 11 cannot parse concurrent SVA)."""
from __future__ import annotations

import shutil

import pytest

from circuit_muse import verify
from circuit_muse.engine.options import VerifyOptions
from circuit_muse.report import Category
from circuit_muse.suites import get_suite, run_suite

pytestmark = [pytest.mark.simulator, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _ccache(monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("ccache"):
        monkeypatch.setenv("OBJCACHE", "ccache")


@pytest.mark.parametrize("family,variant,params", [
    ("counter", "updown-en-load-async-low", {"WIDTH": 4}),
    ("fifo", "fwft-count-almost", {"DEPTH": 8}),
    ("axi_lite", None, {}),
])
def test_reference_passes_cocotb_suite_on_verilator(family: str, variant: str | None, params: dict[str, int]) -> None:
    suite = get_suite(family, variant, params, tier="full")
    out = run_suite(suite, suite.reference_rtl(), options=VerifyOptions(simulator="verilator"))
    assert out.passed, (out.detail.mismatches[:3], out.detail.log_tail[-1500:])
    assert out.detail.simulator == "verilator"


def test_wrong_counter_fails_on_verilator_with_details() -> None:
    suite = get_suite("counter", "up-en", {"WIDTH": 4}, tier="full")
    bug = ("module counter (input clk, input rst, input en, output reg [3:0] count);\n"
           "  always @(posedge clk) if (rst) count <= 0; else if (en && count != 4'd9) count <= count + 1'b1;\n"
           "endmodule\n")
    out = run_suite(suite, bug, options=VerifyOptions(simulator="verilator"))
    assert not out.passed and out.category is Category.MISMATCH
    m = out.detail.mismatches[0]
    assert m.signal == "count" and m.expected == "a" and m.got == "9" and m.cycle is not None


@pytest.mark.parametrize("prop", ["valid_hold", "data_stable", "onehot"])
def test_assertion_reference_passes_through_verify(prop: str) -> None:
    suite = get_suite("assertion", prop)
    rep = verify(suite.reference_rtl(), testbench=suite, contract=suite.contract,
                 options=suite.verify_options(), use_cache=False)
    assert rep.passed, [d.message for d in rep.diagnostics][:5]


def test_wrong_assertions_fail_with_the_traffic_named() -> None:
    suite = get_suite("assertion", "valid_hold")
    too_weak = suite.reference_rtl().replace("valid && !ready |=> valid", "valid && !ready |-> valid")
    out = run_suite(suite, too_weak)
    assert not out.passed and out.category is Category.MISMATCH
    assert all(m.expected == "failure" and m.got == "no failure" for m in out.detail.mismatches)
    assert out.detail.mismatches[0].cycle is not None and out.detail.mismatches[0].inputs
    no_disable = suite.reference_rtl().replace("disable iff (!rst_n) ", "")
    out = run_suite(suite, no_disable)
    assert not out.passed
    assert any(m.expected == "no failure" and m.test == "compliant" for m in out.detail.mismatches)
