"""Run a located tool in the sandbox; the one way every stage calls an external program."""
from __future__ import annotations

import os
from collections.abc import Sequence

from .registry import require
from .sandbox import Limits, ProcessResult, run

# Variables that must not leak into tool runs (a developer's shell may set these for other tools).
_SCRUB = ("PYTEST_CURRENT_TEST", "COCOTB_RESULTS_FILE", "MODULE", "TOPLEVEL", "TESTCASE")


def tool_env(name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = require(name).environ()
    for k in _SCRUB:
        env.pop(k, None)
    if extra:
        env.update(extra)
    return env


def run_tool(name: str, args: Sequence[str], *, cwd: str | os.PathLike[str], limits: Limits,
             extra_env: dict[str, str] | None = None, stdin: bytes | None = None) -> ProcessResult:
    tool = require(name)
    return run([tool.path, *args], cwd=cwd, limits=limits, env=tool_env(name, extra_env), stdin=stdin)
