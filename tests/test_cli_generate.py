"""`circuit-muse generate` end to end: a real CLI subprocess against a scripted OpenAI server on loopback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.scripted_openai import ScriptedOpenAIServer
from tests.test_loop import GOOD, WRONG_UNDECLARED, fence, repairing

pytestmark = pytest.mark.simulator
ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "circuit_muse.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})})


def test_generate_repairs_and_prints_verified_code(tmp_path: Path) -> None:
    out = tmp_path / "counter.v"
    with ScriptedOpenAIServer(repairing(WRONG_UNDECLARED)) as server:
        res = cli("generate", "Design a 4-bit counter with enable and active-low async reset.",
                  "--model", server.spec(), "--testbench", "testbenches/counter_tb.sv", "--samples", "2",
                  "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert "round 1" in res.stderr and "round 2" in res.stderr and "feedback sent" in res.stderr
    assert "lint ✓" in res.stderr and "PASSED after 2 round(s)" in res.stderr
    assert "q <= q + 4'd1" in res.stdout and out.read_text() == GOOD


def test_generate_json_and_model_from_env() -> None:
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        res = cli("generate", "Design a 4-bit counter.", "--testbench", "testbenches/test_counter.py",
                  "--samples", "1", "--json", env={"CIRCUIT_MUSE_MODEL": server.spec()})
    data = json.loads(res.stdout)
    assert res.returncode == 0 and data["passed"] and data["rounds_used"] == 1
    assert data["report"]["stages"][-1]["name"] == "simulate"


def test_generate_exits_1_when_not_verified() -> None:
    with ScriptedOpenAIServer([fence(WRONG_UNDECLARED)]) as server:
        res = cli("generate", "Design a 4-bit counter.", "--model", server.spec(), "--testbench",
                  "testbenches/counter_tb.sv", "--samples", "1", "--rounds", "2")
    assert res.returncode == 1 and "NOT verified: undeclared" in res.stderr


def test_generate_with_a_bad_model_spec_says_how_to_choose_one() -> None:
    # With no model at all, generate uses the shipped circuit-muse-nano (tests/test_nano.py runs that path).
    res = subprocess.run([sys.executable, "-m", "circuit_muse.cli", "generate", "a counter", "--model", "nope"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "openai:BASE_URL#MODEL_NAME" in res.stderr and "nano" in res.stderr
    assert "Traceback" not in res.stderr


def test_generate_without_a_matching_suite_says_so_first_and_ends_unverified() -> None:
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        res = cli("generate", "Make me a frobnicator with a blinking light.", "--model", server.spec(),
                  "--samples", "1", "--rounds", "3")
    assert res.returncode == 3, res.stderr
    lines = res.stderr.splitlines()
    announce = next(i for i, ln in enumerate(lines) if "no built-in family suite matches" in ln)
    assert announce < next(i for i, ln in enumerate(lines) if ln.startswith("round 1"))
    assert "CLEAN, NOT FUNCTIONALLY VERIFIED" in lines[-1] and "unverified" in lines[-1]
    assert "round 2" not in res.stderr  # static-clean: nothing more a round could check


def test_generate_reports_what_the_matcher_ignored() -> None:
    with ScriptedOpenAIServer([fence(GOOD)]) as server:
        res = cli("generate", "Design a 4-bit counter that counts by 2.",
                  "--model", server.spec(), "--samples", "1", "--rounds", "1", "--quiet")
    assert "step of 2" in res.stderr and "cannot express" in res.stderr
    assert res.returncode in (1, 3) and "verified: PASS" not in res.stderr
