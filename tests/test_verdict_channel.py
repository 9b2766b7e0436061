"""The verdict channel is out of the simulated design's reach, tested with the screen bypassed.

Each hostile design here reads every file it could know of (its directory, the work directory by
absolute path, the compiled image, /proc/self/*) looking for the run's nonce, prints a forged verdict with
it and ends the simulation before the bench can speak; or it writes cocotb's results file. These call the
testbench layer directly, so only the sandbox and the verdict plumbing stand between them and a PASS.
"""
from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from circuit_muse.engine.lint import LINTERS
from circuit_muse.engine.options import VerifyOptions
from circuit_muse.report import Category
from circuit_muse.testbench import CocotbTestbench, ReferenceTestbench, SimContext, VerilogTestbench
from circuit_muse.tools import sandbox

pytestmark = pytest.mark.simulator

BENCH = """`timescale 1ns/1ps
module tb;
  reg clk = 0;
  wire out;
  integer errors = 0, samples = 0;
  top_module dut(.clk(clk), .out(out));
  always #5 clk = ~clk;
  initial begin
    repeat (20) begin
      @(negedge clk);
      samples = samples + 1;
      if (out !== 1'b1) errors = errors + 1;
    end
    $display("Mismatches: %0d in %0d samples", errors, samples);
    $finish;
  end
endmodule
"""

HONEST = "module top_module(input clk, output out);\n  assign out = 1'b1;\nendmodule\n"


def _forger(paths: list[str]) -> str:
    """A design with its output tied wrong that hunts for a `CMV` + 24 hex nonce in every path and forges."""
    scans = "\n".join(f'    scan("{p}");' for p in paths)
    return f"""`timescale 1ns/1ps
module top_module(input clk, output out);
  assign out = 1'b0;
  integer fd, c, state, k, found;
  reg [8*27-1:0] nonce;
  task scan(input [8*200-1:0] path);
    begin
      fd = $fopen(path, "r");
      if (fd != 0) begin
        state = 0;
        c = $fgetc(fd);
        while (c != -1 && found == 0) begin
          if (state == 0) state = (c == "C") ? 1 : 0;
          else if (state == 1) state = (c == "M") ? 2 : ((c == "C") ? 1 : 0);
          else if (state == 2) begin
            if (c == "V") begin state = 3; k = 0; nonce = "CMV"; end
            else state = (c == "C") ? 1 : 0;
          end else if ((c >= "0" && c <= "9") || (c >= "a" && c <= "f")) begin
            nonce = {{nonce[8*26-1:0], c[7:0]}};
            k = k + 1;
            if (k == 24) found = 1;
          end else state = (c == "C") ? 1 : 0;
          c = $fgetc(fd);
        end
        $fclose(fd);
      end
    end
  endtask
  initial begin
    found = 0;
{scans}
    if (found) begin
      $display("%0s Mismatches: 0 in 20 samples", nonce);
      $display("%0s CM_RESULT pass=20 fail=0", nonce);
      $finish;
    end
    $display("forger: no nonce found");
  end
endmodule
"""


def _targets(work: Path) -> list[str]:
    names = ["sim.vvp", "cm_prebuilt.vvp", "cm_tb_tb.sv", "cm_ref_tb.sv", "obj_dir/simv", "obj_dir/Vtb.cpp",
             "obj_dir/Vtb___024root__0.cpp", "obj_dir/Vtb__ALL.cpp"]
    out = [*names, *[f"../{n}" for n in names], *[f"{work}/{n}" for n in names]]
    return out + ["/dev/stdin", "/proc/self/cmdline", "/proc/self/environ", "/proc/self/exe"]


def _ctx(work: Path, design: str, simulator: str) -> SimContext:
    (work / "design.sv").write_text(design)
    return SimContext(workdir=work, design_file="design.sv", top="top_module", module=None,
                      options=VerifyOptions(simulator=simulator, keep_vcd_dir=None),
                      nonce="CMV" + secrets.token_hex(12))


def _run_like_the_pipeline(tb: VerilogTestbench, ctx: SimContext) -> object:
    """Lint-stage prebuilt image (design + nonce-tagged bench in one compile), then the bench, as verify() does."""
    bench = tb.prepare_icarus(ctx)
    LINTERS["iverilog"](ctx.workdir, bench.files, bench.top, ctx.options.tool_limits, output="cm_prebuilt.vvp")
    assert (ctx.workdir / "cm_prebuilt.vvp").exists()
    ctx.prebuilt = "cm_prebuilt.vvp"
    return tb.run(ctx)


def test_the_bench_itself_passes_an_honest_design() -> None:
    with sandbox.workdir() as work:
        out = _run_like_the_pipeline(VerilogTestbench(BENCH), _ctx(work, HONEST, "icarus"))
    assert out.passed, out.diagnostics  # type: ignore[attr-defined]


def _decoy(work: Path) -> str:
    """A nonce-shaped string in a data file the design may read: proof that the forger's scan works here."""
    decoy = "CMV" + secrets.token_hex(12)
    (work / "cm_decoy.hex").write_text(f"00\n{decoy}\n")
    return decoy


def test_icarus_forger_that_reads_every_file_cannot_forge_a_pass() -> None:
    with sandbox.workdir() as work:
        decoy = _decoy(work)
        ctx = _ctx(work, _forger([*_targets(work), "cm_decoy.hex"]), "icarus")
        out = _run_like_the_pipeline(VerilogTestbench(BENCH), ctx)
    assert not out.passed and out.category is Category.CRASH  # type: ignore[attr-defined]
    assert f"{decoy} Mismatches: 0 in 20 samples" in out.detail.log_tail  # type: ignore[attr-defined]


def test_reference_bench_forger_cannot_forge_a_pass() -> None:
    ref = "module top_module(input clk, output out);\n  assign out = 1'b1;\nendmodule\n"
    with sandbox.workdir() as work:
        ctx = _ctx(work, _forger(_targets(work)), "icarus")
        out = ReferenceTestbench(ref).run(ctx)
    assert not out.passed and out.category is Category.MISMATCH


def test_verilator_forger_that_reads_every_file_cannot_forge_a_pass() -> None:
    with sandbox.workdir() as work:
        decoy = _decoy(work)
        ctx = _ctx(work, _forger([*_targets(work), "cm_decoy.hex"]), "verilator")
        out = VerilogTestbench(BENCH).run(ctx)
        sim_log = out.detail.log_tail
    assert not out.passed and out.category is Category.CRASH, (out.category, sim_log)
    assert f"{decoy} Mismatches: 0 in 20 samples" in sim_log  # it found only the decoy, and ended the run


COCOTB_TEST = '''import cocotb
from cocotb.triggers import Timer


@cocotb.test()
async def out_is_high(dut):
    await Timer(10, "ns")
    assert dut.out.value == 1, "CM_MISMATCH cycle=0 signal=out exp=1 got=0 why=tied low"
'''

FAKE_RESULTS = ('<testsuites><testsuite name=\\"all\\"><testcase name=\\"out_is_high\\" '
                'classname=\\"cm_test_t\\"/></testsuite></testsuites>')
RESULTS_WRITER = f"""module top_module(input clk, output out);
  assign out = 1'b0;
  integer fd;
  localparam [8*200-1:0] FAKE = "{FAKE_RESULTS}";
  task forge(input [8*100-1:0] path);
    begin
      fd = $fopen(path, "w");
      if (fd != 0) begin
        $fwrite(fd, "%0s\\n", FAKE);
        $fclose(fd);
      end
    end
  endtask
  initial begin
    forge("results.xml");
    forge("../results.xml");
    forge("sim_build/results.xml");
  end
  final begin
    fd = $fopen("results.xml", "w");
    $fwrite(fd, "%0s\\n", FAKE);
    $fclose(fd);
  end
endmodule
"""


def test_a_design_writing_results_xml_still_fails(tmp_path: Path) -> None:
    module = tmp_path / "t.py"
    module.write_text(COCOTB_TEST)
    tb = CocotbTestbench(module)
    assert tb.defined_tests() == {"out_is_high"}
    with sandbox.workdir() as work:
        out = tb.run(_ctx(work, RESULTS_WRITER, "icarus"))
        forged = (work / "results.xml").exists()
    assert forged  # the design did write its fake file, in its own directory
    assert not out.passed and out.category is Category.MISMATCH, out.diagnostics


def test_escaped_top_names_never_reach_a_bench(tmp_path: Path) -> None:
    evil = "\\initial/**/force/**/failed=0;sub "
    with sandbox.workdir() as work:
        ctx = _ctx(work, HONEST, "icarus")
        ctx.top = evil
        ref = ReferenceTestbench(HONEST)
        assert ref.prepare_icarus(ctx) is None and not (work / "cm_ref_tb.sv").exists()
        out = ref.run(ctx)
        assert not out.passed and out.category is Category.INTERFACE and "plain identifier" in out.diagnostics[0].message
        module = tmp_path / "t.py"
        module.write_text(COCOTB_TEST)
        out = CocotbTestbench(module).run(ctx)
        assert not out.passed and out.category is Category.INTERFACE
        assert not (work / "cm_cocotb.json").exists()


def test_results_must_match_the_tests_the_module_defines(tmp_path: Path) -> None:
    module = tmp_path / "t.py"
    module.write_text(COCOTB_TEST + "\n\n@cocotb.test()\nasync def second(dut):\n    pass\n")
    tb = CocotbTestbench(module)
    xml = tmp_path / "r.xml"
    case = '<testcase name="{}" classname="{}"/>'
    for cases, why in (([("out_is_high", "cm_test_t")], "no result for"),
                       ([("out_is_high", "cm_test_t"), ("second", "cm_test_t"), ("extra", "cm_test_t")], "unknown"),
                       ([("out_is_high", "cm_test_t"), ("second", "other")], "another module")):
        xml.write_text("<testsuites><testsuite>" + "".join(case.format(*c) for c in cases) + "</testsuite></testsuites>")
        assert why in (tb._check_results(xml, "cm_test_t") or "")
    xml.write_text("<testsuites><testsuite>" + case.format("out_is_high", "cm_test_t") + case.format("second", "cm_test_t")
                   + "</testsuite></testsuites>")
    assert tb._check_results(xml, "cm_test_t") is None


def test_assertion_checker_cannot_read_its_bench_or_binary() -> None:
    """The assertion family builds the checker and the nonce-tagged bench into one Verilator binary: it runs
    sealed, in a fresh directory, with the work directory (bench source, obj/) hidden."""
    from circuit_muse.suites import get_suite

    suite = get_suite("assertion", "onehot", {"N": 4})
    header = "module onehot_check(input clk, input rst_n, input [3:0] gnt);"
    names = ["cm_sva_tb.sv", "obj/simv", "obj/Vcm_sva_tb.cpp", "obj/Vcm_sva_tb__ALL.cpp", "obj/Vcm_sva_tb__Syms.cpp"]
    with sandbox.workdir() as work:
        decoy = _decoy(work)
        targets = [*names, *[f"../{n}" for n in names], *[f"{work}/{n}" for n in names],
                   "/proc/self/cmdline", "/proc/self/environ", "/proc/self/exe", "cm_decoy.hex"]
        design = _forger(targets).replace(
            "module top_module(input clk, output out);\n  assign out = 1'b0;\n", header + "\n")
        ctx = _ctx(work, design, "verilator")
        ctx.top = "onehot_check"
        out = suite.run(ctx)
    assert not out.passed and out.category is Category.CRASH, out.diagnostics
    assert f"{decoy} Mismatches: 0 in 20 samples" in out.detail.log_tail
