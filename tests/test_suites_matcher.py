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


@pytest.mark.parametrize("entry", DATA["unsure"], ids=lambda e: e["prompt"][:50])
def test_matcher_says_what_it_cannot_honour(entry: dict) -> None:
    """Prompts that ask for what no variant expresses (ignored: the loop must not impose the suite), or that
    were mapped onto the closest variant (adapted: reported, then run)."""
    m = match(entry["prompt"])
    assert m is not None and m.family == entry["family"], (entry["prompt"], m and m.why)
    assert m.unsure, m.to_dict()
    if entry["ignored"]:
        assert m.contradicts_prompt and any(entry["ignored"] in x for x in m.ignored), m.ignored
        assert any(entry["ignored"] in w for w in m.why)
    else:
        assert not m.ignored, m.ignored
    if entry["adapted"]:
        assert any(entry["adapted"] in x for x in m.adapted), m.adapted
    for tok in entry["tokens"]:
        assert tok in m.variant.split("-"), (m.variant, m.why)
    assert m.to_dict()["unsure"] and m.to_dict()["ignored"] == m.ignored


def test_at_least_22_unsure_prompts() -> None:
    assert len(DATA["unsure"]) >= 22


@pytest.mark.parametrize("entry", DATA["mission"] + DATA["paraphrases"], ids=lambda e: e["prompt"][:50])
def test_plain_prompts_ignore_nothing(entry: dict) -> None:
    m = match(entry["prompt"])
    assert m is not None and not m.ignored, (entry["prompt"], m and m.ignored)


def test_the_two_known_misses() -> None:
    reg = match("an 8-bit register that loads d when load is asserted")
    assert reg is not None and "en" in reg.variant.split("-") and reg.adapted  # the load enable is kept
    down = match("a down counter that stops at zero, reset value 63")
    assert down is not None and down.variant.startswith("down") and "sat" in down.variant.split("-")
    assert down.params["RESET"] == 63 and not down.unsure  # the reset value is part of the contract now
    assert "`count` becomes 63" in down.suite(tier="fast").spec.prompt_text()


def test_register_file_is_not_a_register() -> None:
    assert match("Design a register file with 8 registers of 32 bits and two read ports") is None


@pytest.mark.parametrize(("prompt", "reset"), [
    ("Design a 4-bit counter with a synchronous reset 1 cycle long", 0),
    ("Design an 8-bit register with reset = 8'h5a", 0x5A),
    ("a 6-bit down counter that stops at zero, reset value 63", 63),
    ("A 4-bit counter that resets to all ones", 15),
])
def test_reset_values_are_read_only_when_stated(prompt: str, reset: int) -> None:
    m = match(prompt)
    assert m is not None and m.params["RESET"] == reset and not m.ignored
