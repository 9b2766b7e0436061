"""The `circuit-muse verify` command as a user runs it: a real subprocess, real tools."""
from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.simulator
ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "circuit_muse.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, input=stdin)


def test_main_job_from_the_readme_passes() -> None:
    res = cli("verify", "examples/counter.v", "--reference", "examples/counter_ref.v")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "PASS" in res.stdout and "\u2713 simulate" in res.stdout


@pytest.mark.parametrize("bench", ["testbenches/counter_tb.sv", "testbenches/test_counter.py"])
def test_shipped_testbenches_pass_good_and_fail_bad(bench: str) -> None:
    assert cli("verify", "examples/counter.v", "--testbench", bench).returncode == 0
    bad = cli("verify", "tests/designs/bad_mismatch.v", "--testbench", bench, "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["category"] == "mismatch"


def test_failure_shows_file_line_and_caret() -> None:
    res = cli("verify", "tests/designs/bad_syntax.v")
    assert res.returncode == 1
    assert "FAIL (syntax)" in res.stdout
    assert "tests/designs/bad_syntax.v:5:" in res.stdout
    assert "^" in res.stdout


def test_json_and_junit(tmp_path: Path) -> None:
    junit = tmp_path / "r.xml"
    res = cli("verify", "examples/counter.v", "tests/designs/bad_latch.v", "--json", "--junit", str(junit))
    assert res.returncode == 1
    data = json.loads(res.stdout)
    # no testbench: the clean counter is static-only, which is not a pass
    assert [d["passed"] for d in data] == [False, False]
    assert [d["level"] for d in data] == ["static", "failed"]
    assert data[0]["category"] == "unverified" and data[1]["category"] == "latch"
    suite = ET.parse(junit).getroot()
    levels = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert levels == {"level:examples/counter.v": "static", "level:tests/designs/bad_latch.v": "failed"}
    assert any(c.find("failure") is not None and c.get("name") == "lint" for c in suite.iter("testcase"))


def test_stdin_and_raw_model_text() -> None:
    text = "Sure:\n```verilog\n" + (ROOT / "examples/counter.v").read_text() + "```\nDone."
    assert cli("verify", "-", "--reference", "examples/counter_ref.v", stdin=text).returncode == 0


def test_static_only_design_is_clean_not_verified_with_exit_3() -> None:
    res = cli("verify", "examples/counter.v")
    assert res.returncode == 3, res.stdout + res.stderr
    first = res.stdout.splitlines()[0]
    assert "CLEAN, NOT FUNCTIONALLY VERIFIED" in first and "PASS" not in res.stdout
    assert "score=1.000" not in first
    assert "!! CLEAN, NOT FUNCTIONALLY VERIFIED" in res.stdout  # the closing banner as well
    data = json.loads(cli("verify", "examples/counter.v", "--json").stdout)
    assert data["passed"] is False and data["level"] == "static" and data["category"] == "unverified"
    # a failure among the designs wins over static: exit 1
    assert cli("verify", "examples/counter.v", "tests/designs/bad_syntax.v").returncode == 1
    assert "3" in cli("verify", "--help").stdout.split("exit codes:")[1]


def test_failing_candidate_never_shows_score_one() -> None:
    # one wrong sample in hundreds: the raw score rounds to 1.00; what is shown must not
    from circuit_muse.cli.render import render_text
    from circuit_muse.report import display_score

    assert display_score(0.9996, passed=False, digits=2) == 0.99
    assert display_score(0.9996, passed=False, digits=3) == 0.999
    assert display_score(1.0, passed=True) == 1.0
    res = cli("verify", "tests/designs/bad_mismatch.v", "--reference", "examples/counter_ref.v", "--json")
    rep = json.loads(res.stdout)
    from circuit_muse.report import VerificationReport

    report = VerificationReport.from_dict({**rep, "score": 0.99997})
    assert "score=0.999" in render_text(report) and "1.000" not in render_text(report).splitlines()[0]
    assert "score=0.999" in repr(report)


def test_bad_usage_exits_2_with_a_clear_message() -> None:
    res = cli("verify", "does/not/exist.v")
    assert res.returncode == 2 and "does not exist" in res.stderr
    res = cli("verify", "examples/counter.v", "--testbench", "README.md")
    assert res.returncode == 2 and "testbench" in res.stderr
    res = cli("verify", "examples/counter.v", "--param", "DEPTH")
    assert res.returncode == 2 and "NAME=VALUE" in res.stderr


def test_missing_tool_exits_2_and_says_how_to_install() -> None:
    import os

    env = dict(os.environ, CIRCUIT_MUSE_YOSYS="/nonexistent/yosys")
    res = subprocess.run([sys.executable, "-m", "circuit_muse.cli", "verify", "examples/counter.v"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 2 and "CIRCUIT_MUSE_YOSYS" in res.stderr
