"""Counts over a training set: by task, stage, family, origin of the family name and length."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..train.records import Record
from .check import family_key

LENGTH_BUCKETS = (500, 1000, 2000, 4000, 8000)


def _bucket(n: int) -> str:
    for b in LENGTH_BUCKETS:
        if n <= b:
            return f"<={b}"
    return f">{LENGTH_BUCKETS[-1]}"


def record_chars(r: Record) -> int:
    return len(r.instruction) + len(r.input) + len(r.output)


def stats(records: Sequence[Record]) -> dict[str, Any]:
    """A JSON-able summary. Lengths are in characters (about 3.5 characters per token for Verilog/English)."""
    by_task = Counter(r.task for r in records)
    by_stage = Counter(str(r.stage) for r in records)
    by_family = Counter(family_key(r.family) for r in records)
    by_other = Counter(r.family.split(":", 1)[1] for r in records
                       if r.family.startswith("other:") and not r.family.startswith("other:concept-"))
    by_task_stage = Counter(f"{r.task}/{r.stage}" for r in records)
    by_task_family = Counter(f"{r.task}/{family_key(r.family)}" for r in records)
    lengths = sorted(record_chars(r) for r in records)
    out_len = sorted(len(r.output) for r in records)

    def pct(xs: list[int], q: float) -> int:
        return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0

    return {
        "records": len(records),
        "by_task": dict(sorted(by_task.items())),
        "by_stage": dict(sorted(by_stage.items())),
        "by_family": dict(sorted(by_family.items())),
        "other_designs": len(by_other),
        "by_task_stage": dict(sorted(by_task_stage.items())),
        "by_task_family": dict(sorted(by_task_family.items())),
        "length_chars": {"min": lengths[0] if lengths else 0, "median": pct(lengths, 0.5),
                         "p90": pct(lengths, 0.9), "max": lengths[-1] if lengths else 0,
                         "buckets": dict(Counter(_bucket(n) for n in lengths)),
                         "total": sum(lengths)},
        "output_chars": {"median": pct(out_len, 0.5), "max": out_len[-1] if out_len else 0},
        "debug_with_input": sum(1 for r in records if r.task == "debug" and r.input.strip()),
        "assertion_fixes": sum(1 for r in records if r.task == "assertion" and r.input.strip()),
    }
