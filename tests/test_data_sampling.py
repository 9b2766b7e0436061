"""The seed behind CI's sampled checks: printed in pytest's header, settable to repeat a run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _header(env: dict[str, str]) -> str:
    res = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider",
                          "tests/test_cli_version.py"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def test_the_seed_is_printed_and_can_be_fixed() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CIRCUIT_MUSE_TEST_SEED"}
    assert "circuit_muse test seed: 4242 (rerun with CIRCUIT_MUSE_TEST_SEED=4242)" in _header(
        env | {"CIRCUIT_MUSE_TEST_SEED": "4242"})
    assert "circuit_muse test seed: " in _header(env)
