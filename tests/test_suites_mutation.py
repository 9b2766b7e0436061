"""Mutation operators, the Yosys equivalence filter, and a small mutation score run."""
from __future__ import annotations

from collections import Counter

import pytest

from circuit_muse.suites import get_suite
from circuit_muse.suites.mutate import equivalent, mutants, score


def test_every_operator_class_appears() -> None:
    ops = Counter()
    for fam, v, p in [("counter", "updown-en-load-wrap-async-high", {"WIDTH": 4}), ("fifo", "reg-count-almost", {"DEPTH": 4}),
                      ("arbiter", "rr", {})]:
        ref = get_suite(fam, v, p).reference_rtl()
        ms = mutants(ref)
        assert ms and all(m.source != ref for m in ms)
        assert len({m.source for m in ms}) == len(ms)
        ops.update(m.operator for m in ms)
    assert {"op_swap", "const", "invert", "drop_reset", "blocking", "stuck"} <= set(ops)


def test_sva_mutants() -> None:
    ref = get_suite("assertion", "valid_hold").reference_rtl()
    descs = {m.description for m in mutants(ref, sva=True)}
    assert {"|=> -> |->", "drop disable iff"} <= descs


@pytest.mark.simulator
def test_equivalence_proves_and_refuses() -> None:
    suite = get_suite("counter", "up-en", {"WIDTH": 4})
    ref = suite.reference_rtl()
    same = ref.replace("count <= count + 1'b1;", "count = count + 1'b1;")
    assert same != ref
    proved, how = equivalent(ref, same, suite.contract)
    assert proved, how
    wrong = ref.replace("count <= count + 1'b1;", "count <= count + 2'd2;")
    proved, how = equivalent(ref, wrong, suite.contract)
    assert proved is None


@pytest.mark.simulator
def test_mutation_score_of_a_small_suite() -> None:
    r = score(get_suite("counter", "up-en-load-sat-async-low", {"WIDTH": 3}), tier="fast")
    assert r["mutants"] >= 10
    assert r["killed"] >= 0.5 * r["mutants"]
    assert r["score"] >= 0.95, r["survivors"]
    assert all(s["status"] in ("survived", "equivalent") for s in r["survivors"])
