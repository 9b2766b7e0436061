"""The pytest plugin: a user's own test suite asserts on its RTL and its prompts through the fixtures."""
from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.simulator

USER_TESTS = '''
import pytest

GOOD = "module inv(input a, output y); assign y = ~a; endmodule"
BAD = "module inv(input a, output y); assign y = a; endmodule"

def test_good_matches_reference(circuit_muse_verify):
    report = circuit_muse_verify(GOOD, reference=GOOD)
    assert report.passed, circuit_muse_verify.explain(report)

def test_bad_is_caught(circuit_muse_verify):
    report = circuit_muse_verify(BAD, reference=GOOD)
    assert not report.passed and report.category.value == "mismatch"

def test_family_suite(circuit_muse_verify):
    from circuit_muse.suites import get_suite
    ref = get_suite("counter", "up-en-noload-wrap-sync-high", {"WIDTH": 4}).reference_rtl()
    assert circuit_muse_verify(ref, suite="counter/up-en-noload-wrap-sync-high", params={"WIDTH": 4}).passed

def test_bench_scores_reference(circuit_muse_bench):
    run = circuit_muse_bench(suite="builtin", model="reference", limit=1, checks="functional")
    assert run.metrics["pass_at"]["pass@1"] == 1.0
    assert (run.out / "report.md").is_file()

def test_bench_needs_a_model(circuit_muse_bench, monkeypatch):
    monkeypatch.delenv("CIRCUIT_MUSE_MODEL", raising=False)
    with pytest.raises(pytest.UsageError):
        circuit_muse_bench(suite="builtin")
'''


def _plugin_args() -> list[str]:
    installed = any(ep.value == "circuit_muse.pytest_plugin" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "circuit_muse.pytest_plugin"]


def test_fixtures_in_a_users_suite(pytester, monkeypatch):
    root = str(Path(__file__).resolve().parent.parent)  # this checkout's circuit_muse, in the child too
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])]))
    pytester.makepyfile(test_user_rtl=USER_TESTS)
    result = pytester.runpytest_subprocess(*_plugin_args(), "-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
