"""Reference testbench suites for the mission's design families, the Specs, and the prompt matcher.

    from circuit_muse.suites import get_suite, match
    suite = get_suite("fifo", "fwft-count", {"DEPTH": 16})
    report = verify(design, testbench=suite, contract=suite.contract)
"""
from __future__ import annotations

from .base import TIERS, Axis, CycleSuite, Suite
from .matcher import Match, match
from .registry import family_names, get_suite, list_suites, run_suite, suite_class, suite_from_config
from .spec import Spec

__all__ = ["Axis", "CycleSuite", "Match", "Spec", "Suite", "TIERS", "family_names", "get_suite",
           "list_suites", "match", "run_suite", "suite_class", "suite_from_config"]
