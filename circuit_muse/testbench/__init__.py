"""Testbenches the simulate stage can run: cocotb modules, self-checking Verilog, reference designs."""
from __future__ import annotations

from .base import SimContext, SimOutcome, Testbench, load_testbench
from .cocotb_tb import CocotbTestbench
from .reference import ReferenceTestbench
from .verilog_tb import VerilogTestbench

__all__ = ["CocotbTestbench", "ReferenceTestbench", "SimContext", "SimOutcome", "Testbench",
           "VerilogTestbench", "load_testbench"]
