"""Run a located tool in the sandbox; the one way every stage calls an external program."""
from __future__ import annotations

import os
from collections.abc import Sequence

from .registry import require
from .sandbox import Limits, ProcessResult, compile_cache_dir, run, run_batch

# Variables that must not leak into tool runs (a developer's shell may set these for other tools).
_SCRUB = ("PYTEST_CURRENT_TEST", "COCOTB_RESULTS_FILE", "MODULE", "TOPLEVEL", "TESTCASE")


# Tools whose runs start our Python interpreter (Verilator's makefiles call it; cocotb runs under it).
_RUNS_PYTHON = frozenset({"python", "verilator"})


def tool_env(name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = require(name).environ()
    for k in _SCRUB:
        env.pop(k, None)
    if extra:
        env.update(extra)
    return env


def run_tool(name: str, args: Sequence[str], *, cwd: str | os.PathLike[str], limits: Limits,
             extra_env: dict[str, str] | None = None, stdin: bytes | None = None,
             compile_cache: bool | None = None, hide: Sequence[str | os.PathLike[str]] = (),
             writable: Sequence[str | os.PathLike[str]] = ()) -> ProcessResult:
    """Run tool `name` in the sandbox; cwd (and `writable`) are the only directories it can write.

    compile_cache (default: on for verilator, a compiler that never runs the design) also binds the
    ccache directory writable and points OBJCACHE at it; simulations never get it.
    """
    tool = require(name)
    env = tool_env(name, extra_env)
    binds: list[str | os.PathLike[str]] = list(writable)
    cache = compile_cache_dir() if (name == "verilator" if compile_cache is None else compile_cache) else None
    if cache is not None:
        env.update(OBJCACHE="ccache", CCACHE_DIR=str(cache), CCACHE_UMASK="002")  # shared by every run's uid
        binds.append(cache)
    else:
        env.pop("OBJCACHE", None)
    return run([tool.path, *args], cwd=cwd, limits=limits, env=env, stdin=stdin, writable=binds, hide=hide,
               python=name in _RUNS_PYTHON)


def run_tools(calls: Sequence[tuple[str, Sequence[str]]], *, cwd: str | os.PathLike[str], limits: Limits,
              concurrent: bool = False) -> list[ProcessResult | None]:
    """Run several tools (name, args) in ONE sandbox call (see sandbox.run_batch): for static checks.

    They share one environment (each tool's own variables merged) and get no compile cache and no Python
    runtime: for tools that compile or check the design without running anything (iverilog, verilator
    --lint-only, yosys). `limits.wall_s` is the budget of the whole batch. One result per call, in order; None
    for a tool the batch never started because its time ran out.
    """
    env = dict(os.environ)
    argvs = []
    for name, args in calls:
        tool = require(name)
        env.update(tool.env)
        argvs.append([tool.path, *args])
    for k in (*_SCRUB, "OBJCACHE"):
        env.pop(k, None)
    return run_batch(argvs, cwd=cwd, limits=limits, env=env, concurrent=concurrent)
