"""The README is true: every shell command in its code blocks that needs no model, GPU or install is run, and
its sample outputs (`$ circuit-muse ...` in text blocks) match a real run up to timings.

A README command that is not run must be listed in NOT_RUN with the reason; any other command runs, so a new
example in the README is tested the day it is written."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()

# prefix of a command -> why this test does not run it
NOT_RUN: dict[str, str] = {
    "bash scripts/bootstrap.sh": "installs apt packages and the venv; CI runs it before the tests",
    ".venv/bin/python -m pytest": "the test suite itself",
    ".venv/bin/nox": "test sessions: the suite itself",
    ".venv/bin/python benchmarks/": "benchmarks take minutes; tests/test_cli_benchmark_outputs.py checks their options",
    "bash scripts/gpu/": "needs a CUDA GPU",
    "pip install": "installs packages",
    "sudo apt-get install": "installs packages",
    "export ": "sets a variable for the commands after it",
    "gtkwave": "opens a window",
    "circuit-muse generate": "runs a model (the loop takes a while on a CPU); tests/test_nano.py runs the shipped "
                             "model on the first command's prompt",
    "circuit-muse train --config circuit_muse/train/configs/default.toml --output": "a 7B fine-tune on a GPU",
    "circuit-muse verify my_fifo.v": "my_fifo.v stands for the reader's own design",
    "circuit-muse serve": "a server that runs until stopped; tests/test_service_*.py start it on loopback",
    "CIRCUIT_MUSE_TOKEN=": "a server that runs until stopped; tests/test_service_api.py covers tokens",
    "circuit-muse bench": "scores a model (minutes) or needs a benchmark clone; tests/test_bench_*.py run it on "
                          "fixture suites",
    "vllm serve": "needs a GPU and model weights",
    "status=$?": "the CI recipe around circuit-muse bench",
    "cp bench-out/": "the CI recipe around circuit-muse bench",
    "exit $status": "the CI recipe around circuit-muse bench",
}
# commands that need the [hf] extra (torch): run under the `model` marker
NEEDS_MODEL_STACK = ("circuit-muse train",)


def _shell_commands() -> list[str]:
    cmds: list[str] = []
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", README, re.S):
        block = re.sub(r"\\\n\s*", " ", block)  # a command continued over lines is one command
        for line in block.splitlines():
            line = re.sub(r"\s+#\s.*$", "", line).strip()   # trailing comments
            if not line or line.startswith("#"):
                continue
            cmds += [part.strip() for part in line.split("&&")]
    return cmds


def _samples() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"```text\n\$ (circuit-muse [^\n]+)\n(.*?)```", README, re.S)]


def _skip_reason(cmd: str) -> str | None:
    plain = cmd.replace(".venv/bin/circuit-muse", "circuit-muse")
    return next((why for prefix, why in NOT_RUN.items() if plain.startswith(prefix)), None)


def _run(cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(cmd.replace(".venv/bin/circuit-muse", "circuit-muse"))
    assert argv[0] == "circuit-muse", f"only circuit-muse commands can run here; list {cmd!r} in NOT_RUN"
    return subprocess.run([sys.executable, "-m", "circuit_muse.cli", *argv[1:]], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, HF_HUB_OFFLINE="1"))


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    """A scratch folder that looks like the checkout (files the README names), so outputs land in tmp."""
    for name in ("examples", "tests", "testbenches", "circuit_muse", "README.md", "pyproject.toml"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _params() -> list[object]:
    out = []
    for cmd in _shell_commands():
        if _skip_reason(cmd):
            continue
        plain = cmd.replace(".venv/bin/circuit-muse", "circuit-muse")
        marks = [pytest.mark.model] if plain.startswith(NEEDS_MODEL_STACK) else [pytest.mark.simulator]
        out.append(pytest.param(cmd, marks=marks, id=cmd[:60]))
    return out


def test_the_readme_has_commands_and_every_skip_is_used() -> None:
    cmds = _shell_commands()
    assert len(cmds) >= 15 and _samples()
    used = {prefix for prefix in NOT_RUN for c in cmds if c.replace(".venv/bin/circuit-muse", "circuit-muse")
            .startswith(prefix)}
    assert used == set(NOT_RUN), f"stale NOT_RUN entries: {set(NOT_RUN) - used}"


@pytest.mark.parametrize("cmd", _params())
def test_readme_command_runs(cmd: str, checkout: Path) -> None:
    res = _run(cmd, checkout)
    allowed = {0, 1} if " verify " in f" {cmd} " and "bad_" in cmd else {0}   # failing examples exit 1, by design
    assert res.returncode in allowed, f"{cmd}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
    assert "Traceback" not in res.stderr


def _normalise(text: str) -> list[str]:
    text = re.sub(r" +\d+(\.\d+)? ms", " <t> ms", text)   # timings and the padding that aligns them
    return [ln.rstrip() for ln in text.strip().splitlines()]


@pytest.mark.simulator
@pytest.mark.parametrize("cmd,shown", _samples(), ids=[c[:60] for c, _ in _samples()])
def test_sample_output_matches_a_real_run(cmd: str, shown: str) -> None:
    res = _run(cmd, ROOT)
    assert _normalise(res.stdout) == _normalise(shown), (
        f"README sample for `{cmd}` is out of date; a real run prints:\n{res.stdout}")


def test_files_named_in_the_python_examples_exist() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    named = [p for b in blocks for p in re.findall(r"""["']([\w./-]+\.(?:v|sv|py|toml|jsonl))["']""", b)]
    assert named, "the Library example names no files any more: update this test"
    missing = [p for p in named if not (ROOT / p).is_file()]
    assert not missing, f"README's Python examples name files that do not exist: {missing}"
