"""Harness self-checks on every suite format (fixture suites the tests write): the benchmark's references
all pass, and designs that try every forging technique all fail, with the reason each technique deserves."""
from __future__ import annotations

import pytest

from circuit_muse.bench.harness import BenchConfig, run_bench
from tests.support.bench_fixtures import DESIGNS, EARLY_END, write_rtllm, write_verilog_eval_v1, write_verilog_eval_v2

pytestmark = pytest.mark.simulator


def _suites(tmp_path):
    v2 = write_verilog_eval_v2(tmp_path / "ve2", DESIGNS + [EARLY_END])
    cc = write_verilog_eval_v2(tmp_path / "ve2", task="code-complete-iccad2023") / "dataset_code-complete-iccad2023"
    return {"v2-spec-to-rtl": f"verilog-eval:{v2}", "v2-code-complete": f"verilog-eval:{cc}",
            "v1-human": f"verilog-eval:{write_verilog_eval_v1(tmp_path / 've1')}",
            "rtllm": f"rtllm:{write_rtllm(tmp_path / 'rtllm')}", "builtin": "builtin"}


FORMATS = ["v2-spec-to-rtl", "v2-code-complete", "v1-human", "rtllm", "builtin"]
# Per technique, the categories it may fail with (anything but a pass; these pin the reason).
STANDALONE = {"undeclared", "lint", "syntax", "unsafe"}  # the design must elaborate (and screen) on its own
EXPECTED = {
    "tied_to_zero": {"mismatch", "incomplete"}, "x_outputs": {"mismatch"}, "tool_divergent_ifdef": {"mismatch", "unsafe"},
    "print_verdict": {"unsafe"}, "end_bench_early": {"unsafe"}, "fatal_after_one_sample": {"unsafe"},
    "read_nonce_from_image": {"unsafe"},
    "hierarchical_copy_of_reference": STANDALONE, "root_copy_of_reference": STANDALONE, "force_bench_counters": STANDALONE,
    "spare_module_with_reference": {"interface"}, "wrapper_becomes_top": {"interface"}, "redefine_bench_module": {"interface"},
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_references_pass_and_forgeries_fail(tmp_path, fmt):
    spec = _suites(tmp_path)[fmt]
    limit = 3 if fmt == "builtin" else None
    ref = run_bench(BenchConfig(suite=spec, model="reference", out=tmp_path / "ref", limit=limit, checks="functional"))
    failing = {r["problem"]: r["samples"][0]["rounds"][-1]["message"] for r in ref.records if r["c"] != r["n"]}
    assert ref.records and not failing, failing
    forged = run_bench(BenchConfig(suite=spec, model="forged", out=tmp_path / "forged", limit=limit, checks="functional"))
    seen = set()
    for rec in forged.records:
        for s in rec["samples"]:
            last = s["rounds"][-1]
            seen.add(last["technique"])
            assert not s["passed"], (rec["problem"], last["technique"])
            if fmt != "builtin":  # the family suites report their own categories for the generic forgeries
                assert last["category"] in EXPECTED[last["technique"]], (rec["problem"], last)
    assert seen == set(EXPECTED)
    assert forged.metrics["pass_at"]["pass@1"] == 0.0


def test_lint_and_synth_findings_are_reported_beside_not_failed(tmp_path):
    """ProbX04 asks for a latch: strict lint/synth reject it, the functional verdict passes it."""
    spec = f"verilog-eval:{write_verilog_eval_v2(tmp_path / 've', DESIGNS)}"
    run = run_bench(BenchConfig(suite=spec, model="reference", out=tmp_path / "o", problems="ProbX04_*"))
    last = run.records[0]["samples"][0]["rounds"][-1]
    assert last["passed"] and not last["strict_passed"]
    assert "latch" in sum(last["static_findings"].values(), [])


@pytest.mark.parametrize("design", [
    "module TopModule(input a, output y); assign y = a; endmodule\n(* keep *) module \\RefModule (input a, output y);"
    " assign y = 1'b0; endmodule\n",
    "module TopModule(input a, output y); assign y = a; endmodule module stimulus_gen(input a); endmodule\n",
])
def test_a_bench_module_defined_anywhere_on_a_line_or_escaped_is_a_clash(design):
    from circuit_muse.bench.problem import Problem
    from circuit_muse.bench.verdict import precheck

    problem = Problem(id="p", prompt="", top="TopModule", reference="", kind="verilog-eval",
                      bench_modules=("tb", "stimulus_gen", "RefModule"))
    verdict = precheck(problem, design)
    assert verdict is not None and verdict.category == "interface" and "testbench side defines" in verdict.message
