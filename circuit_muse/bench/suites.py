"""`--suite builtin | verilog-eval:PATH | rtllm:PATH` -> a loaded Suite; problem selection (--problems, --limit)."""
from __future__ import annotations

import fnmatch
import hashlib
import random

from ..errors import InputError
from .problem import Problem, Suite

SUITE_FORMS = "builtin, verilog-eval:PATH (a VerilogEval clone, v2 dataset folder or v1 .jsonl) or rtllm:PATH"


def load_suite(spec: str) -> Suite:
    kind, sep, path = spec.partition(":")
    if kind == "builtin" and not sep:
        from .builtin import load_builtin

        return load_builtin()
    if kind == "verilog-eval" and path:
        from .verilog_eval import load_verilog_eval

        return load_verilog_eval(path)
    if kind == "rtllm" and path:
        from .rtllm import load_rtllm

        return load_rtllm(path)
    raise InputError(f"--suite {spec!r}: expected {SUITE_FORMS}")


def select(problems: list[Problem], *, pattern: str | None, limit: int | None, seed: int) -> list[Problem]:
    """Problems matching the glob, then (with limit) a seeded sample kept in suite order: same inputs,
    same problems."""
    chosen = [p for p in problems if not pattern or fnmatch.fnmatchcase(p.id, pattern)]
    if pattern and not chosen:
        raise InputError(f"--problems {pattern!r} matches no problem id (ids look like {problems[0].id!r})")
    if limit is not None and limit < len(chosen):
        if limit < 1:
            raise InputError("--limit must be at least 1")
        rng = random.Random(int(hashlib.sha256(f"{seed}".encode()).hexdigest()[:16], 16))
        keep = set(rng.sample(range(len(chosen)), limit))
        chosen = [p for i, p in enumerate(chosen) if i in keep]
    return chosen
