"""`circuit-muse --version` and `circuit_muse.__version__`: the package version and the tools behind a verdict."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import circuit_muse

ROOT = Path(__file__).resolve().parent.parent


def test_version_matches_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert circuit_muse.__version__ == declared


@pytest.mark.simulator
def test_cli_version_lists_package_and_tools() -> None:
    res = subprocess.run([sys.executable, "-m", "circuit_muse.cli", "--version"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"circuit-muse {circuit_muse.__version__}"
    found = {ln.split()[0] if not ln.strip().startswith("Icarus") else "Icarus": ln.split()[-1] for ln in lines[1:]}
    assert set(found) == {"Icarus", "Verilator", "Yosys", "cocotb", "pyslang"}
    versions = circuit_muse.tool_versions()
    assert found["Icarus"] == versions["iverilog"] and found["cocotb"] == versions["cocotb"] == "2.1.0"
    assert found["pyslang"] == "12.1.0"
    assert "missing" not in res.stdout   # CI installs every tool


def test_tool_versions_say_missing_for_an_absent_tool(monkeypatch) -> None:
    from circuit_muse.tools import registry

    monkeypatch.setenv("CIRCUIT_MUSE_YOSYS", "/nonexistent/yosys")
    assert circuit_muse.tool_versions()["yosys"] == "missing"
    registry._locate_cached.cache_clear()
