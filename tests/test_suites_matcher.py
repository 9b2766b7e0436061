"""The prompt matcher: mission examples, 20+ paraphrases per family (tests/data/suite_prompts.json), no-match."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from circuit_muse.suites import family_names, match

DATA = json.loads((Path(__file__).parent / "data" / "suite_prompts.json").read_text())


def _check(entry: dict) -> None:
    m = match(entry["prompt"])
    assert m is not None, f"no match for {entry['prompt']!r}"
    assert m.family == entry["family"], (entry["prompt"], m.family, m.why)
    tokens = m.variant.split("-")
    for tok in entry["tokens"]:
        assert tok in tokens, (entry["prompt"], m.variant, m.why)
    for key, val in entry["params"].items():
        assert m.params.get(key) == val, (entry["prompt"], m.params)
    if "parameterized" in entry:
        assert m.parameterized == entry["parameterized"]
    assert 0.5 <= m.confidence <= 1.0
    assert m.why


@pytest.mark.parametrize("entry", DATA["mission"], ids=lambda e: e["prompt"][:50])
def test_mission_prompts(entry: dict) -> None:
    _check(entry)


@pytest.mark.parametrize("entry", DATA["paraphrases"], ids=lambda e: e["prompt"][:50])
def test_paraphrases(entry: dict) -> None:
    _check(entry)


def test_at_least_20_paraphrases_per_family() -> None:
    counts = Counter(e["family"] for e in DATA["paraphrases"])
    for fam in family_names():
        assert counts[fam] >= 20, (fam, counts[fam])


@pytest.mark.parametrize("prompt", DATA["no_match"])
def test_no_match_returns_none(prompt: str) -> None:
    assert match(prompt) is None


def test_match_builds_the_suite() -> None:
    m = match("Design a 4-bit up/down counter with synchronous load and asynchronous reset.")
    assert m is not None
    suite = m.suite(tier="fast")
    assert suite.contract.module == "counter"
    assert {p.name for p in suite.contract.ports} == {"clk", "rst", "up", "load", "d", "count"}
    assert suite.contract.port("count").width == 4
    assert m.to_dict()["family"] == "counter"
