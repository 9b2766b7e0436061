"""Typed errors. Every message says what to do next; library code raises these, only the CLI prints."""
from __future__ import annotations


class CircuitMuseError(Exception):
    """Base class for every error circuit_muse raises on purpose."""


class ToolNotFound(CircuitMuseError):
    """A required external tool (iverilog, verilator, yosys, ...) could not be located."""


class ToolTimeout(CircuitMuseError):
    """A tool ran past its wall-clock limit and its process group was killed."""


class ToolError(CircuitMuseError):
    """A tool failed in a way that is not the design's fault (bad install, crash at start-up)."""


class InputError(CircuitMuseError):
    """The caller's input (file, option, contract, testbench) is malformed."""


class TestbenchError(InputError):
    """A testbench cannot be used: unknown kind, missing file, or no result marker."""

    __test__ = False  # keep pytest from collecting this class


class ModelError(CircuitMuseError):
    """A model backend could not be configured or failed to generate."""
