"""The Testbench interface, and the one function that turns a user's PATH into a testbench."""
from __future__ import annotations

import hashlib
import re
import shutil
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, TestbenchError
from ..identifiers import require_plain_identifier
from ..report import Category, Diagnostic, Mismatch, Severity, SimulationDetail

if TYPE_CHECKING:
    from ..engine.elaborate import ModuleInfo
    from ..engine.options import VerifyOptions


@dataclass
class SimContext:
    """What a testbench gets to run one design: a private directory, the design file, and a nonce.

    The nonce is fresh per run and never shown to the design; a verdict line counts only if it carries it.
    Benches and images that carry it stay in `workdir`; the simulated design runs in `simulation_dir`,
    which holds none of them (see `simulation_dir`).
    """

    workdir: Path
    design_file: str
    top: str
    module: ModuleInfo | None
    options: VerifyOptions
    nonce: str
    prebuilt: str | None = None  # a vvp image the lint stage already compiled from this bench + design


@dataclass
class IcarusBench:
    """The files (in the workdir) and top module of a bench that plain iverilog+vvp runs."""

    files: list[str]
    top: str | None


@dataclass
class SimOutcome:
    passed: bool
    category: Category
    detail: SimulationDetail
    diagnostics: list[Diagnostic] = field(default_factory=list)


class Testbench(ABC):
    """A way to decide, by simulation, whether a design behaves."""

    kind: str = ""

    @abstractmethod
    def run(self, ctx: SimContext) -> SimOutcome:
        """Simulate the design in ctx.workdir and return a verdict taken from a place the design cannot write."""

    @abstractmethod
    def fingerprint(self) -> str:
        """A stable hash of everything that decides the verdict (for the result cache)."""

    def describe(self) -> str:
        return self.kind

    def prepare_icarus(self, ctx: SimContext) -> IcarusBench | None:
        """Write this bench's files for a plain Icarus run, if it is that kind of bench.

        The lint stage then compiles design and bench in one iverilog call and hands the image to run().
        """
        return None

    @staticmethod
    def _hash(*parts: str | bytes) -> str:
        h = hashlib.sha256()
        for p in parts:
            h.update(p.encode() if isinstance(p, str) else p)
            h.update(b"\0")
        return h.hexdigest()[:16]



SIM_DIR = "cm_sim"
_SOURCE_SUFFIXES = (".v", ".sv", ".vh", ".svh", ".vvp", ".py", ".json", ".cpp", ".h", ".o", ".a", ".mk")
MAX_DATA_BYTES = 64 * 1024 * 1024


def simulation_dir(ctx: SimContext) -> Path:
    """A fresh directory the simulated design runs in: the bench's data files and nothing that names the nonce.

    Benches read their vectors ($readmemh) from their working directory, so plain data files are copied
    in. Sources, compiled images and any file containing the nonce stay behind in ctx.workdir, which the
    simulation's sandbox hides.
    """
    run_dir = ctx.workdir / SIM_DIR
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    secret = ctx.nonce.encode()
    for f in sorted(ctx.workdir.iterdir()):
        if (f.is_file() and not f.is_symlink() and f.suffix not in _SOURCE_SUFFIXES
                and f.stat().st_size <= MAX_DATA_BYTES and secret not in f.read_bytes()):
            shutil.copyfile(f, run_dir / f.name)
    return run_dir


def refuse_unplain_names(names: dict[str, object], detail: SimulationDetail) -> SimOutcome | None:
    """An INTERFACE failure if any design-derived name (what -> name) is not a plain identifier.

    Defence in depth behind the screen: a name is pasted into a rendered bench or a runner argument
    only after this check, so an escaped identifier can never turn into code.
    """
    for what, name in names.items():
        try:
            require_plain_identifier(name, what)
        except InputError as exc:
            return SimOutcome(False, Category.INTERFACE, detail, [Diagnostic(
                severity=Severity.ERROR, tool="testbench", category=Category.INTERFACE, message=str(exc))])
    return None


def keep_waveform(ctx: SimContext, produced: list[Path]) -> str | None:
    """Keep a failing run's waveform (see circuit_muse.waves: rerun with a dumper, size cap, eviction)."""
    from ..waves import keep_waveform as keep

    return keep(ctx, produced)


def parse_mismatch(fields: str, *, test: str | None = None) -> Mismatch:
    """One failing check from the text after `CM_MISMATCH`, as benches and cocotb suites write it:
    `cycle=3 time=35000 signal=q in={d=1,en=0} exp=2 got=3 why=free text to the end`."""
    kv = dict(re.findall(r"(\w+)=(\{[^}]*\}|\S+)", fields))
    why = re.search(r"\bwhy=(.*)$", fields)
    return Mismatch(test=test, cycle=int(kv["cycle"]) if kv.get("cycle", "").isdigit() else None,
                    time=kv.get("time"), signal=kv.get("signal"),
                    inputs=dict(re.findall(r"(\w+)=([^,}]+)", kv.get("in", ""))), expected=kv.get("exp"),
                    got=kv.get("got"), message=why.group(1).strip() if why else None)


_COCOTB_HINT = re.compile(r"^\s*(import cocotb|from cocotb|@cocotb\.test)", re.M)


def load_testbench(path: str | Path, **kwargs: object) -> Testbench:
    """Build a testbench from a file: a cocotb test module (.py) or a self-checking Verilog bench."""
    from .cocotb_tb import CocotbTestbench
    from .verilog_tb import VerilogTestbench

    p = Path(path)
    if not p.is_file():
        raise TestbenchError(f"testbench {str(p)!r} does not exist; pass a cocotb .py module or a "
                             "self-checking .v/.sv testbench")
    text = p.read_text(errors="replace")
    if p.suffix == ".py":
        if not _COCOTB_HINT.search(text):
            raise TestbenchError(f"{p} is a Python file without '@cocotb.test' tests; a cocotb testbench "
                                 "module must import cocotb and define at least one @cocotb.test()")
        return CocotbTestbench(p, **kwargs)  # type: ignore[arg-type]
    if p.suffix in (".v", ".sv", ".vh", ".svh"):
        return VerilogTestbench(text, name=p.name, **kwargs)  # type: ignore[arg-type]
    raise TestbenchError(f"cannot tell what kind of testbench {p.name} is: use .py for cocotb, "
                         ".v/.sv for a self-checking Verilog testbench")
