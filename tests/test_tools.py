from __future__ import annotations

import pytest

from circuit_muse.errors import ToolNotFound
from circuit_muse.tools import registry


def test_env_override_must_name_an_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCUIT_MUSE_YOSYS", "/no/such/yosys")
    with pytest.raises(ToolNotFound, match="CIRCUIT_MUSE_YOSYS"):
        registry.require("yosys")


def test_missing_tool_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    tool = registry.Iverilog()
    with pytest.raises(ToolNotFound, match="apt-get install iverilog"):
        tool.locate()


def test_unknown_tool_name_lists_known_tools() -> None:
    with pytest.raises(ToolNotFound, match="iverilog"):
        registry.require("modelsim")


@pytest.mark.simulator
def test_versions_of_the_pinned_toolchain() -> None:
    v = registry.versions()
    assert v["iverilog"].startswith("11")
    assert v["verilator"].startswith("5.")
    assert v["yosys"].startswith("0.")
    assert "VERILATOR_ROOT" in registry.require("verilator").env or "VERILATOR_ROOT" in __import__("os").environ


@pytest.mark.simulator
def test_the_sandbox_launchers_are_located_like_every_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    assert registry.require("bwrap").version.startswith("0.")  # bubblewrap 0.8 on Debian 12
    assert registry.require("setpriv").path.endswith("setpriv")
    monkeypatch.setenv("CIRCUIT_MUSE_BWRAP", "/no/such/bwrap")
    with pytest.raises(ToolNotFound, match="CIRCUIT_MUSE_BWRAP"):
        registry.require("bwrap")
