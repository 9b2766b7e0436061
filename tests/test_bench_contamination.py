"""No benchmark problem, prompt or solution is in any training set: the QLoRA set
(circuit_muse/data/circuit_muse_v1.jsonl), circuit-muse-nano's instruction set
(circuit_muse/nano/data/instruct.jsonl.xz) and, when built, nano's pretraining corpus.

- Always: the builtin scoring suite's design points are used by no training record, its wording by no
  training record and no unit test, and no builtin prompt is a near-copy of a training instruction.
- With a user's clone (CIRCUIT_MUSE_VERILOG_EVAL=PATH, CIRCUIT_MUSE_RTLLM=PATH): word 13-gram overlap of
  every problem's prompt and reference solution against all training text stays under a threshold.
  CIRCUIT_MUSE_CORPUS=PATH (the corpus.jsonl.xz that `python -m circuit_muse.corpus.build` writes) adds the
  pretraining corpus to that text.
"""
from __future__ import annotations

import ast
import json
import lzma
import os
import re
from functools import lru_cache
from pathlib import Path

import pytest

from circuit_muse.bench.builtin import EVAL_PROMPTS, OPENER, load_builtin
from circuit_muse.bench.suites import load_suite

TRAIN = Path(__file__).resolve().parent.parent / "circuit_muse" / "data" / "circuit_muse_v1.jsonl"
NANO = Path(__file__).resolve().parent.parent / "circuit_muse" / "nano" / "data" / "instruct.jsonl.xz"
TESTS = Path(__file__).resolve().parent
N = 13
MAX_SHARED = 0.2  # share of a problem's 13-grams that may also occur somewhere in the training text


def grams(text: str, n: int = N) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@lru_cache(maxsize=1)
def training() -> list[dict]:
    return [json.loads(line) for line in TRAIN.read_text().splitlines() if line.strip()]


@lru_cache(maxsize=1)
def nano_training() -> list[dict]:
    with lzma.open(NANO, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def _xz_texts(path: str, key: str) -> list[str]:
    with lzma.open(path, "rt") as f:
        return [json.loads(line)[key] for line in f if line.strip()]


@lru_cache(maxsize=4)
def training_grams(n: int = N, everything: bool = True) -> frozenset:
    """13-grams of the QLoRA set, and with everything=True also of nano's instruction set and corpus."""
    out: set = set()
    for r in training():
        for key in ("instruction", "input", "output"):
            out |= grams(r[key], n)
    if not everything:
        return frozenset(out)
    for r in nano_training():
        out |= grams(r["prompt"], n) | grams(r["completion"], n)
    if os.environ.get("CIRCUIT_MUSE_CORPUS"):
        for text in _xz_texts(os.environ["CIRCUIT_MUSE_CORPUS"], "text"):
            out |= grams(text, n)
    return frozenset(out)


def shared(text: str, everything: bool = True) -> float:
    g = grams(text)
    return len(g & training_grams(N, everything)) / len(g) if g else 0.0


def _point(family: str, variant: str, params: dict) -> tuple:
    return family, variant, tuple(sorted((k, int(v)) for k, v in params.items()))


def _split_point(key: str) -> tuple[str, str, dict]:
    """'fifo/variant/DEPTH=8,WIDTH=4' -> (family, variant, params)."""
    family, variant, params = key.split("/")
    return family, variant, dict(kv.split("=") for kv in params.split(",") if kv)


def test_builtin_design_points_are_not_in_training():
    train_points = set()
    for r in training():
        params = r["params"] if isinstance(r["params"], dict) else ast.literal_eval(r["params"])
        if "variant" in params:
            variant = params["variant"]
            train_points.add(_point(r["family"], variant,
                                    {k: v for k, v in params.items() if k not in ("variant", "parameterized")}))
    assert train_points, "the training set lost its design points; this test would prove nothing"
    nano_points = {_point(*_split_point(r["point"])) for r in nano_training() if r["point"].count("/") == 2}
    assert len(nano_points) > 100, "nano's instruction set lost its design points; this test would prove nothing"
    for row in map(json.loads, EVAL_PROMPTS.read_text().splitlines()):
        assert _point(row["family"], row["variant"], row["params"]) not in train_points, row["id"]
        assert _point(row["family"], row["variant"], row["params"]) not in nano_points, row["id"]


def test_builtin_wording_is_used_by_no_training_record_and_no_unit_test():
    opener_grams = grams(OPENER.replace("{title}", "").replace("{module}", ""), 6)
    assert opener_grams
    assert not opener_grams & training_grams(6)
    suite = load_builtin()
    own = {Path(__file__).name, "bench_fixtures.py"}
    texts = [(p, p.read_text(errors="replace")) for p in TESTS.rglob("*.py") if p.name not in own]
    for prob in suite.problems:
        first = prob.prompt.splitlines()[0]
        assert first.startswith("Scoring task:")
        assert not any(first in t for _, t in texts), first
        assert not any(prob.prompt in r["instruction"] for r in training())
        # nano trains on the suites' own specifications at other design points of the same variants, so its
        # prompts share most contract lines with a builtin prompt by design; the point (checked above) and the
        # exact specification text (numbers included) must not be there.
        spec = prob.prompt.split("\n", 1)[1].strip()
        assert spec and not any(first in r["prompt"] or spec in r["prompt"] for r in nano_training()), prob.id
        assert shared(prob.prompt, everything=False) < 0.9, prob.id  # contract lines may match, never all


def _clone_suites(var: str, specs: list[str]) -> list:
    path = os.environ.get(var)
    if not path:
        pytest.skip(f"set {var}=PATH to a clone of the benchmark to check it against the training set")
    return [load_suite(s.format(path=path)) for s in specs]


@pytest.mark.parametrize("var,specs", [
    ("CIRCUIT_MUSE_VERILOG_EVAL", ["verilog-eval:{path}"]),
    ("CIRCUIT_MUSE_RTLLM", ["rtllm:{path}"]),
])
def test_user_clone_has_no_overlap_with_training(var, specs):
    for suite in _clone_suites(var, specs):
        assert suite.problems
        worst = max(((shared(t), kind, p.id) for p in suite.problems
                     for kind, t in (("prompt", p.prompt), ("reference", p.reference))), default=(0.0, "", ""))
        assert worst[0] <= MAX_SHARED, f"{suite.name}: {worst[2]} {worst[1]} shares {worst[0]:.0%} of its 13-grams"
