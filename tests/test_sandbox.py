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


# --- several commands in one sandbox call (the static tools of one verify run) --------------------------------

@pytest.fixture(params=["cm-launch", "sh-driver"])
def batch_runner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Root callers run a batch with cm-launch's batch form where it exists, else with the sh driver: test both."""
    if request.param == "sh-driver":
        monkeypatch.setenv("CIRCUIT_MUSE_LAUNCHER", "off")
    return str(request.param)


@pytest.mark.parametrize("concurrent", [False, True], ids=["in-turn", "at-once"])
def test_a_batch_keeps_each_commands_output_status_and_arguments(tmp_path: Path, concurrent: bool, batch_runner: str) -> None:
    (tmp_path / "a.txt").write_text("hello")
    odd = ["a b", "$(touch pwned)", "`touch pwned`", ";", "'", '"', "-n", "--", "*"]
    results = sandbox.run_batch([["cat", "a.txt"], ["sh", "-c", "echo oops >&2; exit 3"], ["printf", "%s|", *odd],
                                 ["sh", "-c", "kill -9 $$"]], cwd=tmp_path, concurrent=concurrent)
    first, second, third, fourth = results
    assert first is not None and first.returncode == 0 and first.stdout == "hello" and first.stderr == ""
    assert second is not None and second.returncode == 3 and second.stdout == "" and second.stderr == "oops\n"
    assert third is not None and third.returncode == 0 and third.stdout == "".join(f"{a}|" for a in odd)
    assert fourth is not None and fourth.signal == 9 and not fourth.ok
    assert not (tmp_path / "pwned").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # its own bookkeeping is gone


def test_a_batch_that_runs_out_of_time_kills_its_whole_tree(tmp_path: Path, batch_runner: str) -> None:
    script = "(sleep 1; echo late > late) & sleep 30"
    running, never = sandbox.run_batch([["sh", "-c", script], ["sh", "-c", "echo started > started"]],
                                       cwd=tmp_path, limits=Limits(wall_s=0.5))
    assert running is not None and running.timed_out and running.returncode is None
    assert running.killed_by_limit == "wall-clock timeout"
    assert never is None  # its turn never came
    time.sleep(1.5)
    assert not (tmp_path / "late").exists() and not (tmp_path / "started").exists()


def test_a_batch_caps_each_commands_output(tmp_path: Path, batch_runner: str) -> None:
    flood, quiet = sandbox.run_batch([["yes", "flood"], ["echo", "fine"]], cwd=tmp_path,
                                     limits=Limits(wall_s=20, output_cap=64 * 1024, file_size=1024 * 1024))
    assert flood is not None and not flood.ok and len(flood.stdout) <= 64 * 1024
    assert flood.killed_by_limit in ("output cap", "file-size limit")
    assert quiet is not None and quiet.ok and quiet.stdout == "fine\n"


def test_a_batch_never_follows_a_link_it_reads_back(tmp_path: Path, batch_runner: str) -> None:
    """What a command leaves where its output was is read without following links: a tool cannot make the
    caller read (and report) a file only the caller may read."""
    canary = tmp_path.parent / f"canary-{tmp_path.name}"
    canary.write_text("host secret")
    canary.chmod(0o600)
    work = tmp_path / "work"
    work.mkdir()
    try:
        swap = f"for f in cm-batch-*-0.out cm-batch-*-0.err; do rm -f $f; ln -s {canary} $f; done; echo done"
        (res,) = sandbox.run_batch([["sh", "-c", swap]], cwd=work)
    finally:
        canary.unlink()
    assert res is not None and res.returncode == 0
    assert "host secret" not in res.output


def test_a_batch_refuses_a_missing_tool_up_front(tmp_path: Path) -> None:
    with pytest.raises(ToolNotFound, match="CIRCUIT_MUSE_"):
        sandbox.run_batch([["true"], ["/nonexistent/yosys"]], cwd=tmp_path)


def test_a_work_directory_removed_in_the_background_is_gone_soon_and_before_exit() -> None:
    import subprocess
    import sys

    with sandbox.workdir(remove_in_background=True) as d:
        (d / "sub").mkdir()
        (d / "sub" / "f").write_text("x")
    for _ in range(100):
        if not d.exists():
            break
        time.sleep(0.05)
    assert not d.exists()
    # a process that exits right after leaving one behind still removes it
    code = ("from circuit_muse.tools import sandbox\n"
            "for _ in range(20):\n"
            "    with sandbox.workdir(prefix='cm-exit-', remove_in_background=True) as d:\n"
            "        (d / 'f').write_text('x')\n"
            "print(d.parent)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 0, res.stderr
    left = [p for p in Path(res.stdout.strip()).glob("cm-exit-*")]
    assert left == []
