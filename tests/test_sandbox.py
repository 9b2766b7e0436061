from __future__ import annotations

import time
from pathlib import Path

import pytest

from circuit_muse.errors import ToolNotFound
from circuit_muse.tools import sandbox
from circuit_muse.tools.sandbox import Limits


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    # the child's pid belongs to the sandbox's pid namespace, so it writes a marker instead: if it still
    # ran after the kill it would create `late` once its sleep ends
    script = "(sleep 1; echo late > late) & sleep 30"
    res = sandbox.run(["sh", "-c", script], cwd=tmp_path, limits=Limits(wall_s=0.5))
    assert res.timed_out
    time.sleep(1.5)
    assert not (tmp_path / "late").exists()


def test_output_cap_stops_a_flood(tmp_path: Path) -> None:
    res = sandbox.run(["yes", "flood"], cwd=tmp_path, limits=Limits(wall_s=10, output_cap=64 * 1024))
    assert res.output_overflow and not res.ok
    assert len(res.stdout) <= 64 * 1024
    assert res.killed_by_limit == "output cap"


def test_file_size_limit(tmp_path: Path) -> None:
    res = sandbox.run(["sh", "-c", "head -c 5000000 /dev/zero > big"], cwd=tmp_path,
                      limits=Limits(file_size=1024 * 1024))
    assert res.returncode != 0
    assert (tmp_path / "big").stat().st_size <= 1024 * 1024


def test_memory_limit(tmp_path: Path) -> None:
    code = "x = bytearray(600 * 1024 * 1024); print('allocated')"
    res = sandbox.run(["python3", "-c", code], cwd=tmp_path, limits=Limits(address_space=300 * 1024 * 1024))
    assert res.returncode != 0 and "allocated" not in res.stdout


def test_workdir_is_removed_even_on_error() -> None:
    with pytest.raises(RuntimeError):
        with sandbox.workdir() as d:
            (d / "f").write_text("x")
            raise RuntimeError("boom")
    assert not d.exists()


def test_missing_executable_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ToolNotFound, match="CIRCUIT_MUSE_"):
        sandbox.run(["/nonexistent/iverilog"], cwd=tmp_path)
