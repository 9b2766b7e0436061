"""The seed behind CI's sampled checks: printed in pytest's header, settable to repeat a run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_HEADER = "import tests.conftest as c; print(c.pytest_report_header(None))"


def _header(env: dict[str, str]) -> str:
    """The header line conftest gives pytest, from a fresh interpreter (the seed is read at import)."""
    res = subprocess.run([sys.executable, "-c", _HEADER], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_the_seed_is_printed_and_can_be_fixed() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CIRCUIT_MUSE_TEST_SEED"}
    assert _header(env | {"CIRCUIT_MUSE_TEST_SEED": "4242"}) == \
        "circuit_muse test seed: 4242 (rerun with CIRCUIT_MUSE_TEST_SEED=4242)"
    free = _header(env)
    assert free.startswith("circuit_muse test seed: ") and free.split()[3].isdigit()
