"""verify_many: per-candidate testbenches, input order, dedupe, live stage callbacks, no main guard needed,
and one crashing candidate never costs the others their verdict."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import circuit_muse as cm
from circuit_muse.testbench import ReferenceTestbench

pytestmark = pytest.mark.simulator
INV = "module inv(input a, output y); assign y = ~a; endmodule\n"
BUF = "module inv(input a, output y); assign y = a; endmodule\n"
REPO = Path(__file__).resolve().parents[1]


def test_each_candidate_gets_its_own_testbench_in_input_order() -> None:
    inv_tb, buf_tb = ReferenceTestbench(INV), ReferenceTestbench(BUF)
    seen: list[tuple[int, str]] = []
    reports = cm.verify_many([(INV, inv_tb), (INV, buf_tb), (BUF, buf_tb), (INV, inv_tb), BUF],
                             testbench=inv_tb, use_cache=False, workers=2,
                             on_stage=lambda i, st: seen.append((i, st.name)))
    assert [r.passed for r in reports] == [True, False, True, True, False]
    assert [r.category.value for r in reports] == ["pass", "mismatch", "pass", "pass", "mismatch"]
    assert reports[0] is reports[3]  # identical (design, bench) pairs are checked once
    for i in range(5):  # every candidate's stages were reported live, in stage order
        assert [name for j, name in seen if j == i][-1] == "simulate"


def test_a_tuple_with_no_testbench_runs_static_checks_only() -> None:
    [rep] = cm.verify_many([(INV, None)], testbench=ReferenceTestbench(BUF), use_cache=False)
    assert not rep.passed and rep.level is cm.Level.STATIC and not rep.functional_tested


def test_bad_candidate_shapes_are_input_errors() -> None:
    with pytest.raises(cm.InputError, match="tuple of 3"):
        cm.verify_many([(INV, None, None)])  # type: ignore[list-item]
    with pytest.raises(cm.InputError, match="as a str"):
        cm.verify_many([b"module"])  # type: ignore[list-item]


def test_a_plain_script_without_main_guard_gets_true_verdicts(tmp_path: Path) -> None:
    """Workers never re-import the caller's __main__: 8 candidates, 4 good and 4 bad, all true."""
    script = tmp_path / "plain.py"
    script.write_text(textwrap.dedent(f"""
        import json
        import circuit_muse as cm
        from circuit_muse.testbench import ReferenceTestbench
        INV, BUF = {INV!r}, {BUF!r}
        tb = ReferenceTestbench(INV)
        cands = [(INV if i % 2 == 0 else BUF) + f"// variant {{i}}\\n" for i in range(8)]
        print("RESULT", json.dumps([r.category.value for r in cm.verify_many(cands, testbench=tb, workers=2)]))
    """))
    env = {**os.environ, "PYTHONPATH": str(REPO), "CIRCUIT_MUSE_CACHE_DIR": ""}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    assert len(lines) == 1, out.stdout  # the script body ran once: no worker re-ran it
    assert json.loads(lines[0][7:]) == ["pass", "mismatch"] * 4


def test_only_the_guilty_candidate_fails_when_a_worker_dies() -> None:
    """With the pre-checks switched off, pyslang really segfaults on deep macro nesting and really runs
    out of memory on a doubling macro chain: those candidates get crash / resource reports, the worker is
    replaced, and every innocent candidate in the same batch still gets its true verdict."""
    segfault = "`define F(x) x\nmodule inv(input a, output y); assign y = " + "`F(" * 3000 + "a" + ")" * 3000 + \
               "; endmodule\n"
    explode = "`define M0 a\n" + "".join(f"`define M{i} (`M{i - 1}^`M{i - 1})\n" for i in range(1, 40)) + \
              "module inv(input a, output y); assign y = `M39; endmodule\n"
    off = cm.VerifyOptions().screen_limits.__class__(max_nesting=10**9, max_macro_depth=10**9,
                                                     max_macro_expansion=10**18, max_statement_tokens=10**9)
    tb = ReferenceTestbench(INV)
    reports = cm.verify_many([INV, segfault, BUF, explode, INV + "// again\n"], testbench=tb, use_cache=False,
                             workers=2, options={"screen_limits": off})
    assert [r.category.value for r in reports] == ["pass", "crash", "mismatch", "resource", "pass"], \
        [[d.message for d in r.diagnostics][:1] for r in reports]
    assert "crashed" in reports[1].diagnostics[-1].message
    # The default limits refuse both before any parser runs.
    again = cm.verify_many([segfault, explode], testbench=tb, use_cache=False)
    assert [r.category.value for r in again] == ["resource", "resource"]
    assert [s.name for s in again[0].stages] == ["extract", "screen"]


def test_the_docstring_examples_are_true() -> None:
    import doctest

    from circuit_muse.engine import many, pipeline

    for func in (pipeline.verify, many.verify_many):
        finder = doctest.DocTestFinder()
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        tests = finder.find(func, globs={})
        assert tests and tests[0].examples, func.__name__
        for test in tests:
            runner.run(test)
        assert runner.failures == 0, func.__name__


def _limits_off() -> object:
    return cm.VerifyOptions().screen_limits.__class__(max_source_bytes=10**9, max_nesting=10**9,
                                                      max_macro_depth=10**9, max_macro_expansion=10**18,
                                                      max_statement_tokens=10**9)


def test_single_verify_survives_a_parser_crash() -> None:
    segfault = "`define F(x) x\nmodule inv(input a, output y); assign y = " + "`F(" * 3000 + "a" + ")" * 3000 + \
               "; endmodule\n"
    rep = cm.verify(segfault, options={"screen_limits": _limits_off()}, use_cache=False)
    assert rep.category is cm.Category.CRASH and not rep.passed
    assert cm.verify(INV, use_cache=False).level is cm.Level.STATIC  # the next call gets a fresh worker


def test_a_runaway_parse_is_killed_at_the_wall_limit() -> None:
    """pyslang's elaboration is quadratic in a long operator chain; with the pre-checks off, the worker is
    killed at the candidate's wall limit and the candidate reported as a timeout; the next one is fine."""
    slow = "module inv(input a, output y); assign y = " + " ^ ".join(["a"] * 30000) + "; endmodule\n"
    reports = cm.verify_many([slow, INV], options={"screen_limits": _limits_off()}, use_cache=False, workers=1,
                             timeout_s=2)
    assert [r.category.value for r in reports] == ["timeout", "unverified"]  # the second: clean, static only
    assert "killed" in reports[0].diagnostics[-1].message


class _BenchWithALocalFunction(ReferenceTestbench):
    """A trusted bench pickle cannot carry (it holds a lambda); such jobs go to a worker by value (cloudpickle)."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.hook = lambda: None


def test_a_bench_pickle_cannot_carry_still_runs_bounded() -> None:
    tb = _BenchWithALocalFunction(INV)
    seen: list[tuple[int, str]] = []
    segfault = "`define F(x) x\nmodule inv(input a, output y); assign y = " + "`F(" * 3000 + "a" + ")" * 3000 + \
               "; endmodule\n"
    reports = cm.verify_many([(INV, tb), (BUF, tb), (segfault, tb), INV], use_cache=False, workers=2, timeout_s=300,
                             options={"screen_limits": _limits_off()}, on_stage=lambda i, st: seen.append((i, st.name)))
    assert [r.category.value for r in reports] == ["pass", "mismatch", "crash", "unverified"]
    assert (0, "simulate") in seen and (1, "simulate") in seen


def test_calls_from_short_lived_threads_reuse_workers_safely() -> None:
    """Pool workers outlive the thread that started them (a service or bench calls from worker threads)."""
    import threading

    from circuit_muse.testbench import ReferenceTestbench

    ref = "module inv(input a, output y); assign y = ~a; endmodule\n"
    out: dict[int, bool] = {}

    def once(i: int) -> None:
        out[i] = cm.verify_many([(ref + f"// thread {i}\n", ReferenceTestbench(ref))], use_cache=False)[0].passed

    for i in range(4):
        t = threading.Thread(target=once, args=(i,))
        t.start()
        t.join()
    assert out == {0: True, 1: True, 2: True, 3: True}
