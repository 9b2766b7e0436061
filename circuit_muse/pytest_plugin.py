"""pytest plugin: assert on your own RTL and your own prompts from your own test suite.

Installed with circuit_muse (entry point group `pytest11`), it provides two fixtures:

    def test_my_fifo(circuit_muse_verify):
        report = circuit_muse_verify("rtl/fifo.v", suite="fifo", params={"DEPTH": 16})
        assert report.passed, circuit_muse_verify.explain(report)

    def test_prompts_still_score(circuit_muse_bench):
        run = circuit_muse_bench(suite="builtin", limit=5)       # model: --circuit-muse-model or CIRCUIT_MUSE_MODEL
        assert run.metrics["pass_at"]["pass@1"] >= 0.6

`circuit_muse_verify(design, *, testbench=None, reference=None, suite=None, params=None, top=None, options=None)`
returns the engine's VerificationReport. `circuit_muse_bench(**BenchConfig fields)` returns a BenchRun, with
its records and report written under the test's tmp_path unless `out=` is given.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("circuit_muse")
    group.addoption("--circuit-muse-model", default=None,
                    help="model for the circuit_muse_bench fixture (default: $CIRCUIT_MUSE_MODEL)")
    group.addoption("--circuit-muse-workers", type=int, default=2, help="verification workers for the fixtures")


def _as_source(x: str | os.PathLike[str]) -> str | Path:
    """A path stays a path (the engine reads it); Verilog text stays text."""
    if isinstance(x, os.PathLike):
        return Path(x)
    return Path(x) if "\n" not in x and len(x) < 4096 and Path(x).is_file() else x


class _Verify:
    """Callable fixture object: verify one design against a bench, a reference or a family suite."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __call__(self, design: str | os.PathLike[str], *, testbench: Any = None, reference: str | os.PathLike[str] | None = None,
                 suite: str | None = None, params: dict[str, int] | None = None, top: str | None = None,
                 options: Any = None) -> Any:
        from .engine.pipeline import verify

        if sum(x is not None for x in (testbench, reference, suite)) > 1:
            raise pytest.UsageError("circuit_muse_verify: give at most one of testbench=, reference=, suite=")
        contract = None
        if reference is not None:
            from .testbench import ReferenceTestbench

            ref = _as_source(reference)
            text = ref.read_text() if isinstance(ref, Path) else ref
            testbench = ReferenceTestbench(text, top=top)
        elif suite is not None:
            from .suites import get_suite

            family, _, variant = suite.partition("/")
            testbench = get_suite(family, variant or None, params)
            contract = testbench.contract
        return verify(_as_source(design), top=top, testbench=testbench, contract=contract, options=options)

    @staticmethod
    def explain(report: Any) -> str:
        from .cli.render import render_text

        return render_text(report)


@pytest.fixture
def circuit_muse_verify(request: pytest.FixtureRequest) -> _Verify:
    """verify(design, testbench=/reference=/suite=) -> VerificationReport; `.explain(report)` renders it."""
    return _Verify(request.config.getoption("circuit_muse_workers"))


@pytest.fixture
def circuit_muse_bench(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """bench(suite=..., model=..., **BenchConfig fields) -> BenchRun (records and report in tmp_path)."""
    from .bench.harness import BenchConfig, run_bench
    from .bench.report import write_all

    def bench(**kw: Any) -> Any:
        kw.setdefault("model", request.config.getoption("circuit_muse_model") or os.environ.get("CIRCUIT_MUSE_MODEL"))
        if not kw["model"]:
            raise pytest.UsageError("circuit_muse_bench: pass model=..., --circuit-muse-model or set CIRCUIT_MUSE_MODEL")
        kw.setdefault("out", tmp_path / "circuit_muse_bench")
        kw.setdefault("workers", request.config.getoption("circuit_muse_workers"))
        kw["out"] = Path(kw["out"])
        run = run_bench(BenchConfig(**kw))
        write_all(run)
        return run

    return bench
