"""A benchmark problem and a suite of them: what a model is asked, what the bench checks, how to pass."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..testbench.base import Testbench


@dataclass
class Problem:
    """One benchmark problem.

    Args:
        id: stable name within its suite (e.g. "Prob004_vector2", "Arithmetic/Adder/adder_8bit").
        prompt: what the model is asked (the benchmark's own text, unchanged).
        top: the module name the benchmark's testbench instantiates; the design must define it.
        reference: the benchmark's reference solution, renamed to `top` where the benchmark's own
            reference uses another name (that renaming is the benchmark's own flow, not a fix).
        bench_modules: module names the trusted bench side defines; a design may not redefine them.
        kind: "verilog-eval", "rtllm" or "builtin" (selects how the testbench is built).
        data: what the kind needs to build its testbench (texts only, so a problem pickles cheaply).
    """

    id: str
    prompt: str
    top: str
    reference: str
    kind: str
    bench_modules: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    def testbench(self) -> Testbench:
        """The benchmark's testbench for this problem, under circuit_muse's nonce-tagged verdict."""
        from .testbenches import build_testbench

        return build_testbench(self)

    def content_hash(self) -> str:
        h = hashlib.sha256()
        for part in (self.id, self.prompt, self.top, self.reference, self.kind, repr(sorted(self.data.items()))):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()


@dataclass
class Suite:
    """A loaded benchmark: its problems in a stable order, and what identifies this exact copy."""

    name: str                 # "builtin", "verilog-eval-v2/spec-to-rtl", "rtllm-v2", ...
    path: str | None          # where it was read from (None for builtin)
    version: str | None       # git commit of the user's clone, when it is one
    problems: list[Problem]

    @property
    def content_hash(self) -> str:
        """sha256 over every problem's prompt, reference and bench: two copies score alike iff equal."""
        h = hashlib.sha256()
        for p in self.problems:
            h.update(p.content_hash().encode())
        return h.hexdigest()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "version": self.version,
                "content_hash": self.content_hash, "problems": len(self.problems)}
