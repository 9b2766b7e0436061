"""Versions of circuit_muse and of every tool and library its verdicts depend on (for bug reports)."""
from __future__ import annotations

from importlib import metadata

from .tools.registry import versions as _tool_versions

# Python packages whose version changes what a verdict means; HDL tools come from tools/registry.py.
_PACKAGES = ("cocotb", "pyslang")
_TOOLS = ("iverilog", "verilator", "yosys")


def tool_versions() -> dict[str, str]:
    """{'iverilog': '11.0', 'verilator': '5.049', 'yosys': '0.23', 'cocotb': '2.1.0', 'pyslang': '12.1.0'};
    a tool or package that cannot be found reads 'missing'."""
    out = dict(_tool_versions(_TOOLS))
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def version_text() -> str:
    """What `circuit-muse --version` prints: the package version, then one line per tool."""
    from . import __version__

    names = {"iverilog": "Icarus Verilog", "verilator": "Verilator", "yosys": "Yosys", "cocotb": "cocotb",
             "pyslang": "pyslang"}
    lines = [f"circuit-muse {__version__}"]
    lines += [f"  {names[k]:<15} {v}" for k, v in tool_versions().items()]
    return "\n".join(lines)
