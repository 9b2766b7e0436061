"""The builtin suite: circuit_muse's family suites on held-out design points and wording.

The prompts come from circuit_muse/data/eval_prompts.jsonl, whose design points (family, variant,
parameters) no training record uses; tests/test_bench_contamination.py checks that, and that unit
tests do not use them either.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..suites import get_suite
from .problem import Problem, Suite

EVAL_PROMPTS = Path(__file__).resolve().parent.parent / "data" / "eval_prompts.jsonl"
# The scoring wording: used by no training record and no unit test (tests/test_bench_contamination.py).
OPENER = "Scoring task: design {title} in synthesizable Verilog, and call the module `{module}`."
_CANONICAL = re.compile(r"^Write a synthesizable Verilog-2001 or SystemVerilog module named `(\w+)`: (.+?)\.?$", re.M)


def bench_prompt(canonical: str) -> str:
    """The held-out prompt with its opening request reworded (the contract lines below it stay exact)."""
    first, _, rest = canonical.partition("\n")
    m = _CANONICAL.match(first)
    return OPENER.format(title=m.group(2), module=m.group(1)) + "\n" + rest if m else canonical


def load_builtin() -> Suite:
    problems = []
    for line in EVAL_PROMPTS.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        suite = get_suite(row["family"], row["variant"], row["params"], parameterized=row["parameterized"])
        problems.append(Problem(
            id=row["id"].removeprefix("eval/"), prompt=bench_prompt(row["prompt"]), top=row["module"],
            reference=suite.reference_rtl(), kind="builtin",
            data={k: row[k] for k in ("family", "variant", "params", "parameterized")}))
    from .. import __version__

    return Suite(name="builtin", path=None, version=f"circuit_muse {__version__}", problems=problems)
