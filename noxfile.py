"""Test groups. Sessions reuse the project's .venv (made by scripts/bootstrap.sh) instead of building
their own: torch and the HDL tools are heavy and already pinned there."""
from __future__ import annotations

import nox

nox.options.sessions = ["fast", "sim"]
PY = ".venv/bin/python"


def _pytest(session: nox.Session, *args: str) -> None:
    session.run("bash", "scripts/bootstrap.sh", external=True)
    session.run(PY, "-m", "pytest", *args, *session.posargs, external=True,
                env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})


@nox.session(python=False)
def fast(session: nox.Session) -> None:
    """Tests that need no simulator and no model."""
    _pytest(session, "-m", "not simulator and not model and not gpu and not slow")


@nox.session(python=False)
def sim(session: nox.Session) -> None:
    """Tests that run Icarus, Verilator, Yosys and cocotb for real."""
    _pytest(session, "-m", "simulator and not gpu")


@nox.session(python=False)
def models(session: nox.Session) -> None:
    """Tests that build and run tiny local models (CPU)."""
    _pytest(session, "-m", "model and not gpu")


@nox.session(python=False)
def gpu(session: nox.Session) -> None:
    """GPU tests: run on a CUDA machine only."""
    _pytest(session, "-m", "gpu")


@nox.session(python=False)
def all(session: nox.Session) -> None:  # noqa: A001 - the session name users type
    """The whole suite except GPU tests (what CI runs)."""
    _pytest(session, "-m", "not gpu")


@nox.session(python=False)
def data(session: nox.Session) -> None:
    """Re-verify the whole training set and every assertion traffic (minutes): after changing data/, suites/
    or the engine, before a release. CI checks a seeded sample of the same instead."""
    session.run("bash", "scripts/bootstrap.sh", external=True)
    session.run(".venv/bin/circuit-muse", "data", "check", *session.posargs, external=True)
    session.run(PY, "-m", "pytest", "-q", "tests/test_data_check.py", "-k", "assertion_traffic", external=True,
                env={"CIRCUIT_MUSE_TEST_ALL_ASSERTIONS": "1"})


@nox.session(python=["3.11", "3.12", "3.13"])
def install(session: nox.Session) -> None:
    """The base install (no torch) in a fresh venv per Python version, then the README's verify command."""
    session.install(".")
    session.run("circuit-muse", "--version")
    session.run("circuit-muse", "verify", "examples/counter.v", "--reference", "examples/counter_ref.v")
    session.run("python", "-c", "import sys; import circuit_muse; assert 'torch' not in sys.modules")


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """Benchmarks (not part of CI): verification throughput."""
    session.run("bash", "scripts/bootstrap.sh", external=True)
    session.run(PY, "benchmarks/verify_throughput.py", *session.posargs, external=True)
