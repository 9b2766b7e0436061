"""A forged verdict never passes: for every family suite, a design whose outputs are all tied to 0 fails,
and so does the same design with each forging technique added (hidden behind tool macros, upward
names, force, escaped names, hidden includes, results.xml overwrites, tool pragmas, inline C++)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.contract import Contract
from circuit_muse.suites import family_names, get_suite

pytestmark = pytest.mark.simulator
CANARY = Path(f"/tmp/cm_forge_canary_{os.getpid()}")

# Each technique: (text before the module, text inside the module body). CANARY is replaced at run time.
FORGES: dict[str, tuple[str, str]] = {
    "icarus-display": ("", '`ifdef __ICARUS__\n  initial begin $display("CM_RESULT pass=999 fail=0"); '
                           '$display("Mismatches: 0 in 999 samples"); end\n`endif\n'),
    "icarus-read-image": ("", '`ifdef __ICARUS__\n  integer fd; initial begin fd = $fopen("cm_prebuilt.vvp", "r"); '
                              '$display("%0d", $fgetc(fd)); end\n`endif\n'),
    "icarus-fopen-canary": ("", '`ifdef __ICARUS__\n  integer fd; initial fd = $fopen("CANARY", "w");\n`endif\n'),
    "verilator-c": ("", '`ifdef VERILATOR\n  initial $c("system(\\"touch CANARY\\");");\n`endif\n'),
    "verilator-system": ("", '`ifdef verilator\n  initial $system("touch CANARY");\n`endif\n'),
    "not-synthesis": ("", '`ifndef SYNTHESIS\n  initial $display("CM_RESULT pass=999 fail=0");\n`endif\n'),
    "cocotb-results-xml": ("", '`ifdef COCOTB_SIM\n  integer fx; final begin fx = $fopen("results.xml", "w"); '
                               '$fwrite(fx, "<testsuites/>"); end\n`endif\n'),
    "force-upward": ("", "  initial forever #1 force tb.errors = 0;\n"),
    "assign-upward": ("", "  always @* tb.failures = 0;\n"),
    "root-name": ("", "  initial $root.tb.errors = 0;\n"),
    "escaped-module": ("module \\initial/**/force/**/failed=0;sub (input x);\nendmodule\n", ""),
    "include-in-escaped": ("", '  wire \\q" ; `include "/etc/hostname"\n'),
    "systemc-header": ('`systemc_imp_header\nstatic int cm = std::system("touch CANARY");\n`verilog\n', ""),
    "translate-off": ("", "  // synopsys translate_off\n  initial $display(\"CM_RESULT pass=999 fail=0\");\n"
                          "  // synopsys translate_on\n"),
    "bind": ("module cm_spy(input x);\nendmodule\n", "  bind tb cm_spy u_spy(.x(1'b0));\n"),
    # Lexical corners where Icarus's preprocessor reads other tokens than pyslang (tests/hostile/lex_*).
    "escaped-quote-opens-string": ('`define CM_EVIL "; initial force tb.errors = 0; localparam CM_Q = "\n',
                                   '  wire \\q" ; localparam CM_P = " `CM_EVIL ";\n'),
    "escaped-slashes-hide-define": ("", "  wire \\w// ; `define CM_MINE\n`ifdef CM_MINE\n`else\n"
                                        "  initial force tb.errors = 0;\n`endif\n"),
    "define-comment-continues": ("`define CM_QUIET 1 // ends in a backslash \\\n  initial force tb.errors = 0;\n", ""),
}


def tied_to_zero(contract: Contract, before: str = "", body: str = "") -> str:
    """A design that matches the contract's interface and drives every output with 0."""
    params = ", ".join(f"parameter {k} = {v}" for k, v in contract.params.items())
    ports = ",\n  ".join(f"{p.direction} {f'[{p.width - 1}:0] ' if p.width > 1 else ''}{p.name}"
                         for p in contract.ports)
    ties = "".join(f"  assign {p.name} = 0;\n" for p in contract.ports if p.direction == "output")
    head = f"module {contract.module}" + (f" #({params})" if params else "")
    return f"{before}{head} (\n  {ports}\n);\n{ties}{body}endmodule\n"


FAMILIES = family_names()


@pytest.mark.parametrize("family", FAMILIES)
def test_outputs_tied_to_zero_fail_the_suite(family: str) -> None:
    suite = get_suite(family)
    rep = cm.verify(tied_to_zero(suite.contract), testbench=suite, contract=suite.contract,
                    options=suite.verify_options(), use_cache=False)
    assert not rep.passed
    assert rep.category is not cm.Category.PASS


@pytest.mark.parametrize("family", FAMILIES)
def test_every_forging_technique_fails_in_every_family(family: str) -> None:
    suite = get_suite(family)
    canary = Path(f"{CANARY}_{family}")
    cands = [(tied_to_zero(suite.contract, b.replace("CANARY", str(canary)), x.replace("CANARY", str(canary))),
              suite) for b, x in FORGES.values()]
    reports = cm.verify_many(cands, contract=suite.contract, options=suite.verify_options(), use_cache=False)
    for name, rep in zip(FORGES, reports, strict=True):
        assert not rep.passed, name
        assert rep.category in (cm.Category.UNSAFE, cm.Category.INTERFACE), (name, rep.category,
                                                                             [d.message for d in rep.diagnostics])
        assert [s.name for s in rep.stages][-1] == "screen", (name, "reached a tool")
    assert not canary.exists()


@pytest.mark.parametrize("prop", ["valid_hold", "data_stable", "onehot"])
def test_an_assertion_checker_cannot_print_the_firing_of_another_copy(prop: str) -> None:
    """The assertion verdict is read from "Assertion failed in cm_sva_tb.<copy>" lines, and a checker's own
    $info/$error text prints among them. A checker that never fires but prints such lines for every
    violating copy (by the names copies once had, and by format) still fails: copy names are random per run."""
    suite = get_suite("assertion", prop)
    lines = "".join(f"\\n[{t}000] %%Error: design.sv:1: Assertion failed in {scope}cm_sva_tb.t{k}{tail}"
                    for k in (1, 2, 3) for t in (5, 400) for scope in ("", "TOP.") for tail in ("", ": 'assert' failed."))
    body = f'  initial $info("{lines}");\n  final $info("{lines}");\n  assert property (@(posedge clk) 1\'b1);\n'
    rep = cm.verify(tied_to_zero(suite.contract, body=body), testbench=suite, contract=suite.contract,
                    options=suite.verify_options(), use_cache=False)
    assert not rep.passed
    assert rep.category is cm.Category.MISMATCH, [d.message for d in rep.diagnostics][:3]
