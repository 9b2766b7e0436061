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


def test_generate_without_a_model_says_how_to_configure_one() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CIRCUIT_MUSE_MODEL"}
    res = subprocess.run([sys.executable, "-m", "circuit_muse.cli", "generate", "a counter"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 2 and "CIRCUIT_MUSE_MODEL" in res.stderr
