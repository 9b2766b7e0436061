"""The curated, simulator-verified training set and the tools that build, check and describe it.

    from circuit_muse.data import DATASET_PATH, EVAL_PROMPTS_PATH, load_dataset
    records = load_dataset()            # list[circuit_muse.train.records.Record]

The set is built by `circuit-muse data build` from data/source/ (hand-written designs with references or
benches, explain Q&As) plus data/families.py (our RTL for the suite families) and data/sva.py (assertion
properties), and every record is re-verified by `circuit-muse data check`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATASET_PATH = HERE / "circuit_muse_v1.jsonl"
EVAL_PROMPTS_PATH = HERE / "eval_prompts.jsonl"


def load_dataset(path: str | Path | None = None) -> list[Any]:
    """The shipped training records (validated by the training pipeline's schema reader)."""
    from ..train.records import read_records

    return read_records(path or DATASET_PATH)


def load_eval_prompts(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Held-out family prompts: id, family, variant, params, parameterized, module, prompt."""
    p = Path(path or EVAL_PROMPTS_PATH)
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


__all__ = ["DATASET_PATH", "EVAL_PROMPTS_PATH", "load_dataset", "load_eval_prompts"]
