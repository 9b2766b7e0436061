"""Exit codes of `verify` and `generate`: 0 only for a functional pass; 3 for clean-but-unverified."""
from __future__ import annotations

from collections.abc import Iterable

from ..report import Level

EXIT_PASS = 0     # functionally verified: a testbench, suite or reference ran and passed
EXIT_FAIL = 1     # a check failed
EXIT_USAGE = 2    # bad usage or a missing tool
EXIT_STATIC = 3   # no failure, but only lint and synthesis ran: CLEAN, NOT FUNCTIONALLY VERIFIED

EXIT_CODES_HELP = ("exit codes: 0 functionally verified (a testbench, suite or reference ran and passed); "
                   "1 a check failed; 2 bad usage or a missing tool; 3 lint and synthesis clean but nothing "
                   "checked behaviour: CLEAN, NOT FUNCTIONALLY VERIFIED")


def exit_code(levels: Iterable[Level | str]) -> int:
    """0 only when every design passed functionally; 1 if any failed; 3 if the rest were static-only clean."""
    levels = [Level(lv) for lv in levels]
    if not levels or any(lv is Level.FAILED for lv in levels):
        return EXIT_FAIL
    return EXIT_PASS if all(lv is Level.FUNCTIONAL for lv in levels) else EXIT_STATIC
