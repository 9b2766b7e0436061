"""Training records checked only by lint and synthesis do not count as verified."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from circuit_muse.data import load_dataset
from circuit_muse.data.check import check_record, summarize

pytestmark = pytest.mark.simulator
SAMPLE = Path(__file__).parent / "data" / "train_sample.jsonl"


def test_a_generate_record_with_no_functional_check_is_rejected() -> None:
    gate = json.loads(SAMPLE.read_text().splitlines()[0])  # and2: no family suite, no reference
    assert gate["family"] == "gate"
    res = check_record(gate, tier="fast")
    assert not res.passed and res.level == "static"
    assert "only linted and synthesized" in res.problems[0]


def test_summary_counts_only_functional_records_as_verified() -> None:
    recs = load_dataset()
    snippet = next(r for r in recs if r.task == "explain" and any(c.startswith("answer-code") for c in r.checks))
    simulated = next(r for r in recs if r.task == "generate" and r.family.startswith("other:"))
    results = [check_record(snippet, tier="fast"), check_record(simulated, tier="fast")]
    assert [r.passed for r in results] == [True, True]
    assert [r.level for r in results] == ["static", "functional"]
    s = summarize(results)
    assert s["passed"] == 2 and s["verified"] == 1 and s["static_only"] == 1
