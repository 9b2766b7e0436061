"""Benchmark scoring: suites (builtin, VerilogEval, RTLLM), a resumable harness, pass@k, reports."""
from __future__ import annotations
