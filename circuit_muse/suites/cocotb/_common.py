"""Helpers shared by the suite cocotb modules (imported from the installed package inside the sim)."""
from __future__ import annotations

import json
import os
import sys
from typing import Any


def load_suite() -> tuple[Any, dict[str, Any]]:
    root = os.environ.get("CM_PKG_ROOT")
    if root and root not in sys.path:
        sys.path.insert(0, root)
    from circuit_muse.suites.registry import suite_from_config

    cfg = json.loads(os.environ["CM_SUITE"])
    return suite_from_config(cfg, tier="full"), cfg


def bits(value: Any, width: int) -> str:
    """A handle value as an MSB-first string of 0/1/x/z of the given width."""
    s = str(value).lower()
    return s.rjust(width, "0")[-width:]


def matches(got: str, exp: int, width: int) -> bool:
    want = format(exp & ((1 << width) - 1), f"0{width}b")
    return got == want


def show(got: str) -> str:
    """Hex when fully known, else the binary string (x/z visible)."""
    if set(got) <= {"0", "1"}:
        return format(int(got, 2), "x")
    return "b" + got


def mismatch_line(cycle: int, signal: str, inputs: dict[str, int], exp: Any, got: Any) -> str:
    ins = ",".join(f"{k}={v:x}" for k, v in inputs.items())
    return f"CM_MISMATCH cycle={cycle} signal={signal} in={{{ins}}} exp={exp} got={got}"
