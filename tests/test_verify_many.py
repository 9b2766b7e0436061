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
    assert rep.passed and not rep.functional_tested


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
