"""The nano data scale-up: on a slice every emitted pair is verified; eval phrasings and points never train."""
from __future__ import annotations

import json
import lzma
import random
import sys
from pathlib import Path

import pytest

from circuit_muse.data.families import FamilyConfig
from circuit_muse.data.scale import (
    DEBUG_TEMPLATES,
    EVAL_TEMPLATES,
    TRAIN_TEMPLATES,
    build_examples,
    eval_requests,
    held_out_keys,
    matched_point,
    phrase,
)
from circuit_muse.engine.many import verify_many
from circuit_muse.loop.prompts import first_messages
from circuit_muse.prompts import system_prompt

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "circuit_muse" / "nano" / "data" / "instruct.jsonl.xz"


def _frame(template: str) -> tuple[str, str]:
    head, _, tail = template.partition("{d}")
    return head, tail


def test_train_and_eval_frames_are_disjoint():
    train = {_frame(t) for t in TRAIN_TEMPLATES + DEBUG_TEMPLATES}
    for t in EVAL_TEMPLATES:
        head, tail = _frame(t)
        assert (head, tail) not in train
        # no training frame can produce an eval request: its fixed words differ at the start or the end
        assert all(not (head.startswith(h) and tail.endswith(tl)) for h, tl in train if h or tl)


def test_eval_requests_match_their_points_and_are_held_out():
    held = held_out_keys()
    reqs = eval_requests()
    assert len(reqs) >= 20
    for r in reqs:
        if r["family"] != "assertion":
            assert matched_point(r["prompt"]) in held


@pytest.mark.simulator
def test_slice_every_pair_is_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("CIRCUIT_MUSE_CACHE_DIR", str(tmp_path / "cache"))
    examples, report = build_examples(seed=3, per_variant=1, phrasings=3, repairs_per_point=1, limit_points=2,
                                      families=("counter",), workers=2)
    kinds = {e.kind for e in examples}
    assert {"generate", "repair"} <= kinds and report.points == 2 and report.repairs >= 2
    from circuit_muse.suites import match

    held = held_out_keys()
    for e in examples:
        assert e.point not in held
        msgs = e.messages
        assert msgs[0] == {"role": "system", "content": system_prompt()} and msgs[-1]["role"] == "assistant"
        # the first user turn is exactly what the loop sends for this request
        request = msgs[1]["content"].split("\n\nThe design will be checked against")[0]
        suite = match(request).suite(tier="fast")
        want = first_messages(request, spec_text=suite.spec.prompt_text(), contract=suite.contract)
        assert msgs[1]["content"] == want[1].content
        rep = verify_many([msgs[-1]["content"]], testbench=suite, contract=suite.contract, workers=1)[0]
        assert rep.passed and rep.functional_tested, e.id
        if e.kind == "repair":
            assert msgs[3]["content"].startswith("Your previous design failed verification:")
            wrong = verify_many([msgs[2]["content"]], testbench=suite, contract=suite.contract, workers=1)[0]
            assert not wrong.passed, e.id


def _example_prompts() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from nano_eval import EXAMPLE_PROMPTS

    return EXAMPLE_PROMPTS


def test_training_phrasings_differ_from_eval_and_example_phrasings():
    rng = random.Random(0)
    eval_texts = {r["prompt"] for r in eval_requests()} | set(_example_prompts().values())
    cfg = FamilyConfig("counter", "updown-noen-load-wrap-async-high", (("MODULO", 10), ("WIDTH", 4)))
    for _ in range(200):
        assert phrase(cfg, rng) not in eval_texts


@pytest.mark.skipif(not SHIPPED.is_file(), reason="the shipped training set is built by scripts/gpu/prepare_nano.py")
def test_shipped_training_set_never_holds_eval_prompts_or_points():
    eval_texts = [r["prompt"] for r in eval_requests()] + list(_example_prompts().values())
    held = held_out_keys()
    with lzma.open(SHIPPED, "rt") as f:
        rows = [json.loads(x) for x in f]
    assert len(rows) > 10_000
    # every family the loop's suites cover is in the set (a verification gap once left out SVA entirely)
    assert {r["point"].split("/")[0] for r in rows} >= {"register", "counter", "fifo", "arbiter", "async_fifo",
                                                       "axi_lite", "assertion"}
    for r in rows:
        assert r["point"] not in held, r["id"]
        for text in eval_texts:
            assert text not in r["prompt"], r["id"]


def test_assertion_training_wording_avoids_eval_and_example_wording():
    from circuit_muse.data.scale import _EVAL_ASSERTION_CLAUSES, assertion_requests

    reqs = assertion_requests(random.Random(0))
    assert len(reqs) > 300 and {p for _, p in reqs} == {"valid_hold", "data_stable", "onehot"}
    evals = [" ".join(t.lower().split()).rstrip(".") for t in
             [r["prompt"] for r in eval_requests() if r["family"] == "assertion"]
             + [_example_prompts()["axi_valid_ready_assertion"]]]
    for req, _ in reqs:
        low = " ".join(req.lower().split())
        assert not any(e in low for e in evals), req
        assert not any(c in low for c in _EVAL_ASSERTION_CLAUSES), req
    # the clause list really covers each eval/example assertion prompt's wording
    assert all(any(c in e for c in _EVAL_ASSERTION_CLAUSES) for e in evals)


@pytest.mark.simulator
def test_assertion_slice_is_verified_with_the_suite_options(tmp_path, monkeypatch):
    """Assertion answers pass the suite only with its own options ($error allowed in action blocks, Verilator
    lint): the builder must verify them as the loop does, and every repair's checker must fail."""
    monkeypatch.setenv("CIRCUIT_MUSE_CACHE_DIR", str(tmp_path / "cache"))
    examples, report = build_examples(seed=5, limit_points=1, families=("assertion",), workers=2)
    assert report.points == 1 and report.dropped.get("answer-failed", 0) == 0
    kinds = {e.kind for e in examples}
    assert {"generate", "repair"} <= kinds
    from circuit_muse.suites import match

    for e in examples:
        msgs = e.messages
        request = msgs[1]["content"].split("\n\nThe design will be checked against")[0]
        suite = match(request).suite(tier="fast")
        opts = suite.verify_options()
        rep = verify_many([msgs[-1]["content"]], testbench=suite, contract=suite.contract, options=opts,
                          workers=1)[0]
        assert rep.passed and rep.functional_tested, e.id
        if e.kind == "repair":
            wrong = verify_many([msgs[2]["content"]], testbench=suite, contract=suite.contract, options=opts,
                                workers=1)[0]
            assert not wrong.passed, e.id
