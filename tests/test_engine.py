"""verify() end to end with the real tools: a correct design passes; each broken one fails in its
category, at its line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.testbench import ReferenceTestbench, VerilogTestbench

pytestmark = pytest.mark.simulator
DESIGNS = Path(__file__).parent / "designs"
GOOD = (DESIGNS / "good_counter.v").read_text()
CONTRACT = {"module": "counter", "ports": [
    {"name": "clk", "direction": "input"}, {"name": "rst_n", "direction": "input"},
    {"name": "en", "direction": "input"}, {"name": "q", "direction": "output", "width": 4}]}
BAD = sorted(DESIGNS.glob("bad_*.v"))


def _expect(path: Path) -> dict[str, str]:
    m = re.match(r"//\s*expect:\s*(\w+)(.*)", path.read_text().splitlines()[0])
    assert m
    return {"category": m.group(1), **dict(re.findall(r"(\w+)=(\w+)", m.group(2)))}


def test_correct_design_passes_every_stage() -> None:
    report = cm.verify(GOOD, contract=CONTRACT, testbench=ReferenceTestbench(GOOD), use_cache=False)
    assert report.passed and report.category is cm.Category.PASS and report.score == 1.0, report.to_json()
    assert [s.name for s in report.stages] == ["extract", "screen", "parse", "lint", "synth", "simulate"]
    assert report.functional_tested
    sim = report.stage("simulate").simulation
    assert sim.samples > 100 and sim.mismatched_samples == 0
    assert report.stage("synth").info["cells"] > 0
    assert report.stage("parse").info["modules"]["counter"]["ports"][3] == {
        "name": "q", "direction": "output", "width": 4, "type": "reg[3:0]", "line": 2}


def test_clean_without_testbench_is_static_not_a_pass() -> None:
    report = cm.verify(GOOD, use_cache=False)
    assert not report.passed and report.level is cm.Level.STATIC and not report.functional_tested
    assert any("no functional test" in n for n in report.notes)


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_broken_design_fails_in_its_category_at_its_line(path: Path) -> None:
    exp = _expect(path)
    report = cm.verify(path.read_text(), contract=CONTRACT if exp["category"] == "interface" else None,
                       testbench=ReferenceTestbench(GOOD), use_cache=False)
    assert not report.passed
    assert report.category.value == exp["category"], report.to_json(indent=1)[:2000]
    errors = [d for d in report.diagnostics if d.severity is cm.Severity.ERROR]
    assert errors and all(d.message for d in errors)
    if "line" in exp:
        assert int(exp["line"]) in {d.line for d in errors}
        hit = next(d for d in errors if d.line == int(exp["line"]))
        assert hit.source_line == path.read_text().splitlines()[int(exp["line"]) - 1].rstrip()


def test_mismatch_reports_cycle_inputs_expected_and_got(tmp_path: Path) -> None:
    report = cm.verify((DESIGNS / "bad_mismatch.v").read_text(), testbench=ReferenceTestbench(GOOD),
                       options={"keep_vcd_dir": str(tmp_path)}, use_cache=False)
    sim = report.stage("simulate").simulation
    first = sim.mismatches[0]
    assert first.signal == "q" and first.cycle is not None
    assert first.expected != first.got and set(first.inputs) == {"rst_n", "en"}
    assert sim.vcd_path and Path(sim.vcd_path).read_text().startswith("$date")
    assert 0 < report.score < 1


def test_continue_on_fail_runs_every_stage() -> None:
    report = cm.verify((DESIGNS / "bad_latch.v").read_text(), options={"continue_on_fail": True}, use_cache=False)
    assert [s.name for s in report.stages] == ["extract", "screen", "parse", "lint", "synth"]
    assert report.stage("synth").category is cm.Category.LATCH


def test_interface_differences_are_named_exactly() -> None:
    contract = dict(CONTRACT, params={"WIDTH": 8})
    contract["ports"] = [*CONTRACT["ports"][:3], {"name": "q", "direction": "output", "width": 8}]
    report = cm.verify(GOOD, contract=contract, use_cache=False)
    msgs = [d.message for d in report.stage("parse").diagnostics]
    assert "parameter WIDTH is missing; declare `parameter WIDTH = 8`" in msgs
    assert "port 'q' is 4 bits wide, expected 8" in msgs


def test_parameterised_contract_is_elaborated_with_its_parameters() -> None:
    design = GOOD.replace("module counter(", "module counter #(parameter WIDTH = 4) (").replace(
        "reg [3:0] q", "reg [WIDTH-1:0] q").replace("4'd0", "{WIDTH{1'b0}}").replace("q + 4'd1", "q + 1'b1")
    contract = dict(CONTRACT, params={"WIDTH": 12})
    contract["ports"] = [*CONTRACT["ports"][:3], {"name": "q", "direction": "output", "width": 12}]
    report = cm.verify(design, contract=contract, use_cache=False)
    assert report.stage("parse").passed, report.stage("parse").diagnostics


VE_TB = (DESIGNS.parent.parent / "testbenches" / "counter_tb.sv").read_text()


def test_verilogeval_style_bench_pass_and_fail() -> None:
    tb = VerilogTestbench(VE_TB)
    assert cm.verify(GOOD, testbench=tb, use_cache=False).passed
    bad = cm.verify((DESIGNS / "bad_mismatch.v").read_text(), testbench=tb, use_cache=False)
    assert bad.category is cm.Category.MISMATCH
    assert bad.stage("simulate").simulation.samples == 60


def test_bench_that_never_reports_is_a_crash_not_a_pass() -> None:
    silent = VE_TB.replace('$display("Mismatches: %0d in %0d samples", errors, samples);',
                           'if (0) $display("Mismatches: %0d in %0d samples", errors, samples);')
    report = cm.verify(GOOD, testbench=VerilogTestbench(silent), use_cache=False)
    assert not report.passed and report.category is cm.Category.CRASH


def test_bench_without_result_line_is_rejected_with_advice() -> None:
    with pytest.raises(cm.TestbenchError, match="Mismatches"):
        VerilogTestbench("module tb; initial $finish; endmodule")


def test_cache_hit_returns_the_same_verdict_quickly() -> None:
    tb = ReferenceTestbench(GOOD)
    first = cm.verify(GOOD + "\n// cache probe\n", testbench=tb)
    second = cm.verify(GOOD + "\n// cache probe\n", testbench=tb)
    assert second.cache_hit and not first.cache_hit
    assert second.passed == first.passed and second.key == first.key


def test_verify_many_keeps_order_and_dedupes() -> None:
    bad = (DESIGNS / "bad_mismatch.v").read_text()
    tb = ReferenceTestbench(GOOD)
    reports = cm.verify_many([GOOD, bad, GOOD, bad], testbench=tb, workers=2)
    assert [r.passed for r in reports] == [True, False, True, False]
    assert reports[0].key == reports[2].key


def test_bad_options_are_rejected() -> None:
    with pytest.raises(cm.InputError, match="unknown verify option"):
        cm.verify(GOOD, options={"simualtor": "icarus"})
    with pytest.raises(cm.InputError, match="unknown simulator"):
        cm.verify(GOOD, options={"simulator": "vcs"})


def test_verilog_bench_on_verilator_binary() -> None:
    tb = VerilogTestbench(VE_TB)
    opts = {"simulator": "verilator"}
    good = cm.verify(GOOD, testbench=tb, options=opts, use_cache=False)
    assert good.passed and good.stage("simulate").simulation.simulator == "verilator"
    bad = cm.verify((DESIGNS / "bad_mismatch.v").read_text(), testbench=tb, options=opts, use_cache=False)
    assert bad.category is cm.Category.MISMATCH and bad.stage("simulate").simulation.samples == 60


MEALY_REF = """module m(input clk, input rst, input a, output y);
  reg s;
  always @(posedge clk) if (rst) s <= 1'b0; else s <= a;
  assign y = s & a;
endmodule
"""


def test_reference_comparison_sees_mealy_outputs() -> None:
    """Outputs are sampled before each rising edge too, so a design that ignores the current input in a
    combinational output fails (it would pass if only post-edge values were compared)."""
    wrong = MEALY_REF.replace("assign y = s & a;", "assign y = s;")
    assert cm.verify(MEALY_REF, testbench=ReferenceTestbench(MEALY_REF), use_cache=False).passed
    report = cm.verify(wrong, testbench=ReferenceTestbench(MEALY_REF), use_cache=False)
    assert report.category is cm.Category.MISMATCH


def test_reference_that_is_x_everywhere_is_a_testbench_error_not_a_pass() -> None:
    x_ref = """module m(input clk, input rst, input a, output reg y);
  always @(posedge clk) if (1'bx) y <= a;
endmodule
"""
    report = cm.verify(MEALY_REF, testbench=ReferenceTestbench(x_ref), use_cache=False)
    assert not report.passed and report.category is cm.Category.TESTBENCH


def test_one_run_launches_two_sandboxes_and_keeps_its_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The static tools (iverilog, verilator --lint-only, yosys) share one sandbox call and the simulation has
    its own: two launches per run, not four. Each stage still reads its own tool, in order: a lint failure
    stops the run before synth counts, and continue_on_fail still reports synth."""
    from circuit_muse.engine.pipeline import run_pipeline
    from circuit_muse.tools import sandbox

    run_pipeline(GOOD, testbench=ReferenceTestbench(GOOD))  # the tools' versions (for the cache key) are asked once
    launches: list[list[str]] = []
    real = sandbox._run_as

    def counting(argv, **kwargs):  # type: ignore[no-untyped-def]
        launches.append([str(a) for a in argv])
        return real(argv, **kwargs)

    monkeypatch.setattr(sandbox, "_run_as", counting)
    report = run_pipeline(GOOD, testbench=ReferenceTestbench(GOOD))
    assert report.passed, report.to_json()[:2000]
    assert len(launches) == 2, [a[:3] for a in launches]
    assert report.stage("synth").info["cells"] > 0
    launches.clear()
    bad = (DESIGNS / "bad_latch.v").read_text()  # Verilator's lint refuses it; Yosys finds the latch too
    report = run_pipeline(bad, testbench=ReferenceTestbench(bad))
    assert [s.name for s in report.stages] == ["extract", "screen", "parse", "lint"]
    assert report.category is cm.Category.LATCH and len(launches) == 1
    report = run_pipeline(bad, testbench=ReferenceTestbench(bad), options=cm.VerifyOptions(continue_on_fail=True))
    assert [s.name for s in report.stages][:5] == ["extract", "screen", "parse", "lint", "synth"]
    assert report.stage("synth").category is cm.Category.LATCH
