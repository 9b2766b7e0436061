"""The shipped training set: schema, coverage, eval-prompt separation and reproducibility (no simulator)."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from circuit_muse.data import DATASET_PATH, EVAL_PROMPTS_PATH, load_dataset, load_eval_prompts
from circuit_muse.data.build import candidates, normalize_prompt
from circuit_muse.data.check import SUITE_FAMILIES, code_blocks, family_key
from circuit_muse.data.families import FamilyConfig, config_from_params, split_configs
from circuit_muse.data.sources import all_designs, module_header, stub_design, substitute_params
from circuit_muse.data.stats import stats
from circuit_muse.train.records import TASKS, read_records


@pytest.fixture(scope="module")
def records():
    return load_dataset()


def test_every_record_reads_with_the_training_schema(records) -> None:
    again = read_records(DATASET_PATH)
    assert len(again) == len(records) >= 300
    assert len({r.id for r in records}) == len(records)
    assert len({r.instruction for r in records}) == len(records)       # every prompt is phrased differently


def test_spread_over_tasks_stages_and_families(records) -> None:
    by_task = Counter(r.task for r in records)
    assert set(by_task) == set(TASKS)
    assert min(by_task.values()) >= 50
    # stages 1-2 are basic generation; stages 3-4 cover all four task kinds
    assert {r.task for r in records if r.stage in (1, 2)} == {"generate"}
    for stage in (3, 4):
        assert {r.task for r in records if r.stage == stage} == set(TASKS)
    assert min(Counter(r.stage for r in records).values()) >= 40
    generated = {r.family for r in records if r.task == "generate"}
    assert SUITE_FAMILIES <= generated
    others = {r.family for r in records if r.family.startswith("other:") and r.task == "generate"}
    assert len(others) >= 30
    for word in ("fsm", "uart", "synchron", "shift", "edge", "pwm", "debounc", "lfsr", "gray", "bcd", "spi",
                 "register file", "alu", "decoder", "priority"):
        assert any(word in r.instruction.lower() for r in records if r.task == "generate"), word


def test_outputs_have_the_right_shape(records) -> None:
    for r in records:
        if r.task in ("generate", "debug"):
            blocks = code_blocks(r.output)
            assert len(blocks) == 1, r.id
            assert r.output.lstrip().startswith("```verilog") or "**Root cause:**" in r.output, r.id
        if r.task == "debug":
            assert re.search(r"^\s*module\b", r.input, re.M), r.id
            assert r.input.strip() != code_blocks(r.output)[0].strip(), r.id
        if r.task == "assertion":
            assert "assert property" in code_blocks(r.output)[0], r.id
            assert r.family == "assertion" and "property" in r.params, r.id
        if r.task == "explain":
            prose = re.sub(r"```.*?```", "", r.output, flags=re.S)
            assert len(prose.split()) >= 40, r.id
        if r.task == "generate":
            assert r.input == "", r.id


def test_checks_record_what_verified_each_example(records) -> None:
    for r in records:
        c = set(r.checks)
        if r.task in ("generate", "debug"):
            assert {"lint", "synth"} <= c, r.id
            if r.family in SUITE_FAMILIES:
                assert any(x.startswith(f"suite:{r.family}/") for x in c), r.id
            else:
                assert c & {"sim:reference", "sim:bench"}, r.id
        if r.task == "debug":
            assert any(x.startswith("input-fails:") for x in c), r.id
        if r.task == "assertion":
            assert "lint" in c and any(x.startswith("assertion:") for x in c), r.id
            if r.input.strip():
                assert any(x.startswith("input-fails:") for x in c), r.id
        if r.task == "explain":
            assert c, r.id
            if code_blocks(r.output):
                assert any(x.startswith("answer-code-") for x in c), r.id


def test_family_records_carry_their_design_point(records) -> None:
    for r in records:
        if r.family in SUITE_FAMILIES and r.task in ("generate", "debug"):
            cfg = config_from_params(r.family, r.params)
            assert cfg.variant and cfg.params, r.id


def test_eval_prompts_are_separate_from_training(records) -> None:
    evals = load_eval_prompts()
    assert EVAL_PROMPTS_PATH.is_file() and len(evals) >= 20
    assert {e["family"] for e in evals} == SUITE_FAMILIES
    train_text = {normalize_prompt(r.instruction) for r in records}
    joined = "\n".join(normalize_prompt(r.instruction + " " + r.input) for r in records)
    train_points = set()
    for r in records:
        if r.family in SUITE_FAMILIES and r.params:
            train_points.add(config_from_params(r.family, r.params).point_key())
    for e in evals:
        assert normalize_prompt(e["prompt"]) not in train_text, e["id"]
        assert normalize_prompt(e["prompt"]) not in joined, e["id"]
        cfg = FamilyConfig(e["family"], e["variant"] if e["family"] != "async_fifo" else "default",
                           tuple(sorted(e["params"].items())))
        assert cfg.point_key() not in train_points, e["id"]


def test_train_and_eval_configs_are_disjoint_and_seeded() -> None:
    train, evals = split_configs()
    assert not {c.point_key() for c in train} & {c.point_key() for c in evals}
    assert split_configs() == (train, evals)


def test_candidates_are_reproducible_and_match_the_shipped_set(records) -> None:
    stub = lambda bad, plan: "The regression fails."  # noqa: E731 - no simulator in this test
    a, _ = candidates(symptom_of=stub)
    b, _ = candidates(symptom_of=stub)
    assert [c.record for c in a] == [c.record for c in b]
    shipped = {r.id: r for r in records}
    ids = [c.record["id"] for c in a]
    assert set(shipped) <= set(ids)
    for c in a:
        r = shipped.get(c.record["id"])
        if r is None:
            continue
        assert r.output == c.record["output"].strip(), r.id
        assert r.input == c.record["input"], r.id
        if r.task != "debug":
            assert r.instruction == c.record["instruction"], r.id
    assert Counter(c.origin for c in a)["sweep"] >= 100
    assert Counter(c.origin for c in a)["paraphrase"] >= 10


def test_stats_counts(records) -> None:
    s = stats(records)
    assert s["records"] == len(records)
    assert sum(s["by_task"].values()) == len(records)
    assert sum(s["by_family"].values()) == len(records)
    assert s["length_chars"]["max"] >= s["length_chars"]["median"] > 0
    assert family_key("other:uart_tx") == "other"


def test_source_designs_are_complete() -> None:
    designs = all_designs()
    assert len(designs) >= 30
    for d in designs.values():
        assert d.bugs or d.explains, d.name
        assert module_header(d.design()).startswith(f"module {d.top}"), d.name
        for bug in d.bugs:
            assert bug.find in d.design(), (d.name, bug.find)
        for pt in d.points():
            for k, v in pt.items():
                assert re.search(rf"\b{k}\s*=\s*{v}\b", d.design(pt)), (d.name, k)
        stub = stub_design(d.design(), d.top, 0)
        assert stub.count("assign") >= 1, d.name


def test_substitute_params_only_touches_defaults() -> None:
    text = "module m #(parameter integer W = 8, parameter D = 4) (); localparam integer W2 = 8; wire [W-1:0] x;"
    out = substitute_params(text, {"W": 16, "D": 2})
    assert "W = 16" in out and "D = 2" in out and "W2 = 8" in out and "[W-1:0]" in out
