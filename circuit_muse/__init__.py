"""circuit_muse: Verilog from plain English, checked by lint, synthesis and simulation before you see it.

Names are imported lazily, so `import circuit_muse` stays cheap and works on machines that have only
part of the stack (a GPU training box without the HDL toolchain, say).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "tool_versions": "circuit_muse.about",
    "verify": "circuit_muse.engine.pipeline",
    "verify_many": "circuit_muse.engine.many",
    "VerifyOptions": "circuit_muse.engine.options",
    "generate_verified": "circuit_muse.loop",
    "agenerate_verified": "circuit_muse.loop",
    "iter_generate": "circuit_muse.loop",
    "GenerationResult": "circuit_muse.loop",
    "get_model": "circuit_muse.models.registry",
    "Contract": "circuit_muse.contract",
    "PortSpec": "circuit_muse.contract",
    "Category": "circuit_muse.report",
    "Diagnostic": "circuit_muse.report",
    "Level": "circuit_muse.report",
    "Severity": "circuit_muse.report",
    "StageResult": "circuit_muse.report",
    "VerificationReport": "circuit_muse.report",
    "CircuitMuseError": "circuit_muse.errors",
    "InputError": "circuit_muse.errors",
    "ModelError": "circuit_muse.errors",
    "TestbenchError": "circuit_muse.errors",
    "ToolError": "circuit_muse.errors",
    "ToolNotFound": "circuit_muse.errors",
    "ToolTimeout": "circuit_muse.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'circuit_muse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .about import tool_versions
    from .contract import Contract, PortSpec
    from .engine.many import verify_many
    from .engine.options import VerifyOptions
    from .engine.pipeline import verify
    from .errors import CircuitMuseError, InputError, ModelError, TestbenchError, ToolError, ToolNotFound, ToolTimeout
    from .loop import GenerationResult, agenerate_verified, generate_verified, iter_generate
    from .models.registry import get_model
    from .report import Category, Diagnostic, Level, Severity, StageResult, VerificationReport
