"""circuit_muse: Verilog from plain English, checked by lint, synthesis and simulation before you see it."""
from __future__ import annotations

from .contract import Contract, PortSpec
from .engine.options import VerifyOptions
from .engine.many import verify_many
from .engine.pipeline import verify
from .errors import (CircuitMuseError, InputError, ModelError, TestbenchError, ToolError, ToolNotFound,
                     ToolTimeout)
from .report import Category, Diagnostic, Severity, StageResult, VerificationReport

__version__ = "0.1.0"

__all__ = [
    "Category", "CircuitMuseError", "Contract", "Diagnostic", "InputError", "ModelError", "PortSpec",
    "Severity", "StageResult", "TestbenchError", "ToolError", "ToolNotFound", "ToolTimeout",
    "VerificationReport", "VerifyOptions", "verify", "verify_many",
]
