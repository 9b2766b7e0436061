"""The hostile corpus: each design must fail fast, in its expected category, and leave nothing behind."""
from __future__ import annotations

import os
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.suites import family_names, get_suite
from circuit_muse.testbench import CocotbTestbench, ReferenceTestbench, VerilogTestbench

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
    _assert_emptied(private_tmp)


def _assert_emptied(folder: Path) -> None:
    """Nothing stays in `folder`. The worker removes a finished run's work directory in the background (an
    rmdir waits for the disk), so it may still be there for a moment, never for long."""
    for _ in range(200):
        if not any(folder.iterdir()):
            return
        time.sleep(0.05)
    assert list(folder.iterdir()) == [], "left behind in the sandbox's temp dir"


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


# ---------------------------------------------------------------------------------------------------
# Every screen-level case under every testbench mode and both simulators: right category, never a PASS,
# nothing written outside the work dir (canary), no process left behind.

SCREEN_LEVEL = [p for p in CORPUS if _expectation(p)["category"] in ("unsafe", "interface", "resource")]
REF = (HERE / "designs" / "hostile_ref.v").read_text()
VERILOG_TB = """module tb;
  reg clk = 0, a = 0; wire y; integer pass = 0, fail = 0, i;
  top dut(.clk(clk), .a(a), .y(y));
  always #5 clk = ~clk;
  initial begin
    for (i = 0; i < 20; i = i + 1) begin a = i[0] ^ i[2]; @(posedge clk); #1; if (y === a) pass = pass + 1; else fail = fail + 1; end
    $display("CM_RESULT pass=%0d fail=%0d", pass, fail);
    $finish;
  end
endmodule
"""


def _modes() -> dict[str, tuple[object, dict[str, object]]]:
    """Mode name -> (testbench, extra options); a family suite brings its own options and contract."""
    modes: dict[str, tuple[object, dict[str, object]]] = {
        "reference-icarus": (ReferenceTestbench(REF), {}),
        "reference-verilator": (ReferenceTestbench(REF), {"simulator": "verilator"}),
        "verilog-bench": (VerilogTestbench(VERILOG_TB), {}),
        "cocotb-bench": (CocotbTestbench(HERE / "designs" / "hostile_cocotb_test.py", toplevel="top"), {}),
    }
    for fam in family_names():  # incl. the assertion family, which always builds with Verilator
        suite = get_suite(fam)
        modes[f"suite-{fam}"] = (suite, {})
    return modes


def _descendants() -> set[int]:
    """Processes below this one, except the verify workers (kept for reuse by design)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [os.getpid()]
    while todo:
        for kid in children.get(todo.pop(), []):
            out.add(kid)
            todo.append(kid)
    workers = set()
    for pid in out:
        try:
            if b"circuit_muse.engine.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                workers.add(pid)
        except OSError:
            workers.add(pid)  # already gone
    return out - workers


@pytest.mark.parametrize("mode", list(_modes()))
def test_screen_level_cases_fail_in_every_mode(mode: str, tmp_path: Path) -> None:
    tb, extra = _modes()[mode]
    canary = tmp_path / "canary"
    opts: dict[str, object] = {"keep_vcd_dir": str(tmp_path / "waves"),
                               "sim_limits": cm.VerifyOptions().sim_limits.scaled(wall_s=5, cpu_s=5)}
    options: object = {**opts, **extra}
    contract = None
    if mode.startswith("suite-"):
        options = tb.verify_options(cm.VerifyOptions(**opts))  # type: ignore[attr-defined]
        contract = tb.contract  # type: ignore[attr-defined]
    before = _descendants()
    cands = [(p.read_text().replace("CANARY", str(canary)), tb) for p in SCREEN_LEVEL]
    reports = cm.verify_many(cands, options=options, contract=contract, use_cache=False, workers=2)
    for path, rep in zip(SCREEN_LEVEL, reports, strict=True):
        exp = _expectation(path)["category"]
        assert not rep.passed, path.name
        assert rep.category.value == exp, (path.name, rep.category, [d.message for d in rep.diagnostics][:3])
    assert not canary.exists(), "a design wrote outside its work directory"
    assert _descendants() <= before, "a process outlived its run"


def test_the_modes_accept_a_correct_design(tmp_path: Path) -> None:
    """Control: the benches used above do pass the reference, so the failures above are the designs'."""
    benches = [ReferenceTestbench(REF), VerilogTestbench(VERILOG_TB),
               CocotbTestbench(HERE / "designs" / "hostile_cocotb_test.py", toplevel="top")]
    reports = cm.verify_many([(REF, tb) for tb in benches], use_cache=False,
                             options={"keep_vcd_dir": str(tmp_path / "waves")})
    assert [r.category.value for r in reports] == ["pass"] * 3, [[d.message for d in r.diagnostics][:2]
                                                                 for r in reports]


@pytest.mark.parametrize("name,text", [
    ("120KB-expression", "module top(input clk, input a, output y);\n  assign y = " + " ^ ".join(["a"] * 30000)
     + ";\nendmodule\n"),
    ("1MB-text", "module top(input clk, input a, output y);\n" + "  wire w;\n" * 120_000 + "endmodule\n"),
    ("deep-begin", "module top(input clk, input a, output reg y);\n  initial " + "begin " * 5000 + "y = a; "
     + "end " * 5000 + "\nendmodule\n"),
])
def test_oversized_input_is_a_resource_report_before_any_parser(name: str, text: str) -> None:
    rep = cm.verify(text, testbench=ReferenceTestbench(REF), use_cache=False)
    assert rep.category is cm.Category.RESOURCE, [d.message for d in rep.diagnostics]
    assert rep.stages[-1].name in ("extract", "screen")
    assert all(s.name in ("extract", "screen") for s in rep.stages)


def test_a_design_macro_never_reaches_the_bench() -> None:
    """Tools carry `define from the design file into the bench compiled after it; the engine undefines the
    design's macros at its end, so a bench that branches on a name cannot be steered by the design."""
    bench = VERILOG_TB.replace('$display("CM_RESULT pass=%0d fail=%0d", pass, fail);',
                               '`ifdef LENIENT\n    $display("CM_RESULT pass=20 fail=0");\n`else\n'
                               '    $display("CM_RESULT pass=%0d fail=%0d", pass, fail);\n`endif')
    tied = "`define LENIENT 1\nmodule top(input clk, input a, output y);\n  assign y = 1'b0;\nendmodule\n"
    reports = cm.verify_many([(tied, VerilogTestbench(bench)), (REF, VerilogTestbench(bench))], use_cache=False)
    assert [r.category.value for r in reports] == ["mismatch", "pass"], [[d.message for d in r.diagnostics][:2]
                                                                        for r in reports]


def test_a_top_name_that_is_not_plain_is_an_interface_error() -> None:
    rep = cm.verify(REF, top="top);initial $finish;//", testbench=ReferenceTestbench(REF), use_cache=False)
    assert rep.category is cm.Category.INTERFACE
    assert [s.name for s in rep.stages] == ["extract", "screen"]


@pytest.mark.slow
def test_verilator_builds_and_still_rejects_a_tied_design(tmp_path: Path) -> None:
    """Both simulators: under Verilator the bench really builds and runs; outputs tied to 0 fail."""
    tied = "module top(input clk, input a, output y);\n  assign y = 1'b0;\nendmodule\n"
    rep = cm.verify(tied, testbench=ReferenceTestbench(REF), use_cache=False,
                    options={"simulator": "verilator", "keep_vcd_dir": str(tmp_path / "waves")})
    assert not rep.passed and rep.category is cm.Category.MISMATCH, [d.message for d in rep.diagnostics][:3]
    assert rep.stage("simulate") is not None


# ---------------------------------------------------------------------------------------------------
# A design that defines a module the bench side defines. Icarus refuses the second definition; Verilator
# under -Wno-fatal kept the FIRST (the design's), so the design replaced the bench's reference model.

VE_REF = "module RefModule(input clk, input a, output reg y);\n  always @(posedge clk) y <= a;\nendmodule\n"
VE_BENCH = """`timescale 1 ps/1 ps
module stimulus_gen(input clk, output reg a);
  initial a = 0;
  always @(posedge clk) a <= $random;
endmodule
module tb();
  reg clk = 0;
  always #5 clk = ~clk;
  wire a, y_ref, y_dut;
  integer errs = 0, samples = 0;
  stimulus_gen stim1(.clk(clk), .a(a));
  RefModule good1(.clk(clk), .a(a), .y(y_ref));
  TopModule top_module1(.clk(clk), .a(a), .y(y_dut));
  always @(negedge clk) begin samples = samples + 1; if (y_ref !== y_dut) errs = errs + 1; end
  initial begin #2000; $display("Mismatches: %1d in %1d samples", errs, samples); $finish; end
endmodule
"""
TIED = "module TopModule(input clk, input a, output y);\n  assign y = 1'b0;\nendmodule\n"
SHADOWS = {
    "plain": "module RefModule(input clk, input a, output y);\n  assign y = 1'b0;\nendmodule\n",
    "escaped-with-attribute": "(* keep *) module \\RefModule (input clk, input a, output y);\n  assign y = 1'b0;\n"
                              "endmodule\n",
    "stimulus": "module stimulus_gen(input clk, output reg a);\n  initial a = 0;\nendmodule\n"
                "module RefModule(input clk, input a, output y);\n  assign y = 1'b0;\nendmodule\n",
}


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_a_design_cannot_replace_a_module_of_the_bench(simulator: str, tmp_path: Path) -> None:
    bench = VerilogTestbench(VE_BENCH, name="tb.sv", top="tb", support=[("ref.sv", VE_REF)])
    honest = VE_REF.replace("RefModule", "TopModule")
    cands = [(honest, bench)] + [(TIED + shadow, bench) for shadow in SHADOWS.values()]
    reports = cm.verify_many(cands, top="TopModule", use_cache=False,
                             options={"simulator": simulator, "keep_vcd_dir": str(tmp_path / "w")})
    assert reports[0].passed, [d.message for d in reports[0].diagnostics][:3]
    for name, rep in zip(SHADOWS, reports[1:], strict=True):
        assert not rep.passed, name
        assert rep.category is cm.Category.INTERFACE, (name, [d.message for d in rep.diagnostics][:3])
        assert any("testbench side defines" in d.message for d in rep.diagnostics), name


@pytest.mark.slow
@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_a_design_cannot_replace_the_renamed_reference(simulator: str, tmp_path: Path) -> None:
    """The reference bench renames the reference's modules to cmref_*: a design defining those fails too."""
    tied = "module top(input clk, input a, output y);\n  assign y = 1'b0;\nendmodule\n" \
           "module cmref_top(input clk, input a, output y);\n  assign y = 1'b0;\nendmodule\n"
    rep = cm.verify(tied, top="top", testbench=ReferenceTestbench(REF), use_cache=False,
                    options={"simulator": simulator, "keep_vcd_dir": str(tmp_path / "w")})
    assert not rep.passed and rep.category is cm.Category.INTERFACE, [d.message for d in rep.diagnostics][:3]


def test_an_uploaded_bench_cannot_hide_code_in_a_preprocessor_corner() -> None:
    """Uploaded benches are screened lexically like designs: here ivlpp expands a macro inside an attribute's
    string, so a $fopen the screen saw inside string literals became code."""
    from circuit_muse.errors import TestbenchError
    from circuit_muse.service.bench_screen import screen_bench

    bench = ('`define EVIL " *) initial begin : b integer fd; fd = $fopen("x.txt", "w"); end (* y = "\n'
             "module tb;\n  (* note = \"`EVIL\" *) wire w;\n"
             '  initial begin $display("CM_RESULT pass=1 fail=0"); $finish; end\nendmodule\n')
    with pytest.raises(TestbenchError, match="line 3: a string literal contains a backtick"):
        screen_bench(bench)


# ---------------------------------------------------------------------------------------------------
# A port merges the nets on both sides. VE_BENCH feeds the stimulus to the reference and the design over
# shared wires, so a design that drives its own input (or declares it an output) pins the reference too.

SHARED_NET_FORGERS = {
    "supply-on-input": "module TopModule(input clk, input a, output y);\n  assign (supply1, supply0) a = 1'b0;\n"
                       "  assign y = 1'b0;\nendmodule\n",
    "child-drives-input": "module cm_pin(output o);\n  assign (supply1, supply0) o = 1'b0;\nendmodule\n"
                          "module TopModule(input clk, input a, output y);\n  cm_pin p(.o(a));\n  assign y = 1'b0;\n"
                          "endmodule\n",
    "inout": "module TopModule(input clk, inout a, output y);\n  assign (supply1, supply0) a = 1'b0;\n"
             "  assign y = 1'b0;\nendmodule\n",
    "declared-output": "module TopModule(input clk, output a, output y);\n  assign (supply1, supply0) a = 1'b0;\n"
                       "  assign y = 1'b0;\nendmodule\n",
}


@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_a_design_cannot_drive_the_nets_it_shares_with_the_bench(simulator: str, tmp_path: Path) -> None:
    """Even as a scoring run judges (continue_on_fail, lint and synth findings only reported beside)."""
    from circuit_muse.bench.verdict import judge
    from circuit_muse.bench.verifying import scoring_options

    ports = {"clk": "input", "a": "input", "y": "output"}  # what a benchmark problem's reference declares
    bench = VerilogTestbench(VE_BENCH, name="tb.sv", top="tb", support=[("ref.sv", VE_REF)], ports=ports)
    honest = VE_REF.replace("RefModule", "TopModule")
    opts = replace(scoring_options(), simulator=simulator, keep_vcd_dir=str(tmp_path / "w"))
    reports = cm.verify_many([(honest, bench)] + [(d, bench) for d in SHARED_NET_FORGERS.values()],
                             top="TopModule", options=opts, use_cache=False)
    assert judge(reports[0]).passed, [d.message for d in reports[0].diagnostics][:3]
    for name, rep in zip(SHARED_NET_FORGERS, reports[1:], strict=True):
        verdict = judge(rep)
        assert not verdict.passed, name
        assert verdict.category in ("unsafe", "interface"), (name, verdict)


@pytest.mark.parametrize("design", [
    # a child's output port named like the parent's input, driving an internal wire
    "module sub(input clk, output a);\n  assign a = clk;\nendmodule\nmodule top(input clk, input a, output y);\n"
    "  wire w;\n  sub s(.clk(clk), .a(w));\n  assign y = a ^ w;\nendmodule\n",
    # modules nobody instantiates that drive ports of the same names as the top's inputs
    "module top(input clk, input a, output y);\n  assign y = a;\nendmodule\nmodule spare1(output a);\n  assign a = 1'b0;\n"
    "endmodule\nmodule spare2(input clk, output reg a);\n  always @(posedge clk) a <= 1'b1;\nendmodule\n",
    # inputs used as indices and parts of left-hand sides that write something else
    "module top(input clk, input [3:0] a, output reg [7:0] y);\n  reg [7:0] mem [0:15];\n  reg [7:0] v;\n"
    "  always @(posedge clk) begin mem[a] <= v; v[a[2:0]] <= 1'b1; v[a[1:0] +: 2] <= 2'b0; {y[a[2:0]]} <= 1'b0; end\n"
    "endmodule\n",
    # inputs only read: by a gate's input terminal and a child's input; a pull on an internal net
    "module inv(input i, output o);\n  assign o = ~i;\nendmodule\nmodule top(input clk, input a, output y);\n"
    "  wire n, w;\n  pullup (w);\n  not g(n, a);\n  inv u(.i(a), .o());\n  assign y = n ^ w;\nendmodule\n",
])
def test_reading_inputs_and_driving_internal_nets_is_not_refused(design: str) -> None:
    from circuit_muse.engine.elaborate import elaborate
    from circuit_muse.engine.screen import screen

    problems = screen(elaborate(design, top="top"))
    assert not [d.message for d in problems if d.code == "drives-input"]


def test_a_design_that_does_not_stand_alone_is_never_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name pyslang cannot resolve in the design alone, a simulator resolves upward: this design called the
    reference bench's own `check` task 100000 times (samples 200 -> 100400). The screen refuses a call to
    anything the design does not define; behind it (screen bypassed here, in-process), the pipeline still
    lints and synthesises a design that did not stand alone, with continue_on_fail, but never runs it."""
    from circuit_muse.engine import pipeline

    upcall = "module top(input clk, input a, output y);\n  assign y = 1'b0;\n" \
             "  initial repeat (100000) begin #0 check; end\nendmodule\n"
    rep = cm.verify(upcall, testbench=ReferenceTestbench(REF), options={"continue_on_fail": True}, use_cache=False)
    assert rep.category is cm.Category.UNSAFE and "'check' is not defined" in rep.diagnostics[0].message
    monkeypatch.setattr(pipeline, "screen", lambda *a, **k: [])
    rep = pipeline.run_pipeline(upcall, testbench=ReferenceTestbench(REF),
                                options=cm.VerifyOptions(continue_on_fail=True, keep_vcd_dir=None))
    assert rep.category is cm.Category.UNDECLARED
    assert rep.stage("simulate") is None and rep.stage("lint") is not None
