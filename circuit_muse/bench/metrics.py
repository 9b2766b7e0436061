"""Scores from per-problem records: unbiased pass@k, pass rate after each round, failure categories, costs."""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

KS = (1, 5, 10)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimator of pass@k from n samples with c correct.

    From https://github.com/openai/human-eval (human_eval/evaluation.py): 1 - C(n-c, k) / C(n, k),
    computed as a stable product.
    """
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def _mean(xs: list[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def summarize(records: list[dict[str, Any]], *, rounds: int) -> dict[str, Any]:
    """Every metric of a run. pass@k is reported only for k <= the smallest n (as human-eval does)."""
    if not records:
        return {"problems": 0, "pass_at": {}, "pass_rate_by_round": [], "failure_categories": {}, "per_problem": {}}
    ns = [len(r["samples"]) for r in records]
    finals = [sum(s["passed"] for s in r["samples"]) for r in records]
    pass_at = {f"pass@{k}": _mean([pass_at_k(n, c, k) for n, c in zip(ns, finals, strict=False)]) for k in KS if min(ns) >= k}
    by_round = []
    for rnd in range(1, rounds + 1):
        per = [float(np.mean([_passed_by(s, rnd) for s in r["samples"]])) for r in records]
        by_round.append({"round": rnd, "pass_rate": _mean(per)})
    cats: Counter[str] = Counter()
    static: Counter[str] = Counter()
    for r in records:
        for s in r["samples"]:
            last = s["rounds"][-1]
            if not s["passed"]:
                cats[last["category"]] += 1
            for stage, found in last.get("static_findings", {}).items():
                static.update(f"{stage}:{c}" for c in found)
    def per_problem(key: str) -> float | None:
        return _mean([sum(rr.get(key, 0) or 0 for s in r["samples"] for rr in s["rounds"]) for r in records])

    strict = [float(np.mean([s["rounds"][-1].get("strict_passed", False) for s in r["samples"]])) for r in records]
    return {
        "problems": len(records),
        "samples_per_problem": sorted(set(ns)),
        "pass_at": pass_at,
        "pass_rate_by_round": by_round,
        "failure_categories": dict(sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))),
        "static_findings": dict(sorted(static.items(), key=lambda kv: (-kv[1], kv[0]))),
        "strict_pass_rate": _mean(strict),
        "per_problem": {"tokens": per_problem("tokens"), "model_s": per_problem("model_s"),
                        "verify_s": per_problem("verify_s")},
        "passed_problems": sum(1 for c in finals if c > 0),
    }


def _passed_by(sample: dict[str, Any], rnd: int) -> float:
    """1 if the sample's candidate after round `rnd` passes (a sample keeps its last candidate)."""
    upto = [r for r in sample["rounds"] if r["round"] <= rnd]
    return float(bool(upto) and upto[-1]["passed"])
