"""`verify --junit`: read back with junitparser (a real JUnit reader), counts and file names checked."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped

pytestmark = pytest.mark.simulator
ROOT = Path(__file__).resolve().parent.parent


def test_junit_counts_and_user_paths(tmp_path: Path) -> None:
    out = tmp_path / "r.xml"
    files = ["examples/counter.v", "tests/designs/bad_latch.v", "tests/designs/bad_syntax.v"]
    res = subprocess.run([sys.executable, "-m", "circuit_muse.cli", "verify", *files, "--junit", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, res.stderr
    xml = JUnitXml.fromfile(str(out))
    suites = list(xml)
    assert [s.name for s in suites] == files
    total = 0
    for suite in suites:
        cases = list(suite)
        total += len(cases)
        assert suite.tests == len(cases) > 0
        assert suite.failures == sum(any(isinstance(r, Failure) for r in c.result) for c in cases)
        assert suite.skipped == sum(any(isinstance(r, Skipped) for r in c.result) for c in cases)
    assert xml.tests == total
    assert xml.failures == 2
    failures = [(s.name, r) for s in suites for c in s for r in c.result if isinstance(r, Failure)]
    assert {name for name, _ in failures} == {"tests/designs/bad_latch.v", "tests/designs/bad_syntax.v"}
    for name, f in failures:
        assert "design.sv" not in (f.message or "") + (f.text or "")
        assert f"{name}:" in f.message and f"{name}:" in f.text
    latch = next(f for name, f in failures if name.endswith("bad_latch.v"))
    assert latch.type == "latch"
